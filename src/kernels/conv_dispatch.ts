// Picks the convolution kernels: the batched wasm path (conv_fast.ts) for float32 in 'fast'
// kernel mode when the products are big enough, else the plain reference (conv.ts, the oracle).
// Within the fast path, 3x3 stride-1 convolutions whose Winograd F(2x2,3x3) form measured
// faster (conv_winograd.ts `useWinograd`) take it for the forward pass and the input gradient;
// their weight and bias gradients stay on conv_fast.

import type { FloatArray } from './dtype.js';
import * as R from './conv.js';
import { conv2dBackwardFast, conv2dForwardFast } from './conv_fast.js';
import { conv2dBackwardInputWinograd, conv2dForwardWinograd, useWinograd } from './conv_winograd.js';
import { getGemmTuning } from './gemm.js';
import { getKernelMode } from './mode.js';

export { setWinograd } from './conv_winograd.js';

export interface ConvGradArrays {
  gx: FloatArray | null;
  gw: FloatArray | null;
  gb: FloatArray | null;
}

let batched = true;

/**
 * Turn the batched fast path off (true = default) to time the reference kernels with the wasm
 * GEMM per image, as before the fast path existed; returns the previous setting. For benchmarks.
 */
export function setConvBatched(on: boolean): boolean {
  const prev = batched;
  batched = on;
  return prev;
}

const f32 = (a: FloatArray | null): boolean => a === null || a instanceof Float32Array;

/** Same rule as gemm's: one group's product (og x n*L x K) must be worth the wasm call. */
function wantFast(p: R.Conv2dParams, arrays: (FloatArray | null)[]): boolean {
  if (!batched || getKernelMode() !== 'fast' || !arrays.every(f32)) return false;
  const mnk = (p.cOut / p.groups) * p.n * p.outH * p.outW * (p.cIn / p.groups) * p.kh * p.kw;
  return mnk >= getGemmTuning().fastMinMNK;
}

/** out = conv(x, w) + bias (`out` overwritten). */
export function conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, p: R.Conv2dParams, out: FloatArray): void {
  if (wantFast(p, [x, w, bias, out])) {
    const [x32, w32, b32, o32] = [x, w, bias, out] as [Float32Array, Float32Array, Float32Array | null, Float32Array];
    if (useWinograd(p, 'forward') && conv2dForwardWinograd(x32, w32, b32, p, o32)) return;
    if (conv2dForwardFast(x32, w32, b32, p, o32)) return;
  }
  R.conv2dForward(x, w, bias, p, out);
}

/** The gradients in `g` that are not null (each overwritten), from the output gradient `gy`. */
export function conv2dBackward(gy: FloatArray, x: FloatArray, w: FloatArray, p: R.Conv2dParams, g: ConvGradArrays): void {
  const { gx, gw, gb } = g;
  if (
    gx && wantFast(p, [gy, x, w, gx, gw, gb]) && useWinograd(p, 'input') &&
    conv2dBackwardInputWinograd(gy as Float32Array, w as Float32Array, p, gx as Float32Array)
  ) {
    // the rest as below, without the input gradient (the bias gradient alone has no fast path)
    if (gw) conv2dBackward(gy, x, w, p, { gx: null, gw, gb });
    else if (gb) R.conv2dBackwardBias(gy, p, gb);
    return;
  }
  if (
    (gx || gw) && wantFast(p, [gy, x, w, gx, gw, gb]) &&
    conv2dBackwardFast(gy as Float32Array, x as Float32Array, w as Float32Array, p, g as { gx: Float32Array | null; gw: Float32Array | null; gb: Float32Array | null })
  ) return;
  if (gx) R.conv2dBackwardInput(gy, w, p, gx);
  if (gw) R.conv2dBackwardWeight(x, gy, p, gw);
  if (gb) R.conv2dBackwardBias(gy, p, gb);
}
