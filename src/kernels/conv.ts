// 2-D convolution (cross-correlation, NCHW, as PyTorch's conv2d) on typed arrays, via im2col + GEMM.
// These plain loops are the reference for a faster WebAssembly path: same params, same results.
//
// Layouts (contiguous, row-major): x [n, cIn, h, w], weight [cOut, cIn/groups, kh, kw],
// bias [cOut], out [n, cOut, outH, outW]. Per image and group, the column buffer is
// [cIn/groups * kh * kw, outH * outW]: row (c, i, j) holds the input pixel that kernel tap (i, j)
// of channel c sees at every output position (0 in the padding).

import type { FloatArray } from './dtype.js';
import { gemm } from './gemm.js';
import { fmt } from './shape.js';

/** The geometry of one 2-D convolution: input, weight, stride, padding, dilation, groups and output size. */
export interface Conv2dParams {
  n: number;
  cIn: number;
  h: number;
  w: number;
  cOut: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  /** Zeros added before row 0 / column 0. Trailing padding is implied by outH / outW. */
  padH: number;
  padW: number;
  dilH: number;
  dilW: number;
  groups: number;
  outH: number;
  outW: number;
}

export interface Conv2dOptions {
  stride: [number, number];
  /** Symmetric [h, w] padding, or PyTorch's 'valid' (none) / 'same' (output size = input size, stride 1). */
  padding: [number, number] | 'valid' | 'same';
  dilation: [number, number];
  groups: number;
}

/**
 * Validates shapes and options and computes the output size. `xShape` is [n, cIn, h, w],
 * `wShape` [cOut, cIn/groups, kh, kw]; `op` names the caller in errors.
 */
export function conv2dParams(xShape: readonly number[], wShape: readonly number[], o: Conv2dOptions, op = 'conv2d'): Conv2dParams {
  const shapes = `input ${fmt(xShape)} and weight ${fmt(wShape)}`;
  if (xShape.length !== 4) throw new Error(`${op}: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got ${fmt(xShape)}`);
  if (wShape.length !== 4) throw new Error(`${op}: expected a 4-D weight [C_out, C_in/groups, kH, kW], got ${fmt(wShape)} (input ${fmt(xShape)})`);
  const [n, cIn, h, w] = xShape;
  const [cOut, cg, kh, kw] = wShape;
  const { groups } = o;
  const [strideH, strideW] = o.stride;
  const [dilH, dilW] = o.dilation;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: groups must be a positive integer, got ${groups} (${shapes})`);
  for (const [name, v] of [['stride', o.stride], ['dilation', o.dilation]] as const) {
    if (!v.every((d) => Number.isInteger(d) && d >= 1)) throw new Error(`${op}: ${name} must be positive integers, got [${v}] (${shapes})`);
  }
  if (cOut < 1 || cg < 1 || kh < 1 || kw < 1) throw new Error(`${op}: weight ${fmt(wShape)} must have no empty dims (input ${fmt(xShape)})`);
  if (cIn % groups !== 0) throw new Error(`${op}: input ${fmt(xShape)} has ${cIn} channels, not divisible by groups ${groups}`);
  if (cOut % groups !== 0) throw new Error(`${op}: weight ${fmt(wShape)} has ${cOut} output channels, not divisible by groups ${groups}`);
  if (cg * groups !== cIn) {
    throw new Error(`${op}: input ${fmt(xShape)} has ${cIn} channels but weight ${fmt(wShape)} with groups ${groups} expects ${cg * groups}`);
  }
  if (h < 1 || w < 1) throw new Error(`${op}: input ${fmt(xShape)} has an empty spatial dim`);
  const effH = dilH * (kh - 1) + 1;
  const effW = dilW * (kw - 1) + 1;
  let padH: number, padW: number, totalH: number, totalW: number;
  if (o.padding === 'valid') {
    padH = padW = totalH = totalW = 0;
  } else if (o.padding === 'same') {
    if (strideH !== 1 || strideW !== 1) throw new Error(`${op}: padding 'same' is not supported for strided convolutions (stride [${o.stride}], ${shapes})`);
    // As PyTorch: the odd extra zero of an even effective kernel goes after (bottom / right).
    totalH = effH - 1;
    totalW = effW - 1;
    padH = totalH >> 1;
    padW = totalW >> 1;
  } else {
    [padH, padW] = o.padding;
    if (!o.padding.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${op}: padding must be non-negative integers, got [${o.padding}] (${shapes})`);
    totalH = 2 * padH;
    totalW = 2 * padW;
  }
  if (effH > h + totalH || effW > w + totalW) {
    throw new Error(
      `${op}: kernel ${kh}x${kw} (dilated to ${effH}x${effW}) is larger than the padded input ` +
        `${h + totalH}x${w + totalW} (${shapes}, padding [${padH},${padW}])`,
    );
  }
  const outH = Math.floor((h + totalH - effH) / strideH) + 1;
  const outW = Math.floor((w + totalW - effW) / strideW) + 1;
  return { n, cIn, h, w, cOut, kh, kw, strideH, strideW, padH, padW, dilH, dilW, groups, outH, outW };
}

/** A 1x1, stride-1, unpadded conv is a plain matrix product: the image itself is the column buffer. */
function isPointwise(p: Conv2dParams): boolean {
  return p.kh === 1 && p.kw === 1 && p.strideH === 1 && p.strideW === 1 && p.padH === 0 && p.padW === 0 &&
    p.outH === p.h && p.outW === p.w;
}

