// scatter and scatterAdd along a dim, as torch.scatter / torch.scatter_add (out of place).
// For every position p of `index`: out[p with dim replaced by index[p]] = src[p] (or += for
// scatterAdd). Gradients as PyTorch's: self gets g (scatter: zero where it was overwritten),
// src gets g gathered back through the index (zero at src positions outside index's shape).

import { allocate, promote } from '../../kernels/dtype.js';
import { fmt, sizeOf, stridesOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { checkOperand, dimOf, type TensorLike } from './helpers.js';

interface Plan {
  /** Flat offsets into the output (self's shape) and into src, one per index element. */
  dst: Int32Array;
  src: Int32Array;
}

function plan(op: string, x: Tensor, axis: number, index: Tensor, srcShape: readonly number[]): Plan {
  if (!(index instanceof Tensor) || index.dtype !== 'int32') {
    throw new Error(`${op}: index must be an int32 Tensor, got ${index instanceof Tensor ? index.dtype : typeof index}`);
  }
  const rank = Math.max(x.ndim, 1);
  const xs = x.ndim === 0 ? [1] : x.shape;
  const is = index.ndim === 0 ? [1] : index.shape;
  const ss = srcShape.length === 0 ? [1] : srcShape;
  if (index.ndim !== x.ndim || srcShape.length !== x.ndim) {
    throw new Error(`${op}: index ${fmt(index.shape)}, self ${fmt(x.shape)} and src ${fmt(srcShape)} must have the same number of dims`);
  }
  for (let d = 0; d < rank; d++) {
    if (is[d] > ss[d] || (d !== axis && is[d] > xs[d])) {
      throw new Error(`${op}: index ${fmt(index.shape)} must be no larger than src ${fmt(srcShape)} in every dim and than self ${fmt(x.shape)} outside dim ${axis}`);
    }
  }
  const xStr = stridesOf(xs);
  const sStr = stridesOf(ss);
  const n = index.size;
  const dst = new Int32Array(n);
  const src = new Int32Array(n);
  const pos = new Array<number>(rank).fill(0);
  const len = xs[axis];
  for (let p = 0; p < n; p++) {
    const v = index.data[p];
    if (v < 0 || v >= len) throw new Error(`${op}: index ${v} is out of bounds for dim ${axis} with size ${len} (self ${fmt(x.shape)})`);
    let o = 0;
    let s = 0;
    for (let d = 0; d < rank; d++) {
      o += (d === axis ? v : pos[d]) * xStr[d];
      s += pos[d] * sStr[d];
    }
    dst[p] = o;
    src[p] = s;
    for (let d = rank - 1; d >= 0; d--) {
      if (++pos[d] < is[d]) break;
      pos[d] = 0;
    }
  }
  return { dst, src };
}

const scatterOp = (name: 'scatter' | 'scatterAdd') => defineOp({
  name,
  forward(ctx, x: Tensor, axis: number, index: Tensor, src: Tensor) {
    const { dst, src: so } = plan(name, x, axis, index, src.shape);
    const out = allocate(promote(x.dtype, src.dtype), x.size);
    out.set(x.data);
    if (name === 'scatter') for (let p = 0; p < dst.length; p++) out[dst[p]] = src.data[so[p]];
    else for (let p = 0; p < dst.length; p++) out[dst[p]] += src.data[so[p]];
    Object.assign(ctx.state, { dst, so, srcShape: src.shape });
    return new Tensor(out, x.shape);
  },
  backward(ctx, g) {
    const { dst, so, srcShape } = ctx.state as { dst: Int32Array; so: Int32Array; srcShape: number[] };
    let gx: Tensor | null = null;
    if (ctx.needsInputGrad[0]) {
      if (name === 'scatterAdd') gx = g;
      else {
        const d = allocate(g.dtype, g.size);
        d.set(g.data);
        for (let p = 0; p < dst.length; p++) d[dst[p]] = 0;
        gx = new Tensor(d, g.shape);
      }
    }
    let gs: Tensor | null = null;
    if (ctx.needsInputGrad[3]) {
      const d = allocate(g.dtype, sizeOf(srcShape));
      for (let p = 0; p < dst.length; p++) d[so[p]] = g.data[dst[p]];
      gs = new Tensor(d, srcShape);
    }
    return [gx, null, null, gs];
  },
});

const scatterRaw = scatterOp('scatter');
const scatterAddRaw = scatterOp('scatterAdd');

function asSrc(op: string, x: Tensor, index: Tensor, src: TensorLike): Tensor {
  checkOperand(op, src);
  if (src instanceof Tensor) return src;
  // A number scatters that value at every index position (torch.scatter(dim, index, value)).
  const d = allocate(x.dtype, index.size);
  d.fill(x.dtype === 'int32' ? Math.trunc(src) : src);
  return new Tensor(d, index.shape);
}

/** A copy of x with src's entries written at `index` along `dim` (src may be a number). Duplicate indices: the last write wins. */
export function scatter(x: Tensor, dim: number, index: Tensor, src: TensorLike): Tensor {
  const axis = dimOf('scatter', dim, x.shape);
  return scatterRaw(x, axis, index, asSrc('scatter', x, index, src));
}

/** A copy of x with src's entries added at `index` along `dim`; duplicate indices accumulate. */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  if (!(src instanceof Tensor)) throw new Error(`scatterAdd: src must be a Tensor, got ${typeof src}`);
  const axis = dimOf('scatterAdd', dim, x.shape);
  return scatterAddRaw(x, axis, index, src);
}
