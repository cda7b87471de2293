// The convolution kernels, through the backend registry (backend.ts). The wasm backend takes
// float32 convolutions whose products are big enough to the batched wasm path (conv_fast.ts);
// within it, 3x3 stride-1 convolutions whose Winograd F(2x2,3x3) form measured faster
// (conv_winograd.ts `useWinograd`) take that for the forward pass and the input gradient, their
// weight and bias gradients staying on conv_fast. The reference backend is the plain im2col +
// GEMM loops (conv.ts, the oracle; its GEMMs dispatch on their own).

import type { FloatArray } from './dtype.js';
import { kernelChains, noKernel, registerKernel } from './backend.js';
import * as R from './conv.js';
import { conv2dBackwardFast, conv2dForwardFast } from './conv_fast.js';
import { conv2dBackwardInputWinograd, conv2dForwardWinograd, useWinograd } from './conv_winograd.js';
import { getGemmTuning } from './gemm.js';

export { setWinograd } from './conv_winograd.js';

/** Conv2d's gradient outputs (input, weight, bias); a null one is not wanted. */
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
  if (!batched || !arrays.every(f32)) return false;
  const mnk = (p.cOut / p.groups) * p.n * p.outH * p.outW * (p.cIn / p.groups) * p.kh * p.kw;
  return mnk >= getGemmTuning().fastMinMNK;
}

/** out = conv(x, w) + bias (`out` overwritten). */
export function conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, p: R.Conv2dParams, out: FloatArray): void {
  const chain = kernelChains().conv2dForward;
  for (let i = 0; i < chain.length; i++) if (chain[i](x, w, bias, p, out)) return;
  throw noKernel('conv2dForward');
}

/** The gradients in `g` that are not null (each overwritten), from the output gradient `gy`. */
export function conv2dBackward(gy: FloatArray, x: FloatArray, w: FloatArray, p: R.Conv2dParams, g: ConvGradArrays): void {
  // Each backend gets what is left: one that did only some gradients nulled them in this copy.
  const left: ConvGradArrays = { gx: g.gx, gw: g.gw, gb: g.gb };
  const chain = kernelChains().conv2dBackward;
  for (let i = 0; i < chain.length; i++) {
    if (!left.gx && !left.gw && !left.gb) return;
    if (chain[i](gy, x, w, p, left)) return;
  }
  throw noKernel('conv2dBackward');
}

function forwardWasm(x: FloatArray, w: FloatArray, bias: FloatArray | null, p: R.Conv2dParams, out: FloatArray): boolean {
  if (!wantFast(p, [x, w, bias, out])) return false;
  const [x32, w32, b32, o32] = [x, w, bias, out] as [Float32Array, Float32Array, Float32Array | null, Float32Array];
  return (useWinograd(p, 'forward') && conv2dForwardWinograd(x32, w32, b32, p, o32)) || conv2dForwardFast(x32, w32, b32, p, o32);
}

/** Winograd for the input gradient where it pays, conv_fast for the rest; what neither does is left in `g`. */
function backwardWasm(gy: FloatArray, x: FloatArray, w: FloatArray, p: R.Conv2dParams, g: ConvGradArrays): boolean {
  if (!wantFast(p, [gy, x, w, g.gx, g.gw, g.gb])) return false;
  if (g.gx && useWinograd(p, 'input') && conv2dBackwardInputWinograd(gy as Float32Array, w as Float32Array, p, g.gx as Float32Array)) {
    g.gx = null;
    if (!g.gw) return false; // the bias gradient alone has no fast path
  }
  if (!g.gx && !g.gw) return false;
  return conv2dBackwardFast(gy as Float32Array, x as Float32Array, w as Float32Array, p, g as { gx: Float32Array | null; gw: Float32Array | null; gb: Float32Array | null });
}

registerKernel('conv2dForward', 'wasm', forwardWasm);
registerKernel('conv2dBackward', 'wasm', backwardWasm);
registerKernel('conv2dForward', 'reference', (x, w, bias, p, out) => {
  R.conv2dForward(x, w, bias, p, out);
  return true;
});
registerKernel('conv2dBackward', 'reference', (gy, x, w, p, { gx, gw, gb }) => {
  if (gx) R.conv2dBackwardInput(gy, w, p, gx);
  if (gw) R.conv2dBackwardWeight(x, gy, p, gw);
  if (gb) R.conv2dBackwardBias(gy, p, gb);
  return true;
});
