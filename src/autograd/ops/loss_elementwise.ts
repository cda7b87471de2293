// Elementwise losses with PyTorch's formulas, defaults and gradients (input and target both get
// one): l1Loss, smoothL1Loss, huberLoss, binaryCrossEntropy(WithLogits) and klDiv. Input and
// target must have the same shape; class/sample weights broadcast to the input's shape.

import { allocateUninit, isFloat, promote } from '../../kernels/dtype.js';
import { broadcastShapes, fmt, shapeEq } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { abs } from './unary.js';
import { div, mul, sub } from './arithmetic.js';
import { sum } from './reduce.js';
import { binaryRaw } from './helpers.js';
import { checkReduction, checkSameShape, reduceLoss, type Reduction } from './loss_common.js';

/** The reduction of an elementwise loss: 'mean' (default), 'sum' or 'none'. */
export interface LossOptions {
  reduction?: Reduction;
}

/** Loss and derivatives of one element: [loss, d/dinput, d/dtarget, d/dweight]. */
type Pointwise = (x: number, t: number, w: number, p: Record<string, number>) => readonly number[];

/**
 * A loss that is a function of (input[k], target[k], w[k]) and numeric options p, where w is an
 * optional tensor broadcast to the input's shape (BCE-with-logits' posWeight; 1 without one).
 * The forward also computes the three derivatives, so backward only scales them by g; the
 * engine reduces w's gradient to w's own shape.
 */
function pointwiseLoss(name: string, fn: Pointwise) {
  return defineOp({
    name,
    forward(ctx, x: Tensor, t: Tensor, p: Record<string, number>, w: Tensor | null) {
      const dtype = promote(x.dtype, t.dtype);
      const wv = w ? binaryRaw(name, x, w, (_a, b) => b, w.dtype).data : null; // w's value at each element
      const loss = allocateUninit(dtype, x.size);
      const grads = ctx.needsInputGrad.some(Boolean); // no graph (noGrad, evaluation): keep no derivatives
      const [gx, gt, gw] = [0, 1, 2].map(() => allocateUninit(dtype, grads ? x.size : 0));
      for (let k = 0; k < x.size; k++) {
        const r = fn(x.data[k], t.data[k], wv ? wv[k] : 1, p);
        loss[k] = r[0];
        if (!grads) continue;
        gx[k] = r[1];
        gt[k] = r[2];
        gw[k] = r[3] ?? 0;
      }
      if (grads) ctx.state = { grads: [gx, gt, gw].map((d) => new Tensor(d, x.shape)) };
      return new Tensor(loss, x.shape);
    },
    backward(ctx, g) {
      const [gx, gt, gw] = ctx.state.grads as Tensor[];
      const n = ctx.needsInputGrad;
      return [n[0] ? mul(g, gx) : null, n[1] ? mul(g, gt) : null, null, n[3] ? mul(g, gw) : null];
    },
  });
}

