// `skipgrad train`: trains the seed's ResNet-18 on Fashion-MNIST into a run folder.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { manualSeed } from '../autograd/random.js';
import { crossEntropy } from '../autograd/ops/loss.js';
import { detectAnomaly } from '../autograd/anomaly.js';
import { DataLoader } from '../data/dataloader.js';
import { Subset } from '../data/dataset.js';
import { SGD } from '../optim/sgd.js';
import { Adam } from '../optim/adam.js';
import { AdamW } from '../optim/adamw.js';
import type { Optimizer, HyperParams } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr_scheduler.js';
import { CosineAnnealingLR, StepLR } from '../optim/schedulers.js';
import { OneCycleLR } from '../optim/one_cycle_lr.js';
import { setNumThreads, getNumThreads } from '../kernels/threads/pool.js';
import { fit } from '../train/fit.js';
import { UsageError, choiceFlag, floatFlag, intFlag, parseFlags } from './args.js';
import { loadSplits } from './data_args.js';
import { WATCH_FLAGS, WATCH_HELP, parseWatchFlags, startWatch } from './train_watch.js'; // --- issue 13 ---
import { buildModel, evalTransform, trainTransform, type ModelConfig } from './model_config.js';

export const TRAIN_HELP = `Usage: skipgrad train [options]

Trains the ResNet-18 of Dive into Deep Learning (ch. 7.6) on Fashion-MNIST and writes a run
folder: metrics.csv, curves.svg, checkpoint.safetensors (every epoch), model.safetensors, config.json.

Data
  --data DIR|FILE.csv     official IDX files (e.g. /usr/share/datasets/fashion-mnist) or a
                          Kaggle-layout CSV (default: the embedded 6,000/1,000-image subset)
  --test-data FILE.csv    test split when --data is a CSV (default: the sibling *test*.csv)
  --resize N              resize images to N×N (D2L uses 96; default: keep 28×28)
  --augment               random crop (padding 4) and horizontal flip
  --limit N               train on the first N images only (quick experiments)
Model
  --width N               channels of the first stage (default 64 = the seed's ResNet-18)
  --init default|xavier   PyTorch's default init, or D2L's Xavier re-initialization
Optimization
  --epochs N              (default 3)
  --batch-size N          (default 64)
  --optimizer sgd|adam|adamw   (default sgd)
  --lr X                  peak learning rate (default 0.05)
  --momentum X            SGD momentum (default 0.9)
  --weight-decay X        (default 5e-4)
  --scheduler none|onecycle|cosine|step   (default onecycle, stepped every batch)
  --label-smoothing X     (default 0)
Run
  --seed N                (default 0)
  --threads N             compute threads (default: SKIPGRAD_NUM_THREADS or the number of cores)
  --out DIR               run folder (default runs/<date-time>)
  --resume DIR            continue the run in DIR (same config; --epochs may extend it)
  --detect-anomaly        name the op and module that first produce NaN/Inf
  --d2l                   the seed chapter's exact recipe: Xavier init, plain SGD lr 0.05,
                          batch 256, 10 epochs, resize 96, no scheduler
  -h, --help
${WATCH_HELP}

Ctrl-C finishes the current step, saves a checkpoint and exits; --resume picks it up.`;

export interface TrainConfig extends ModelConfig {
  data?: string;
  testData?: string;
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  momentum: number;
  weightDecay: number;
  scheduler: 'none' | 'onecycle' | 'cosine' | 'step';
  labelSmoothing: number;
  augment: boolean;
  limit?: number;
  seed: number;
}

/** The default recipe of `npm run train` (see README: measured to reach the accuracy target in time). */
export const DEFAULT_RECIPE: TrainConfig = {
  width: 64, init: 'default', epochs: 3, batchSize: 64, optimizer: 'sgd', lr: 0.05, momentum: 0.9,
  weightDecay: 5e-4, scheduler: 'onecycle', labelSmoothing: 0, augment: false, seed: 0,
};

/** D2L's train_ch6 recipe for ResNet-18: lr 0.05, 10 epochs, batch 256, Resize(96), Xavier, plain SGD. */
export const D2L_RECIPE: Partial<TrainConfig> = {
  init: 'xavier', optimizer: 'sgd', lr: 0.05, momentum: 0, weightDecay: 0, batchSize: 256, epochs: 10, resize: 96, scheduler: 'none',
};

