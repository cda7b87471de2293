// Reductions: sum, mean, max, min over all elements or chosen dims, and var composed from them.

import { allocate } from '../../kernels/dtype.js';
import { extremumAxis, sumAxes } from '../../kernels/reduce.js';
import { fmt, sizeOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { div, mul, sub } from './arithmetic.js';
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

/** Variance over `dim` (all elements when omitted), composed from mean, sub, mul and sum. */
export function variance(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  return varianceAs('var', x, dim, options);
}

function varianceAs(op: string, x: Tensor, dim: Dims, options: VarOptions): Tensor {
  const axes = normDims(op, dim, x.shape);
  const n = sizeOf(axes.map((a) => x.shape[a]));
  if (options.correction !== undefined && options.unbiased !== undefined) {
    throw new Error(`${op}: give either correction or unbiased, not both`);
  }
  const correction = options.correction ?? ((options.unbiased ?? true) ? 1 : 0);
  const xf = x.dtype === 'int32' ? toFloat(x) : x;
  // The mean is a constant to the gradient, as in torch's var_backward (2(x - mean)/(n - c)): its
  // path adds 0 analytically, but spreads NaN over the slice when an element is ±Inf.
  const centered = sub(xf, mean(xf.detach(), axes, { keepdim: true }));
  const ss = sum(mul(centered, centered), axes, { keepdim: options.keepdim ?? false });
  return div(ss, Math.max(0, n - correction));
}

// The square root of a variance, with PyTorch's std_backward: where the result is 0 (a constant
// slice) the gradient is 0, not sqrt's 0.5/0 = Inf times a zero centred value = NaN.
const sqrtOfVariance = defineOp({
  name: 'std',
  forward(ctx, v: Tensor) {
    const y = allocate(v.dtype, v.size);
    for (let i = 0; i < y.length; i++) y[i] = Math.sqrt(v.data[i]);
    const out = new Tensor(y, v.shape);
    ctx.saveForBackward(out);
    return out;
  },
  backward(ctx, g) {
    const [y] = ctx.savedTensors;
    const gv = allocate(g.dtype, g.size);
    for (let i = 0; i < gv.length; i++) gv[i] = y.data[i] === 0 ? 0 : (0.5 * g.data[i]) / y.data[i];
    return [new Tensor(gv, y.shape)];
  },
});

/** Standard deviation (torch.std): the square root of `variance`, with the same options. */
export function std(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  return sqrtOfVariance(varianceAs('std', x, dim, options));
}