/** Fills `col` [cg*kh*kw, outH*outW] from channels [c0, c0 + cg) of the image at `xOff`. */
export function im2col(x: FloatArray, xOff: number, c0: number, cg: number, p: Conv2dParams, col: FloatArray): void {
  const { h, w, kh, kw, strideH, strideW, padH, padW, dilH, dilW, outH, outW } = p;
  const L = outH * outW;
  let r = 0;
  for (let c = 0; c < cg; c++) {
    const plane = xOff + (c0 + c) * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, r++) {
        const row = r * L;
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * strideH - padH + i * dilH;
          const dst = row + oy * outW;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + outW);
            continue;
          }
          const src = plane + iy * w;
          for (let ox = 0; ox < outW; ox++) {
            const ix = ox * strideW - padW + j * dilW;
            col[dst + ox] = ix >= 0 && ix < w ? x[src + ix] : 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: adds every column entry back onto the pixel it was read from. */
export function col2im(col: FloatArray, c0: number, cg: number, p: Conv2dParams, gx: FloatArray, xOff: number): void {
  const { h, w, kh, kw, strideH, strideW, padH, padW, dilH, dilW, outH, outW } = p;
  const L = outH * outW;
  let r = 0;
  for (let c = 0; c < cg; c++) {
    const plane = xOff + (c0 + c) * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++, r++) {
        const row = r * L;
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * strideH - padH + i * dilH;
          if (iy < 0 || iy >= h) continue;
          const src = row + oy * outW;
          const dst = plane + iy * w;
          for (let ox = 0; ox < outW; ox++) {
            const ix = ox * strideW - padW + j * dilW;
            if (ix >= 0 && ix < w) gx[dst + ix] += col[src + ox];
          }
        }
      }
    }
  }
}

function colBuffer(like: FloatArray, p: Conv2dParams): FloatArray {
  const size = (p.cIn / p.groups) * p.kh * p.kw * p.outH * p.outW;
  return like instanceof Float64Array ? new Float64Array(size) : new Float32Array(size);
}

/** out = conv(x, w) + bias. All float arrays of one dtype; `out` is fully overwritten. */
export function conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, p: Conv2dParams, out: FloatArray): void {
  const { n, cIn, h, cOut, groups, outH, outW } = p;
  const cg = cIn / groups;
  const og = cOut / groups;
  const K = cg * p.kh * p.kw;
  const L = outH * outW;
  const HW = h * p.w;
  const direct = isPointwise(p);
  const col = direct ? null : colBuffer(x, p);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      const yOff = (b * cOut + g * og) * L;
      if (direct) {
        gemm(false, false, og, L, K, 1, w, g * og * K, K, x, (b * cIn + g * cg) * HW, L, 0, out, yOff, L);
      } else {
        im2col(x, b * cIn * HW, g * cg, cg, p, col!);
        gemm(false, false, og, L, K, 1, w, g * og * K, K, col!, 0, L, 0, out, yOff, L);
      }
    }
    if (bias) {
      for (let c = 0; c < cOut; c++) {
        const base = (b * cOut + c) * L;
        const v = bias[c];
        for (let k = 0; k < L; k++) out[base + k] += v;
      }
    }
  }
}

/** gradX = conv-transpose(gradOut, w): per group W^T @ gradOut, then col2im. `gradX` is overwritten. */
export function conv2dBackwardInput(gradOut: FloatArray, w: FloatArray, p: Conv2dParams, gradX: FloatArray): void {
  const { n, cIn, h, cOut, groups, outH, outW } = p;
  const cg = cIn / groups;
  const og = cOut / groups;
  const K = cg * p.kh * p.kw;
  const L = outH * outW;
  const HW = h * p.w;
  const direct = isPointwise(p);
  const col = direct ? null : colBuffer(gradX, p);
  if (!direct) gradX.fill(0);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      const gOff = (b * cOut + g * og) * L;
      if (direct) {
        // Each group owns its own input channels, so the product lands straight in gradX.
        gemm(true, false, K, L, og, 1, w, g * og * K, K, gradOut, gOff, L, 0, gradX, (b * cIn + g * cg) * HW, L);
      } else {
        gemm(true, false, K, L, og, 1, w, g * og * K, K, gradOut, gOff, L, 0, col!, 0, L);
        col2im(col!, g * cg, cg, p, gradX, b * cIn * HW);
      }
    }
  }
}

/** gradW = sum over images of gradOut_g @ col_g^T. `gradW` is overwritten. */
export function conv2dBackwardWeight(x: FloatArray, gradOut: FloatArray, p: Conv2dParams, gradW: FloatArray): void {
  const { n, cIn, h, cOut, groups, outH, outW } = p;
  const cg = cIn / groups;
  const og = cOut / groups;
  const K = cg * p.kh * p.kw;
  const L = outH * outW;
  const HW = h * p.w;
  const direct = isPointwise(p);
  const col = direct ? null : colBuffer(x, p);
  gradW.fill(0);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      const gOff = (b * cOut + g * og) * L;
      let B = col!;
      let bOff = 0;
      if (direct) {
        B = x;
        bOff = (b * cIn + g * cg) * HW;
      } else {
        im2col(x, b * cIn * HW, g * cg, cg, p, col!);
      }
      gemm(false, true, og, K, L, 1, gradOut, gOff, L, B, bOff, L, 1, gradW, g * og * K, K);
    }
  }
}

/** gradB[c] = sum of gradOut over images and positions (accumulated in float64). */
export function conv2dBackwardBias(gradOut: FloatArray, p: Conv2dParams, gradB: FloatArray): void {
  const { n, cOut, outH, outW } = p;
  const L = outH * outW;
  for (let c = 0; c < cOut; c++) {
    let s = 0;
    for (let b = 0; b < n; b++) {
      const base = (b * cOut + c) * L;
      for (let k = 0; k < L; k++) s += gradOut[base + k];
    }
    gradB[c] = s;
  }
}
