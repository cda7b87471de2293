// Evaluation without a graph in eval mode: loss, accuracy and, on request, top-k accuracy,
// per-class accuracy and the confusion matrix.

import { noGrad } from '../autograd/grad_mode.js';
import type { Tensor } from '../autograd/tensor.js';
import { crossEntropy } from '../autograd/ops/loss.js';
import { sub } from '../autograd/ops/arithmetic.js';
import { stack } from '../autograd/ops/movement.js';
import { flip } from '../autograd/ops/reshape_ops.js';
import { logsumexp } from '../autograd/ops/scan.js';
import { logSoftmax } from '../autograd/ops/softmax.js';
import type { DataLoader } from '../data/dataloader.js';
import { confusionMatrix, perClassAccuracy } from './confusion.js';

/** What `fit` and `evaluate` need of a model: an nn.Module has all of it. */
export interface TrainableModule {
  /** Runs the model on a batch (an nn.Module's `call`). */
  call(x: Tensor): Tensor;
  /** Sets train mode (`false`: eval mode). */
  train(mode?: boolean): unknown;
  /** Sets eval mode. */
  eval(): unknown;
  readonly training: boolean;
  /** The parameters and persistent buffers by name, for checkpoints. */
  stateDict(): Record<string, Tensor>;
  /** Restores a state dict saved with `stateDict`. */
  loadStateDict(sd: Record<string, Tensor>, options?: { strict?: boolean }): unknown;
  /** Used to tell callbacks whether gradients are present (onAfterBackward). */
  parameters?(): Tensor[];
}

/** A loss of logits against targets, as `crossEntropy` (the default). */
export type LossFn = (logits: Tensor, y: Tensor) => Tensor;

/** Metrics beyond loss and accuracy (always computed): `{ topK: 5 }`, 'perClassAccuracy', 'confusionMatrix'. */
export type EvalMetric = 'accuracy' | 'loss' | 'perClassAccuracy' | 'confusionMatrix' | { topK: number };

/** Test-time augmentation: 'flip' averages the class probabilities of each image and its mirror image. */
export type TestTimeAugmentation = 'none' | 'flip';
/** Every TestTimeAugmentation, for the checks here and the CLI's --tta. */
export const TTA_MODES: readonly TestTimeAugmentation[] = ['none', 'flip'];

/** Options of {@link evaluate}: the loss, the extra metrics and the test-time augmentation. */
export interface EvaluateOptions {
  metrics?: readonly EvalMetric[];
  lossFn?: LossFn;
  /** 'flip': the model sees each image and its horizontal mirror; default 'none'. */
  tta?: TestTimeAugmentation;
}

/** Checks a `tta` option; returns it, 'none' where absent. */
export function checkTta(who: string, tta: unknown): TestTimeAugmentation {
  if (tta === undefined) return 'none';
  if (TTA_MODES.includes(tta as TestTimeAugmentation)) return tta as TestTimeAugmentation;
  throw new Error(`${who}: tta must be 'none' or 'flip', got ${JSON.stringify(tta)}`);
}

/**
 * The model's logits for a batch [N, C, H, W], under `tta`: with 'flip' the log of the mean of
 * the softmaxes of x and of x mirrored along W (log-probabilities, so argmax and cross-entropy
 * read them as logits).
 */
export function ttaLogits(model: Pick<TrainableModule, 'call'>, x: Tensor, tta: TestTimeAugmentation): Tensor {
  if (checkTta('ttaLogits', tta) === 'none') return model.call(x);
  if (x.ndim < 2) throw new Error(`tta 'flip': expected images [N, ..., W], got [${x.shape.join(', ')}]`);
  const a = logSoftmax(model.call(x), 1);
  const b = logSoftmax(model.call(flip(x, -1)), 1);
  return sub(logsumexp(stack([a, b]), 0), Math.LN2);
}

/** What {@link evaluate} returns: mean loss, accuracy and the requested metrics. */
export interface EvaluateResult {
  count: number;
  accuracy: number;
  loss: number;
  /** Top-k accuracy for each requested k (top-1 equals accuracy). */
  topK?: Record<number, number>;
  perClassAccuracy?: number[];
  /** Rows = true class, columns = predicted class. */
  confusionMatrix?: number[][];
}

/** What {@link evaluate} takes: a DataLoader or any iterable of `{x, y}` batches. */
export type EvalData = DataLoader | Iterable<{ x: Tensor; y: Tensor }>;

function checkLogits(who: string, logits: Tensor, y: Tensor): [number, number] {
  if (logits.shape.length !== 2 || y.shape.length !== 1 || y.shape[0] !== logits.shape[0]) {
    throw new Error(`${who}: expected logits [N, C] and labels [N], got [${logits.shape.join(', ')}] and [${y.shape.join(', ')}]`);
  }
  return [logits.shape[0], logits.shape[1]];
}

/** argmax per row (the first maximum, as torch.argmax). */
export function predictClasses(logits: Tensor): Int32Array {
  const [n, c] = logits.shape;
  const out = new Int32Array(n);
  const d = logits.data;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (d[i * c + k] > d[i * c + best]) best = k;
    out[i] = best;
  }
  return out;
}

