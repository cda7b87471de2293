// 2-D max, average and adaptive-average pooling (NCHW, as PyTorch) on typed arrays. Every
// (image, channel) plane is pooled independently; these loops are the reference for faster paths.
// Every kernel runs on the backend in use (backend.ts). The wasm backend takes float32 max
// pooling windows without dilation to the WebAssembly kernels (fast/pool.ts; identical values,
// indices and gradients), adaptive average pooling to fast/adaptive_pool.ts, and declines the
// rest; the reference backend is the `...Reference` loops here.

import type { FloatArray } from './dtype.js';
import {
  adaptiveAvgPool2dBackwardBins, adaptiveAvgPool2dBackwardWasm, adaptiveAvgPool2dForwardBins, adaptiveAvgPool2dForwardWasm,
} from './fast/adaptive_pool.js';
import { fastEligible, fastEngine, type FastEngine } from './fast/engine.js';
import { indexArray, maxPool2dBackwardWasm, maxPool2dForwardWasm } from './fast/pool.js';
import { kernelChains, noKernel, registerKernel } from './backend.js';
import { fmt } from './shape.js';

/** The geometry of one 2-D pooling: input [n, c, h, w], window, stride, padding, dilation and output size. */
export interface Pool2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilH: number;
  dilW: number;
  outH: number;
  outW: number;
}

export interface Pool2dOptions {
  kernelSize: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  ceilMode: boolean;
}

/**
 * PyTorch's pooling_output_shape: floor (or ceil) of the window count, where with ceilMode the
 * last window must still start inside the input or its left padding.
 */
