// Adaptive average pooling with the bins computed once per call instead of once per output
// window (the reference allocates two [start, end] pairs per output, which dominated its time
// for ResNet's global average pool): in wasm for float32 (fast/pool_module.ts; resident
// tensors in place, split by planes across threads), else in JS with a straight loop for the
// global (1x1 output) case. Sums run in the reference's order, so results are identical.

import type { FloatArray } from '../dtype.js';
import type { AdaptivePool2dParams } from '../pool.js';
import type { FastEngine } from './engine.js';
import { overPlanes } from './pool.js';

/** Runs an adaptive-pool kernel: the bins (yb, then xb) in scratch, shared by every thread. */
function binned(eng: FastEngine, kernel: string, src: Float32Array, dst: Float32Array, p: AdaptivePool2dParams, backward: boolean): void {
  const { n, c, h, w, outH, outW } = p;
  const yb = bins(h, outH);
  const xb = bins(w, outW);
  const [hw, L] = [h * w, outH * outW];
  const ops = [{ a: src, per: backward ? L : hw }, { a: dst, per: backward ? hw : L, out: true }];
  overPlanes(eng, kernel, ops, n * c, n * c * hw, 4 * (yb.length + xb.length), (at) => {
    const i32 = eng.i32;
    i32.set(yb, at >> 2);
    i32.set(xb, (at >> 2) + yb.length);
  }, (at) => [h, w, outH, outW, at]);
}

/** outH, outW >= 1 (the caller checks). */
export function adaptiveAvgPool2dForwardWasm(eng: FastEngine, x: Float32Array, p: AdaptivePool2dParams, out: Float32Array): void {
  binned(eng, 'adaptive_avg_pool', x, out, p, false);
}

/** outH, outW >= 1 (the caller checks). `gradX` is overwritten. */
export function adaptiveAvgPool2dBackwardWasm(eng: FastEngine, gradOut: Float32Array, p: AdaptivePool2dParams, gradX: Float32Array): void {
  binned(eng, 'adaptive_avg_pool_backward', gradOut, gradX, p, true);
}

/** PyTorch's adaptive bins, [start, end) for output i at [2i], [2i + 1]. */
function bins(size: number, out: number): Int32Array {
  const b = new Int32Array(2 * out);
  for (let i = 0; i < out; i++) {
    b[2 * i] = Math.floor((i * size) / out);
    b[2 * i + 1] = Math.ceil(((i + 1) * size) / out);
  }
  return b;
}

export function adaptiveAvgPool2dForwardBins(x: FloatArray, p: AdaptivePool2dParams, out: FloatArray): void {
  const { n, c, h, w, outH, outW } = p;
  if (outH === 1 && outW === 1) return globalAverage(x, n * c, h * w, out);
  const yb = bins(h, outH);
  const xb = bins(w, outW);
  const hw = h * w;
  let o = 0;
  for (let base = 0; base < n * c * hw; base += hw) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = yb[2 * oy];
      const y1 = yb[2 * oy + 1];
      for (let ox = 0; ox < outW; ox++, o++) {
        const x0 = xb[2 * ox];
        const x1 = xb[2 * ox + 1];
        let s = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += x[base + iy * w + ix];
        out[o] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
}

export function adaptiveAvgPool2dBackwardBins(gradOut: FloatArray, p: AdaptivePool2dParams, gradX: FloatArray): void {
  const { n, c, h, w, outH, outW } = p;
  const yb = bins(h, outH);
  const xb = bins(w, outW);
  const hw = h * w;
  gradX.fill(0);
  if (outH === 1 && outW === 1) return globalAverageBackward(gradOut, n * c, hw, gradX);
  let o = 0;
  for (let base = 0; base < n * c * hw; base += hw) {
    for (let oy = 0; oy < outH; oy++) {
      const y0 = yb[2 * oy];
      const y1 = yb[2 * oy + 1];
      for (let ox = 0; ox < outW; ox++, o++) {
        const x0 = xb[2 * ox];
        const x1 = xb[2 * ox + 1];
        const g = gradOut[o] / ((y1 - y0) * (x1 - x0));
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) gradX[base + iy * w + ix] += g;
      }
    }
  }
}

function globalAverage(x: FloatArray, planes: number, hw: number, out: FloatArray): void {
  for (let q = 0, base = 0; q < planes; q++, base += hw) {
    let s = 0;
    for (let i = base; i < base + hw; i++) s += x[i];
    out[q] = s / hw;
  }
}

/** gradX is zero: adding (rather than storing) keeps the reference's 0 + (-0) = +0. */
function globalAverageBackward(gradOut: FloatArray, planes: number, hw: number, gradX: FloatArray): void {
  for (let q = 0, base = 0; q < planes; q++, base += hw) {
    const g = gradOut[q] / hw;
    for (let i = base; i < base + hw; i++) gradX[i] += g;
  }
}
