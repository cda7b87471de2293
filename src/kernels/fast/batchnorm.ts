// JS side of the wasm batch-norm kernels (float32 input viewed as [N, C, S]): the input goes
// through the module's memory in chunks, per-channel numbers are float64 arrays in the same
// memory. Coefficients are computed here exactly as in the reference (kernels/batchnorm.ts), so
// outputs match it bit for bit given the same statistics.
//
// Tried and dropped: keeping a whole tensor in wasm memory between the two passes of the
// forward (statistics, normalize) and of the backward (reductions, input gradient), to copy it
// in once. It gained 3-10% on these kernels (~0.5 ms per ResNet-18 step), not worth an API.

import type { FloatArray, TypedArray } from '../dtype.js';
import { chunkElements, type FastEngine } from './engine.js';

/**
 * Planes shorter than this go through the column kernels (batchnorm_columns_module.ts).
 * Measured (bench/elementwise.ts, forward / backward vs the reference): at S = 1 columns
 * give 2.6x / 2.6x where planes give 1.0x / 1.1x, at S = 4 2.3x / 2.2x against 1.8x / 1.9x;
 * at S = 16 planes are ~5% ahead, at S = 49 15-30% ahead.
 */
const COLUMNS_BELOW_S = 16;

/**
 * How a [N, C, S] tensor is walked, in chunks of at most chunkElements(). Plane mode: chunks of
 * whole (n, c) planes (or segments of one plane larger than a chunk); kernels take
 * (nPlanes, c0, C, S) and per-channel arrays. Column mode (small S): chunks of whole samples,
 * rows of L = C*S; kernels take (nRows, L) and per-column arrays (channel values spread over
 * their S columns). Either way array k of a kernel's per-channel block starts at k * width.
 */
class Walk {
  readonly columns: boolean;
  readonly width: number;
  private readonly cap = chunkElements();

  constructor(readonly N: number, readonly C: number, readonly S: number) {
    this.columns = S < COLUMNS_BELOW_S && C * S <= this.cap;
    this.width = this.columns ? C * S : C;
  }

  kernel(name: string): string {
    return this.columns ? `${name}_cols` : name;
  }

  /** Elements in the largest chunk. */
  get chunk(): number {
    const { N, C, S, cap } = this;
    if (this.columns) return Math.min(N, Math.floor(cap / (C * S))) * C * S;
    return S > cap ? cap : Math.min(N * C, Math.max(1, Math.floor(cap / S))) * S;
  }

  /** visit(offset, length, geometry arguments of the kernel) for every chunk. */
  forChunks(visit: (offset: number, length: number, geometry: number[]) => void): void {
    const { N, C, S, cap } = this;
    if (this.columns) {
      const L = C * S;
      const rows = Math.floor(cap / L);
      for (let r = 0; r < N; r += rows) visit(r * L, Math.min(rows, N - r) * L, [Math.min(rows, N - r), L]);
    } else if (S <= cap) {
      const per = Math.max(1, Math.floor(cap / S));
      for (let p = 0; p < N * C; p += per) {
        const np = Math.min(per, N * C - p);
        visit(p * S, np * S, [np, p % C, C, S]);
      }
    } else {
      for (let p = 0; p < N * C; p++) {
        for (let s = 0; s < S; s += cap) visit(p * S + s, Math.min(cap, S - s), [1, p % C, C, Math.min(cap, S - s)]);
      }
    }
  }

  /** Writes per-channel arrays at byte address `at`, array k from values[k] (one value per channel). */
  spread(eng: FastEngine, at: number, values: readonly ArrayLike<number>[]): void {
    const f64 = eng.f64;
    const { C, S } = this;
    values.forEach((v, k) => {
      const base = (at >> 3) + k * this.width;
      if (!this.columns) {
        for (let c = 0; c < C; c++) f64[base + c] = v[c];
        return;
      }
      for (let c = 0, i = base; c < C; c++) {
        const x = v[c];
        for (let s = 0; s < S; s++) f64[i++] = x;
      }
    });
  }

  /** Channel totals of array k at byte address `at` (in column mode, the sum over its columns). */
  fold(eng: FastEngine, at: number, k: number): Float64Array {
    const base = (at >> 3) + k * this.width;
    if (!this.columns) return eng.f64.slice(base, base + this.C);
    const f64 = eng.f64;
    const out = new Float64Array(this.C);
    for (let c = 0, i = base; c < this.C; c++) {
      let t = 0;
      for (let s = 0; s < this.S; s++) t += f64[i++];
      out[c] = t;
    }
    return out;
  }
}

/**
 * Runs `kernel(...pointers, ...geometry, ...extra)` over the chunks, first copying each source
 * chunk into its region and afterwards, if `out` is given, copying the first region (where the
 * kernel wrote in place) out.
 */
