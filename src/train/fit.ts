// The training loop of D2L's train_ch6 as a library, with a run folder: metrics CSV, SVG curves,
// a checkpoint after every epoch (and on interrupt or stop), resumable to bit-identical weights,
// and the final model. Callbacks see every step; the CLI's `skipgrad train` is one user of it.

import { defaultGenerator } from '../autograd/random.js';
import { Tensor } from '../autograd/tensor.js';
import { crossEntropy } from '../autograd/ops/loss.js';
import type { DataLoader } from '../data/dataloader.js';
import { saveSafetensors } from '../io/tensors.js';
import { reclaimMemory } from '../kernels/memory/arena.js';
import { runHook, type Callback, type FitState, type OptimizerLike, type SchedulerLike } from './callbacks.js';
import { checkMetrics, evaluate, predictClasses, type EvalMetric, type EvaluateResult, type LossFn, type TrainableModule } from './evaluate.js';
import type { MetricRow } from './metrics.js';
import { ProgressBar, type ProgressStream } from './progress.js';
import { RunFolder } from './run_folder.js';
import { CheckpointError, checkLike, type Position } from './training_state.js';
import { gradflowCallback } from './gradflow_callback.js';
import type { GradflowRecord } from '../inspect/recorder.js';
import type { Module } from '../nn/module.js';

export type { TrainableModule, OptimizerLike, SchedulerLike };

/** Options of {@link fit}: data, optimizer, scheduler, epochs, loss, callbacks, run folder and resuming. */
export interface FitOptions {
  /** Training batches; `batches(epoch, start)` makes resuming mid-epoch exact. */
  train: DataLoader;
  /** Evaluated at the end of every epoch. */
  test?: DataLoader;
  optimizer: OptimizerLike;
  /**
   * Built for `epochs`. On a resume with the same epochs its saved state is restored; with other
   * epochs (extending a run) it is moved to the checkpoint's step with `step(step)`, as PyTorch's
   * `last_epoch` argument would.
   */
  scheduler?: SchedulerLike;
  /** Step the scheduler after every batch ('step', e.g. OneCycleLR) or every epoch (default). */
  schedulerInterval?: 'epoch' | 'step';
  epochs: number;
  /** Default: crossEntropy. */
  lossFn?: LossFn;
  /** Metrics of the per-epoch test evaluation beyond loss and accuracy (see `evaluate`). */
  metrics?: readonly EvalMetric[];
  /** Called in order at each hook; return 'stop' or call state.stop() to end training. */
  callbacks?: readonly Callback[];
  /** Run folder: metrics.csv, curves.svg, checkpoint.safetensors, model.safetensors. */
  outDir?: string;
  /** Continue from outDir/checkpoint.safetensors when it exists (says "starting fresh" when not). */
  resume?: boolean;
  /** Where the progress bar goes (default process.stderr). */
  progress?: ProgressStream;
  /** Where the per-epoch lines go (default process.stdout). */
  log?: ProgressStream;
  /** Train-metric points per epoch in the CSV and plot (D2L logs 5). */
  pointsPerEpoch?: number;
  /** Aborting finishes the current step, saves a checkpoint and returns. */
  signal?: AbortSignal;
  /** Anything worth keeping with the run (CLI flags), saved in the checkpoint and model metadata. */
  config?: Record<string, unknown>;
  /**
   * Every N steps (and at step 1), record each residual block's gradient norms (output, branch,
   * shortcut) and every parameter's grad/weight ratio right after backward: into
   * outDir/gradflow.csv (and gradflow.svg at the end) with a run folder, and into the result's
   * `gradflow` either way.
   */
  gradflowEvery?: number;
}

/** What {@link fit} returns: the per-epoch metrics and how the run ended. */
export interface FitResult {
  history: MetricRow[];
  /** Whole epochs completed (including those of a resumed run). */
  epochsDone: number;
  /** Stopped by the abort signal (Ctrl-C). */
  interrupted: boolean;
  /** Stopped by a callback, with its reason. */
  stopped: boolean;
  stopReason?: string;
  /** A resumed run that had already finished its epochs: nothing was trained. */
  alreadyFinished: boolean;
  testAcc: number | null;
  /** The last epoch's test evaluation (with the requested metrics). */
  test: EvaluateResult | null;
  /** What `gradflowEvery` recorded in this call (null without it). */
  gradflow: GradflowRecord[] | null;
  trainLoss: number;
  trainAcc: number;
  /** Training time (excluding evaluation), all sessions of the run. */
  trainSeconds: number;
  examplesPerSec: number;
}

