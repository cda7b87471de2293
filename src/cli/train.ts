// `skipgrad train`: trains the seed's ResNet-18 on Fashion-MNIST into a run folder, through the
// library's `fit`. Every flag, the run folder and the data are checked before anything is written.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { manualSeed } from '../autograd/random.js';
import { crossEntropy } from '../autograd/ops/loss.js';
import { detectAnomaly } from '../autograd/anomaly.js';
import { DataLoader } from '../data/dataloader.js';
import { Subset } from '../data/dataset.js';
import { setNumThreads, getNumThreads } from '../kernels/threads/pool.js';
import { fit } from '../train/fit.js';
import { UsageError, folderFlag, intFlag, parseFlags, threadsFlag } from './args.js';
import { loadSplits } from './data_args.js';
import { WATCH_FLAGS, WATCH_HELP, parseWatchFlags, startWatch } from './train_watch.js';
import { buildModel, evalTransform, trainTransform } from './model_config.js';
import {
  D2L_RECIPE, DEFAULT_RECIPE, RECIPE_FLAGS, configFromFlags, describeMomentum, makeOptimizer, makeScheduler,
  validateSavedConfig, type TrainConfig,
} from './train_config.js';

export { DEFAULT_RECIPE, D2L_RECIPE, type TrainConfig } from './train_config.js';

export const TRAIN_HELP = `Usage: skipgrad train [options]

Trains the ResNet-18 of Dive into Deep Learning (ch. 7.6) on Fashion-MNIST and writes a run
folder: metrics.csv, curves.svg, checkpoint.safetensors (every epoch), model.safetensors, config.json.

Data
  --data DIR|FILE.csv     official IDX files (e.g. /usr/share/datasets/fashion-mnist) or a
                          Kaggle-layout CSV (default: the embedded 6,000/1,000-image subset)
  --test-data FILE.csv    test split when --data is a CSV (default: the sibling *test*.csv)
  --resize N              resize images to N×N (D2L uses 96; default: keep 28×28)
  --augment               random crop (padding 4) and horizontal flip
  --flip                  random horizontal flip only (no crop)
  --limit N               train on the first N images only (quick experiments)
Model
  --width N               channels of the first stage (default 64 = the seed's ResNet-18)
  --init default|xavier   PyTorch's default init, or D2L's Xavier re-initialization
Optimization
  --epochs N              (default 3)
  --batch-size N          (default 64)
  --optimizer sgd|adam|adamw   (default sgd)
  --lr X                  peak learning rate, > 0 (default 0.05)
  --momentum X            SGD momentum in [0, 1) (default 0.9); under the one-cycle schedule the
                          cycle's max momentum, cycling X → X-0.1 → X (default 0.95 → 0.85 → 0.95)
  --weight-decay X        (default 5e-4)
  --scheduler none|onecycle|cosine|step   (default onecycle, stepped every batch)
  --label-smoothing X     in [0, 1] (default 0)
Run
  --seed N                (default 0)
  --threads N             compute threads (default: SKIPGRAD_NUM_THREADS or the number of cores)
  --out DIR               run folder (default runs/<date-time>); refuses an existing run folder
  --force                 with --out: replace an existing run folder
  --resume DIR            continue the run in DIR with its config; --epochs N extends (or
                          shortens) it, rebuilding the schedule for N epochs
  --detect-anomaly        name the op and module that first produce NaN/Inf
  --d2l                   the seed chapter's exact recipe: Xavier init, plain SGD lr 0.05,
                          batch 256, 10 epochs, resize 96, no scheduler
  -h, --help
${WATCH_HELP}

Ctrl-C finishes the current step, saves a checkpoint and exits; --resume picks it up.`;

const FLAGS = {
  data: { type: 'string' }, 'test-data': { type: 'string' }, resize: { type: 'string' }, augment: { type: 'boolean' }, flip: { type: 'boolean' },
  limit: { type: 'string' }, width: { type: 'string' }, init: { type: 'string' }, epochs: { type: 'string' },
  'batch-size': { type: 'string' }, optimizer: { type: 'string' }, lr: { type: 'string' }, momentum: { type: 'string' },
  'weight-decay': { type: 'string' }, scheduler: { type: 'string' }, 'label-smoothing': { type: 'string' },
  seed: { type: 'string' }, threads: { type: 'string' }, out: { type: 'string' }, resume: { type: 'string' },
  force: { type: 'boolean' }, 'detect-anomaly': { type: 'boolean' }, d2l: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  ...WATCH_FLAGS,
} as const;