function pass(
  eng: FastEngine, walk: Walk, kernel: string, sources: readonly [Float32Array, number][], extra: readonly number[],
  out: Float32Array | null,
): void {
  const heap = eng.f32;
  const fn = eng.fn(walk.kernel(kernel));
  const ptrs = sources.map(([, at]) => at);
  if (out) ptrs.push(ptrs[0]); // dst = the first source's region
  walk.forChunks((off, len, geometry) => {
    for (const [src, at] of sources) heap.set(src.subarray(off, off + len), at >> 2);
    fn(...ptrs, ...geometry, ...extra);
    if (out) out.set(heap.subarray(ptrs[0] >> 2, (ptrs[0] >> 2) + len), off);
  });
}

/**
 * Per-channel mean and biased variance in one pass: sums of d = x - shift[c] and d^2 in float64,
 * with shift[c] the channel's first value. Then var = (sum d^2 - (sum d)^2 / n) / n loses only
 * about log10((mean - shift)^2 / var) of float64's 16 digits, unlike the unshifted formula.
 */
export function channelStatsWasm(eng: FastEngine, x: Float32Array, N: number, C: number, S: number): { mean: Float64Array; variance: Float64Array } {
  const walk = new Walk(N, C, S);
  const [xAt, shiftAt, accAt] = eng.layout([walk.chunk * 4, walk.width * 8, 2 * walk.width * 8]);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) shift[c] = x[c * S];
  walk.spread(eng, shiftAt, [shift]);
  eng.f64.fill(0, accAt >> 3, (accAt >> 3) + 2 * walk.width);
  pass(eng, walk, 'bn_stats', [[x, xAt]], [shiftAt, accAt], null);
  const sd = walk.fold(eng, accAt, 0);
  const sq = walk.fold(eng, accAt, 1);
  const count = N * S;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    mean[c] = shift[c] + sd[c] / count;
    variance[c] = Math.max(0, (sq[c] - (sd[c] * sd[c]) / count) / count);
  }
  return { mean, variance };
}

/** out = x * scale + shift per channel: the reference's folded (x - mean) * invstd * weight + bias. */
export function normalizeWasm(
  eng: FastEngine, x: Float32Array, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array, weight: TypedArray | null, bias: TypedArray | null, out: Float32Array,
): void {
  const walk = new Walk(N, C, S);
  const [xAt, coefAt] = eng.layout([walk.chunk * 4, 2 * walk.width * 8]);
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = invstd[c] * (weight ? weight[c] : 1);
    shift[c] = (bias ? bias[c] : 0) - mean[c] * scale[c];
  }
  walk.spread(eng, coefAt, [scale, shift]);
  pass(eng, walk, 'bn_apply', [[x, xAt]], [coefAt], out);
}

/** Per-channel sum(g) and sum(g * xhat). */
export function backwardReduceWasm(
  eng: FastEngine, g: Float32Array, x: Float32Array, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array,
): { sumG: Float64Array; sumGXhat: Float64Array } {
  const walk = new Walk(N, C, S);
  const ch = walk.chunk * 4;
  const [gAt, xAt, meanAt, accAt] = eng.layout([ch, ch, walk.width * 8, 2 * walk.width * 8]);
  walk.spread(eng, meanAt, [mean]);
  eng.f64.fill(0, accAt >> 3, (accAt >> 3) + 2 * walk.width);
  pass(eng, walk, 'bn_backward_reduce', [[g, gAt], [x, xAt]], [meanAt, accAt], null);
  const sumG = walk.fold(eng, accAt, 0);
  const sumGXhat = walk.fold(eng, accAt, 1).map((v, c) => v * invstd[c]);
  return { sumG, sumGXhat };
}

/** The input gradient, as the reference's backwardInput (batch statistics or fixed ones). */
export function backwardInputWasm(
  eng: FastEngine, g: Float32Array, x: Float32Array, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array, weight: TypedArray | null,
  sumG: Float64Array, sumGXhat: Float64Array, batchStats: boolean, out: FloatArray,
): void {
  const walk = new Walk(N, C, S);
  const ch = walk.chunk * 4;
  const [gAt, xAt, coefAt] = eng.layout([ch, ch, 5 * walk.width * 8]);
  const k = new Float64Array(C);
  for (let c = 0; c < C; c++) k[c] = invstd[c] * (weight ? weight[c] : 1);
  if (!batchStats) {
    // g * k, written as g * k + (-0): adding -0 changes no value, not even a signed zero.
    walk.spread(eng, coefAt, [k, new Float64Array(C).fill(-0)]);
    pass(eng, walk, 'bn_apply', [[g, gAt]], [coefAt], out as Float32Array);
    return;
  }
  const count = N * S;
  walk.spread(eng, coefAt, [mean, invstd, k, sumG.map((v) => v / count), sumGXhat.map((v) => v / count)]);
  pass(eng, walk, 'bn_backward_apply', [[g, gAt], [x, xAt]], [coefAt], out as Float32Array);
}