export function poolOutputSize(size: number, k: number, pad: number, stride: number, dil: number, ceilMode: boolean): number {
  const span = size + 2 * pad - dil * (k - 1) - 1 + (ceilMode ? stride - 1 : 0);
  let out = Math.floor(span / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** Validates a [n, c, h, w] input against the options (PyTorch's rules) and computes the output size. */
export function pool2dParams(xShape: readonly number[], o: Pool2dOptions, op: string): Pool2dParams {
  if (xShape.length !== 4) throw new Error(`${op}: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got ${fmt(xShape)}`);
  const [n, c, h, w] = xShape;
  const [kh, kw] = o.kernelSize;
  const [strideH, strideW] = o.stride;
  const [padH, padW] = o.padding;
  const [dilH, dilW] = o.dilation;
  const positive = (v: number[]) => v.every((d) => Number.isInteger(d) && d >= 1);
  if (!positive(o.kernelSize)) throw new Error(`${op}: kernelSize must be positive integers, got [${o.kernelSize}] (input ${fmt(xShape)})`);
  if (!positive(o.stride)) throw new Error(`${op}: stride must be positive integers, got [${o.stride}] (input ${fmt(xShape)})`);
  if (!positive(o.dilation)) throw new Error(`${op}: dilation must be positive integers, got [${o.dilation}] (input ${fmt(xShape)})`);
  if (!o.padding.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: padding must be non-negative integers, got [${o.padding}] (input ${fmt(xShape)})`);
  }
  // As PyTorch: more padding than half the kernel could make a window see only padding.
  if (padH > Math.floor(kh / 2) || padW > Math.floor(kw / 2)) {
    throw new Error(`${op}: padding [${o.padding}] must be at most half of kernelSize [${o.kernelSize}] (input ${fmt(xShape)})`);
  }
  if (c < 1 || h < 1 || w < 1) throw new Error(`${op}: input ${fmt(xShape)} has an empty channel or spatial dim`);
  const outH = poolOutputSize(h, kh, padH, strideH, dilH, o.ceilMode);
  const outW = poolOutputSize(w, kw, padW, strideW, dilW, o.ceilMode);
  if (outH < 1 || outW < 1) {
    throw new Error(
      `${op}: output size ${outH}x${outW} is too small: input ${fmt(xShape)}, kernelSize [${o.kernelSize}], ` +
        `stride [${o.stride}], padding [${o.padding}], dilation [${o.dilation}]`,
    );
  }
  return { n, c, h, w, kh, kw, strideH, strideW, padH, padW, dilH, dilW, outH, outW };
}

/**
 * Max over each window (padding counts as -Infinity). Writes `out` and
 * returns, per output, the flat index (iy * w + ix) of its maximum within its plane
 * (-1 for a dilated window that saw only padding).
 */
export function maxPool2dForward(x: FloatArray, p: Pool2dParams, out: FloatArray): Int32Array {
  const chain = kernelChains().maxPool2dForward;
  for (let i = 0; i < chain.length; i++) {
    const indices = chain[i](x, p, out);
    if (indices !== null) return indices;
  }
  throw noKernel('maxPool2dForward');
}

function maxPool2dForwardWasm32(x: FloatArray, p: Pool2dParams, out: FloatArray): Int32Array | null {
  const eng = fastMaxPool(x, p, out) ? fastEngine() : null;
  if (!eng) return null;
  const indices = indexArray(eng, p.n * p.c * p.outH * p.outW); // arena storage: the backward uses it in place
  maxPool2dForwardWasm(eng, x as Float32Array, p, out as Float32Array, indices);
  return indices;
}

/** Whether the SIMD kernel applies: it assumes no dilation and no window made only of padding. */
function fastMaxPool(x: FloatArray, p: Pool2dParams, out: FloatArray): boolean {
  if (!fastEligible(x.length) || p.dilH !== 1 || p.dilW !== 1) return false;
  if (!(x instanceof Float32Array && out instanceof Float32Array)) return false;
  const inside = (o: number, s: number, pad: number, k: number, size: number) => (o - 1) * s - pad < size && k - pad > 0;
  return inside(p.outH, p.strideH, p.padH, p.kh, p.h) && inside(p.outW, p.strideW, p.padW, p.kw, p.w);
}

export function maxPool2dForwardReference(x: FloatArray, p: Pool2dParams, out: FloatArray): Int32Array {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, dilH, dilW, outH, outW } = p;
  const indices = new Int32Array(n * c * outH * outW);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = oy * strideH - padH;
      for (let ox = 0; ox < outW; ox++, o++) {
        const x0 = ox * strideW - padW;
        let best = -Infinity;
        let arg = -1;
        for (let i = 0; i < kh; i++) {
          const iy = y0 + i * dilH;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = x0 + j * dilW;
            if (ix < 0 || ix >= w) continue;
            const v = x[base + iy * w + ix];
            // The first valid tap starts the search, so an all -Infinity window still has an argmax;
            // as PyTorch, a NaN always takes over (the last NaN keeps the index).
            if (arg < 0 || v > best || Number.isNaN(v)) {
              best = v;
              arg = iy * w + ix;
            }
          }
        }
        out[o] = best;
        indices[o] = arg;
      }
    }
  }
  return indices;
}

/** The wasm engine if float32 arrays of n elements should take the wasm path, else null. */
function fastFloat32(n: number, a: FloatArray, b: FloatArray): FastEngine | null {
  if (n === 0 || !fastEligible(n)) return null;
  return a instanceof Float32Array && b instanceof Float32Array ? fastEngine() : null;
}

/**
 * Routes each output gradient to its window's argmax. `gradX` is overwritten. A window that saw
 * only padding (possible with dilation; its index is -1) passes no gradient on.
 */
export function maxPool2dBackward(gradOut: FloatArray, indices: Int32Array, p: Pool2dParams, gradX: FloatArray): void {
  const chain = kernelChains().maxPool2dBackward;
  for (let i = 0; i < chain.length; i++) if (chain[i](gradOut, indices, p, gradX)) return;
  throw noKernel('maxPool2dBackward');
}

export function maxPool2dBackwardReference(gradOut: FloatArray, indices: Int32Array, p: Pool2dParams, gradX: FloatArray): void {
  const hw = p.h * p.w;
  const L = p.outH * p.outW;
  gradX.fill(0);
  for (let plane = 0; plane < p.n * p.c; plane++) {
    for (let k = 0; k < L; k++) {
      const o = plane * L + k;
      const i = indices[o];
      if (i >= 0 && i < hw) gradX[plane * hw + i] += gradOut[o];
    }
  }
}

/** How average pooling divides each window's sum. */
export interface AvgPoolOptions {
  /** Divide by the window size including zero padding (true) or by the count of real pixels. */
  countIncludePad: boolean;
  /** If set, the divisor for every window. */
  divisorOverride: number | null;
}

/**
 * Calls visit(o, begin/end rows and columns clipped to the input, divisor) per output window,
 * with PyTorch's divisor: the window clipped to the padded input (countIncludePad) or to the input.
 */
function forEachAvgWindow(
  p: Pool2dParams,
  a: AvgPoolOptions,
  visit: (plane: number, o: number, y0: number, y1: number, x0: number, x1: number, divisor: number) => void,
): void {
  const { n, c, h, w, kh, kw, strideH, strideW, padH, padW, outH, outW } = p;
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    for (let oy = 0; oy < outH; oy++) {
      let y0 = oy * strideH - padH;
      let y1 = Math.min(y0 + kh, h + padH);
      const spanH = y1 - y0;
      y0 = Math.max(y0, 0);
      y1 = Math.min(y1, h);
      for (let ox = 0; ox < outW; ox++, o++) {
        let x0 = ox * strideW - padW;
        let x1 = Math.min(x0 + kw, w + padW);
        const spanW = x1 - x0;
        x0 = Math.max(x0, 0);
        x1 = Math.min(x1, w);
        const divisor = a.divisorOverride ?? (a.countIncludePad ? spanH * spanW : (y1 - y0) * (x1 - x0));
        visit(plane, o, y0, y1, x0, x1, divisor);
      }
    }
  }
}

/** Window means (p.dil* must be 1). `out` is fully overwritten; a window with no input pixels gives 0. */
export function avgPool2dForward(x: FloatArray, p: Pool2dParams, a: AvgPoolOptions, out: FloatArray): void {
  const chain = kernelChains().avgPool2dForward;
  for (let i = 0; i < chain.length; i++) if (chain[i](x, p, a, out)) return;
  throw noKernel('avgPool2dForward');
}

/** Spreads each output gradient evenly (1/divisor) over its window's input pixels. `gradX` is overwritten. */
export function avgPool2dBackward(gradOut: FloatArray, p: Pool2dParams, a: AvgPoolOptions, gradX: FloatArray): void {
  const chain = kernelChains().avgPool2dBackward;
  for (let i = 0; i < chain.length; i++) if (chain[i](gradOut, p, a, gradX)) return;
  throw noKernel('avgPool2dBackward');
}

export function avgPool2dForwardReference(x: FloatArray, p: Pool2dParams, a: AvgPoolOptions, out: FloatArray): void {
  const hw = p.h * p.w;
  forEachAvgWindow(p, a, (plane, o, y0, y1, x0, x1, divisor) => {
    let s = 0;
    for (let iy = y0; iy < y1; iy++) {
      const row = plane * hw + iy * p.w;
      for (let ix = x0; ix < x1; ix++) s += x[row + ix];
    }
    out[o] = y0 < y1 && x0 < x1 ? s / divisor : 0;
  });
}

export function avgPool2dBackwardReference(gradOut: FloatArray, p: Pool2dParams, a: AvgPoolOptions, gradX: FloatArray): void {
  const hw = p.h * p.w;
  gradX.fill(0);
  forEachAvgWindow(p, a, (plane, o, y0, y1, x0, x1, divisor) => {
    const g = gradOut[o] / divisor;
    for (let iy = y0; iy < y1; iy++) {
      const row = plane * hw + iy * p.w;
      for (let ix = x0; ix < x1; ix++) gradX[row + ix] += g;
    }
  });
}

/** The geometry of one adaptive pooling: input [n, c, h, w] and output size. */
export interface AdaptivePool2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  outH: number;
  outW: number;
}

/** PyTorch's adaptive bins: output i covers [floor(i*size/out), ceil((i+1)*size/out)). */
export function adaptiveBin(i: number, size: number, out: number): [number, number] {
  return [Math.floor((i * size) / out), Math.ceil(((i + 1) * size) / out)];
}

/** Mean of each adaptive bin. `out` [n, c, outH, outW] is fully overwritten. */
export function adaptiveAvgPool2dForward(x: FloatArray, p: AdaptivePool2dParams, out: FloatArray): void {
  const chain = kernelChains().adaptiveAvgPool2dForward;
  for (let i = 0; i < chain.length; i++) if (chain[i](x, p, out)) return;
  throw noKernel('adaptiveAvgPool2dForward');
}

/** Spreads each output gradient evenly over its bin (bins may overlap). `gradX` is overwritten. */
export function adaptiveAvgPool2dBackward(gradOut: FloatArray, p: AdaptivePool2dParams, gradX: FloatArray): void {
  const chain = kernelChains().adaptiveAvgPool2dBackward;
  for (let i = 0; i < chain.length; i++) if (chain[i](gradOut, p, gradX)) return;
  throw noKernel('adaptiveAvgPool2dBackward');
}

// The wasm backend's pooling. Adaptive pooling never declines: what wasm does not take runs on
// the JS loops with precomputed bins (identical results, much faster than the reference's).
registerKernel('maxPool2dForward', 'wasm', maxPool2dForwardWasm32);
registerKernel('maxPool2dBackward', 'wasm', (gradOut, indices, p, gradX) => {
  const eng = fastFloat32(gradX.length, gradOut, gradX);
  if (eng) maxPool2dBackwardWasm(eng, gradOut as Float32Array, indices, p, gradX as Float32Array);
  return eng !== null;
});
registerKernel('adaptiveAvgPool2dForward', 'wasm', (x, p, out) => {
  const eng = out.length > 0 ? fastFloat32(x.length, x, out) : null;
  if (eng) adaptiveAvgPool2dForwardWasm(eng, x as Float32Array, p, out as Float32Array);
  else adaptiveAvgPool2dForwardBins(x, p, out);
  return true;
});
registerKernel('adaptiveAvgPool2dBackward', 'wasm', (gradOut, p, gradX) => {
  const eng = gradOut.length > 0 ? fastFloat32(gradX.length, gradOut, gradX) : null;
  if (eng) adaptiveAvgPool2dBackwardWasm(eng, gradOut as Float32Array, p, gradX as Float32Array);
  else adaptiveAvgPool2dBackwardBins(gradOut, p, gradX);
  return true;
});

registerKernel('maxPool2dForward', 'reference', maxPool2dForwardReference);
registerKernel('maxPool2dBackward', 'reference', (gradOut, indices, p, gradX) => {
  maxPool2dBackwardReference(gradOut, indices, p, gradX);
  return true;
});
registerKernel('avgPool2dForward', 'reference', (x, p, a, out) => {
  avgPool2dForwardReference(x, p, a, out);
  return true;
});
registerKernel('avgPool2dBackward', 'reference', (gradOut, p, a, gradX) => {
  avgPool2dBackwardReference(gradOut, p, a, gradX);
  return true;
});
registerKernel('adaptiveAvgPool2dForward', 'reference', (x, p, out) => {
  adaptiveAvgPool2dForwardReference(x, p, out);
  return true;
});
registerKernel('adaptiveAvgPool2dBackward', 'reference', (gradOut, p, gradX) => {
  adaptiveAvgPool2dBackwardReference(gradOut, p, gradX);
  return true;
});

export function adaptiveAvgPool2dForwardReference(x: FloatArray, p: AdaptivePool2dParams, out: FloatArray): void {
  const { n, c, h, w, outH, outW } = p;
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < outH; oy++) {
      const [y0, y1] = adaptiveBin(oy, h, outH);
      for (let ox = 0; ox < outW; ox++, o++) {
        const [x0, x1] = adaptiveBin(ox, w, outW);
        let s = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += x[base + iy * w + ix];
        out[o] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
}

export function adaptiveAvgPool2dBackwardReference(gradOut: FloatArray, p: AdaptivePool2dParams, gradX: FloatArray): void {
  const { n, c, h, w, outH, outW } = p;
  gradX.fill(0);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < outH; oy++) {
      const [y0, y1] = adaptiveBin(oy, h, outH);
      for (let ox = 0; ox < outW; ox++, o++) {
        const [x0, x1] = adaptiveBin(ox, w, outW);
        const g = gradOut[o] / ((y1 - y0) * (x1 - x0));
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) gradX[base + iy * w + ix] += g;
      }
    }
  }
}
