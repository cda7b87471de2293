// PLACEHOLDER for the native (Node-API + oneDNN) backend's loader, owned by branch `native`:
// the integrator replaces this file with the real one at merge. It has exactly the contract's
// exports; here nothing loads, so the registry (kernels/backend.ts) never lists `native` as
// available and every kernel runs on wasm or the reference.

import type { Conv2dParams } from '../conv.js';
import type { Pool2dParams } from '../pool.js';

export interface NativeStatus {
  loaded: boolean;
  reason: string | null;
  library: string | null;
  version: string | null;
  addonPath: string | null;
  features: string[];
}

const status: NativeStatus = { loaded: false, reason: 'native addon not built on this branch', library: null, version: null, addonPath: null, features: [] };

/** Loads lazily once, never throws. */
export function nativeStatus(): NativeStatus {
  return status;
}

/** One thread budget with the worker pool (nothing to do without the addon). */
export function setNativeThreads(n: number): void {
  void n;
}

/** Each returns true if it did the work, false to decline. */
export interface NativeKernels {
  gemm?(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number, A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number, beta: number, C: Float32Array, cOff: number, ldc: number): boolean;
  conv2dForward?(x: Float32Array, w: Float32Array, bias: Float32Array | null, p: Conv2dParams, out: Float32Array): boolean;
  conv2dBackward?(gy: Float32Array, x: Float32Array, w: Float32Array, p: Conv2dParams, g: { gx: Float32Array | null; gw: Float32Array | null; gb: Float32Array | null }): boolean;
  bnChannelStats?(x: Float32Array, N: number, C: number, S: number, mean: Float64Array, variance: Float64Array): boolean;
  maxPool2dForward?(x: Float32Array, p: Pool2dParams, out: Float32Array, indices: Int32Array): boolean;
  maxPool2dBackward?(gy: Float32Array, indices: Int32Array, p: Pool2dParams, gx: Float32Array): boolean;
  reluForward?(x: Float32Array, out: Float32Array): boolean;
  reluBackward?(g: Float32Array, x: Float32Array, out: Float32Array): boolean;
}

export const nativeKernels: NativeKernels = {};