const FLAGS = {
  data: { type: 'string' }, 'test-data': { type: 'string' }, resize: { type: 'string' }, augment: { type: 'boolean' },
  limit: { type: 'string' }, width: { type: 'string' }, init: { type: 'string' }, epochs: { type: 'string' },
  'batch-size': { type: 'string' }, optimizer: { type: 'string' }, lr: { type: 'string' }, momentum: { type: 'string' },
  'weight-decay': { type: 'string' }, scheduler: { type: 'string' }, 'label-smoothing': { type: 'string' },
  seed: { type: 'string' }, threads: { type: 'string' }, out: { type: 'string' }, resume: { type: 'string' },
  'detect-anomaly': { type: 'boolean' }, d2l: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  ...WATCH_FLAGS, // --- issue 13 (watch it learn) ---
} as const;

function configFromFlags(f: Record<string, string | boolean | undefined>, base: TrainConfig): TrainConfig {
  const c = 'train';
  const pick = <T>(v: T | undefined, d: T): T => (v === undefined ? d : v);
  return {
    data: pick(f.data as string | undefined, base.data),
    testData: pick(f['test-data'] as string | undefined, base.testData),
    resize: pick(intFlag(c, 'resize', f.resize, 8), base.resize),
    augment: pick(f.augment as boolean | undefined, base.augment),
    limit: pick(intFlag(c, 'limit', f.limit), base.limit),
    width: pick(intFlag(c, 'width', f.width), base.width),
    init: pick(choiceFlag(c, 'init', f.init, ['default', 'xavier'] as const), base.init),
    epochs: pick(intFlag(c, 'epochs', f.epochs), base.epochs),
    batchSize: pick(intFlag(c, 'batch-size', f['batch-size']), base.batchSize),
    optimizer: pick(choiceFlag(c, 'optimizer', f.optimizer, ['sgd', 'adam', 'adamw'] as const), base.optimizer),
    lr: pick(floatFlag(c, 'lr', f.lr), base.lr),
    momentum: pick(floatFlag(c, 'momentum', f.momentum), base.momentum),
    weightDecay: pick(floatFlag(c, 'weight-decay', f['weight-decay']), base.weightDecay),
    scheduler: pick(choiceFlag(c, 'scheduler', f.scheduler, ['none', 'onecycle', 'cosine', 'step'] as const), base.scheduler),
    labelSmoothing: pick(floatFlag(c, 'label-smoothing', f['label-smoothing']), base.labelSmoothing),
    seed: pick(intFlag(c, 'seed', f.seed, 0), base.seed),
  };
}

function makeOptimizer(config: TrainConfig, params: ReturnType<ReturnType<typeof buildModel>['parameters']>): Optimizer<HyperParams> {
  const { lr, momentum, weightDecay } = config;
  if (config.optimizer === 'adam') return new Adam(params, { lr, weightDecay }) as unknown as Optimizer<HyperParams>;
  if (config.optimizer === 'adamw') return new AdamW(params, { lr, weightDecay }) as unknown as Optimizer<HyperParams>;
  return new SGD(params, { lr, momentum, weightDecay }) as unknown as Optimizer<HyperParams>;
}

function makeScheduler(config: TrainConfig, optimizer: Optimizer<HyperParams>, stepsPerEpoch: number): { scheduler?: LRScheduler; interval: 'epoch' | 'step' } {
  switch (config.scheduler) {
    case 'onecycle':
      return {
        scheduler: new OneCycleLR(optimizer, {
          maxLr: config.lr, totalSteps: config.epochs * stepsPerEpoch, cycleMomentum: config.optimizer === 'sgd' && config.momentum > 0,
        }),
        interval: 'step',
      };
    case 'cosine':
      return { scheduler: new CosineAnnealingLR(optimizer, { tMax: config.epochs * stepsPerEpoch }), interval: 'step' };
    case 'step':
      return { scheduler: new StepLR(optimizer, { stepSize: Math.max(1, Math.round(config.epochs / 3)), gamma: 0.1 }), interval: 'epoch' };
    default:
      return { interval: 'epoch' };
  }
}