/** Count of argmax(logits) == y, for logits [N, C] and class indices y [N]. */
export function countCorrect(logits: Tensor, y: Tensor): number {
  checkLogits('countCorrect', logits, y);
  const pred = predictClasses(logits);
  let correct = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === y.data[i]) correct++;
  return correct;
}

/** Count of rows whose true class is among the k best (ties broken by the lower index, as argmax). */
export function countTopK(logits: Tensor, y: Tensor, k: number): number {
  const [n, c] = checkLogits('countTopK', logits, y);
  const d = logits.data;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const t = y.data[i];
    const v = d[i * c + t];
    let rank = 0;
    for (let j = 0; j < c && rank < k; j++) {
      const u = d[i * c + j];
      if (u > v || (u === v && j < t)) rank++;
    }
    if (rank < k) hits++;
  }
  return hits;
}

function batchesOf(data: EvalData): Iterable<{ x: Tensor; y: Tensor }> {
  const loader = data as DataLoader;
  return typeof loader.batches === 'function' ? loader.batches(0) : (data as Iterable<{ x: Tensor; y: Tensor }>);
}

/** Checks a metrics list (for evaluate, or fit before any training); returns the top-k values asked for. */
export function checkMetrics(who: string, metrics: unknown): number[] {
  if (!Array.isArray(metrics)) throw new TypeError(`${who}: metrics must be an array, e.g. ['accuracy', {topK: 5}], got ${JSON.stringify(metrics)}`);
  const ks: number[] = [];
  for (const m of metrics as EvalMetric[]) {
    if (typeof m === 'object' && m !== null && 'topK' in m) {
      if (!Number.isInteger(m.topK) || m.topK < 1) throw new Error(`${who}: topK must be an integer >= 1, got ${String(m.topK)}`);
      ks.push(m.topK);
    } else if (!['accuracy', 'loss', 'perClassAccuracy', 'confusionMatrix'].includes(m as string)) {
      throw new Error(`${who}: unknown metric ${JSON.stringify(m)} (accuracy, loss, {topK: k}, perClassAccuracy, confusionMatrix)`);
    }
  }
  return ks;
}

/** Evaluates `model` on `data` in eval mode without recording a graph; restores the previous mode. */
export function evaluate(model: TrainableModule, data: EvalData, options: EvaluateOptions = {}): EvaluateResult {
  if (options === null || typeof options !== 'object') throw new TypeError('evaluate: the third argument must be the options {metrics, lossFn, tta}');
  const unknown = Object.keys(options).filter((k) => k !== 'metrics' && k !== 'lossFn' && k !== 'tta');
  if (unknown.length) throw new TypeError(`evaluate: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')} (known: metrics, lossFn, tta)`);
  const tta = checkTta('evaluate', options.tta);
  if (options.lossFn !== undefined && typeof options.lossFn !== 'function') throw new TypeError('evaluate: lossFn must be a function (logits, labels) => loss');
  const lossFn = options.lossFn ?? crossEntropy;
  const metrics = options.metrics ?? [];
  const ks = checkMetrics('evaluate', metrics);
  const loader = data as DataLoader | null;
  if (loader === null || typeof loader !== 'object' || (typeof loader.batches !== 'function' && typeof (loader as unknown as Iterable<unknown>)[Symbol.iterator] !== 'function')) {
    throw new TypeError('evaluate: data must be a DataLoader (or an iterable of {x, y} batches)');
  }
  const wantConfusion = metrics.includes('confusionMatrix') || metrics.includes('perClassAccuracy');
  const wasTraining = model.training;
  model.eval();
  let correct = 0;
  let count = 0;
  let lossSum = 0;
  const topHits = ks.map(() => 0);
  const preds: number[] = [];
  const labels: number[] = [];
  let numClasses = 0;
  try {
    noGrad(() => {
      for (const { x, y } of batchesOf(data)) {
        const logits = ttaLogits(model, x, tta);
        const pred = predictClasses(logits);
        checkLogits('evaluate', logits, y);
        for (let i = 0; i < pred.length; i++) if (pred[i] === y.data[i]) correct++;
        ks.forEach((k, i) => (topHits[i] += countTopK(logits, y, k)));
        if (wantConfusion) {
          numClasses = logits.shape[1];
          for (let i = 0; i < pred.length; i++) preds.push(pred[i]), labels.push(y.data[i]);
        }
        lossSum += lossFn(logits, y).item() * y.size;
        count += y.size;
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const result: EvaluateResult = { count, accuracy: count ? correct / count : NaN, loss: count ? lossSum / count : NaN };
  if (ks.length) result.topK = Object.fromEntries(ks.map((k, i) => [k, count ? topHits[i] / count : NaN]));
  if (wantConfusion && numClasses > 0) {
    const cm = confusionMatrix(preds, labels, numClasses);
    if (metrics.includes('confusionMatrix')) result.confusionMatrix = cm;
    if (metrics.includes('perClassAccuracy')) result.perClassAccuracy = perClassAccuracy(cm);
  }
  return result;
}
