// The native backend's loader: the optional C addon (native/*.c, built at install by
// scripts/build-native.mjs into build/native/skipgrad_native.node) and, through it, oneDNN
// opened at run time. Everything here degrades: if the addon was not built, cannot load, or
// finds no oneDNN, `nativeStatus()` says why and every kernel declines (returns false), so the
// caller falls back to the wasm or reference kernels.
//
// Operands are used in place (zero copy), arena views included, from any thread (each worker
// thread loads its own addon instance). Thread budget: oneDNN's threads follow the worker pool's
// `getNumThreads()` unless `setNativeThreads` fixed them, so the two never oversubscribe the
// cores (oneDNN runs while the pool's workers sleep).

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Conv2dParams } from '../conv.js';
import type { ArithOp } from '../fast/elementwise_module.js';
import type { SgdHyperParams } from '../optim.js';
import type { Pool2dParams } from '../pool.js';
import { getNumThreads } from '../threads/pool.js';

/** Whether the native (oneDNN) addon loaded, and if not why; its library, version, path and CPU features. */
export interface NativeStatus {
  loaded: boolean;
  reason: string | null;
  library: string | null;
  version: string | null;
  addonPath: string | null;
  features: string[];
}

interface Addon {
  status(): { loaded: boolean; reason: string | null; library: string | null; version: string | null; features: string };
  setThreads(n: number): boolean;
  setBlocked(on: boolean): boolean;
  setSmallImages(on: boolean): boolean;
  setWinograd(on: boolean): boolean;
  gemm(...args: unknown[]): boolean;
  conv2dForward(x: Float32Array, w: Float32Array, b: Float32Array | null, p: Int32Array, out: Float32Array): boolean;
  conv2dBackward(gy: Float32Array, x: Float32Array, w: Float32Array, p: Int32Array, gx: Float32Array | null, gw: Float32Array | null, gb: Float32Array | null): boolean;
  bnChannelStats(x: Float32Array, N: number, C: number, S: number, mean: Float64Array, variance: Float64Array): boolean;
  bnNormalize(x: Float32Array, N: number, C: number, S: number, mean: Float64Array, invstd: Float64Array, weight: Float32Array | null, bias: Float32Array | null, out: Float32Array): boolean;
  bnBackwardReduce(g: Float32Array, x: Float32Array, N: number, C: number, S: number, mean: Float64Array, invstd: Float64Array, sumG: Float64Array, sumGXhat: Float64Array): boolean;
  bnBackwardInput(g: Float32Array, x: Float32Array, N: number, C: number, S: number, mean: Float64Array, invstd: Float64Array, weight: Float32Array | null, sumG: Float64Array, sumGXhat: Float64Array, batchStats: boolean, out: Float32Array): boolean;
  maxPool2dForward(x: Float32Array, p: Int32Array, out: Float32Array, indices: Int32Array): boolean;
  maxPool2dBackward(gy: Float32Array, indices: Int32Array, p: Int32Array, gx: Float32Array): boolean;
  reluForward(x: Float32Array, out: Float32Array): boolean;
  reluBackward(g: Float32Array, x: Float32Array, out: Float32Array): boolean;
  sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array | null, first: boolean, lr: number, wd: number, momentum: number, damp1: number, nesterov: boolean, maximize: boolean): boolean;
  arith(op: number, a: Float32Array, b: Float32Array, out: Float32Array): boolean;
}

/** Where the addon is looked for: SKIPGRAD_NATIVE_ADDON, else build/native at the package root (from src/ or dist/src/). */
function addonCandidates(): string[] {
  const env = process.env.SKIPGRAD_NATIVE_ADDON;
  if (env) return [env];
  return ['../../../build/native/skipgrad_native.node', '../../../../build/native/skipgrad_native.node'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
}

let addon: Addon | null = null;
let status: NativeStatus | null = null;

function load(): NativeStatus {
  if (status) return status;
  const base: NativeStatus = { loaded: false, reason: null, library: null, version: null, addonPath: null, features: [] };
  if (process.env.SKIPGRAD_NATIVE === '0') return (status = { ...base, reason: 'disabled by SKIPGRAD_NATIVE=0' });
  const path = addonCandidates().find((p) => existsSync(p));
  if (!path) {
    const where = addonCandidates().join(' or ');
    return (status = { ...base, reason: `native addon not built (no ${where}; needs a C compiler at install: npm run build:native)` });
  }
  try {
    const a = createRequire(import.meta.url)(path) as Addon;
    const s = a.status();
    const features = s.features.split(',').map((f) => f.trim()).filter((f) => f !== '');
    status = { loaded: s.loaded, reason: s.reason, library: s.library, version: s.version, addonPath: path, features };
    if (s.loaded) addon = a;
  } catch (e) {
    status = { ...base, addonPath: path, reason: `native addon ${path} failed to load: ${e instanceof Error ? e.message : String(e)}` };
  }
  return status;
}

/** Whether the native backend is usable here, and if not why; loads the addon (once) on first call. Never throws. */
export function nativeStatus(): NativeStatus {
  const s = load();
  return { ...s, features: [...s.features] };
}

let fixedThreads = 0; // 0: follow getNumThreads()
let appliedThreads = 0;

/** Threads oneDNN uses (in this thread); 0 goes back to following the worker pool's thread count. */
export function setNativeThreads(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`setNativeThreads: expected a non-negative integer, got ${n}`);
  fixedThreads = n;
}

