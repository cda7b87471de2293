// Checkpoints of a training loop of your own, in the format fit writes: the model's weights, the
// optimizer's and scheduler's state dicts, the default generator's state (shuffling, dropout,
// augmentation) and where the loop is, in one safetensors file written atomically. Restoring all
// of them continues the loop bit for bit, as PyTorch's torch.save({...}) / load_state_dict idiom.

import { defaultGenerator, type GeneratorState } from '../autograd/random.js';
import type { Module } from '../nn/module.js';
import type { OptimizerLike, SchedulerLike } from './callbacks.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';

/** What `saveTrainingCheckpoint` saves: the objects themselves, read with their stateDict(). */
export interface TrainingObjects {
  model: Module;
  optimizer?: OptimizerLike;
  scheduler?: SchedulerLike;
  /** Where the loop is (epoch, step, …): any JSON-like value, given back by the load. */
  position?: unknown;
}

interface SavedTraining {
  optimizer: unknown;
  scheduler: unknown;
  rng: GeneratorState;
  position: unknown;
}

/** Saves model + optimizer + scheduler + the default generator's state + position to `path`. */
export async function saveTrainingCheckpoint(path: string, objects: TrainingObjects): Promise<void> {
  if (!objects || typeof objects.model?.stateDict !== 'function') throw new TypeError('saveTrainingCheckpoint: objects.model must be an nn.Module');
  const state: SavedTraining = {
    optimizer: objects.optimizer ? objects.optimizer.stateDict() : null,
    scheduler: objects.scheduler ? objects.scheduler.stateDict() : null,
    rng: defaultGenerator.getState(),
    position: objects.position ?? null,
  };
  await saveCheckpoint(path, { model: objects.model.stateDict(), state });
}

/**
 * Restores what `saveTrainingCheckpoint` saved into the given objects (strict: every weight, and
 * the optimizer's/scheduler's state when one is given) and the default generator; returns the
 * saved position. Asking for an optimizer or scheduler state the file does not hold is an error.
 */
export async function loadTrainingCheckpoint(path: string, objects: Omit<TrainingObjects, 'position'>): Promise<{ position: unknown }> {
  if (!objects || typeof objects.model?.loadStateDict !== 'function') throw new TypeError('loadTrainingCheckpoint: objects.model must be an nn.Module');
  const { model, state } = await loadCheckpoint(path);
  const saved = state as Partial<SavedTraining> | null;
  if (!saved || typeof saved !== 'object' || !saved.rng) throw new Error(`${path}: not a training checkpoint (no generator state); was it written by saveTrainingCheckpoint or fit?`);
  if (objects.optimizer && (saved.optimizer === null || saved.optimizer === undefined)) throw new Error(`${path}: holds no optimizer state to load`);
  if (objects.scheduler && (saved.scheduler === null || saved.scheduler === undefined)) throw new Error(`${path}: holds no scheduler state to load`);
  objects.model.loadStateDict(model, { strict: true });
  if (objects.optimizer) objects.optimizer.loadStateDict(saved.optimizer);
  if (objects.scheduler) objects.scheduler.loadStateDict(saved.scheduler);
  defaultGenerator.setState(saved.rng);
  return { position: saved.position ?? null };
}
