// A skipgrad run folder as the exporters see it: config.json, and checkpoint.safetensors read with
// the training loop's own loadCheckpoint (its state: position, optimizer, scheduler, rng, history).
// The recipe objects are rebuilt as `skipgrad train` builds them, so their loadStateDict validates.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '../nn/module.js';
import { SGD } from '../optim/sgd.js';
import { Adam } from '../optim/adam.js';
import { AdamW } from '../optim/adamw.js';
import type { HyperParams, Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr_scheduler.js';
import { CosineAnnealingLR, StepLR } from '../optim/schedulers.js';
import { OneCycleLR } from '../optim/one_cycle_lr.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { buildModel } from '../cli/model_config.js';
import type { TrainConfig } from '../cli/train.js';
import type { TorchOptimizerClass, TorchSchedulerClass } from './torch_state.js';

/** What fit() keeps in a checkpoint's state (train/fit.ts's TrainingState). */
export interface RunState {
  position: Record<string, number>;
  /** The run's planned length when saved (absent in checkpoints of skipgrad 0.1). */
  epochs?: number;
  optimizer: unknown;
  scheduler: unknown;
  rng: unknown;
  history: unknown[];
  config: Record<string, unknown>;
}

export interface Run {
  dir: string;
  config: TrainConfig;
  model: Module;
  state: RunState;
}

export async function readRun(dir: string): Promise<Run> {
  const cfgPath = join(dir, 'config.json');
  const ckptPath = join(dir, 'checkpoint.safetensors');
  if (!existsSync(cfgPath)) throw new Error(`${dir}: no config.json there (not a run folder)`);
  if (!existsSync(ckptPath)) throw new Error(`${dir}: no checkpoint.safetensors there (the run has not finished an epoch yet)`);
  const ckpt = await loadCheckpoint(ckptPath);
  const state = ckpt.state as RunState;
  // The checkpoint's config is the one its state belongs to (config.json may have been extended).
  const config = { ...(JSON.parse(readFileSync(cfgPath, 'utf8')) as TrainConfig), ...(state.config as Partial<TrainConfig>) };
  const model = buildModel(config);
  model.loadStateDict(ckpt.model, { strict: true });
  return { dir, config, model, state };
}

export const OPTIMIZER_CLASS: Record<TrainConfig['optimizer'], TorchOptimizerClass> = { sgd: 'SGD', adam: 'Adam', adamw: 'AdamW' };

export const SCHEDULER_CLASS: Record<TrainConfig['scheduler'], { cls: TorchSchedulerClass; interval: 'step' | 'epoch' } | null> = {
  none: null,
  onecycle: { cls: 'OneCycleLR', interval: 'step' },
  cosine: { cls: 'CosineAnnealingLR', interval: 'step' },
  step: { cls: 'StepLR', interval: 'epoch' },
};

/** The optimizer and scheduler of `skipgrad train` for `config` (their state is loaded afterwards). */
export function recipeObjects(config: TrainConfig, model: Module): { optimizer: Optimizer<HyperParams>; scheduler: LRScheduler | null } {
  const params = model.parameters();
  const { lr, momentum, weightDecay } = config;
  const optimizer = (
    config.optimizer === 'adam' ? new Adam(params, { lr, weightDecay })
      : config.optimizer === 'adamw' ? new AdamW(params, { lr, weightDecay })
        : new SGD(params, { lr, momentum, weightDecay })
  ) as unknown as Optimizer<HyperParams>;
  // Schedule lengths are placeholders here: loadStateDict restores the saved ones.
  let scheduler: LRScheduler | null = null;
  if (config.scheduler === 'onecycle') {
    scheduler = new OneCycleLR(optimizer, { maxLr: lr, totalSteps: 1, cycleMomentum: config.optimizer === 'sgd' && momentum > 0 });
  } else if (config.scheduler === 'cosine') {
    scheduler = new CosineAnnealingLR(optimizer, { tMax: 1 });
  } else if (config.scheduler === 'step') {
    scheduler = new StepLR(optimizer, { stepSize: 1, gamma: 0.1 });
  }
  return { optimizer, scheduler };
}