/** The addon, with its thread count in step with the budget, or null. */
function ready(): Addon | null {
  if (!status) load();
  if (!addon) return null;
  const n = fixedThreads || getNumThreads();
  if (n !== appliedThreads) {
    addon.setThreads(n);
    appliedThreads = n;
  }
  return addon;
}

/** For benchmarks: oneDNN's preferred (blocked) layouts inside each convolution (default), or plain NCHW. */
export function setNativeBlockedLayout(on: boolean): boolean {
  return ready()?.setBlocked(on) ?? false;
}

/**
 * For tests and benchmarks: convolutions with at most 4 output pixels as GEMMs per (pixel, tap)
 * pair (native/smallconv.c, the default), or through oneDNN's primitives like the rest.
 */
export function setNativeSmallImageConv(on: boolean): boolean {
  return ready()?.setSmallImages(on) ?? false;
}

/**
 * For tests and benchmarks: Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions where oneDNN has
 * it and every input is finite (native/dnnl.c, the default), or the direct algorithm only.
 */
export function setNativeWinograd(on: boolean): boolean {
  return ready()?.setWinograd(on) ?? false;
}

// Params packed once per call into one reusable Int32Array (one typed array for the addon to read).
const convP = new Int32Array(16);
function packConv(p: Conv2dParams): Int32Array {
  convP[0] = p.n; convP[1] = p.cIn; convP[2] = p.h; convP[3] = p.w; convP[4] = p.cOut; convP[5] = p.kh; convP[6] = p.kw;
  convP[7] = p.strideH; convP[8] = p.strideW; convP[9] = p.padH; convP[10] = p.padW; convP[11] = p.dilH; convP[12] = p.dilW;
  convP[13] = p.groups; convP[14] = p.outH; convP[15] = p.outW;
  return convP;
}
const poolP = new Int32Array(14);
function packPool(p: Pool2dParams): Int32Array {
  poolP[0] = p.n; poolP[1] = p.c; poolP[2] = p.h; poolP[3] = p.w; poolP[4] = p.kh; poolP[5] = p.kw; poolP[6] = p.strideH;
  poolP[7] = p.strideW; poolP[8] = p.padH; poolP[9] = p.padW; poolP[10] = p.dilH; poolP[11] = p.dilW; poolP[12] = p.outH; poolP[13] = p.outW;
  return poolP;
}

export interface NativeKernels {
  gemm?(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number, beta: number, C: Float32Array, cOff: number, ldc: number): boolean;
  conv2dForward?(x: Float32Array, w: Float32Array, bias: Float32Array | null, p: Conv2dParams, out: Float32Array): boolean;
  conv2dBackward?(gy: Float32Array, x: Float32Array, w: Float32Array, p: Conv2dParams, g: { gx: Float32Array | null; gw: Float32Array | null; gb: Float32Array | null }): boolean;
  bnChannelStats?(x: Float32Array, N: number, C: number, S: number, mean: Float64Array, variance: Float64Array): boolean;
  bnNormalize?(x: Float32Array, N: number, C: number, S: number, mean: Float64Array, invstd: Float64Array, weight: Float32Array | null, bias: Float32Array | null, out: Float32Array): boolean;
  bnBackwardReduce?(g: Float32Array, x: Float32Array, N: number, C: number, S: number, mean: Float64Array, invstd: Float64Array, sumG: Float64Array, sumGXhat: Float64Array): boolean;
  bnBackwardInput?(g: Float32Array, x: Float32Array, N: number, C: number, S: number, mean: Float64Array, invstd: Float64Array, weight: Float32Array | null, sumG: Float64Array, sumGXhat: Float64Array, batchStats: boolean, out: Float32Array): boolean;
  maxPool2dForward?(x: Float32Array, p: Pool2dParams, out: Float32Array, indices: Int32Array): boolean;
  maxPool2dBackward?(gy: Float32Array, indices: Int32Array, p: Pool2dParams, gx: Float32Array): boolean;
  reluForward?(x: Float32Array, out: Float32Array): boolean;
  reluBackward?(g: Float32Array, x: Float32Array, out: Float32Array): boolean;
  sgdStep?(data: Float32Array, grad: Float32Array, buf: Float32Array | null, first: boolean, h: SgdHyperParams): boolean;
  /** out = a op b elementwise; a and b have out's length or one element (broadcast). */
  arith?(op: ArithOp, a: Float32Array, b: Float32Array, out: Float32Array): boolean;
}

