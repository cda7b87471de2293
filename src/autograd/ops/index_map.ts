// One op shape shared by the indexing, flip and pad ops: every output element reads one input
// element, named by a precomputed flat source index (or -1 for a constant fill). Forward is a
// gather through that map; backward adds each output gradient back at its source (so repeated
// sources, as in index or reflect padding, accumulate). Each caller gets its own named op, so
// graph nodes and errors say 'flip' or 'pad', not a shared name.

import { allocate, allocateUninit } from '../../kernels/dtype.js';
import type { Shape } from '../../kernels/shape.js';
import { defineOp, type Op } from '../function.js';
import { Tensor } from '../tensor.js';

export type IndexMapOp = Op<[Tensor, Int32Array, Shape, number]>;

/** out[o] = map[o] >= 0 ? x.data[map[o]] : fill, with out shaped `shape`. */
export function indexMapOp(name: string): IndexMapOp {
  return defineOp({
    name,
    forward(ctx, x: Tensor, map: Int32Array, shape: Shape, fill: number) {
      const out = allocateUninit(x.dtype, map.length);
      const xd = x.data;
      for (let o = 0; o < map.length; o++) {
        const s = map[o];
        out[o] = s >= 0 ? xd[s] : fill;
      }
      Object.assign(ctx.state, { map, inShape: x.shape });
      return new Tensor(out, shape);
    },
    backward(ctx, g) {
      const { map, inShape } = ctx.state as { map: Int32Array; inShape: Shape };
      const gx = allocate(g.dtype, inShape.reduce((a, b) => a * b, 1));
      const gd = g.data;
      for (let o = 0; o < map.length; o++) if (map[o] >= 0) gx[map[o]] += gd[o];
      return [new Tensor(gx, inShape), null, null, null];
    },
  });
}

/**
 * The flat source index of every element of an output of shape `outShape`, where
 * `source(d, i)` gives, for output dim d at position i, the input position along d (or -1:
 * that output element is filled). Input strides come from `inShape` (same rank).
 */
export function mapByDim(inShape: Shape, outShape: Shape, source: (d: number, i: number) => number): Int32Array {
  const rank = outShape.length;
  const n = outShape.reduce((a, b) => a * b, 1);
  const map = new Int32Array(n);
  if (n === 0) return map;
  const inStrides = new Array<number>(rank);
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= inShape[d];
  }
  // Per dim, the input offset contributed by each output position (-1 marks a fill).
  const offs = outShape.map((len, d) => {
    const a = new Int32Array(len);
    for (let i = 0; i < len; i++) {
      const p = source(d, i);
      a[i] = p < 0 ? -1 : p * inStrides[d];
    }
    return a;
  });
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let d = 0; d < rank; d++) {
      const v = offs[d][idx[d]];
      if (v < 0) {
        s = -1;
        break;
      }
      s += v;
    }
    map[o] = s;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return map;
}
