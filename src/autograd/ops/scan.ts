// cumsum, prod and logsumexp: reductions and scans that need their own backward.

import { allocate } from '../../kernels/dtype.js';
import { fmt, sizeOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { floatDType } from './helpers.js';
import { normDims, normDimScalar, reducedShape, reductionSlots, type Dims, type ReduceOptions } from './reduce.js';

/** Calls visit(base, len, stride) for every line along `axis` (a 0-d tensor is one line of 1). */
function forEachLine(shape: readonly number[], axis: number, visit: (base: number, len: number, stride: number) => void): void {
  const outer = sizeOf(shape.slice(0, axis));
  const len = shape[axis] ?? 1;
  const inner = sizeOf(shape.slice(axis + 1));
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) visit(o * len * inner + i, len, inner);
}

function cumsumRaw(data: Tensor['data'], shape: readonly number[], axis: number, reverse: boolean, out: Tensor['data']): void {
  forEachLine(shape, axis, (base, len, st) => {
    let s = 0;
    for (let k = 0; k < len; k++) {
      const p = base + (reverse ? len - 1 - k : k) * st;
      s += data[p];
      out[p] = s;
    }
  });
}

const cumsumOp = defineOp({
  name: 'cumsum',
  forward(ctx, x: Tensor, axis: number) {
    const out = allocate(x.dtype, x.size);
    cumsumRaw(x.data, x.shape, axis, false, out);
    ctx.state.axis = axis;
    return new Tensor(out, x.shape);
  },
  backward(ctx, g) {
    // d/dx_i of sum_{k>=i} g_k: the gradient is the reversed cumulative sum of g.
    const out = allocate(g.dtype, g.size);
    cumsumRaw(g.data, g.shape, ctx.state.axis, true, out);
    return [new Tensor(out, g.shape), null];
  },
});

/** Running sum along `dim` (int32 stays int32). */
export function cumsum(x: Tensor, dim: number): Tensor {
  const d = normDimScalar('cumsum', dim, x.shape);
  return cumsumOp(x, Math.max(d, 0));
}

const prodOp = defineOp({
  name: 'prod',
  forward(ctx, x: Tensor, axis: number, outShape: number[]) {
    const shape = axis < 0 ? [x.size] : x.shape;
    const a = Math.max(axis, 0);
    const out = allocate(x.dtype, sizeOf(reducedShape(shape, [a], false)));
    // float32 products round (and overflow) at every step, as PyTorch's float32 accumulator does.
    const round = x.dtype === 'float32' ? Math.fround : (v: number) => v;
    let j = 0;
    forEachLine(shape, a, (base, len, st) => {
      let p = 1;
      for (let k = 0; k < len; k++) p = round(p * x.data[base + k * st]);
      out[j++] = p;
    });
    const result = new Tensor(out, outShape);
    ctx.saveForBackward(x, result);
    Object.assign(ctx.state, { shape, a, all: axis < 0 });
    return result;
  },
  backward(ctx, g) {
    // PyTorch's prod_backward: with no zero in the input, g·(result / x), so an Inf or NaN input
    // gives NaN as there; a full product with two or more zeros has all-zero gradients; otherwise
    // the products of the others as prefix × suffix products (one zero in a line: only its own
    // gradient is nonzero; two or more: all zero).
    const [x, result] = ctx.savedTensors;
    const { shape, a, all } = ctx.state as { shape: number[]; a: number; all: boolean };
    const gx = allocate(g.dtype, x.size);
    if (x.ndim === 0) {
      gx[0] = g.data[0];
      return [new Tensor(gx, x.shape), null, null];
    }
    let zeros = 0;
    for (let i = 0; i < x.size; i++) if (x.data[i] === 0) zeros++;
    if (all && zeros >= 2) return [new Tensor(gx, x.shape), null, null];
    let j = 0;
    forEachLine(shape, a, (base, len, st) => {
      const gv = g.data[j];
      if (zeros === 0) {
        const r = result.data[j];
        for (let k = 0; k < len; k++) gx[base + k * st] = gv * (r / x.data[base + k * st]);
        j++;
        return;
      }
      j++;
      let pre = 1;
      for (let k = 0; k < len; k++) {
        gx[base + k * st] = pre;
        pre *= x.data[base + k * st];
      }
      let suf = 1;
      for (let k = len - 1; k >= 0; k--) {
        const p = base + k * st;
        gx[p] *= suf * gv;
        suf *= x.data[p];
      }
    });
    return [new Tensor(gx, x.shape), null, null];
  },
});

/** Product of all elements, or along one `dim` (int32 stays int32; the empty product is 1). */
export function prod(x: Tensor, dim?: number, options: ReduceOptions = {}): Tensor {
  const keepdim = options.keepdim ?? false;
  if (dim === undefined) return prodOp(x, -1, keepdim ? x.shape.map(() => 1) : []);
  const d = normDimScalar('prod', dim, x.shape);
  if (d < 0) return prodOp(x, -1, []);
  return prodOp(x, d, reducedShape(x.shape, [d], keepdim));
}

const logsumexpOp = defineOp({
  name: 'logsumexp',
  forward(ctx, x: Tensor, axes: number[], outShape: number[]) {
    const { slots, count } = reductionSlots(x.shape, axes);
    const m = new Float64Array(count).fill(-Infinity);
    for (let e = 0; e < x.size; e++) {
      const v = x.data[e];
      const s = slots[e];
      if (v !== v) m[s] = NaN;
      else if (v > m[s]) m[s] = v; // false once m[s] is NaN
    }
    // Shift by the max for stability, but not by ±Inf (that would give Inf - Inf = NaN).
    for (let s = 0; s < count; s++) if (m[s] === Infinity || m[s] === -Infinity) m[s] = 0;
    const acc = new Float64Array(count);
    for (let e = 0; e < x.size; e++) acc[slots[e]] += Math.exp(x.data[e] - m[slots[e]]);
    const out = allocate(floatDType(x), count);
    for (let s = 0; s < count; s++) out[s] = Math.log(acc[s]) + m[s];
    const y = new Tensor(out, outShape);
    ctx.saveForBackward(x, y);
    ctx.state.slots = slots;
    return y;
  },
  backward(ctx, g) {
    // d/dx logsumexp = softmax(x) = exp(x - y).
    const [x, y] = ctx.savedTensors;
    const slots = ctx.state.slots as Int32Array;
    const gx = allocate(g.dtype, x.size);
    for (let e = 0; e < x.size; e++) gx[e] = g.data[slots[e]] * Math.exp(x.data[e] - y.data[slots[e]]);
    return [new Tensor(gx, x.shape), null, null];
  },
});

/** log(sum(exp(x))) over `dim` (one dim or a list, required as in torch.logsumexp), computed stably. */
export function logsumexp(x: Tensor, dim: Dims, options: ReduceOptions = {}): Tensor {
  if (dim === undefined) throw new Error(`logsumexp: dim is required (got none for input ${fmt(x.shape)})`);
  const axes = normDims('logsumexp', dim, x.shape);
  return logsumexpOp(x, axes, reducedShape(x.shape, axes, options.keepdim ?? false));
}
