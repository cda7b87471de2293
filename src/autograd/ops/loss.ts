// Class losses with PyTorch's defaults (reduction 'mean', ignoreIndex -100): nllLoss and
// crossEntropy on [C], [N, C] or [N, C, d1, …] inputs with int32 class indices of shape [], [N] or
// [N, d1, …]; crossEntropy also takes class probabilities (a float target of the input's shape).
// The class dimension is 1 (0 for an unbatched [C] input), as in PyTorch.

import { allocate } from '../../kernels/dtype.js';
import { fmt, shapeEq } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { add, div, mul, neg, sub, where } from './arithmetic.js';
import { reshape } from './movement.js';
import { sum } from './reduce.js';
import { logSoftmax } from './softmax.js';
import { checkReduction, checkSameShape, reduceLoss, type Reduction } from './loss_common.js';

export type { Reduction };

/** Options of {@link nllLoss}, as `torch.nn.functional.nll_loss`'s (reduction default 'mean'). */
export interface NllOptions {
  reduction?: Reduction;
  /** Per-class weights, shape [C]. */
  weight?: Tensor;
  /** Targets equal to this contribute nothing (and are left out of the mean). */
  ignoreIndex?: number;
}

/** Options of {@link crossEntropy}, as `torch.nn.functional.cross_entropy`'s. */
export interface CrossEntropyOptions extends NllOptions {
  /** Mixes the target with the uniform distribution: (1 - ε)·target + ε/C. */
  labelSmoothing?: number;
}

/** Where the classes sit: input [C] (unbatched), [N, C] or [N, C, d1, …]. */
interface ClassLayout {
  classDim: number;
  c: number;
  /** Elements after the class dim (d1·d2·…; 1 for [N, C]). */
  inner: number;
  /** The shape of a class-index target (and of the 'none' loss): [], [N] or [N, d1, …]. */
  targetShape: number[];
}

function classLayout(op: string, input: Tensor): ClassLayout {
  if (input.ndim === 0) throw new Error(`${op}: input must be [C], [N, C] or [N, C, d1, …], got a 0-d tensor`);
  if (input.ndim === 1) return { classDim: 0, c: input.shape[0], inner: 1, targetShape: [] };
  const [n, c, ...rest] = input.shape;
  return { classDim: 1, c, inner: rest.reduce((a, b) => a * b, 1), targetShape: [n, ...rest] };
}

function checkWeight(op: string, weight: Tensor | undefined, c: number): void {
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== c)) throw new Error(`${op}: weight ${fmt(weight.shape)} must be [${c}]`);
}

function checkClassTarget(op: string, input: Tensor, target: Tensor, layout: ClassLayout, ignoreIndex: number): void {
  if (target.dtype !== 'int32') throw new Error(`${op}: target must hold int32 class indices, got ${target.dtype}`);
  if (!shapeEq(target.shape, layout.targetShape)) {
    throw new Error(`${op}: target ${fmt(target.shape)} does not match input ${fmt(input.shape)} (expected ${fmt(layout.targetShape)})`);
  }
  for (let i = 0; i < target.size; i++) {
    const t = target.data[i];
    if (t !== ignoreIndex && (t < 0 || t >= layout.c)) {
      throw new Error(`${op}: target ${t} at position ${i} is out of range for ${layout.c} classes`);
    }
  }
}

interface NllState {
  w: Float64Array;
  wsum: number;
  target: Tensor;
  reduction: Reduction;
  shape: readonly number[];
  c: number;
  inner: number;
  ignoreIndex: number;
}

const nllOp = defineOp<[Tensor, Tensor, Tensor | null, number, Reduction, ClassLayout], NllState>({
  name: 'nllLoss',
  forward(ctx, logp, target, weight, ignoreIndex, reduction, { c, inner }) {
    const m = target.size; // one loss per (sample, position)
    const w = new Float64Array(m); // effective weight of each; 0 where ignored
    const losses = allocate(logp.dtype, m);
    let wsum = 0;
    for (let i = 0; i < m; i++) {
      const t = target.data[i];
      if (t === ignoreIndex) continue;
      w[i] = weight ? weight.data[t] : 1;
      wsum += w[i];
      const b = Math.floor(i / inner);
      losses[i] = -w[i] * logp.data[(b * c + t) * inner + (i - b * inner)];
    }
    Object.assign(ctx.state, { w, wsum, target, reduction, shape: logp.shape, c, inner, ignoreIndex });
    if (reduction === 'none') return new Tensor(losses, target.shape);
    let s = 0;
    for (let i = 0; i < m; i++) s += losses[i];
    const out = allocate(logp.dtype, 1);
    out[0] = reduction === 'mean' ? s / wsum : s; // all ignored: 0/0 = NaN, as PyTorch
    return new Tensor(out, []);
  },
  backward(ctx, g) {
    const { w, wsum, target, reduction, shape, c, inner, ignoreIndex } = ctx.state;
    const gx = allocate(g.dtype, logpSize(shape));
    for (let i = 0; i < target.size; i++) {
      // A class weight of 0 still writes -0·g (NaN for a NaN or Inf g, or when every weight is
      // 0 and the mean divides by 0), as PyTorch; only ignored positions are skipped.
      if (target.data[i] === ignoreIndex) continue;
      const gi = reduction === 'none' ? g.data[i] : reduction === 'mean' ? g.data[0] / wsum : g.data[0];
      const b = Math.floor(i / inner);
      gx[(b * c + target.data[i]) * inner + (i - b * inner)] = -w[i] * gi;
    }
    return [new Tensor(gx, shape), null, null, null, null, null];
  },
});