function defaultRunDir(): string {
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  return join('runs', stamp);
}

export async function trainCommand(argv: string[]): Promise<number> {
  const f = parseFlags('train', argv, FLAGS);
  if (f.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  let outDir = f.out as string | undefined;
  let config: TrainConfig;
  if (f.resume !== undefined) {
    const dir = f.resume as string;
    const cfgPath = join(dir, 'config.json');
    if (!existsSync(cfgPath)) throw new UsageError(`skipgrad train: --resume ${dir}: no config.json there (not a run folder)`);
    if (outDir !== undefined && outDir !== dir) throw new UsageError('skipgrad train: --resume and --out name different folders');
    outDir = dir;
    const saved = JSON.parse(readFileSync(cfgPath, 'utf8')) as TrainConfig;
    config = { ...saved, epochs: intFlag('train', 'epochs', f.epochs) ?? saved.epochs };
  } else {
    const base = f.d2l ? { ...DEFAULT_RECIPE, ...D2L_RECIPE } : DEFAULT_RECIPE;
    config = configFromFlags(f, base);
  }
  const threads = intFlag('train', 'threads', f.threads);
  if (threads !== undefined) setNumThreads(threads);
  const watchOptions = parseWatchFlags(f); // --- issue 13 (watch it learn) ---
  manualSeed(config.seed);

  const { train, test, source } = await loadSplits('train', config.data, config.testData);
  const trainSet = config.limit && config.limit < train.length ? new Subset(train, Array.from({ length: config.limit }, (_, i) => i)) : train;
  const trainLoader = new DataLoader(trainSet, {
    batchSize: config.batchSize, shuffle: true, seed: config.seed, transform: trainTransform(config, config.augment),
  });
  const testLoader = new DataLoader(test, { batchSize: 256, transform: evalTransform(config) });
  const model = buildModel(config);
  const optimizer = makeOptimizer(config, model.parameters());
  const { scheduler, interval } = makeScheduler(config, optimizer, trainLoader.length);

  outDir ??= defaultRunDir();
  await mkdir(outDir, { recursive: true });
  if (f.resume === undefined) await writeFile(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const size = config.resize ?? train.height;
  console.log(
    `training ResNet-18 (width ${config.width}, ${model.parameters().reduce((n, p) => n + p.size, 0).toLocaleString('en-US')} parameters) ` +
      `on ${source}: ${trainSet.length} images at ${size}×${size}, ${config.epochs} epochs, batch ${config.batchSize}, ` +
      `${config.optimizer} lr ${config.lr}, ${config.scheduler} schedule, ${getNumThreads()} threads -> ${outDir}`,
  );

  const watch = await startWatch(watchOptions, model, outDir); // --- issue 13 (watch it learn) ---
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write('\ninterrupt: finishing this step and saving a checkpoint (Ctrl-C again to quit now)\n');
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  const lossFn = (logits: Parameters<typeof crossEntropy>[0], y: Parameters<typeof crossEntropy>[1]) =>
    crossEntropy(logits, y, { labelSmoothing: config.labelSmoothing });
  const run = () =>
    fit({
      model, trainLoader, testLoader, optimizer, scheduler, schedulerInterval: interval, epochs: config.epochs, lossFn,
      outDir, resume: f.resume !== undefined, signal: controller.signal, config: { ...config },
      onAfterBackward: watch.onAfterBackward, // --- issue 13 (watch it learn) ---
    });
  try {
    const result = f['detect-anomaly'] ? await detectAnomaly(run) : await run();
    if (result.interrupted) {
      console.log(`stopped after ${result.epochsDone} full epochs; continue with: skipgrad train --resume ${outDir}`);
      return 130;
    }
    console.log(
      `loss ${result.trainLoss.toFixed(3)}, train acc ${result.trainAcc.toFixed(3)}, test acc ${result.testAcc?.toFixed(3) ?? 'n/a'}`,
    );
    console.log(`${result.examplesPerSec.toFixed(1)} examples/sec on ${getNumThreads()} threads; ${result.trainSeconds.toFixed(1)} s of training`);
    console.log(`run folder: ${outDir} (metrics.csv, curves.svg, checkpoint.safetensors, model.safetensors)`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await watch.close(); // --- issue 13 (watch it learn) ---
  }
}
