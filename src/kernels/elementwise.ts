// Elementwise loops: unary maps and broadcasting binary maps over typed arrays.
//
// mapUnary / mapBinary take the operation as a closure: general, but V8 cannot inline a
// closure called from a loop shared by every op, so they run at ~1 GB/s. They are the
// reference. The hot ops (add, sub, mul, div, relu and its backward) have dispatchers below:
// in 'fast' kernel mode float32 arrays go to WebAssembly SIMD (fast/elementwise.ts), other
// dtypes to loops written out per op; results are identical to the reference either way.

import type { TypedArray } from './dtype.js';
import { fastEligible, fastEngine } from './fast/engine.js';
import { arithWasm, reluBackwardWasm, reluWasm } from './fast/elementwise.js';
import type { ArithOp } from './fast/elementwise_module.js';
import { getKernelMode } from './mode.js';
import { type Shape, broadcastStrides, sizeOf } from './shape.js';

export type UnaryFn = (x: number) => number;
export type BinaryFn = (a: number, b: number) => number;
export type { ArithOp };

/** The reference definitions of the dispatched ops. */
export const ARITH_FNS: Readonly<Record<ArithOp, BinaryFn>> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
};
/** ReLU that keeps NaN (as PyTorch) and maps -0 to +0. */
export const reluFn: UnaryFn = (x) => (x > 0 ? x : x !== x ? x : 0);

const allF32 = (...xs: TypedArray[]): boolean => xs.every((x) => x instanceof Float32Array);

/** out = a op b with a and b broadcast to `outShape` (mapBinary's contract). */
export function arith(op: ArithOp, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape): void {
  const n = out.length;
  const flat = (a.length === n || a.length === 1) && (b.length === n || b.length === 1) && n > 0;
  if (getKernelMode() === 'fast' && flat) {
    if (fastEligible(n) && allF32(a, b, out)) {
      const eng = fastEngine();
      if (eng) return arithWasm(eng, op, a as Float32Array, b as Float32Array, out as Float32Array);
    }
    return ARITH_LOOPS[op](a, b, out);
  }
  mapBinary(a, aShape, b, bShape, out, outShape, ARITH_FNS[op]);
}

/** out = relu(x); float32 takes the SIMD path in 'fast' mode. */
export function reluForward(x: TypedArray, out: TypedArray): void {
  if (getKernelMode() !== 'fast') return mapUnary(x, out, reluFn);
  const eng = fastEligible(x.length) && allF32(x, out) ? fastEngine() : null;
  if (eng) return reluWasm(eng, x as Float32Array, out as Float32Array);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v > 0 ? v : v !== v ? v : 0;
  }
}

/** out = g * (x <= 0 ? 0 : 1): the product, so NaN gradients stay NaN; a NaN x passes g (PyTorch). */
export function reluBackward(g: TypedArray, x: TypedArray, out: TypedArray): void {
  if (getKernelMode() === 'fast') {
    const eng = fastEligible(x.length) && allF32(g, x, out) ? fastEngine() : null;
    if (eng) return reluBackwardWasm(eng, g as Float32Array, x as Float32Array, out as Float32Array);
  }
  // One loop for both modes: no closure here to begin with.
  for (let i = 0; i < out.length; i++) out[i] = g[i] * (x[i] <= 0 ? 0 : 1);
}

// Same-length or scalar operands, one loop per op and form (no closure call per element).
type ArithLoop = (a: TypedArray, b: TypedArray, out: TypedArray) => void;
const ARITH_LOOPS: Readonly<Record<ArithOp, ArithLoop>> = {
  add(a, b, out) {
    const n = out.length;
    if (a.length === n && b.length === n) for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
    else if (b.length === 1) for (let i = 0, s = b[0]; i < n; i++) out[i] = a[i] + s;
    else for (let i = 0, s = a[0]; i < n; i++) out[i] = s + b[i];
  },
  sub(a, b, out) {
    const n = out.length;
    if (a.length === n && b.length === n) for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
    else if (b.length === 1) for (let i = 0, s = b[0]; i < n; i++) out[i] = a[i] - s;
    else for (let i = 0, s = a[0]; i < n; i++) out[i] = s - b[i];
  },
  mul(a, b, out) {
    const n = out.length;
    if (a.length === n && b.length === n) for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
    else if (b.length === 1) for (let i = 0, s = b[0]; i < n; i++) out[i] = a[i] * s;
    else for (let i = 0, s = a[0]; i < n; i++) out[i] = s * b[i];
  },
  div(a, b, out) {
    const n = out.length;
    if (a.length === n && b.length === n) for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
    else if (b.length === 1) for (let i = 0, s = b[0]; i < n; i++) out[i] = a[i] / s;
    else for (let i = 0, s = a[0]; i < n; i++) out[i] = s / b[i];
  },
};

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