const logpSize = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Negative log-likelihood of int32 `target` classes under log-probabilities `logp` ([C], [N, C] or [N, C, d1, …]). */
export function nllLoss(logp: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  const reduction = checkReduction('nllLoss', options.reduction ?? 'mean');
  const ignoreIndex = options.ignoreIndex ?? -100;
  const layout = classLayout('nllLoss', logp);
  checkWeight('nllLoss', options.weight, layout.c);
  checkClassTarget('nllLoss', logp, target, layout, ignoreIndex);
  return nllOp(logp, target, options.weight ?? null, ignoreIndex, reduction, layout);
}

/** The weight [C] shaped to broadcast along the class dim of an input of rank `ndim`. */
function classWeightView(weight: Tensor, layout: ClassLayout, ndim: number): Tensor {
  return reshape(weight, [layout.c, ...new Array<number>(Math.max(0, ndim - layout.classDim - 1)).fill(1)]);
}

/**
 * logSoftmax over the class dim + nllLoss, with optional label smoothing (PyTorch's formula).
 * `target` is either int32 class indices ([], [N] or [N, d1, …]) or, as a float tensor of the
 * input's shape, class probabilities.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const reduction = checkReduction('crossEntropy', options.reduction ?? 'mean');
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const layout = classLayout('crossEntropy', logits);
  checkWeight('crossEntropy', options.weight, layout.c);
  if (target.dtype !== 'int32') return crossEntropyProbs(logits, target, options, layout, eps, reduction);

  const ignoreIndex = options.ignoreIndex ?? -100;
  checkClassTarget('crossEntropy', logits, target, layout, ignoreIndex);
  const logp = logSoftmax(logits, layout.classDim);
  const nll = nllOp(logp, target, options.weight ?? null, ignoreIndex, reduction, layout);
  if (eps === 0) return nll;
  // Smoothing term per position: -sum_c w_c * logp_c, zero where the target is ignored: a select
  // (PyTorch's masked_fill), so an ignored row's -inf logits or a NaN gradient give 0, not NaN.
  const keep = new Int32Array(target.size);
  let denom = 0;
  for (let i = 0; i < target.size; i++) {
    const t = target.data[i];
    if (t === ignoreIndex) continue;
    keep[i] = 1;
    denom += options.weight ? options.weight.data[t] : 1;
  }
  const weighted = options.weight ? mul(logp, classWeightView(options.weight, layout, logits.ndim)) : logp;
  let smooth = where(new Tensor(keep, target.shape), neg(sum(weighted, layout.classDim)), new Tensor(allocate(logits.dtype, 1), []));
  if (reduction === 'sum') smooth = sum(smooth);
  else if (reduction === 'mean') smooth = div(sum(smooth), denom);
  return add(mul(nll, 1 - eps), mul(smooth, eps / layout.c));
}

/** Cross entropy against class probabilities: -sum_c w_c·t_c·logp_c, the mean dividing by the number of positions. */
function crossEntropyProbs(logits: Tensor, target: Tensor, options: CrossEntropyOptions, layout: ClassLayout, eps: number, reduction: Reduction): Tensor {
  if (!shapeEq(target.shape, logits.shape)) {
    throw new Error(
      `crossEntropy: target ${fmt(target.shape)} does not match input ${fmt(logits.shape)} ` +
        `(a ${target.dtype} target holds class probabilities and needs the input's shape; class indices are int32 of shape ${fmt(layout.targetShape)})`,
    );
  }
  if (options.ignoreIndex !== undefined && options.ignoreIndex >= 0) {
    throw new Error(`crossEntropy: ignoreIndex is not supported for class-probability (${target.dtype}) targets`);
  }
  const logp = logSoftmax(logits, layout.classDim);
  const t = eps > 0 ? add(mul(target, 1 - eps), eps / layout.c) : target;
  let prod = mul(logp, t);
  if (options.weight) prod = mul(prod, classWeightView(options.weight, layout, logits.ndim));
  if (reduction === 'none') return neg(sum(prod, layout.classDim));
  const total = neg(sum(prod));
  return reduction === 'sum' ? total : div(total, logits.size / layout.c); // empty input: 0/0 = NaN, as PyTorch
}

/** Mean squared error between tensors of the same shape. */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const reduction = checkReduction('mseLoss', options.reduction ?? 'mean');
  checkSameShape('mseLoss', input, target);
  const d = sub(input, target);
  return reduceLoss(mul(d, d), reduction);
}
