// The training loop of D2L's train_ch6, with a run folder: metrics CSV, SVG curves, a checkpoint
// after every epoch (and on interrupt), resumable to bit-identical weights, and the final model.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { noGrad } from '../autograd/grad_mode.js';
import { defaultGenerator, type GeneratorState } from '../autograd/random.js';
import type { Tensor } from '../autograd/tensor.js';
import { crossEntropy } from '../autograd/ops/loss.js';
import type { DataLoader } from '../data/dataloader.js';
import { saveSafetensors } from '../io/tensors.js';
import { reclaimMemory } from '../kernels/memory/arena.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { type MetricRow, writeMetricsCsv, writeTrainingPlot } from './metrics.js';
import { ProgressBar, type ProgressStream } from './progress.js';

export interface TrainableModule {
  call(x: Tensor): Tensor;
  train(mode?: boolean): unknown;
  eval(): unknown;
  readonly training: boolean;
  stateDict(): Record<string, Tensor>;
  loadStateDict(sd: Record<string, Tensor>, options?: { strict?: boolean }): unknown;
}

export interface OptimizerLike {
  zeroGrad(): void;
  step(): void;
  stateDict(): unknown;
  loadStateDict(state: any): void;
  readonly paramGroups: ReadonlyArray<{ lr: number }>;
}

export interface SchedulerLike {
  step(): void;
  stateDict(): unknown;
  loadStateDict(state: any): void;
}

export interface FitOptions {
  model: TrainableModule;
  trainLoader: DataLoader;
  testLoader?: DataLoader;
  optimizer: OptimizerLike;
  scheduler?: SchedulerLike;
  /** Step the scheduler after every batch ('step', e.g. OneCycleLR) or every epoch (default). */
  schedulerInterval?: 'epoch' | 'step';
  epochs: number;
  lossFn?: (logits: Tensor, y: Tensor) => Tensor;
  /** Run folder: metrics.csv, curves.svg, checkpoint.safetensors, model.safetensors, config.json. */
  outDir?: string;
  /** Continue from outDir/checkpoint.safetensors when it exists. */
  resume?: boolean;
  /** Where progress goes (default process.stderr for the bar, lines to `log`). */
  progress?: ProgressStream;
  /** Where the per-epoch lines go (default process.stdout). */
  log?: ProgressStream;
  /** Train-metric points per epoch in the CSV and plot (D2L logs 5). */
  pointsPerEpoch?: number;
  /** Aborting finishes the current step, saves a checkpoint and returns. */
  signal?: AbortSignal;
  /** Called after every optimizer step (global step count, loss). */
  onStep?: (step: number, loss: number) => void;
  /** Anything worth keeping with the run (CLI flags), saved in the checkpoint. */
  config?: Record<string, unknown>;
  // --- issue 13 (gradflow): called right after backward with the global step (1-based) ---
  onAfterBackward?: (model: TrainableModule, step: number) => void;
}

export interface FitResult {
  history: MetricRow[];
  /** Whole epochs completed (including those of a resumed run). */
  epochsDone: number;
  interrupted: boolean;
  testAcc: number | null;
  trainLoss: number;
  trainAcc: number;
  /** Training time (excluding evaluation), all sessions of the run. */
  trainSeconds: number;
  examplesPerSec: number;
}

interface Position {
  epoch: number; // 0-based epoch in progress
  batch: number; // next batch to run within it
  lossSum: number;
  correct: number;
  count: number;
  epochSeconds: number;
  totalSeconds: number;
  totalExamples: number;
  step: number;
}

interface TrainingState {
  position: Position;
  optimizer: unknown;
  scheduler: unknown;
  rng: GeneratorState;
  history: MetricRow[];
  config: Record<string, unknown>;
}

/** Count of argmax(logits) == y. */
export function countCorrect(logits: Tensor, y: Tensor): number {
  const [n, c] = logits.shape;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (logits.data[i * c + k] > logits.data[i * c + best]) best = k;
    if (best === y.data[i]) correct++;
  }
  return correct;
}

