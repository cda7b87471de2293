// `skipgrad train`'s recipe: flags → a validated TrainConfig (ranges checked before anything is
// created), the config a resumed run keeps, and the optimizer and schedule it describes.

import type { Module } from '../nn/module.js';
import { SGD } from '../optim/sgd.js';
import { Adam } from '../optim/adam.js';
import { AdamW } from '../optim/adamw.js';
import type { Optimizer, HyperParams } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr_scheduler.js';
import { CosineAnnealingLR, StepLR } from '../optim/schedulers.js';
import { OneCycleLR } from '../optim/one_cycle_lr.js';
import { UsageError, choiceFlag, isDecimal, rangeFlag, rangeProblem, type Range } from './args.js';
import type { ModelConfig } from './model_config.js';

/** `skipgrad train`'s validated recipe: model, data, optimizer, schedule and run options (also saved in checkpoints). */
export interface TrainConfig extends ModelConfig {
  data?: string;
  testData?: string;
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  /** SGD's momentum; under the one-cycle schedule the cycle's max momentum (PyTorch's max_momentum). */
  momentum: number;
  /** The one-cycle schedule's low momentum (absent in 0.1 run folders, which cycled 0.95 → 0.85). */
  baseMomentum?: number;
  weightDecay: number;
  scheduler: 'none' | 'onecycle' | 'cosine' | 'step';
  labelSmoothing: number;
  augment: boolean;
  /** Random horizontal flips alone (`--flip`); `augment` adds random crops to them. Absent (false) in older run folders. */
  flip?: boolean;
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

/** PyTorch's OneCycleLR momentum defaults: it cycles max_momentum 0.95 → base 0.85 → 0.95. */
const ONE_CYCLE_MAX_MOMENTUM = 0.95;
const ONE_CYCLE_MOMENTUM_SPAN = 0.1;

/** The numeric fields, their flags and ranges: one table for flags and for a saved config.json. */
const NUMERIC: Record<string, { flag: string; range: Range }> = {
  resize: { flag: 'resize', range: { integer: true, min: 8, max: 4096 } },
  limit: { flag: 'limit', range: { integer: true, min: 1 } },
  width: { flag: 'width', range: { integer: true, min: 1, max: 4096 } },
  epochs: { flag: 'epochs', range: { integer: true, min: 1, max: 1e6 } },
  batchSize: { flag: 'batch-size', range: { integer: true, min: 1, max: 1 << 20 } },
  lr: { flag: 'lr', range: { min: 0, minExclusive: true, max: 1e6 } },
  momentum: { flag: 'momentum', range: { min: 0, max: 1, maxExclusive: true } },
  baseMomentum: { flag: 'momentum', range: { min: 0, max: 1, maxExclusive: true } },
  weightDecay: { flag: 'weight-decay', range: { min: 0, max: 1e6 } },
  labelSmoothing: { flag: 'label-smoothing', range: { min: 0, max: 1 } },
  seed: { flag: 'seed', range: { integer: true, min: 0, max: 2 ** 32 - 1 } },
};

/** Flag name → config key, for every flag that is part of the recipe. */
export const RECIPE_FLAGS: Record<string, keyof TrainConfig> = {
  data: 'data', 'test-data': 'testData', resize: 'resize', augment: 'augment', flip: 'flip', limit: 'limit', width: 'width', init: 'init',
  epochs: 'epochs', 'batch-size': 'batchSize', optimizer: 'optimizer', lr: 'lr', momentum: 'momentum',
  'weight-decay': 'weightDecay', scheduler: 'scheduler', 'label-smoothing': 'labelSmoothing', seed: 'seed',
};

type Flags = Record<string, string | boolean | undefined>;

function intInRange(c: string, flag: string, raw: string | boolean | undefined, r: Range): number | undefined {
  // Integer flags keep the message of intFlag ("expects an integer >= 1"), with the upper bound added.
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (typeof raw !== 'string' || !isDecimal(raw) || Number.isNaN(v)) throw new UsageError(`skipgrad ${c}: --${flag} expects a number, got '${String(raw)}'`);
  const problem = rangeProblem(v, r);
  if (problem) throw new UsageError(`skipgrad ${c}: --${flag} expects ${problem}, got '${String(raw)}'`);
  return v;
}

/** The recipe the flags describe on top of `base` (every value range-checked). */
export function configFromFlags(f: Flags, base: TrainConfig): TrainConfig {
  const c = 'train';
  const pick = <T>(v: T | undefined, d: T): T => (v === undefined ? d : v);
  const n = (key: string) => {
    const { flag, range } = NUMERIC[key];
    return range.integer ? intInRange(c, flag, f[flag], range) : rangeFlag(c, flag, f[flag], range);
  };
  const optimizer = pick(choiceFlag(c, 'optimizer', f.optimizer, ['sgd', 'adam', 'adamw'] as const), base.optimizer);
  const scheduler = pick(choiceFlag(c, 'scheduler', f.scheduler, ['none', 'onecycle', 'cosine', 'step'] as const), base.scheduler);
  const momentumFlag = n('momentum');
  if (momentumFlag !== undefined && optimizer !== 'sgd') {
    throw new UsageError(`skipgrad train: --momentum applies to --optimizer sgd only (${optimizer} uses betas, which this CLI keeps at PyTorch's defaults)`);
  }
  const config: TrainConfig = {
    data: pick(f.data as string | undefined, base.data),
    testData: pick(f['test-data'] as string | undefined, base.testData),
    resize: pick(n('resize'), base.resize),
    augment: pick(f.augment as boolean | undefined, base.augment),
    flip: pick(f.flip as boolean | undefined, base.flip) ?? false,
    limit: pick(n('limit'), base.limit),
    width: pick(n('width'), base.width),
    init: pick(choiceFlag(c, 'init', f.init, ['default', 'xavier'] as const), base.init),
    epochs: pick(n('epochs'), base.epochs),
    batchSize: pick(n('batchSize'), base.batchSize),
    optimizer,
    lr: pick(n('lr'), base.lr),
    momentum: pick(momentumFlag, base.momentum),
    weightDecay: pick(n('weightDecay'), base.weightDecay),
    scheduler,
    labelSmoothing: pick(n('labelSmoothing'), base.labelSmoothing),
    seed: pick(n('seed'), base.seed),
  };
  if (scheduler === 'onecycle' && optimizer === 'sgd' && config.momentum > 0) {
    // --momentum sets the cycle's top (PyTorch's max_momentum); the low point is 0.1 below it, as
    // PyTorch's 0.95 → 0.85. Without the flag the cycle is PyTorch's default.
    if (momentumFlag === undefined) config.momentum = ONE_CYCLE_MAX_MOMENTUM;
    config.baseMomentum = Math.max(0, Number((config.momentum - ONE_CYCLE_MOMENTUM_SPAN).toFixed(12)));
  }
  return config;
}

/** Checks a config read from a run folder's config.json; names the file and field. */
export function validateSavedConfig(value: unknown, file: string): TrainConfig {
  const bad = (msg: string) => new UsageError(`skipgrad train: ${file}: ${msg}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('expected a JSON object');
  const c = value as Record<string, unknown>;
  for (const [key, { range }] of Object.entries(NUMERIC)) {
    const v = c[key];
    if (v === undefined && (key === 'resize' || key === 'limit' || key === 'baseMomentum')) continue;
    const problem = typeof v === 'number' ? rangeProblem(v, range) : 'a number';
    if (problem) throw bad(`'${key}' must be ${problem}, got ${JSON.stringify(v)}`);
  }
  const choices: Record<string, readonly unknown[]> = {
    optimizer: ['sgd', 'adam', 'adamw'], scheduler: ['none', 'onecycle', 'cosine', 'step'], init: ['default', 'xavier'], augment: [true, false],
  };
  for (const [key, allowed] of Object.entries(choices)) {
    if (!allowed.includes(c[key])) throw bad(`'${key}' must be one of ${allowed.join(', ')}, got ${JSON.stringify(c[key])}`);
  }
  for (const key of ['data', 'testData']) {
    if (c[key] !== undefined && typeof c[key] !== 'string') throw bad(`'${key}' must be a path, got ${JSON.stringify(c[key])}`);
  }
  if (c.flip !== undefined && typeof c.flip !== 'boolean') throw bad(`'flip' must be true or false, got ${JSON.stringify(c.flip)}`);
  return c as unknown as TrainConfig;
}

/** The one-cycle momentum range [max, base], or null when the momentum does not cycle. */
export function momentumCycle(config: TrainConfig): [number, number] | null {
  if (config.scheduler !== 'onecycle' || config.optimizer !== 'sgd' || config.momentum === 0) return null;
  // A 0.1 run folder has no baseMomentum: its schedule was PyTorch's default.
  return config.baseMomentum === undefined ? [ONE_CYCLE_MAX_MOMENTUM, 0.85] : [config.momentum, config.baseMomentum];
}

/** "momentum 0.9" or "momentum 0.95 → 0.85 → 0.95 (one-cycle)", for the banner. */
export function describeMomentum(config: TrainConfig): string {
  if (config.optimizer !== 'sgd') return `${config.optimizer} betas (0.9, 0.999)`;
  const cycle = momentumCycle(config);
  return cycle ? `momentum ${cycle[0]} → ${cycle[1]} → ${cycle[0]} (one-cycle)` : `momentum ${config.momentum}`;
}

export function makeOptimizer(config: TrainConfig, params: ReturnType<Module['parameters']>): Optimizer<HyperParams> {
  const { lr, momentum, weightDecay } = config;
  if (config.optimizer === 'adam') return new Adam(params, { lr, weightDecay }) as unknown as Optimizer<HyperParams>;
  if (config.optimizer === 'adamw') return new AdamW(params, { lr, weightDecay }) as unknown as Optimizer<HyperParams>;
  return new SGD(params, { lr, momentum, weightDecay }) as unknown as Optimizer<HyperParams>;
}

/** The schedule for `config.epochs` epochs of `stepsPerEpoch` steps. */
export function makeScheduler(config: TrainConfig, optimizer: Optimizer<HyperParams>, stepsPerEpoch: number): { scheduler?: LRScheduler; interval: 'epoch' | 'step' } {
  switch (config.scheduler) {
    case 'onecycle': {
      const cycle = momentumCycle(config);
      return {
        scheduler: new OneCycleLR(optimizer, {
          maxLr: config.lr, totalSteps: config.epochs * stepsPerEpoch, cycleMomentum: cycle !== null,
          ...(cycle ? { maxMomentum: cycle[0], baseMomentum: cycle[1] } : {}),
        }),
        interval: 'step',
      };
    }
    case 'cosine':
      return { scheduler: new CosineAnnealingLR(optimizer, { tMax: config.epochs * stepsPerEpoch }), interval: 'step' };
    case 'step':
      return { scheduler: new StepLR(optimizer, { stepSize: Math.max(1, Math.round(config.epochs / 3)), gamma: 0.1 }), interval: 'epoch' };
    default:
      return { interval: 'epoch' };
  }
}
