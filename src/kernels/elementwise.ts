// Elementwise loops: unary maps and broadcasting binary maps over typed arrays.

import type { TypedArray } from './dtype.js';
import { type Shape, broadcastStrides, sizeOf } from './shape.js';

export type UnaryFn = (x: number) => number;
export type BinaryFn = (a: number, b: number) => number;

export function mapUnary(x: TypedArray, out: TypedArray, fn: UnaryFn): void {
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]);
}

/**
 * out[i] = fn(a[ia], b[ib]) where a and b are broadcast to `outShape`.
 * Same-shape and scalar operands take straight loops; the general case walks an odometer
 * over all but the last dim and runs the last dim as an inner loop.
 */
export function mapBinary(
  a: TypedArray,
  aShape: Shape,
  b: TypedArray,
  bShape: Shape,
  out: TypedArray,
  outShape: Shape,
  fn: BinaryFn,
): void {
  const n = out.length;
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = fn(a[i], b[i]);
    return;
  }
  if (b.length === 1 && a.length === n) {
    const s = b[0];
    for (let i = 0; i < n; i++) out[i] = fn(a[i], s);
    return;
  }
  if (a.length === 1 && b.length === n) {
    const s = a[0];
    for (let i = 0; i < n; i++) out[i] = fn(s, b[i]);
    return;
  }
  if (n === 0) return;
  const rank = outShape.length;
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  const last = outShape[rank - 1];
  const asl = as[rank - 1];
  const bsl = bs[rank - 1];
  const outer = n / last;
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  let o = 0;
  for (let r = 0; r < outer; r++) {
    let pa = ia;
    let pb = ib;
    for (let j = 0; j < last; j++, pa += asl, pb += bsl) out[o++] = fn(a[pa], b[pb]);
    // advance the odometer over dims [0, rank-1)
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      ia += as[d];
      ib += bs[d];
      if (idx[d] < outShape[d]) break;
      ia -= as[d] * idx[d];
      ib -= bs[d] * idx[d];
      idx[d] = 0;
    }
  }
}

/** out[i] = fn(a[i], b[i], c[i]) with all three broadcast to `outShape` (used by `where`). */
export function mapTernary(
  a: TypedArray,
  aShape: Shape,
  b: TypedArray,
  bShape: Shape,
  c: TypedArray,
  cShape: Shape,
  out: TypedArray,
  outShape: Shape,
  fn: (a: number, b: number, c: number) => number,
): void {
  const rank = outShape.length;
  const n = sizeOf(outShape);
  const as = broadcastStrides(aShape, outShape);
  const bs = broadcastStrides(bShape, outShape);
  const cs = broadcastStrides(cShape, outShape);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  let ic = 0;
  for (let o = 0; o < n; o++) {
    out[o] = fn(a[ia], b[ib], c[ic]);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += as[d];
      ib += bs[d];
      ic += cs[d];
      if (idx[d] < outShape[d]) break;
      ia -= as[d] * idx[d];
      ib -= bs[d] * idx[d];
      ic -= cs[d] * idx[d];
      idx[d] = 0;
    }
  }
}