const freshPosition = (): Position => ({
  epoch: 0, batch: 0, lossSum: 0, correct: 0, count: 0, epochSeconds: 0, totalSeconds: 0, totalExamples: 0, step: 0,
});

/** Every option fit reads: anything else is refused by name rather than ignored. */
const FIT_OPTIONS = new Set([
  'train', 'test', 'optimizer', 'scheduler', 'schedulerInterval', 'epochs', 'lossFn', 'metrics', 'callbacks', 'outDir',
  'resume', 'progress', 'log', 'pointsPerEpoch', 'signal', 'config', 'gradflowEvery',
]);

/** How a wrong option value is named in an error: the string '2' is not the number 2. */
function shown(v: unknown): string {
  if (typeof v === 'string') return `the string '${v.slice(0, 40)}'`;
  if (v === null || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** The loss must be a one-element tensor with a graph back to the parameters: say so, not 'loss.backward is not a function'. */
function checkLoss(loss: unknown): asserts loss is Tensor {
  if (!(loss instanceof Tensor)) throw new TypeError(`fit: lossFn returned ${shown(loss)}; it must return a one-element Tensor (e.g. crossEntropy(logits, y))`);
  if (loss.size !== 1) throw new Error(`fit: lossFn returned a tensor of shape [${loss.shape.join(',')}]; it must be one element (reduction 'mean' or 'sum')`);
  if (!loss.requiresGrad) throw new Error('fit: the loss does not require grad: it must be computed from the model output, outside noGrad');
}

const isStream = (s: unknown): boolean => typeof (s as ProgressStream | null)?.write === 'function';

/** Every option of the wrong type is refused by name before anything runs or is written. */
function checkOptionTypes(o: FitOptions): void {
  const bad = (what: string, v: unknown): never => {
    throw new TypeError(`fit: options.${what}, got ${shown(v)}`);
  };
  if (o.test !== undefined && typeof (o.test as DataLoader | null)?.batches !== 'function') bad('test must be a DataLoader', o.test);
  if (o.lossFn !== undefined && typeof o.lossFn !== 'function') bad('lossFn must be a function (logits, labels) => loss', o.lossFn);
  if (o.scheduler !== undefined && (typeof o.scheduler?.step !== 'function' || typeof o.scheduler?.stateDict !== 'function')) {
    bad('scheduler must be an LR scheduler (step, stateDict, loadStateDict)', o.scheduler);
  }
  if (o.metrics !== undefined) {
    checkMetrics('fit', o.metrics);
    if (!o.test) throw new TypeError('fit: options.metrics apply to the per-epoch test evaluation: give options.test too');
  }
  if (o.callbacks !== undefined) {
    if (!Array.isArray(o.callbacks)) bad('callbacks must be an array of callback objects', o.callbacks);
    o.callbacks.forEach((c, i) => {
      if (c === null || typeof c !== 'object') bad(`callbacks[${i}] must be an object of hooks (onBatchEnd, onEpochEnd, …)`, c);
    });
  }
  if (o.outDir !== undefined && (typeof o.outDir !== 'string' || o.outDir === '')) bad('outDir must be a non-empty folder path', o.outDir);
  if (o.resume !== undefined && typeof o.resume !== 'boolean') bad('resume must be true or false', o.resume);
  if (o.progress !== undefined && !isStream(o.progress)) bad('progress must be a stream with write() (e.g. process.stderr)', o.progress);
  if (o.log !== undefined && !isStream(o.log)) bad('log must be a stream with write() (e.g. process.stdout)', o.log);
  if (o.pointsPerEpoch !== undefined && !(Number.isInteger(o.pointsPerEpoch) && o.pointsPerEpoch >= 1)) {
    bad('pointsPerEpoch must be an integer >= 1', o.pointsPerEpoch);
  }
  if (o.signal !== undefined && typeof (o.signal as AbortSignal | null)?.aborted !== 'boolean') bad('signal must be an AbortSignal', o.signal);
  if (o.config !== undefined && (o.config === null || typeof o.config !== 'object' || Array.isArray(o.config))) {
    bad('config must be a plain object (saved with the run)', o.config);
  }
}

/**
 * Trains `model` for `options.epochs` epochs, as a PyTorch training loop does (zeroGrad, forward, loss, backward, step,
 * then the scheduler), evaluating on `options.test` after each epoch and running the callbacks; with a run folder it
 * checkpoints and can resume exactly.
 */
export async function fit(model: TrainableModule, options: FitOptions): Promise<FitResult> {
  if (!model || typeof model.call !== 'function') throw new TypeError('fit: the first argument must be a model (an nn.Module): fit(model, {train, optimizer, epochs, …})');
  if (!options || typeof options !== 'object') throw new TypeError('fit: the second argument must be the options {train, optimizer, epochs, …}');
  const unknown = Object.keys(options).filter((k) => !FIT_OPTIONS.has(k) && (options as unknown as Record<string, unknown>)[k] !== undefined);
  if (unknown.length) throw new TypeError(`fit: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${[...FIT_OPTIONS].join(', ')})`);
  const { train, test, optimizer, scheduler, epochs } = options;
  if (!train || typeof train.batches !== 'function') throw new TypeError('fit: options.train must be a DataLoader');
  if (!optimizer || typeof optimizer.step !== 'function') throw new TypeError('fit: options.optimizer must be an optimizer (e.g. sg.SGD)');
  if (options.resume && !options.outDir) throw new TypeError('fit: resume needs outDir (the run folder holding the checkpoint)');
  if (options.schedulerInterval !== undefined && options.schedulerInterval !== 'epoch' && options.schedulerInterval !== 'step') {
    throw new TypeError(`fit: schedulerInterval must be 'epoch' or 'step', got ${String(options.schedulerInterval)}`);
  }
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${shown(epochs)}`);
  checkOptionTypes(options);
  const every = options.gradflowEvery;
  if (every !== undefined && !(Number.isInteger(every) && every >= 1)) throw new TypeError(`fit: gradflowEvery must be an integer >= 1, got ${String(every)}`);
  const batches = train.length;
  if (!(batches >= 1)) throw new Error('fit: the training data is empty (0 batches); nothing to train on');
  const lossFn = options.lossFn ?? crossEntropy;
  const interval = options.schedulerInterval ?? 'epoch';
  const log = options.log ?? process.stdout;
  const bar = new ProgressBar(options.progress ?? process.stderr);
  const points = options.pointsPerEpoch ?? 5;
  let callbacks = options.callbacks ?? [];
  const folder = options.outDir ? new RunFolder(options.outDir) : undefined;

  let pos = freshPosition();
  let history: MetricRow[] = [];
  let savedEpochs = epochs;
  if (folder) {
    await folder.prepare(log);
    if (options.resume) {
      const st = await folder.restore(model, optimizer, scheduler, batches);
      if (st) {
        pos = st.position;
        history = st.history;
        savedEpochs = st.epochs ?? (typeof st.config.epochs === 'number' ? st.config.epochs : epochs);
        log.write(`resuming from ${folder.checkpointPath}: epoch ${pos.epoch + 1}, batch ${pos.batch}\n`);
        if (pos.epoch >= epochs && !(pos.epoch === epochs && pos.batch === 0)) {
          throw new CheckpointError(folder.checkpointPath, `the checkpoint is at epoch ${pos.epoch + 1}, batch ${pos.batch}; epochs ${epochs} would end the run before it`);
        }
        if (savedEpochs !== epochs) {
          if (scheduler) {
            if (typeof scheduler.step !== 'function') throw new TypeError('fit: the scheduler has no step()');
            const at = interval === 'step' ? pos.step : pos.epoch;
            scheduler.step(at);
            const total = interval === 'step' ? `${epochs * batches} steps` : `${epochs} epochs`;
            log.write(
              `${epochs > savedEpochs ? 'extending' : 'shortening'} ${savedEpochs} → ${epochs} epochs: ${scheduler.name ?? 'the'} schedule rebuilt for ${epochs} epochs ` +
                `(${total}), continuing at ${interval} ${at}\n`,
            );
          } else {
            log.write(`${epochs > savedEpochs ? 'extending' : 'shortening'} ${savedEpochs} → ${epochs} epochs (no scheduler), continuing at step ${pos.step}\n`);
          }
        } else if (scheduler) {
          const file = folder.checkpointPath;
          const saved = st.scheduler as { lastEpoch?: unknown } | null;
          if (!saved) throw new CheckpointError(file, "checkpoint field 'scheduler' is null, but a scheduler was given");
          const expected = interval === 'step' ? pos.step : pos.epoch;
          if (saved.lastEpoch !== undefined && saved.lastEpoch !== expected) {
            throw new CheckpointError(file, `checkpoint field 'scheduler.lastEpoch' is ${String(saved.lastEpoch)}, but position is at ${interval} ${expected}`);
          }
          checkLike(saved, scheduler.stateDict(), 'scheduler', file);
          scheduler.loadStateDict(saved);
        }
      } else {
        log.write(`no checkpoint in ${options.outDir}: starting fresh\n`);
      }
    }
  }

  // Created once the position is known, so a resumed run's recorder starts at its next step.
  const flow = every !== undefined ? gradflowCallback(model as unknown as Module, every, options.outDir, pos.step + 1) : null;
  if (flow) callbacks = [...callbacks, flow];

  let stopReason: string | undefined;
  const requestStop = (reason = 'stopped by a callback') => void (stopReason ??= reason);
  const state = (): FitState => ({
    model, optimizer, scheduler, epoch: pos.epoch + 1, epochs, batch: pos.batch, batches, step: pos.step, history, stop: requestStop,
  });

  const alreadyFinished = options.resume === true && pos.epoch >= epochs;
  if (alreadyFinished) {
    log.write(`the run already finished its ${epochs} epochs at step ${pos.step}: nothing to train (give more epochs to extend it)\n`);
  }

  const save = async (): Promise<void> => {
    if (!folder) return;
    await folder.save(model, {
      position: pos, epochs, optimizer: optimizer.stateDict(), scheduler: scheduler ? scheduler.stateDict() : null,
      rng: defaultGenerator.getState(), history, config: options.config ?? {},
    });
  };

  const logEvery = Math.max(1, Math.floor(batches / points));
  let interrupted = false;
  let savedAt = -1; // the step of the last checkpoint written in this call
  let lastTest: EvaluateResult | null = null;
  let lastTestAcc: number | null = history.filter((r) => r.testAcc !== null).at(-1)?.testAcc ?? null;
  const wantsGradFlag = callbacks.some((c) => c.onAfterBackward);

  model.train();
  if (!alreadyFinished && (await runHook(callbacks, 'onTrainBegin', state()))) requestStop();
  for (; pos.epoch < epochs && stopReason === undefined; pos.epoch++, pos.batch = 0) {
    if (pos.batch === 0) Object.assign(pos, { lossSum: 0, correct: 0, count: 0, epochSeconds: 0 });
    const epochNo = pos.epoch + 1;
    if (await runHook(callbacks, 'onEpochBegin', state())) requestStop();
    if (stopReason !== undefined) break;
    for (const { x, y } of train.batches(pos.epoch, pos.batch)) {
      const t0 = performance.now();
      optimizer.zeroGrad();
      const logits = model.call(x);
      if (!(logits instanceof Tensor)) throw new TypeError(`fit: the model returned ${shown(logits)}, not a Tensor of logits`);
      const loss = lossFn(logits, y);
      checkLoss(loss);
      loss.backward();
      // Hook point for gradient recorders (e.g. gradient flow every N steps): gradients present, not yet applied.
      if (wantsGradFlag) {
        const hasGradients = (model.parameters?.() ?? []).some((p: Tensor) => p.grad != null);
        if (await runHook(callbacks, 'onAfterBackward', { ...state(), step: pos.step + 1, batch: pos.batch + 1, loss, hasGradients })) requestStop();
      }
      optimizer.step();
      if (scheduler && interval === 'step') scheduler.step();
      const dt = (performance.now() - t0) / 1000;
      const lossValue = loss.item();
      const lr = optimizer.paramGroups[0].lr;
      if (!Number.isFinite(lr)) throw new Error(`fit: the learning rate became ${lr} at epoch ${epochNo}, batch ${pos.batch + 1}; check the scheduler`);
      if (!Number.isFinite(lossValue)) {
        throw new Error(`fit: the loss became ${lossValue} at epoch ${epochNo}, batch ${pos.batch + 1}; try a lower learning rate or --detect-anomaly`);
      }
      pos.lossSum += lossValue * y.size;
      const pred = predictClasses(logits);
      for (let i = 0; i < pred.length; i++) if (pred[i] === y.data[i]) pos.correct++;
      pos.count += y.size;
      pos.epochSeconds += dt;
      pos.totalSeconds += dt;
      pos.totalExamples += y.size;
      pos.batch++;
      pos.step++;
      bar.update({
        epoch: epochNo, epochs, batch: pos.batch, batches, loss: pos.lossSum / pos.count,
        examplesPerSec: pos.count / pos.epochSeconds, elapsed: pos.epochSeconds,
      });
      if (pos.batch % logEvery === 0 || pos.batch === batches) {
        history.push({
          epoch: pos.epoch + pos.batch / batches, step: pos.step, lr: optimizer.paramGroups[0].lr,
          loss: pos.lossSum / pos.count, trainAcc: pos.correct / pos.count, testAcc: null,
          examplesPerSec: pos.count / pos.epochSeconds, seconds: pos.totalSeconds,
        });
      }
      if (await runHook(callbacks, 'onBatchEnd', { ...state(), loss: lossValue })) requestStop();
      // Recycle this step's tensors, gradients included, for the next step (memory/arena.ts),
      // which also lets a pending SIGINT (or other abort) be seen. Its time counts as training time.
      const r0 = performance.now();
      optimizer.zeroGrad();
      await reclaimMemory();
      const rdt = (performance.now() - r0) / 1000;
      pos.epochSeconds += rdt;
      pos.totalSeconds += rdt;
      if (pos.batch < batches && (options.signal?.aborted || stopReason !== undefined)) {
        interrupted = options.signal?.aborted === true && stopReason === undefined;
        break;
      }
    }
    if (pos.batch < batches) break; // interrupted or stopped mid-epoch
    if (scheduler && interval === 'epoch') scheduler.step();
    const trainLoss = pos.lossSum / pos.count;
    const trainAcc = pos.correct / pos.count;
    lastTest = test ? evaluate(model, test, { lossFn, metrics: options.metrics }) : null;
    lastTestAcc = lastTest ? lastTest.accuracy : null;
    history[history.length - 1].testAcc = lastTestAcc;
    const speed = pos.count / pos.epochSeconds;
    bar.clear();
    log.write(
      `epoch ${epochNo}/${epochs}: loss ${trainLoss.toFixed(3)}, train acc ${trainAcc.toFixed(3)}, ` +
        `test acc ${lastTestAcc === null ? 'n/a' : lastTestAcc.toFixed(3)}, ${speed.toFixed(1)} examples/sec\n`,
    );
    if (await runHook(callbacks, 'onEpochEnd', { ...state(), trainLoss, trainAcc, test: lastTest })) requestStop();
    // Checkpoint as "the start of the next epoch".
    const done = { ...pos };
    pos = { ...pos, epoch: pos.epoch + 1, batch: 0, lossSum: 0, correct: 0, count: 0, epochSeconds: 0 };
    if (folder) await save();
    savedAt = pos.step;
    if (options.signal?.aborted || stopReason !== undefined) {
      interrupted = options.signal?.aborted === true && stopReason === undefined && pos.epoch < epochs;
      break;
    }
    pos = done;
  }
  const stopped = stopReason !== undefined;
  const midEpoch = pos.batch > 0 && pos.batch < batches;
  if (midEpoch) {
    await save();
    bar.clear();
    const why = interrupted ? 'interrupted' : `${stopReason}:`;
    log.write(`${why} at epoch ${pos.epoch + 1}, batch ${pos.batch}: checkpoint saved${folder ? ` to ${folder.checkpointPath}` : ''}\n`);
  } else if (stopped) {
    if (savedAt !== pos.step) await save();
    log.write(`${stopReason} after epoch ${pos.epoch}${folder ? `: checkpoint saved to ${folder.checkpointPath}` : ''}\n`);
  }
  if (folder && !interrupted && !alreadyFinished) {
    const meta: Record<string, string> = { format: 'pt', producer: 'skipgrad' };
    if (options.config) meta['skipgrad.config'] = JSON.stringify(options.config);
    await saveSafetensors(folder.modelPath, model.stateDict(), meta);
  }
  if (!alreadyFinished) await runHook(callbacks, 'onTrainEnd', state());
  const last = history.at(-1);
  return {
    history,
    epochsDone: midEpoch ? pos.epoch : Math.min(pos.epoch, epochs),
    interrupted,
    stopped,
    stopReason,
    alreadyFinished,
    testAcc: lastTestAcc,
    test: lastTest,
    gradflow: flow ? flow.recorder.records : null,
    trainLoss: last?.loss ?? NaN,
    trainAcc: last?.trainAcc ?? NaN,
    trainSeconds: pos.totalSeconds,
    examplesPerSec: pos.totalExamples / pos.totalSeconds,
  };
}
