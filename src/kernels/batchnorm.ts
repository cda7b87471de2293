// Batch-norm loops on typed arrays. The input is viewed as [N, C, S] (S = product of the spatial
// dims, 1 for [N, C]); every statistic is per channel over N*S values, accumulated in float64.
//
// Each kernel has a plain TypeScript `...Reference` (the oracle, kept simple: the reference
// backend's kernel) and a dispatcher under the plain name that runs the backend in use
// (backend.ts). The wasm backend takes float32 data to the WebAssembly SIMD version
// (fast/batchnorm.ts: the same formulas in float64, sums in another order) and declines the rest.

import type { FloatArray, TypedArray } from './dtype.js';
import { kernelChains, noKernel, registerKernel } from './backend.js';
import { fastEligible, fastEngine, type FastEngine } from './fast/engine.js';
import { backwardInputWasm, backwardReduceWasm, channelStatsWasm, normalizeWasm } from './fast/batchnorm.js';

/** The wasm engine if these arrays should take the wasm path, else null. */
function fastFor(n: number, ...arrays: (TypedArray | null)[]): FastEngine | null {
  if (n === 0 || !fastEligible(n)) return null;
  if (!arrays.every((a) => a === null || a instanceof Float32Array)) return null;
  return fastEngine();
}

export function channelStats(x: TypedArray, N: number, C: number, S: number): { mean: Float64Array; variance: Float64Array } {
  const chain = kernelChains().bnChannelStats;
  for (let i = 0; i < chain.length; i++) {
    const r = chain[i](x, N, C, S);
    if (r !== null) return r;
  }
  throw noKernel('bnChannelStats');
}

export function normalize(
  x: TypedArray, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array,
  weight: TypedArray | null, bias: TypedArray | null, out: FloatArray,
): void {
  const chain = kernelChains().bnNormalize;
  for (let i = 0; i < chain.length; i++) if (chain[i](x, N, C, S, mean, invstd, weight, bias, out)) return;
  throw noKernel('bnNormalize');
}

export function backwardReduce(
  g: TypedArray, x: TypedArray, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array,
): { sumG: Float64Array; sumGXhat: Float64Array } {
  const chain = kernelChains().bnBackwardReduce;
  for (let i = 0; i < chain.length; i++) {
    const r = chain[i](g, x, N, C, S, mean, invstd);
    if (r !== null) return r;
  }
  throw noKernel('bnBackwardReduce');
}

export function backwardInput(
  g: TypedArray, x: TypedArray, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array, weight: TypedArray | null,
  sumG: Float64Array, sumGXhat: Float64Array, batchStats: boolean, out: FloatArray,
): void {
  const chain = kernelChains().bnBackwardInput;
  for (let i = 0; i < chain.length; i++) if (chain[i](g, x, N, C, S, mean, invstd, weight, sumG, sumGXhat, batchStats, out)) return;
  throw noKernel('bnBackwardInput');
}

registerKernel('bnChannelStats', 'wasm', (x, N, C, S) => {
  const eng = fastFor(x.length, x);
  return eng ? channelStatsWasm(eng, x as Float32Array, N, C, S) : null;
});
registerKernel('bnNormalize', 'wasm', (x, N, C, S, mean, invstd, weight, bias, out) => {
  const eng = fastFor(x.length, x, out);
  if (eng) normalizeWasm(eng, x as Float32Array, N, C, S, mean, invstd, weight, bias, out as Float32Array);
  return eng !== null;
});
registerKernel('bnBackwardReduce', 'wasm', (g, x, N, C, S, mean, invstd) => {
  const eng = fastFor(x.length, g, x);
  return eng ? backwardReduceWasm(eng, g as Float32Array, x as Float32Array, N, C, S, mean, invstd) : null;
});
registerKernel('bnBackwardInput', 'wasm', (g, x, N, C, S, mean, invstd, weight, sumG, sumGXhat, batchStats, out) => {
  const eng = fastFor(x.length, g, x, out);
  if (eng) backwardInputWasm(eng, g as Float32Array, x as Float32Array, N, C, S, mean, invstd, weight, sumG, sumGXhat, batchStats, out);
  return eng !== null;
});
registerKernel('bnChannelStats', 'reference', (x, N, C, S) => channelStatsReference(x, N, C, S));
registerKernel('bnNormalize', 'reference', (x, N, C, S, mean, invstd, weight, bias, out) => {
  normalizeReference(x, N, C, S, mean, invstd, weight, bias, out);
  return true;
});
registerKernel('bnBackwardReduce', 'reference', (g, x, N, C, S, mean, invstd) => backwardReduceReference(g, x, N, C, S, mean, invstd));
registerKernel('bnBackwardInput', 'reference', (g, x, N, C, S, mean, invstd, weight, sumG, sumGXhat, batchStats, out) => {
  backwardInputReference(g, x, N, C, S, mean, invstd, weight, sumG, sumGXhat, batchStats, out);
  return true;
});

