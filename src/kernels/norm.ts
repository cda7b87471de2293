// Row normalization loops shared by layer norm, group norm and instance norm. The input is viewed
// as [rows, D]: each row is normalized by its own mean and biased variance (two passes, float64
// sums), then an optional affine map. The affine parameter of flat element f is
// floor(f / inner) % P, which covers both layouts:
//   layer norm  x [..., D] with weight [D]:          inner = 1, P = D;
//   group norm  x [N, C, S], rows (n, group), D = (C/G)*S, weight [C]: inner = S, P = C.
// D is always a multiple of inner, so each run of `inner` elements shares one parameter, and a
// row's D / inner parameters are consecutive: row r starts at parameter (r * D / inner) % P.

import type { FloatArray, TypedArray } from './dtype.js';

export interface RowLayout {
  rows: number;
  /** Elements per row. */
  D: number;
  /** Consecutive elements sharing one affine parameter. */
  inner: number;
  /** Number of affine parameters. */
  P: number;
}

/** Per-row mean and biased variance. */
export function rowStats(x: TypedArray, rows: number, D: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(rows);
  const variance = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    let s = 0;
    for (let j = 0; j < D; j++) s += x[base + j];
    const m = s / D;
    let q = 0;
    for (let j = 0; j < D; j++) {
      const d = x[base + j] - m;
      q += d * d;
    }
    mean[r] = m;
    variance[r] = q / D;
  }
  return { mean, variance };
}

/** out = (x - mean) * invstd * weight + bias row by row; weight/bias null mean 1/0. `out` is overwritten. */
export function rowNormalize(
  x: TypedArray, l: RowLayout, mean: Float64Array, invstd: Float64Array,
  weight: TypedArray | null, bias: TypedArray | null, out: FloatArray,
): void {
  const { rows, D, inner, P } = l;
  const blocks = D / inner;
  for (let r = 0; r < rows; r++) {
    const m = mean[r];
    const k = invstd[r];
    const p0 = (r * blocks) % P;
    if (inner === 1) {
      // layer norm: one parameter per element
      const base = r * D;
      for (let j = 0; j < D; j++) out[base + j] = (x[base + j] - m) * k * (weight ? weight[p0 + j] : 1) + (bias ? bias[p0 + j] : 0);
      continue;
    }
    for (let b = 0; b < blocks; b++) {
      const w = weight ? weight[p0 + b] : 1;
      const sh = bias ? bias[p0 + b] : 0;
      for (let f = (r * blocks + b) * inner, e = f + inner; f < e; f++) out[f] = (x[f] - m) * k * w + sh;
    }
  }
}

export interface RowNormGrads {
  /** Input gradient, overwritten (or null when not needed). */
  gx: FloatArray | null;
  /** Weight and bias gradients [P], overwritten. */
  gw: Float64Array | null;
  gb: Float64Array | null;
}

/**
 * Gradients of rowNormalize with the statistics taken from x itself:
 *   gx = invstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = g * weight;
 *   gw[p] = sum of g * xhat over p's elements,  gb[p] = sum of g.
 */
export function rowNormBackward(
  g: TypedArray, x: TypedArray, l: RowLayout, mean: Float64Array, invstd: Float64Array,
  weight: TypedArray | null, out: RowNormGrads,
): void {
  const { rows, D, inner, P } = l;
  const blocks = D / inner;
  const { gx, gw, gb } = out;
  gw?.fill(0);
  gb?.fill(0);
  for (let r = 0; r < rows; r++) {
    const m = mean[r];
    const k = invstd[r];
    let s1 = 0;
    let s2 = 0;
    const p0 = (r * blocks) % P;
    if (inner === 1) {
      // layer norm: one parameter per element
      const base = r * D;
      for (let j = 0; j < D; j++) {
        const gj = g[base + j];
        const gxhat = gj * (x[base + j] - m) * k;
        const w = weight ? weight[p0 + j] : 1;
        s1 += gj * w;
        s2 += gxhat * w;
        if (gw) gw[p0 + j] += gxhat;
        if (gb) gb[p0 + j] += gj;
      }
      if (!gx) continue;
      const mean1 = s1 / D;
      const mean2 = s2 / D;
      for (let j = 0; j < D; j++) {
        const w = weight ? weight[p0 + j] : 1;
        gx[base + j] = k * (g[base + j] * w - mean1 - (x[base + j] - m) * k * mean2);
      }
      continue;
    }
    for (let b = 0; b < blocks; b++) {
      const p = p0 + b;
      const w = weight ? weight[p] : 1;
      let sg = 0;
      let sgx = 0;
      for (let f = (r * blocks + b) * inner, e = f + inner; f < e; f++) {
        const xhat = (x[f] - m) * k;
        sg += g[f];
        sgx += g[f] * xhat;
      }
      s1 += sg * w;
      s2 += sgx * w;
      if (gw) gw[p] += sgx;
      if (gb) gb[p] += sg;
    }
    if (!gx) continue;
    const mean1 = s1 / D;
    const mean2 = s2 / D;
    for (let b = 0; b < blocks; b++) {
      const w = weight ? weight[p0 + b] : 1;
      for (let f = (r * blocks + b) * inner, e = f + inner; f < e; f++) {
        const xhat = (x[f] - m) * k;
        gx[f] = k * (g[f] * w - mean1 - xhat * mean2);
      }
    }
  }
}