function checkFloat(op: string, input: Tensor, target: Tensor): void {
  for (const [what, t] of [['input', input], ['target', target]] as const) {
    if (!(t instanceof Tensor)) throw new Error(`${op}: ${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    if (!isFloat(t.dtype)) throw new Error(`${op}: ${what} must be a floating-point tensor, got ${t.dtype}`);
  }
  checkSameShape(op, input, target);
}

/** Mean absolute error. */
export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const reduction = checkReduction('l1Loss', options.reduction ?? 'mean');
  checkFloat('l1Loss', input, target);
  return reduceLoss(abs(sub(input, target)), reduction);
}

const smoothL1Op = pointwiseLoss('smoothL1Loss', (x, t, _w, { beta }) => {
  const d = x - t;
  const a = Math.abs(d);
  // PyTorch's order of tests, and its target gradient as the same function of t - x: with beta
  // 0, d = 0 takes the first branch (-1) for both, and a NaN d falls through to NaN / 0.
  const slope = (e: number) => (e <= -beta ? -1 : e >= beta ? 1 : e / beta);
  return [a < beta ? (0.5 * d * d) / beta : a - 0.5 * beta, slope(d), slope(t - x)];
});

/** Options of {@link smoothL1Loss}: the reduction and `beta` (default 1). */
export interface SmoothL1Options extends LossOptions {
  /** Where the quadratic part turns linear (default 1; 0 gives l1Loss's values, with PyTorch's gradient -1 at d = 0). */
  beta?: number;
}

/** 0.5·d²/β where |d| < β, |d| − β/2 elsewhere (d = input − target). */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  const reduction = checkReduction('smoothL1Loss', options.reduction ?? 'mean');
  const beta = options.beta ?? 1;
  if (!(beta >= 0)) throw new Error(`smoothL1Loss: beta must be >= 0, got ${beta}`);
  checkFloat('smoothL1Loss', input, target);
  return reduceLoss(smoothL1Op(input, target, { beta }, null), reduction);
}

const huberOp = pointwiseLoss('huberLoss', (x, t, _w, { delta }) => {
  const d = x - t;
  const a = Math.abs(d);
  const dd = d < -delta ? -delta : d > delta ? delta : d;
  return [a < delta ? 0.5 * d * d : delta * (a - 0.5 * delta), dd, -dd];
});

/** Options of {@link huberLoss}: the reduction and `delta` (default 1). */
export interface HuberOptions extends LossOptions {
  /** Where the quadratic part turns linear (default 1). */
  delta?: number;
}

/** 0.5·d² where |d| < δ, δ·(|d| − δ/2) elsewhere: smoothL1Loss scaled by δ. */
export function huberLoss(input: Tensor, target: Tensor, options: HuberOptions = {}): Tensor {
  const reduction = checkReduction('huberLoss', options.reduction ?? 'mean');
  const delta = options.delta ?? 1;
  if (!(delta > 0)) throw new Error(`huberLoss: delta must be > 0, got ${delta}`);
  checkFloat('huberLoss', input, target);
  return reduceLoss(huberOp(input, target, { delta }, null), reduction);
}

/** Multiplies per-element losses by a weight that must broadcast to their shape. */
function applyWeight(op: string, what: string, loss: Tensor, weight: Tensor | undefined): Tensor {
  if (weight === undefined) return loss;
  checkBroadcastsTo(op, what, weight, loss.shape);
  return mul(loss, weight);
}

function checkBroadcastsTo(op: string, what: string, w: Tensor, shape: readonly number[]): void {
  if (!(w instanceof Tensor)) throw new Error(`${op}: ${what} must be a Tensor, got ${w === null ? 'null' : typeof w}`);
  let ok = w.ndim <= shape.length;
  if (ok) {
    try {
      ok = shapeEq(broadcastShapes(op, w.shape, shape), shape);
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new Error(`${op}: ${what} ${fmt(w.shape)} does not broadcast to the input's shape ${fmt(shape)}`);
}

const LOG_FLOOR = -100; // PyTorch clamps BCE's logs here so a probability of 0 or 1 stays finite
const BCE_EPS = 1e-12;

const bceOp = pointwiseLoss('binaryCrossEntropy', (x, t) => {
  const logX = Math.max(Math.log(x), LOG_FLOOR);
  const log1mX = Math.max(Math.log1p(-x), LOG_FLOOR);
  // PyTorch's gradients: (x − t)/max(x(1 − x), 1e-12) and, for the target, log(1 − x) − log(x) unclamped.
  return [-(t * logX + (1 - t) * log1mX), (x - t) / Math.max((1 - x) * x, BCE_EPS), Math.log1p(-x) - Math.log(x)];
});

/** Options of {@link binaryCrossEntropy}: the reduction and an optional `weight` broadcast against the loss. */
export interface BceOptions extends LossOptions {
  /** Rescales each element's loss; broadcasts to the input's shape. */
  weight?: Tensor;
}

/** −w·(t·log x + (1 − t)·log(1 − x)) on probabilities x in [0, 1], each log clamped at −100. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BceOptions = {}): Tensor {
  const reduction = checkReduction('binaryCrossEntropy', options.reduction ?? 'mean');
  checkFloat('binaryCrossEntropy', input, target);
  for (let k = 0; k < input.size; k++) {
    const v = input.data[k];
    if (!(v >= 0 && v <= 1)) {
      throw new Error(`binaryCrossEntropy: every element of input must be between 0 and 1, got ${v} at flat index ${k} (use binaryCrossEntropyWithLogits on logits)`);
    }
  }
  const loss = bceOp(input, target, {}, null);
  return reduceLoss(applyWeight('binaryCrossEntropy', 'weight', loss, options.weight), reduction);
}

/** softplus(−x) = log(1 + e^(−x)) = −log σ(x), without overflow. */
const softplusNeg = (x: number) => Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

const bceLogitsOp = pointwiseLoss('binaryCrossEntropyWithLogits', (x, t, pw) => {
  const spNeg = softplusNeg(x); // −log σ(x)
  const spPos = softplusNeg(-x); // −log σ(−x); with pw = 1 the target gradient is exactly −x, as PyTorch's
  const lw = (pw - 1) * t + 1;
  // loss = (1 − t)·x + lw·softplus(−x) = −(pw·t·log σ(x) + (1 − t)·log σ(−x)), PyTorch's form.
  // posWeight's gradient t·softplus(−x) is well defined (PyTorch refuses to compute it).
  return [(1 - t) * x + lw * spNeg, (pw * t + 1 - t) * sigmoid(x) - pw * t, pw * spNeg - spPos, t * spNeg];
});

/** Options of {@link binaryCrossEntropyWithLogits}: those of BCE plus `posWeight`, the positive examples' weight. */
export interface BceWithLogitsOptions extends BceOptions {
  /** Weight of the positive term, typically per class ([C], broadcast over the last dim). */
  posWeight?: Tensor;
}

/** binaryCrossEntropy(sigmoid(x), t) computed stably from logits x, with an optional posWeight. */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  checkFloat(op, input, target);
  const pw = options.posWeight ?? null;
  if (pw) checkBroadcastsTo(op, 'posWeight', pw, input.shape);
  const loss = bceLogitsOp(input, target, {}, pw);
  return reduceLoss(applyWeight(op, 'weight', loss, options.weight), reduction);
}

const klOp = pointwiseLoss('klDiv', (x, t, _w, { logTarget }) => {
  if (logTarget) {
    const e = Math.exp(t);
    return [e * (t - x), -e, e * (t - x + 1)];
  }
  // xlogy(t, t) − t·x, with xlogy(0, ·) = 0; the target gradient is PyTorch's, NaN at t = 0.
  const xlogy = t === 0 ? 0 : t * Math.log(t);
  return [xlogy - t * x, -t, (t !== 0 ? Math.log(t) : 0) + t / t - x];
});

/** Options of {@link klDiv}, as `torch.nn.functional.kl_div`'s ('batchmean' divides the sum by the batch size). */
export interface KlDivOptions {
  /** 'mean' (PyTorch's default: over all elements), 'batchmean' (sum / batch size: the true KL), 'sum' or 'none'. */
  reduction?: Reduction | 'batchmean';
  /** The target holds log-probabilities (default false: probabilities). */
  logTarget?: boolean;
}

/** KL(target ‖ exp(input)) pointwise: t·(log t − input), input holding log-probabilities. */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  const r = options.reduction ?? 'mean';
  if (r !== 'batchmean' && r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new Error(`klDiv: reduction must be 'mean', 'batchmean', 'sum' or 'none', got '${r}'`);
  }
  checkFloat('klDiv', input, target);
  const loss = klOp(input, target, { logTarget: options.logTarget ? 1 : 0 }, null);
  if (r !== 'batchmean') return reduceLoss(loss, r);
  return input.ndim === 0 ? sum(loss) : div(sum(loss), input.shape[0]);
}
