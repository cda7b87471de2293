// The native addon's kernels (native/index.ts `nativeKernels`) as entries of the kernel table
// (backend.ts `Kernels`). The addon works on float32 only: anything else is declined here,
// before the call, and the next backend runs it. Where the table's kernel returns its result
// (batch-norm statistics, max-pool indices) the adapter allocates it and hands it to the addon
// as an output argument.

import type { Kernels } from '../backend.js';
import type { FloatArray, TypedArray } from '../dtype.js';
import { fastEngine } from '../fast/engine.js';
import { indexArray } from '../fast/pool.js';
import type { NativeKernels } from '../native/index.js';

const f32 = (a: TypedArray | null): a is Float32Array => a instanceof Float32Array;
const f32OrNull = (a: FloatArray | null): boolean => a === null || a instanceof Float32Array;
/** Below this many elements the JavaScript loops of the next backend beat a call into the addon. */
const MIN_ELEMENTS = 256;
/** Per-channel values (running statistics may be float32) as the float64 array the addon reads. */
const f64 = (a: ArrayLike<number>): Float64Array => (a instanceof Float64Array ? a : Float64Array.from(a));

/** Max-pool indices on an arena block where there is one: the wasm backward then uses them in place. */
function indices(n: number): Int32Array {
  const eng = fastEngine();
  return eng ? indexArray(eng, n) : new Int32Array(n);
}

/** The table entries for the kernels `nk` has. */
export function nativeKernelImpls(nk: NativeKernels): Partial<Kernels> {
  const out: Partial<Kernels> = {};
  if (nk.gemm) {
    out.gemm = (tA, tB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) =>
      f32(A) && f32(B) && f32(C) && nk.gemm!(tA, tB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
  }
  if (nk.conv2dForward) {
    out.conv2dForward = (x, w, bias, p, o) => f32(x) && f32(w) && f32OrNull(bias) && f32(o) && nk.conv2dForward!(x, w, bias as Float32Array | null, p, o);
  }
  if (nk.conv2dBackward) {
    out.conv2dBackward = (gy, x, w, p, g) =>
      f32(gy) && f32(x) && f32(w) && f32OrNull(g.gx) && f32OrNull(g.gw) && f32OrNull(g.gb) &&
      nk.conv2dBackward!(gy, x, w, p, g as { gx: Float32Array | null; gw: Float32Array | null; gb: Float32Array | null });
  }
  if (nk.bnChannelStats) {
    out.bnChannelStats = (x, N, C, S) => {
      if (!f32(x)) return null;
      const mean = new Float64Array(C);
      const variance = new Float64Array(C);
      return nk.bnChannelStats!(x, N, C, S, mean, variance) ? { mean, variance } : null;
    };
  }
  if (nk.bnNormalize) {
    out.bnNormalize = (x, N, C, S, mean, invstd, w, b, o) =>
      f32(x) && f32(o) && f32OrNull(w as FloatArray | null) && f32OrNull(b as FloatArray | null) &&
      nk.bnNormalize!(x, N, C, S, f64(mean), invstd, w as Float32Array | null, b as Float32Array | null, o);
  }
  if (nk.bnBackwardReduce) {
    out.bnBackwardReduce = (g, x, N, C, S, mean, invstd) => {
      if (!f32(g) || !f32(x)) return null;
      const sumG = new Float64Array(C);
      const sumGXhat = new Float64Array(C);
      return nk.bnBackwardReduce!(g, x, N, C, S, f64(mean), invstd, sumG, sumGXhat) ? { sumG, sumGXhat } : null;
    };
  }
  if (nk.bnBackwardInput) {
    out.bnBackwardInput = (g, x, N, C, S, mean, invstd, w, sumG, sumGXhat, batchStats, o) =>
      f32(g) && f32(x) && f32(o) && f32OrNull(w as FloatArray | null) &&
      nk.bnBackwardInput!(g, x, N, C, S, f64(mean), invstd, w as Float32Array | null, sumG, sumGXhat, batchStats, o);
  }
  if (nk.maxPool2dForward) {
    out.maxPool2dForward = (x, p, o) => {
      if (!f32(x) || !f32(o)) return null;
      const idx = indices(p.n * p.c * p.outH * p.outW);
      return nk.maxPool2dForward!(x, p, o, idx) ? idx : null;
    };
  }
  if (nk.maxPool2dBackward) {
    out.maxPool2dBackward = (gy, idx, p, gx) => f32(gy) && f32(gx) && nk.maxPool2dBackward!(gy, idx, p, gx);
  }
  if (nk.sgdStep) {
    out.sgdStep = (data, grad, buf, first, h) => f32(data) && f32(grad) && f32OrNull(buf) && nk.sgdStep!(data, grad, buf as Float32Array | null, first, h);
  }
  if (nk.arith) {
    // Same-length operands or a one-element one; anything else broadcasts, which the next backend does.
    out.arith = (op, a, _aShape, b, _bShape, o) => {
      const n = o.length;
      return n >= MIN_ELEMENTS && f32(a) && f32(b) && f32(o) && (a.length === n || a.length === 1) && (b.length === n || b.length === 1) &&
        nk.arith!(op, a, b, o);
    };
  }
  if (nk.reluForward) out.reluForward = (x, o) => f32(x) && f32(o) && nk.reluForward!(x, o);
  if (nk.reluBackward) out.reluBackward = (g, x, o) => f32(g) && f32(x) && f32(o) && nk.reluBackward!(g, x, o);
  return out;
}
