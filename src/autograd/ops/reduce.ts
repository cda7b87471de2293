// Reductions: sum, mean, max, min over all elements or chosen dims, and var composed from them.

import { allocate } from '../../kernels/dtype.js';
import { extremumAxis, sumAxes } from '../../kernels/reduce.js';
import { fmt, sizeOf, stridesOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { div } from './arithmetic.js';
import { dimOf } from './helpers.js';
import { expand, reshape } from './movement.js';

/**
 * The dims a reduction runs over: one dim, a list of dims (negative count from the end), or
 * `undefined` for all of them.
 */
export type Dims = number | readonly number[] | undefined;

/** Options of the reductions. */
export interface ReduceOptions {
  /** Keep each reduced dim as size 1 (default false), as PyTorch's `keepdim`. */
  keepdim?: boolean;
}

/**
 * Sorted unique non-negative dims; undefined means all. A 0-d tensor accepts dim 0 and -1 (as
 * PyTorch does) and reduces over nothing.
 */
export function normDims(op: string, dims: Dims, shape: readonly number[]): number[] {
  const rank = shape.length;
  if (dims === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : dims;
  const out = [...new Set(list.map((d) => dimOf(op, d, shape)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new Error(`${op}: repeated dim in [${list.join(',')}]`);
  return rank === 0 ? [] : out;
}

/** A single dim, with 0-d tensors accepting 0 and -1; returns -1 for a 0-d tensor (nothing to reduce). */
export function normDimScalar(op: string, dim: number, shape: readonly number[]): number {
  const d = dimOf(op, dim, shape);
  return shape.length === 0 ? -1 : d;
}

export function reducedShape(shape: readonly number[], axes: number[], keepdim: boolean): number[] {
  if (keepdim) return shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return shape.filter((_, i) => !axes.includes(i));
}

const sumOp = defineOp({
  name: 'sum',
  forward(ctx, x: Tensor, axes: number[], keepdim: boolean) {
    ctx.state.inShape = x.shape;
    ctx.state.keptShape = reducedShape(x.shape, axes, true);
    return new Tensor(sumAxes(x.data, x.shape, axes), reducedShape(x.shape, axes, keepdim));
  },
  backward: (ctx, g) => [expand(reshape(g, ctx.state.keptShape), ctx.state.inShape), null, null],
});

/**
 * Sum over all elements, or over `dim`, as `torch.sum`. The sum over an empty tensor or dim is 0;
 * int32 sums stay int32. A 0-d tensor accepts dim 0 and -1.
 */
export function sum(x: Tensor, dim?: Dims, options: ReduceOptions = {}): Tensor {
  return sumOp(x, normDims('sum', dim, x.shape), options.keepdim ?? false);
}

/**
 * Mean over all elements, or over `dim`, as `torch.mean`; int32 input gives float32, and the mean
 * of nothing is NaN.
 */
export function mean(x: Tensor, dim?: Dims, options: ReduceOptions = {}): Tensor {
  const axes = normDims('mean', dim, x.shape);
  const count = sizeOf(axes.map((a) => x.shape[a]));
  const s = sum(x, axes, options);
  return div(x.dtype === 'int32' ? toFloat(s) : s, count);
}

function toFloat(t: Tensor): Tensor {
  return new Tensor(Float32Array.from(t.data), t.shape);
}

// One op per name, so min's graph node (and its errors) say 'min'.
const extremumDimOp = (name: 'max' | 'min') => defineOp({
  name,
  forward(ctx, x: Tensor, axis: number, keepdim: boolean, wantMax: boolean) {
    if (x.shape[axis] === 0) throw new Error(`${name}: cannot reduce dim ${axis} of size 0 in shape ${fmt(x.shape)}`);
    const { values, indices } = extremumAxis(x.data, x.shape, axis, wantMax);
    Object.assign(ctx.state, { indices, axis, inShape: x.shape });
    return new Tensor(values, reducedShape(x.shape, [axis], keepdim));
  },
  backward(ctx, g) {
    const { indices, axis, inShape } = ctx.state as { indices: Int32Array; axis: number; inShape: number[] };
    const gx = allocate(g.dtype, sizeOf(inShape));
    const len = inShape[axis];
    const inner = sizeOf(inShape.slice(axis + 1));
    for (let j = 0; j < indices.length; j++) {
      const o = Math.floor(j / inner);
      const i = j - o * inner;
      gx[(o * len + indices[j]) * inner + i] += g.data[j];
    }
    return [new Tensor(gx, inShape), null, null, null];
  },
});

const extremumAllOp = (name: 'max' | 'min') => defineOp({
  name,
  forward(ctx, x: Tensor, wantMax: boolean) {
    if (x.size === 0) throw new Error(`${wantMax ? 'max' : 'min'}: cannot reduce an empty tensor`);
    const { values } = extremumAxis(x.data, [x.size], 0, wantMax);
    ctx.saveForBackward(x);
    ctx.state.value = values[0];
    return new Tensor(values, []);
  },
  backward(ctx, g) {
    // Ties share the gradient evenly, as PyTorch's full max()/min() do.
    const [x] = ctx.savedTensors;
    // A NaN result came from the NaNs, so they share it (PyTorch); NaN === NaN is false.
    const v = ctx.state.value as number;
    const hit = v !== v ? (u: number) => u !== u : (u: number) => u === v;
    let ties = 0;
    for (let i = 0; i < x.size; i++) if (hit(x.data[i])) ties++;
    const gx = allocate(g.dtype, x.size);
    const share = g.data[0] / ties;
    for (let i = 0; i < x.size; i++) if (hit(x.data[i])) gx[i] = share;
    return [new Tensor(gx, x.shape), null];
  },
});

const maxAll = extremumAllOp('max');
const minAll = extremumAllOp('min');
const maxDim = extremumDimOp('max');
const minDim = extremumDimOp('min');

/** Maximum over all elements, or over one `dim` (values only; see `argmax` for indices). */
export function max(x: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  if (dim === undefined) return maxAll(x, true);
  const d = normDimScalar('max', dim, x.shape);
  if (d < 0) return maxAll(x, true); // 0-d: the one element
  return maxDim(x, d, options.keepdim ?? false, true);
}

/**
 * Minimum over all elements, or over one `dim` (values only; see `argmin` for indices). NaN
 * propagates; a reduced dim of size 0 is refused.
 */
export function min(x: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  if (dim === undefined) return minAll(x, false);
  const d = normDimScalar('min', dim, x.shape);
  if (d < 0) return minAll(x, false);
  return minDim(x, d, options.keepdim ?? false, false);
}

function argExtremum(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  const wantMax = op === 'argmax';
  if (dim === undefined || x.ndim === 0) {
    if (dim !== undefined) normDimScalar(op, dim, x.shape);
    if (x.size === 0) throw new Error(`${op}: cannot take the ${op} of an empty tensor ${fmt(x.shape)} without a dim`);
    const shape = keepdim ? x.shape.map(() => 1) : [];
    return new Tensor(extremumAxis(x.data, [x.size], 0, wantMax).indices, shape);
  }
  const d = dimOf(op, dim, x.shape);
  if (x.shape[d] === 0) throw new Error(`${op}: cannot reduce dim ${dim} of size 0 in shape ${fmt(x.shape)}`);
  return new Tensor(extremumAxis(x.data, x.shape, d, wantMax).indices, reducedShape(x.shape, [d], keepdim));
}

/**
 * Index of the first maximum along `dim` (over the flattened tensor when omitted); int32, no
 * gradient. NaN counts as the maximum (the first NaN wins), as in PyTorch.
 */
export function argmax(x: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  return argExtremum('argmax', x, dim, options.keepdim ?? false);
}

/** Index of the first minimum along `dim`; int32, no gradient. NaN counts as the minimum too (PyTorch). */
export function argmin(x: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  return argExtremum('argmin', x, dim, options.keepdim ?? false);
}

/** Options of `variance` and `std`: `keepdim` plus the correction in the divisor n - correction. */
export interface VarOptions extends ReduceOptions {
  /** Divide by n - 1 (Bessel's correction) instead of n; default true, as PyTorch. */
  unbiased?: boolean;
  /** Divide by n - correction (torch's `correction`; overrides `unbiased`). Default 1. */
  correction?: number;
}

/** Variance over `dim` (all elements when omitted), accumulated in float64 as torch.var. */
export function variance(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  return varianceAs('var', x, dim, options);
}

/** For each element of `shape`, the flat index of its slot in the reduction over `axes` (kept shape). */
export function reductionSlots(shape: readonly number[], axes: number[]): { slots: Int32Array; count: number } {
  const kept = shape.map((n, i) => (axes.includes(i) ? 1 : n));
  const ks = stridesOf(kept).map((s, i) => (axes.includes(i) ? 0 : s));
  const n = sizeOf(shape);
  const slots = new Int32Array(n);
  const pos = new Array<number>(shape.length).fill(0);
  for (let e = 0; e < n; e++) {
    let s = 0;
    for (let d = 0; d < shape.length; d++) s += pos[d] * ks[d];
    slots[e] = s;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++pos[d] < shape[d]) break;
      pos[d] = 0;
    }
  }
  return { slots, count: sizeOf(kept) };
}

function varianceAs(op: string, x: Tensor, dim: Dims, options: VarOptions): Tensor {
  const axes = normDims(op, dim, x.shape);
  if (options.correction !== undefined && options.unbiased !== undefined) {
    throw new Error(`${op}: give either correction or unbiased, not both`);
  }
  const correction = options.correction ?? ((options.unbiased ?? true) ? 1 : 0);
  const xf = x.dtype === 'int32' ? toFloat(x) : x;
  return varianceOp(xf, axes, correction, reducedShape(x.shape, axes, options.keepdim ?? false), op === 'std');
}

// Two passes in float64, and std's square root taken there too, as PyTorch accumulates float32
// variances in double: [1e30, -1e30, 0] has a finite std and [1e-30, 1e-30, 0] a nonzero one.
// The backward is torch's var_backward, 2(x - mean)/(n - c) · g, the mean a constant to it (its
// path adds 0 analytically but would spread NaN over the slice from an ±Inf element); std's
// first divides g by 2·std, and is 0 where std is 0 (a constant slice), not 0.5/0 · 0 = NaN.
const varianceOp = defineOp({
  name: 'var',
  forward(ctx, x: Tensor, axes: number[], correction: number, outShape: number[], takeSqrt: boolean) {
    const { slots, count } = reductionSlots(x.shape, axes);
    const n = count === 0 ? 0 : x.size / count;
    const mu = new Float64Array(count);
    for (let e = 0; e < x.size; e++) mu[slots[e]] += x.data[e];
    for (let s = 0; s < count; s++) mu[s] /= n;
    const ss = new Float64Array(count);
    for (let e = 0; e < x.size; e++) {
      const d = x.data[e] - mu[slots[e]];
      ss[slots[e]] += d * d;
    }
    const denom = Math.max(0, n - correction);
    const out = allocate(x.dtype, count);
    for (let s = 0; s < count; s++) out[s] = takeSqrt ? Math.sqrt(ss[s] / denom) : ss[s] / denom;
    Object.assign(ctx.state, { slots, mu, denom, takeSqrt });
    const result = new Tensor(out, outShape);
    ctx.saveForBackward(x, result);
    return result;
  },
  backward(ctx, g) {
    const [x, out] = ctx.savedTensors;
    const { slots, mu, denom, takeSqrt } = ctx.state as { slots: Int32Array; mu: Float64Array; denom: number; takeSqrt: boolean };
    const gv = new Float64Array(g.size);
    for (let s = 0; s < gv.length; s++) gv[s] = !takeSqrt ? g.data[s] : out.data[s] === 0 ? 0 : g.data[s] / (2 * out.data[s]);
    const gx = allocate(g.dtype, x.size);
    for (let e = 0; e < x.size; e++) gx[e] = (2 / denom) * gv[slots[e]] * (x.data[e] - mu[slots[e]]);
    return [new Tensor(gx, x.shape), null, null, null, null];
  },
});

/** Standard deviation (torch.std): the square root of `variance`, with the same options. */
export function std(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  return varianceAs('std', x, dim, options);
}