/** Each kernel returns true if it did the work, false to decline (the caller falls back). */
export const nativeKernels: NativeKernels = {
  gemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) {
    return ready()?.gemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) ?? false;
  },
  conv2dForward(x, w, bias, p, out) {
    return ready()?.conv2dForward(x, w, bias, packConv(p), out) ?? false;
  },
  conv2dBackward(gy, x, w, p, g) {
    if (!g.gx && !g.gw) return false; // a bias gradient alone is a plain reduction
    return ready()?.conv2dBackward(gy, x, w, packConv(p), g.gx, g.gw, g.gb) ?? false;
  },
  // Batch norm's four passes over channel ranges on the OpenMP team (native/batchnorm.c). Alone
  // they are no faster than the wasm kernels (~0.1 ms at ResNet-18 sizes, most of it waking the
  // team), but in a training step (28x28 b64, 2 threads) batch norm went 18 -> 12-14 ms and the
  // convolutions 102 -> 96 ms: the wasm path's JavaScript (channelStatsWasm, normalizeWasm) lost
  // its optimized code at every full collection and TurboFan recompiled it on a background
  // thread, taking a core from the convolutions each step.
  bnChannelStats(x, N, C, S, mean, variance) {
    return ready()?.bnChannelStats(x, N, C, S, mean, variance) ?? false;
  },
  bnNormalize(x, N, C, S, mean, invstd, weight, bias, out) {
    return ready()?.bnNormalize(x, N, C, S, mean, invstd, weight, bias, out) ?? false;
  },
  bnBackwardReduce(g, x, N, C, S, mean, invstd, sumG, sumGXhat) {
    return ready()?.bnBackwardReduce(g, x, N, C, S, mean, invstd, sumG, sumGXhat) ?? false;
  },
  bnBackwardInput(g, x, N, C, S, mean, invstd, weight, sumG, sumGXhat, batchStats, out) {
    return ready()?.bnBackwardInput(g, x, N, C, S, mean, invstd, weight, sumG, sumGXhat, batchStats, out) ?? false;
  },
  // float64 arithmetic as the reference, 8 lanes wide on AVX-512 and on oneDNN's OpenMP team:
  // 4.0 -> 1.5 ms per 2.36M-element parameter on 2 threads against the wasm kernel's f64x2.
  sgdStep(data, grad, buf, first, h) {
    return ready()?.sgdStep(data, grad, buf, first, h.lr, h.weightDecay, h.momentum, 1 - h.dampening, h.nesterov, h.maximize) ?? false;
  },
  // ReLU and the same-shape arithmetic (residual sums, gradient sums) on the OpenMP team too: the
  // wasm pool's hand-overs between oneDNN calls cost more than the loops.
  reluForward(x, out) {
    return ready()?.reluForward(x, out) ?? false;
  },
  reluBackward(g, x, out) {
    return ready()?.reluBackward(g, x, out) ?? false;
  },
  arith(op, a, b, out) {
    return ready()?.arith(ARITH_CODES[op], a, b, out) ?? false;
  },
};

const ARITH_CODES: Record<ArithOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };

/**
 * Native kernels that are correct (tested like the rest) but measured slower than the wasm path,
 * so `nativeKernels` does not offer them: these C loops run on one thread, the wasm kernels on
 * the worker pool. On 2 threads (Intel Xeon, 2026-12-01, `node dist/bench/native.js`): max-pool
 * forward 14.2 vs 2.1 ms, backward 1.13 vs 0.61 ms, ReLU forward 0.88 vs 0.48 ms, backward 1.30
 * vs 0.66 ms. The max-pool indices format is the same.
 */
export const nativeSlowerKernels: Pick<NativeKernels, 'maxPool2dForward' | 'maxPool2dBackward'> = {
  maxPool2dForward(x, p, out, indices) {
    return ready()?.maxPool2dForward(x, packPool(p), out, indices) ?? false;
  },
  maxPool2dBackward(gy, indices, p, gx) {
    return ready()?.maxPool2dBackward(gy, indices, packPool(p), gx) ?? false;
  },
};
