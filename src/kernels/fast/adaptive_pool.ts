// Adaptive average pooling with the bins computed once per call instead of once per output
// window (the reference allocates two [start, end] pairs per output, which dominated its time
// for ResNet's global average pool), and a straight loop for that global (1x1 output) case.
// Sums run in the reference's order, so results are identical.

import type { FloatArray } from '../dtype.js';
import type { AdaptivePool2dParams } from '../pool.js';

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