/** Accuracy (and mean loss) over a loader in eval mode without recording the graph; restores the mode. */
export function evaluate(
  model: TrainableModule,
  loader: DataLoader,
  lossFn: (logits: Tensor, y: Tensor) => Tensor = crossEntropy,
): { accuracy: number; loss: number; count: number } {
  const wasTraining = model.training;
  model.eval();
  let correct = 0;
  let count = 0;
  let lossSum = 0;
  try {
    noGrad(() => {
      for (const { x, y } of loader.batches(0)) {
        const logits = model.call(x);
        correct += countCorrect(logits, y);
        lossSum += lossFn(logits, y).item() * y.size;
        count += y.size;
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { accuracy: count ? correct / count : NaN, loss: count ? lossSum / count : NaN, count };
}

export async function fit(options: FitOptions): Promise<FitResult> {
  const { model, trainLoader, testLoader, optimizer, scheduler, epochs } = options;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`fit: epochs must be a positive integer, got ${epochs}`);
  const lossFn = options.lossFn ?? crossEntropy;
  const interval = options.schedulerInterval ?? 'epoch';
  const log = options.log ?? process.stdout;
  const bar = new ProgressBar(options.progress ?? process.stderr);
  const points = options.pointsPerEpoch ?? 5;
  const out = options.outDir;
  const ckptPath = out ? join(out, 'checkpoint.safetensors') : undefined;
  if (out) await mkdir(out, { recursive: true });

  let pos: Position = { epoch: 0, batch: 0, lossSum: 0, correct: 0, count: 0, epochSeconds: 0, totalSeconds: 0, totalExamples: 0, step: 0 };
  let history: MetricRow[] = [];
  if (options.resume && ckptPath && existsSync(ckptPath)) {
    const ckpt = await loadCheckpoint(ckptPath);
    const st = ckpt.state as TrainingState;
    model.loadStateDict(ckpt.model, { strict: true });
    optimizer.loadStateDict(st.optimizer);
    if (scheduler && st.scheduler) scheduler.loadStateDict(st.scheduler);
    defaultGenerator.setState(st.rng);
    pos = st.position;
    history = st.history;
    log.write(`resuming from ${ckptPath}: epoch ${pos.epoch + 1}, batch ${pos.batch}\n`);
  }

  const save = async (): Promise<void> => {
    if (!ckptPath || !out) return;
    const state: TrainingState = {
      position: pos,
      optimizer: optimizer.stateDict(),
      scheduler: scheduler ? scheduler.stateDict() : null,
      rng: defaultGenerator.getState(),
      history,
      config: options.config ?? {},
    };
    await saveCheckpoint(ckptPath, { model: model.stateDict(), state });
    await writeMetricsCsv(join(out, 'metrics.csv'), history);
    await writeTrainingPlot(join(out, 'curves.svg'), history);
  };

  const batches = trainLoader.length;
  const logEvery = Math.max(1, Math.floor(batches / points));
  let interrupted = false;
  let lastTestAcc: number | null = history.filter((r) => r.testAcc !== null).at(-1)?.testAcc ?? null;

  model.train();
  for (; pos.epoch < epochs; pos.epoch++, pos.batch = 0) {
    if (pos.batch === 0) Object.assign(pos, { lossSum: 0, correct: 0, count: 0, epochSeconds: 0 });
    const epochNo = pos.epoch + 1;
    for (const { x, y } of trainLoader.batches(pos.epoch, pos.batch)) {
      const t0 = performance.now();
      optimizer.zeroGrad();
      const logits = model.call(x);
      const loss = lossFn(logits, y);
      loss.backward();
      options.onAfterBackward?.(model, pos.step + 1); // --- issue 13 (gradflow) ---
      optimizer.step();
      if (scheduler && interval === 'step') scheduler.step();
      const dt = (performance.now() - t0) / 1000;
      const lossValue = loss.item();
      if (!Number.isFinite(lossValue)) {
        throw new Error(`fit: the loss became ${lossValue} at epoch ${epochNo}, batch ${pos.batch + 1}; try a lower learning rate or --detect-anomaly`);
      }
      pos.lossSum += lossValue * y.size;
      pos.correct += countCorrect(logits, y);
      pos.count += y.size;
      pos.epochSeconds += dt;
      pos.totalSeconds += dt;
      pos.totalExamples += y.size;
      pos.batch++;
      pos.step++;
      options.onStep?.(pos.step, lossValue);
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
      // Recycle this step's tensors, gradients included, for the next step (memory/arena.ts),
      // which also lets a pending SIGINT (or other abort) be seen. Its time counts as training time.
      const r0 = performance.now();
      optimizer.zeroGrad();
      await reclaimMemory();
      const rdt = (performance.now() - r0) / 1000;
      pos.epochSeconds += rdt;
      pos.totalSeconds += rdt;
      if (options.signal?.aborted && pos.batch < batches) {
        interrupted = true;
        break;
      }
    }
    if (interrupted) break;
    if (scheduler && interval === 'epoch') scheduler.step();
    const trainLoss = pos.lossSum / pos.count;
    const trainAcc = pos.correct / pos.count;
    lastTestAcc = testLoader ? evaluate(model, testLoader, lossFn).accuracy : null;
    history[history.length - 1].testAcc = lastTestAcc;
    const speed = pos.count / pos.epochSeconds;
    bar.clear();
    log.write(
      `epoch ${epochNo}/${epochs}: loss ${trainLoss.toFixed(3)}, train acc ${trainAcc.toFixed(3)}, ` +
        `test acc ${lastTestAcc === null ? 'n/a' : lastTestAcc.toFixed(3)}, ${speed.toFixed(1)} examples/sec\n`,
    );
    if (out) {
      // Checkpoint as "the start of the next epoch".
      const done = { ...pos };
      pos = { ...pos, epoch: pos.epoch + 1, batch: 0, lossSum: 0, correct: 0, count: 0, epochSeconds: 0 };
      await save();
      pos = done;
    }
    if (options.signal?.aborted) {
      interrupted = pos.epoch + 1 < epochs;
      pos.epoch++;
      pos.batch = 0;
      break;
    }
  }
  if (interrupted) {
    await save();
    bar.clear();
    log.write(`interrupted at epoch ${pos.epoch + 1}, batch ${pos.batch}: checkpoint saved${ckptPath ? ` to ${ckptPath}` : ''}\n`);
  } else if (out) {
    const meta: Record<string, string> = { format: 'pt', producer: 'skipgrad' };
    if (options.config) meta['skipgrad.config'] = JSON.stringify(options.config);
    await saveSafetensors(join(out, 'model.safetensors'), model.stateDict(), meta);
  }
  const last = history.at(-1);
  return {
    history,
    epochsDone: interrupted ? pos.epoch : epochs,
    interrupted,
    testAcc: lastTestAcc,
    trainLoss: last?.loss ?? NaN,
    trainAcc: last?.trainAcc ?? NaN,
    trainSeconds: pos.totalSeconds,
    examplesPerSec: pos.totalExamples / pos.totalSeconds,
  };
}
