// Losses with PyTorch's defaults (reduction 'mean', ignoreIndex -100).

import { allocate } from '../../kernels/dtype.js';
import { fmt, shapeEq } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { add, div, mul, neg, sub } from './arithmetic.js';
import { mean, sum } from './reduce.js';
import { logSoftmax } from './softmax.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface NllOptions {
  reduction?: Reduction;
  /** Per-class weights, shape [C]. */
  weight?: Tensor;
  /** Targets equal to this contribute nothing (and are left out of the mean). */
  ignoreIndex?: number;
}

export interface CrossEntropyOptions extends NllOptions {
  /** Mixes the one-hot target with the uniform distribution: (1 - ε)·onehot + ε/C. */
  labelSmoothing?: number;
}

function checkReduction(op: string, r: string): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${r}'`);
  return r;
}

function checkClassInput(op: string, input: Tensor, target: Tensor, weight: Tensor | undefined, ignoreIndex: number): void {
  if (input.ndim !== 2) throw new Error(`${op}: input must be [N, C], got ${fmt(input.shape)}`);
  if (target.dtype !== 'int32') throw new Error(`${op}: target must hold int32 class indices, got ${target.dtype}`);
  if (target.ndim !== 1 || target.shape[0] !== input.shape[0]) {
    throw new Error(`${op}: target ${fmt(target.shape)} does not match input ${fmt(input.shape)} (expected [${input.shape[0]}])`);
  }
  const c = input.shape[1];
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== c)) {
    throw new Error(`${op}: weight ${fmt(weight.shape)} must be [${c}]`);
  }
  for (let i = 0; i < target.size; i++) {
    const t = target.data[i];
    if (t !== ignoreIndex && (t < 0 || t >= c)) throw new Error(`${op}: target ${t} at position ${i} is out of range for ${c} classes`);
  }
}

const nllOp = defineOp({
  name: 'nllLoss',
  forward(ctx, logp: Tensor, target: Tensor, weight: Tensor | null, ignoreIndex: number, reduction: Reduction) {
    const [n, c] = logp.shape;
    const w = new Float64Array(n); // effective weight of each sample
    const losses = allocate(logp.dtype, n);
    let wsum = 0;
    for (let i = 0; i < n; i++) {
      const t = target.data[i];
      if (t === ignoreIndex) continue;
      w[i] = weight ? weight.data[t] : 1;
      wsum += w[i];
      losses[i] = -w[i] * logp.data[i * c + t];
    }
    Object.assign(ctx.state, { w, wsum, target, reduction, shape: logp.shape });
    if (reduction === 'none') return new Tensor(losses, [n]);
    let s = 0;
    for (let i = 0; i < n; i++) s += losses[i];
    const out = allocate(logp.dtype, 1);
    out[0] = reduction === 'mean' ? s / wsum : s;
    return new Tensor(out, []);
  },
  backward(ctx, g) {
    const { w, wsum, target, reduction, shape } = ctx.state as {
      w: Float64Array; wsum: number; target: Tensor; reduction: Reduction; shape: number[];
    };
    const [n, c] = shape;
    const gx = allocate(g.dtype, n * c);
    for (let i = 0; i < n; i++) {
      if (w[i] === 0) continue;
      const gi = reduction === 'none' ? g.data[i] : reduction === 'mean' ? g.data[0] / wsum : g.data[0];
      gx[i * c + target.data[i]] = -w[i] * gi;
    }
    return [new Tensor(gx, shape), null, null, null, null];
  },
});

/** Negative log-likelihood of `target` classes under log-probabilities `logp` [N, C]. */
export function nllLoss(logp: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  const reduction = checkReduction('nllLoss', options.reduction ?? 'mean');
  const ignoreIndex = options.ignoreIndex ?? -100;
  checkClassInput('nllLoss', logp, target, options.weight, ignoreIndex);
  return nllOp(logp, target, options.weight ?? null, ignoreIndex, reduction);
}

/** logSoftmax + nllLoss on logits [N, C] with int32 targets, with optional label smoothing (PyTorch's formula). */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const reduction = checkReduction('crossEntropy', options.reduction ?? 'mean');
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  const ignoreIndex = options.ignoreIndex ?? -100;
  checkClassInput('crossEntropy', logits, target, options.weight, ignoreIndex);
  const logp = logSoftmax(logits, 1);
  const nll = nllOp(logp, target, options.weight ?? null, ignoreIndex, reduction);
  if (eps === 0) return nll;
  const [n, c] = logits.shape;
  // Smoothing term per sample: -sum_c w_c * logp_c, zero where the target is ignored.
  const keep = allocate(logits.dtype, n);
  let denom = 0;
  for (let i = 0; i < n; i++) {
    const t = target.data[i];
    if (t === ignoreIndex) continue;
    keep[i] = 1;
    denom += options.weight ? options.weight.data[t] : 1;
  }
  const weighted = options.weight ? mul(logp, options.weight) : logp;
  let smooth = mul(neg(sum(weighted, 1)), new Tensor(keep, [n]));
  if (reduction === 'sum') smooth = sum(smooth);
  else if (reduction === 'mean') smooth = div(sum(smooth), denom);
  return add(mul(nll, 1 - eps), mul(smooth, eps / c));
}

/** Mean squared error between tensors of the same shape. */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const reduction = checkReduction('mseLoss', options.reduction ?? 'mean');
  if (!shapeEq(input.shape, target.shape)) {
    throw new Error(`mseLoss: input ${fmt(input.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
  const d = sub(input, target);
  const sq = mul(d, d);
  return reduction === 'none' ? sq : reduction === 'sum' ? sum(sq) : mean(sq);
}