type Flags = Record<string, string | boolean | undefined>;

/** Files that make a folder a run folder. */
const RUN_FILES = ['config.json', 'checkpoint.safetensors', 'model.safetensors', 'metrics.csv', 'curves.svg'];

function defaultRunDir(): string {
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  return join('runs', stamp);
}

/** The run's config on --resume: the saved one, with --epochs applied and any other differing flag refused. */
function resumedConfig(f: Flags, dir: string): { config: TrainConfig; notes: string[] } {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new UsageError(`skipgrad train: --resume ${dir}: no config.json there (not a run folder)`);
  if (f.out !== undefined && f.out !== dir) throw new UsageError('skipgrad train: --resume and --out name different folders');
  if (f.force) throw new UsageError('skipgrad train: --force does not apply to --resume (it continues the run, replacing nothing)');
  if (f.d2l) throw new UsageError(`skipgrad train: --d2l with --resume: the run's recipe is the one in ${cfgPath}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    throw new UsageError(`skipgrad train: ${cfgPath}: not valid JSON (${(e as Error).message.slice(0, 120)})`);
  }
  const saved = validateSavedConfig(parsed, cfgPath);
  const asGiven = configFromFlags(f, saved); // range-checks every flag given
  const differ: string[] = [];
  const same: string[] = [];
  for (const [flag, key] of Object.entries(RECIPE_FLAGS)) {
    if (f[flag] === undefined || flag === 'epochs') continue;
    const given = asGiven[key];
    (given === saved[key] ? same : differ).push(given === saved[key] ? `--${flag}` : `--${flag} ${String(f[flag])} (the run has ${String(saved[key])})`);
  }
  if (differ.length) {
    throw new UsageError(
      `skipgrad train: --resume ${dir} keeps the run's config; refusing ${differ.join(', ')}: drop them, or start a new run with --out`,
    );
  }
  const notes = same.length ? [`${same.join(', ')}: same as the run's config`] : [];
  // Not part of the recipe: applied to this session (a different thread count may change the last bits).
  if (f.threads !== undefined) notes.push(`--threads ${String(f.threads)}: applied to this session`);
  if (f['detect-anomaly']) notes.push('--detect-anomaly: applied to this session');
  const config = { ...saved, epochs: asGiven.epochs };
  if (config.epochs !== saved.epochs) notes.push(`--epochs ${config.epochs}: the run had ${saved.epochs}`);
  return { config, notes };
}

/** Refuses to overwrite a run folder (unless --force) or a file at --out; nothing is written here. */
function checkOutDir(dir: string, force: boolean): string[] {
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) throw new UsageError(`skipgrad train: --out ${dir} exists and is not a folder`);
  const present = readdirSync(dir).filter((n) => RUN_FILES.includes(n));
  if (present.length && !force) {
    throw new UsageError(
      `skipgrad train: --out ${dir} is an existing run folder (${present.join(', ')}): pass --force to replace it, or --resume ${dir} to continue it`,
    );
  }
  return present;
}

