// Callbacks of `fit`, Keras/Lightning style: each hook sees the loop's state and may end training
// by returning 'stop' or calling state.stop(). Recorders (loggers, gradient-flow probes, early
// stopping) are callbacks; `fit` calls `options.callbacks` in order at each hook.

import type { Tensor } from '../autograd/tensor.js';
import type { EvaluateResult, TrainableModule } from './evaluate.js';
import type { MetricRow } from './metrics.js';

/** What {@link fit} needs of an optimizer (every `optim` optimizer has it). */
export interface OptimizerLike {
  /** Clears the parameters' gradients. */
  zeroGrad(): void;
  /** Updates the parameters from their gradients. */
  step(): void;
  /** The optimizer's state, JSON-like, for checkpoints. */
  stateDict(): unknown;
  /** Restores a state saved with `stateDict`. */
  loadStateDict(state: any): void;
  readonly paramGroups: ReadonlyArray<{ lr: number }>;
}

/** What {@link fit} needs of a learning-rate scheduler (every `optim` scheduler has it). */
export interface SchedulerLike {
  /** `step(epoch)` jumps to that step/epoch (used when a resumed run's length changes). */
  step(epoch?: number): void;
  /** The scheduler's state, JSON-like, for checkpoints. */
  stateDict(): unknown;
  /** Restores a state saved with `stateDict`. */
  loadStateDict(state: any): void;
  readonly name?: string;
}

/** What every callback hook sees of the run in progress. */
export interface FitState {
  model: TrainableModule;
  optimizer: OptimizerLike;
  scheduler?: SchedulerLike;
  /** 1-based epoch in progress (or just finished, in onEpochEnd). */
  epoch: number;
  epochs: number;
  /** Batches done in this epoch. */
  batch: number;
  batches: number;
  /** Optimizer steps done in the whole run (a resumed run counts its earlier sessions). */
  step: number;
  history: readonly MetricRow[];
  /** Ends training after the current step (a checkpoint is saved when there is a run folder). */
  stop(reason?: string): void;
}

/** What `onAfterBackward` sees: the run plus this batch's loss tensor. */
export interface AfterBackwardState extends FitState {
  /** This batch's loss (graph still alive; its gradients were just computed). */
  loss: Tensor;
  /** Whether any parameter holds a gradient now (right after backward, before the optimizer step). */
  hasGradients: boolean;
}

/** What `onBatchEnd` sees: the run plus this batch's loss. */
export interface BatchEndState extends FitState {
  loss: number;
}

/** What `onEpochEnd` sees: the run plus the epoch's training loss and accuracy and the test evaluation. */
export interface EpochEndState extends FitState {
  trainLoss: number;
  trainAcc: number;
  /** The test set's evaluation, when `test` was given. */
  test: EvaluateResult | null;
}

/** A hook's result: nothing, or 'stop' to end training after this step (possibly as a Promise). */
export type CallbackReturn = void | 'stop' | Promise<void | 'stop'>;

/** Hooks {@link fit} calls during training, as Keras/Lightning callbacks; every hook is optional. */
export interface Callback {
  /** Before the first epoch (of this session, when resuming). */
  onTrainBegin?(state: FitState): CallbackReturn;
  /** At the start of every epoch. */
  onEpochBegin?(state: FitState): CallbackReturn;
  /** Right after loss.backward(), before optimizer.step(): where gradient recorders plug in. */
  onAfterBackward?(state: AfterBackwardState): CallbackReturn;
  /** After every optimizer step. */
  onBatchEnd?(state: BatchEndState): CallbackReturn;
  /** After every epoch's evaluation. */
  onEpochEnd?(state: EpochEndState): CallbackReturn;
  /** Once training ends (finished, stopped or interrupted). */
  onTrainEnd?(state: FitState): CallbackReturn;
}

export type Hook = keyof Callback;

/** Calls `hook` on every callback in order; true when one of them asked to stop. */
export async function runHook<S extends FitState>(callbacks: readonly Callback[], hook: Hook, state: S): Promise<boolean> {
  let stop = false;
  for (const cb of callbacks) {
    const fn = cb[hook] as ((s: S) => CallbackReturn) | undefined;
    if (!fn) continue;
    let r = fn.call(cb, state);
    if (r && typeof (r as Promise<unknown>).then === 'function') r = await r;
    if (r === 'stop') stop = true;
  }
  return stop;
}
