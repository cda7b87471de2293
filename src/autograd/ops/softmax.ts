// softmax, logSoftmax and gather. The softmaxes subtract the row max first, so logits of
// ±1e4 stay finite.

import { allocate, type TypedArray } from '../../kernels/dtype.js';
import { fmt, normDim, sizeOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { floatDType } from './helpers.js';

type Line = (base: number, len: number, st: number, a: TypedArray, b: TypedArray, out: TypedArray, log: boolean) => void;

/**
 * Calls line(base, len, stride, a, b, out, log) for every line along `axis`: the line's elements
 * sit at base + k * stride for k < len. A 0-d tensor is one line of 1. The lines are module-level
 * functions given their arrays, not closures: a closure made per call is optimized per call.
 */
function forEachLine(shape: readonly number[], axis: number, line: Line, a: TypedArray, b: TypedArray, out: TypedArray, log = false): void {
  const outer = sizeOf(shape.slice(0, axis));
  const len = shape[axis] ?? 1;
  const inner = sizeOf(shape.slice(axis + 1));
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) line(o * len * inner + i, len, inner, a, b, out, log);
}

function softmaxLine(base: number, len: number, st: number, xd: TypedArray, _b: TypedArray, out: TypedArray, log: boolean): void {
  let m = -Infinity;
  for (let k = 0; k < len; k++) m = Math.max(m, xd[base + k * st]);
  if (m === -Infinity) m = 0; // an all -Inf row: keep exp finite (gives NaN like PyTorch only via 0/0)
  let s = 0;
  for (let k = 0; k < len; k++) s += Math.exp(xd[base + k * st] - m);
  const logS = Math.log(s);
  for (let k = 0; k < len; k++) {
    const z = xd[base + k * st] - m;
    out[base + k * st] = log ? z - logS : Math.exp(z - logS);
  }
}

/** dx = y * (g - sum(g * y)) */
function softmaxGradLine(base: number, len: number, st: number, g: TypedArray, y: TypedArray, gx: TypedArray): void {
  let dot = 0;
  for (let k = 0; k < len; k++) dot += g[base + k * st] * y[base + k * st];
  for (let k = 0, p = base; k < len; k++, p += st) gx[p] = y[p] * (g[p] - dot);
}

/** dx = g - exp(y) * sum(g) */
function logSoftmaxGradLine(base: number, len: number, st: number, g: TypedArray, y: TypedArray, gx: TypedArray): void {
  let s = 0;
  for (let k = 0; k < len; k++) s += g[base + k * st];
  for (let k = 0, p = base; k < len; k++, p += st) gx[p] = g[p] - Math.exp(y[p]) * s;
}

function softmaxRaw(x: Tensor, axis: number, log: boolean): Tensor {
  const out = allocate(floatDType(x), x.size);
  forEachLine(x.shape, axis, softmaxLine, x.data, x.data, out, log);
  return new Tensor(out, x.shape);
}

const softmaxOp = defineOp({
  name: 'softmax',
  forward(ctx, x: Tensor, axis: number) {
    const y = softmaxRaw(x, axis, false);
    ctx.saveForBackward(y);
    ctx.state.axis = axis;
    return y;
  },
  backward(ctx, g) {
    const [y] = ctx.savedTensors;
    const gx = allocate(g.dtype, g.size);
    forEachLine(y.shape, ctx.state.axis, softmaxGradLine, g.data, y.data, gx);
    return [new Tensor(gx, g.shape), null];
  },
});

const logSoftmaxOp = defineOp({
  name: 'logSoftmax',
  forward(ctx, x: Tensor, axis: number) {
    const y = softmaxRaw(x, axis, true);
    ctx.saveForBackward(y);
    ctx.state.axis = axis;
    return y;
  },
  backward(ctx, g) {
    const [y] = ctx.savedTensors;
    const gx = allocate(g.dtype, g.size);
    forEachLine(y.shape, ctx.state.axis, logSoftmaxGradLine, g.data, y.data, gx);
    return [new Tensor(gx, g.shape), null];
  },
});

/**
 * exp(x) / sum(exp(x)) along `dim` (default -1), as `torch.softmax`; the row max is subtracted
 * first, so large logits stay finite.
 */
export function softmax(x: Tensor, dim = -1): Tensor {
  return softmaxOp(x, normDim('softmax', dim, Math.max(1, x.ndim)));
}

/**
 * log(softmax(x)) along `dim` (default -1), as `torch.log_softmax`, computed as x - max - log(sum(exp(x - max))).
 */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return logSoftmaxOp(x, normDim('logSoftmax', dim, Math.max(1, x.ndim)));
}

function checkIndex(op: string, x: Tensor, axis: number, index: Tensor): void {
  if (index.dtype !== 'int32') throw new Error(`${op}: index must be int32, got ${index.dtype}`);
  if (index.ndim !== x.ndim) {
    throw new Error(`${op}: index ${fmt(index.shape)} and input ${fmt(x.shape)} must have the same number of dims`);
  }
  for (let d = 0; d < x.ndim; d++) {
    if (d !== axis && index.shape[d] > x.shape[d]) {
      throw new Error(`${op}: index ${fmt(index.shape)} is larger than input ${fmt(x.shape)} at dim ${d}`);
    }
  }
  const len = x.ndim === 0 ? 1 : x.shape[axis];
  for (let i = 0; i < index.size; i++) {
    const v = index.data[i];
    if (v < 0 || v >= len) throw new Error(`${op}: index ${v} is out of bounds for dim ${axis} of size ${len}`);
  }
}

/** Calls visit(outFlat, inFlat) for gather's out[..i..] = x[..index[..i..]..] along `axis`. */
function forEachGather(xShape: readonly number[], index: Tensor, axis: number, visit: (o: number, s: number) => void): void {
  const rank = index.ndim;
  const xStrides = xShape.map((_, d) => sizeOf(xShape.slice(d + 1)));
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < index.size; o++) {
    let s = 0;
    for (let d = 0; d < rank; d++) s += (d === axis ? index.data[o] : idx[d]) * xStrides[d];
    visit(o, s);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < index.shape[d]) break;
      idx[d] = 0;
    }
  }
}

const gatherOp = defineOp({
  name: 'gather',
  forward(ctx, x: Tensor, axis: number, index: Tensor) {
    checkIndex('gather', x, axis, index);
    const out = allocate(x.dtype, index.size);
    forEachGather(x.shape, index, axis, (o, s) => (out[o] = x.data[s]));
    Object.assign(ctx.state, { inShape: x.shape, axis, index });
    return new Tensor(out, index.shape);
  },
  backward(ctx, g) {
    const { inShape, axis, index } = ctx.state as { inShape: number[]; axis: number; index: Tensor };
    const gx = allocate(g.dtype, sizeOf(inShape));
    forEachGather(inShape, index, axis, (o, s) => (gx[s] += g.data[o]));
    return [new Tensor(gx, inShape), null, null];
  },
});

/** out[i][j] = x[i][index[i][j]] for dim 1 (and likewise for any dim), as torch.gather. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  return gatherOp(x, normDim('gather', dim, Math.max(x.ndim, 1)), index);
}