/** Per-channel mean and biased variance (two passes: the mean first, then squared deviations). */
export function channelStatsReference(x: TypedArray, N: number, C: number, S: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  const count = N * S;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let i = 0; i < S; i++) s += x[base + i];
    }
    const m = s / count;
    let q = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let i = 0; i < S; i++) {
        const d = x[base + i] - m;
        q += d * d;
      }
    }
    mean[c] = m;
    variance[c] = q / count;
  }
  return { mean, variance };
}

/** invstd[c] = 1 / sqrt(variance[c] + eps). */
export function invStd(variance: ArrayLike<number>, eps: number): Float64Array {
  const out = new Float64Array(variance.length);
  for (let c = 0; c < out.length; c++) out[c] = 1 / Math.sqrt(variance[c] + eps);
  return out;
}

/** out = (x - mean) * invstd * weight + bias, per channel; weight/bias null mean 1/0. */
export function normalizeReference(
  x: TypedArray, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array,
  weight: TypedArray | null, bias: TypedArray | null, out: FloatArray,
): void {
  for (let c = 0; c < C; c++) {
    // Folded into one multiply-add per element: y = x * scale + shift.
    const scale = invstd[c] * (weight ? weight[c] : 1);
    const shift = (bias ? bias[c] : 0) - mean[c] * scale;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let i = 0; i < S; i++) out[base + i] = x[base + i] * scale + shift;
    }
  }
}

/** Per-channel sum(g) and sum(g * xhat), xhat = (x - mean) * invstd: the backward reductions. */
export function backwardReduceReference(
  g: TypedArray, x: TypedArray, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array,
): { sumG: Float64Array; sumGXhat: Float64Array } {
  const sumG = new Float64Array(C);
  const sumGXhat = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const m = mean[c];
    let sg = 0;
    let sgx = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let i = 0; i < S; i++) {
        const gi = g[base + i];
        sg += gi;
        sgx += gi * (x[base + i] - m);
      }
    }
    sumG[c] = sg;
    sumGXhat[c] = sgx * invstd[c];
  }
  return { sumG, sumGXhat };
}

/**
 * Gradient of the input. With batch statistics (they depend on x) it is the fused formula
 *   dx = w * invstd / n * (n * g - sum(g) - xhat * sum(g * xhat));
 * with fixed (running) statistics the op is affine and dx = g * w * invstd.
 */
export function backwardInputReference(
  g: TypedArray, x: TypedArray, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array, weight: TypedArray | null,
  sumG: Float64Array, sumGXhat: Float64Array, batchStats: boolean, out: FloatArray,
): void {
  const count = N * S;
  for (let c = 0; c < C; c++) {
    const k = invstd[c] * (weight ? weight[c] : 1);
    const m = mean[c];
    const meanG = sumG[c] / count;
    const meanGXhat = sumGXhat[c] / count;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      if (!batchStats) {
        for (let i = 0; i < S; i++) out[base + i] = g[base + i] * k;
        continue;
      }
      for (let i = 0; i < S; i++) {
        const xhat = (x[base + i] - m) * invstd[c];
        out[base + i] = k * (g[base + i] - meanG - xhat * meanGXhat);
      }
    }
  }
}

/** In place: running = (1 - momentum) * running + momentum * stat. */
export function updateRunning(running: TypedArray, stat: ArrayLike<number>, momentum: number): void {
  for (let c = 0; c < running.length; c++) running[c] = (1 - momentum) * running[c] + momentum * stat[c];
}