export async function trainCommand(argv: string[]): Promise<number> {
  const f = parseFlags('train', argv, FLAGS);
  if (f.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  const resume = folderFlag('train', 'resume', f.resume);
  folderFlag('train', 'out', f.out, resume === undefined);
  if (f.force && f.out === undefined) throw new UsageError('skipgrad train: --force needs --out DIR (the folder to replace)');
  let config: TrainConfig;
  let notes: string[] = [];
  if (resume !== undefined) {
    ({ config, notes } = resumedConfig(f, resume));
  } else {
    config = configFromFlags(f, f.d2l ? { ...DEFAULT_RECIPE, ...D2L_RECIPE } : DEFAULT_RECIPE);
  }
  const threads = threadsFlag('train', f.threads);
  const watchOptions = parseWatchFlags(f);
  const outDir = resume ?? (f.out as string | undefined) ?? defaultRunDir();
  const replaced = resume === undefined ? checkOutDir(outDir, Boolean(f.force)) : [];

  const { train, test, source } = await loadSplits('train', config.data, config.testData);
  if (train.length === 0) throw new UsageError(`skipgrad train: the training data (${source}) holds no images`);
  if (test.length === 0) throw new UsageError(`skipgrad train: the test data of ${source} holds no images`);
  if (threads !== undefined) setNumThreads(threads);
  manualSeed(config.seed);
  const trainSet = config.limit && config.limit < train.length ? new Subset(train, Array.from({ length: config.limit }, (_, i) => i)) : train;
  if (trainSet.length % config.batchSize === 1) {
    // BatchNorm cannot train on one image (PyTorch raises too), and it would fail only at that batch.
    throw new UsageError(
      `skipgrad train: ${trainSet.length} training images in batches of ${config.batchSize} leave a last batch of 1 image, ` +
        'which BatchNorm cannot train on: change --batch-size or --limit',
    );
  }
  const trainLoader = new DataLoader(trainSet, {
    batchSize: config.batchSize, shuffle: true, seed: config.seed, transform: trainTransform(config, config.augment, config.flip ?? false),
  });
  const testLoader = new DataLoader(test, { batchSize: 256, transform: evalTransform(config) });
  const model = buildModel(config);
  const optimizer = makeOptimizer(config, model.parameters());
  const { scheduler, interval } = makeScheduler(config, optimizer, trainLoader.length);

  // Flags and data are checked: only now is the run folder touched (fit creates it; a checkpoint
  // to resume is validated there before config.json is rewritten, in onTrainBegin).
  for (const name of replaced) await rm(join(outDir, name), { force: true });
  if (replaced.length) console.log(`--force: replaced the run in ${outDir} (${replaced.join(', ')})`);
  for (const note of notes) console.log(note);
  // Temp file + rename: a process killed mid-write (e.g. by SIGPIPE under `| head`) must not leave
  // an empty config.json, which would make the run impossible to resume. run_folder.ts removes
  // the temp file of a killed write on the next start.
  const writeConfig = {
    onTrainBegin: async () => {
      const tmp = join(outDir, `config.json.tmp-${process.pid}`);
      await writeFile(tmp, JSON.stringify(config, null, 2) + '\n');
      await rename(tmp, join(outDir, 'config.json'));
    },
  };
  const [h, w] = config.resize ? [config.resize, config.resize] : [train.height, train.width];
  console.log(
    `training ResNet-18 (width ${config.width}, ${model.parameters().reduce((n, p) => n + p.size, 0).toLocaleString('en-US')} parameters) ` +
      `on ${source}: ${trainSet.length} images at ${h}×${w}, ${config.epochs} epochs, batch ${config.batchSize}, ` +
      `${config.optimizer} lr ${config.lr}, ${describeMomentum(config)}, ${config.scheduler} schedule, ${getNumThreads()} threads -> ${outDir}`,
  );

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
  // The dashboard watches the run folder, so it must exist (flags and data are checked by now).
  if (watchOptions.dashboard) await mkdir(outDir, { recursive: true });
  const watch = await startWatch(watchOptions, outDir);
  const lossFn = (logits: Parameters<typeof crossEntropy>[0], y: Parameters<typeof crossEntropy>[1]) =>
    crossEntropy(logits, y, { labelSmoothing: config.labelSmoothing });
  const run = () =>
    fit(model, {
      train: trainLoader, test: testLoader, optimizer, scheduler, schedulerInterval: interval, epochs: config.epochs, lossFn,
      outDir, resume: resume !== undefined, signal: controller.signal, config: { ...config }, callbacks: [writeConfig],
      gradflowEvery: watchOptions.gradflowEvery,
    });
  try {
    const result = f['detect-anomaly'] ? await detectAnomaly(run) : await run();
    if (result.interrupted) {
      console.log(`stopped after ${result.epochsDone} full epochs; continue with: skipgrad train --resume ${outDir}`);
      return 130;
    }
    const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
    console.log(`loss ${fmt(result.trainLoss, 3)}, train acc ${fmt(result.trainAcc, 3)}, test acc ${result.testAcc === null ? 'n/a' : fmt(result.testAcc, 3)}`);
    if (!result.alreadyFinished) {
      console.log(`${fmt(result.examplesPerSec, 1)} examples/sec on ${getNumThreads()} threads; ${fmt(result.trainSeconds, 1)} s of training`);
    }
    const flowFiles = watchOptions.gradflowEvery !== undefined ? ', gradflow.csv, gradflow.svg' : '';
    console.log(`run folder: ${outDir} (metrics.csv, curves.svg, checkpoint.safetensors, model.safetensors${flowFiles})`);
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await watch.close();
  }
}
