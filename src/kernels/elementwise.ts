// Elementwise loops: unary maps and broadcasting binary maps over typed arrays.
//
// mapUnaryReference / mapBinaryReference take the operation as a closure: general, but V8
// cannot inline a closure called from a loop shared by every op, so they run at ~1 GB/s. They
// are the reference backend's kernels. Every kernel runs on the backend in use (backend.ts):
// for the hot ops (add, sub, mul, div, relu and its backward) the wasm backend takes float32
// arrays to WebAssembly SIMD (fast/elementwise.ts) and other dtypes to loops written out per
// op; results are identical to the reference either way.

import type { TypedArray } from './dtype.js';
import { kernelChains, noKernel, registerKernel, type BinaryFn, type TernaryFn, type UnaryFn } from './backend.js';
import { fastEligible, fastEngine } from './fast/engine.js';
import { arithWasm, reluBackwardWasm, reluWasm } from './fast/elementwise.js';
import type { ArithOp } from './fast/elementwise_module.js';
import { type Shape, broadcastStrides, sizeOf } from './shape.js';

export type { ArithOp, BinaryFn, TernaryFn, UnaryFn };

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
  const chain = kernelChains().arith;
  for (let i = 0; i < chain.length; i++) if (chain[i](op, a, aShape, b, bShape, out, outShape)) return;
  throw noKernel('arith');
}

/** out = relu(x). */
export function reluForward(x: TypedArray, out: TypedArray): void {
  const chain = kernelChains().reluForward;
  for (let i = 0; i < chain.length; i++) if (chain[i](x, out)) return;
  throw noKernel('reluForward');
}

/** out = x <= 0 ? 0 : g, a select as PyTorch's threshold_backward: +0 there even for a NaN or Inf g; a NaN x passes g. */
export function reluBackward(g: TypedArray, x: TypedArray, out: TypedArray): void {
  const chain = kernelChains().reluBackward;
  for (let i = 0; i < chain.length; i++) if (chain[i](g, x, out)) return;
  throw noKernel('reluBackward');
}

/** out[i] = fn(x[i]). */
export function mapUnary(x: TypedArray, out: TypedArray, fn: UnaryFn): void {
  const chain = kernelChains().mapUnary;
  for (let i = 0; i < chain.length; i++) if (chain[i](x, out, fn)) return;
  throw noKernel('mapUnary');
}

/** out[i] = fn(a[ia], b[ib]) where a and b are broadcast to `outShape`. */
export function mapBinary(a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape, fn: BinaryFn): void {
  const chain = kernelChains().mapBinary;
  for (let i = 0; i < chain.length; i++) if (chain[i](a, aShape, b, bShape, out, outShape, fn)) return;
  throw noKernel('mapBinary');
}

/** out[i] = fn(a[i], b[i], c[i]) with all three broadcast to `outShape` (used by `where`). */
export function mapTernary(
  a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, c: TypedArray, cShape: Shape,
  out: TypedArray, outShape: Shape, fn: TernaryFn,
): void {
  const chain = kernelChains().mapTernary;
  for (let i = 0; i < chain.length; i++) if (chain[i](a, aShape, b, bShape, c, cShape, out, outShape, fn)) return;
  throw noKernel('mapTernary');
}

// The wasm backend: same-length or scalar operands only for arith (the general broadcast is
// declined); relu never declines (other dtypes take a written-out loop).
registerKernel('arith', 'wasm', (op, a, _aShape, b, _bShape, out, _outShape) => {
  const n = out.length;
  if (!((a.length === n || a.length === 1) && (b.length === n || b.length === 1) && n > 0)) return false;
  if (fastEligible(n) && allF32(a, b, out)) {
    const eng = fastEngine();
    if (eng) {
      arithWasm(eng, op, a as Float32Array, b as Float32Array, out as Float32Array);
      return true;
    }
  }
  ARITH_LOOPS[op](a, b, out);
  return true;
});
registerKernel('reluForward', 'wasm', (x, out) => {
  const eng = fastEligible(x.length) && allF32(x, out) ? fastEngine() : null;
  if (eng) {
    reluWasm(eng, x as Float32Array, out as Float32Array);
    return true;
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    out[i] = v > 0 ? v : v !== v ? v : 0;
  }
  return true;
});
registerKernel('reluBackward', 'wasm', (g, x, out) => {
  const eng = fastEligible(x.length) && allF32(g, x, out) ? fastEngine() : null;
  if (eng) reluBackwardWasm(eng, g as Float32Array, x as Float32Array, out as Float32Array);
  return eng !== null;
});

registerKernel('arith', 'reference', (op, a, aShape, b, bShape, out, outShape) => {
  mapBinaryReference(a, aShape, b, bShape, out, outShape, ARITH_FNS[op]);
  return true;
});
registerKernel('reluForward', 'reference', (x, out) => {
  mapUnaryReference(x, out, reluFn);
  return true;
});
registerKernel('reluBackward', 'reference', (g, x, out) => {
  // No closure here to begin with: the wasm backend's JS fallback was the same loop.
  for (let i = 0; i < out.length; i++) out[i] = x[i] <= 0 ? 0 : g[i];
  return true;
});
registerKernel('mapUnary', 'reference', (x, out, fn) => {
  mapUnaryReference(x, out, fn);
  return true;
});
registerKernel('mapBinary', 'reference', (a, aShape, b, bShape, out, outShape, fn) => {
  mapBinaryReference(a, aShape, b, bShape, out, outShape, fn);
  return true;
});
registerKernel('mapTernary', 'reference', (a, aShape, b, bShape, c, cShape, out, outShape, fn) => {
  mapTernaryReference(a, aShape, b, bShape, c, cShape, out, outShape, fn);
  return true;
});

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

export function mapUnaryReference(x: TypedArray, out: TypedArray, fn: UnaryFn): void {
  for (let i = 0; i < x.length; i++) out[i] = fn(x[i]);
}

/**
 * out[i] = fn(a[ia], b[ib]) where a and b are broadcast to `outShape`.
 * Same-shape and scalar operands take straight loops; the general case walks an odometer
 * over all but the last dim and runs the last dim as an inner loop.
 */
export function mapBinaryReference(
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

export function mapTernaryReference(
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
