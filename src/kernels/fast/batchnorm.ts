// JS side of the wasm batch-norm kernels (float32 input viewed as [N, C, S]); per-channel
// numbers are float64 arrays in the engine's scratch. Coefficients are computed here exactly as
// in the reference (kernels/batchnorm.ts), so outputs match it bit for bit given the same
// statistics.
//
// Arena-resident operands (tensor storage) are used in place, split across threads by channel
// ranges for large tensors: every channel's sums are then added by one thread in the same
// order as on one thread, so results do not depend on the thread count. Other arrays go
// through scratch in chunks of whole planes (or whole rows in column mode), which keeps the
// summation order, and so the results, the same as in place.

import type { FloatArray, TypedArray } from '../dtype.js';
import { chunkElements, splitEven, threadsFor, type FastEngine } from './engine.js';

/**
 * Planes shorter than this go through the column kernels (batchnorm_columns_module.ts).
 * Measured (bench/elementwise.ts, forward / backward vs the reference): at S = 1 columns
 * give 2.6x / 2.6x where planes give 1.0x / 1.1x, at S = 4 2.3x / 2.2x against 1.8x / 1.9x;
 * at S = 16 planes are ~5% ahead, at S = 49 15-30% ahead.
 */
const COLUMNS_BELOW_S = 16;

/** A float32 operand of N*C*S elements: read by the kernel, or (`out`) only written. */
interface Op {
  a: Float32Array;
  out?: boolean;
}

/**
 * How the kernels see a [N, C, S] tensor. Plane mode: kernels take (nRows, nPlanes, c0, C, S)
 * and per-channel arrays. Column mode (small S): each sample is a row of L = C*S floats;
 * kernels take (nRows, W, L) and per-column arrays (channel values spread over their S
 * columns). Either way array k of a per-channel block starts at k * width values.
 */
class Geometry {
  readonly columns: boolean;
  readonly width: number;

  constructor(readonly N: number, readonly C: number, readonly S: number) {
    this.columns = S < COLUMNS_BELOW_S;
    this.width = this.columns ? C * S : C;
  }

  /**
   * Runs `kernel(...operand pointers, ...geometry, ...table pointers)` over the whole tensor.
   * `tables` holds `arrays` per-channel float64 arrays (filled by `init(at)` first); the
   * kernel's table pointers point at arrays `tablePtrs[i]` of it. Returns the tables' address
   * (valid until the engine's next layout).
   */
  pass(eng: FastEngine, kernel: string, ops: readonly Op[], arrays: number, tablePtrs: readonly number[], init: (at: number) => void): number {
    const { N, C, S, columns, width } = this;
    const name = columns ? `${kernel}_cols` : kernel;
    const res = ops.map((o) => eng.resident(o.a));
    const inPlace = res.every((r) => r >= 0);
    const copied = inPlace ? [] : ops.flatMap((_, k) => (res[k] < 0 ? [k] : []));
    const [tab, ...regions] = eng.layout([arrays * width * 8, ...copied.map(() => this.chunk * 4)]);
    init(tab);
    // Table pointers for a job starting at column j0 (0 in plane mode: kernels index by channel).
    const tables = (j0: number) => tablePtrs.map((k) => tab + 8 * (k * width + j0));
    if (inPlace) {
      const jobs = splitEven(C, Math.min(C, threadsFor(N * C * S))).map(([c0, c1]) => {
        const ptrs = res.map((r) => r + 4 * c0 * S);
        return columns ? [...ptrs, N, (c1 - c0) * S, C * S, ...tables(c0 * S)] : [...ptrs, N, c1 - c0, c0, C, S, ...tables(0)];
      });
      if (jobs.length === 1) eng.fn(name)(...jobs[0]);
      else eng.runtime.pool.run(name, jobs);
      return tab;
    }
    const fn = eng.fn(name);
    const heap = eng.f32; // after layout: growing the memory replaces the view
    const at = res.slice();
    copied.forEach((k, j) => (at[k] = regions[j]));
    this.forChunks((off, len, geometry) => {
      for (const k of copied) if (!ops[k].out) heap.set(ops[k].a.subarray(off, off + len), at[k] >> 2);
      fn(...at.map((a, k) => (res[k] >= 0 ? a + 4 * off : a)), ...geometry, ...tables(0));
      for (const k of copied) if (ops[k].out) ops[k].a.set(heap.subarray(at[k] >> 2, (at[k] >> 2) + len), off);
    });
    return tab;
  }

  /** Elements in the largest chunk of the copy path: whole planes (or rows), at least one. */
  private get chunk(): number {
    const { N, C, S } = this;
    const cap = chunkElements();
    if (this.columns) return Math.min(N, Math.max(1, Math.floor(cap / (C * S)))) * C * S;
    return Math.min(N * C, Math.max(1, Math.floor(cap / S))) * S;
  }

  /** visit(offset, length, geometry arguments of the kernel) for every chunk of the copy path. */
  private forChunks(visit: (offset: number, length: number, geometry: number[]) => void): void {
    const { N, C, S } = this;
    const per = this.chunk / (this.columns ? C * S : S);
    if (this.columns) {
      const L = C * S;
      for (let r = 0; r < N; r += per) visit(r * L, Math.min(per, N - r) * L, [Math.min(per, N - r), L, L]);
      return;
    }
    for (let p = 0; p < N * C; p += per) {
      const np = Math.min(per, N * C - p);
      visit(p * S, np * S, [1, np, p % C, C, S]);
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

  /** Zeroes `arrays` per-channel arrays at `at` (accumulators). */
  zero(eng: FastEngine, at: number, arrays: number): void {
    eng.f64.fill(0, at >> 3, (at >> 3) + arrays * this.width);
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
 * Per-channel mean and biased variance in one pass: sums of d = x - shift[c] and d^2 in float64,
 * with shift[c] the channel's first value. Then var = (sum d^2 - (sum d)^2 / n) / n loses only
 * about log10((mean - shift)^2 / var) of float64's 16 digits, unlike the unshifted formula.
 */
export function channelStatsWasm(eng: FastEngine, x: Float32Array, N: number, C: number, S: number): { mean: Float64Array; variance: Float64Array } {
  const geo = new Geometry(N, C, S);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) shift[c] = x[c * S];
  // tables: shift, then the accumulators sum(d), sum(d^2)
  const tab = geo.pass(eng, 'bn_stats', [{ a: x }], 3, [0, 1], (at) => {
    geo.spread(eng, at, [shift]);
    geo.zero(eng, at + 8 * geo.width, 2);
  });
  const sd = geo.fold(eng, tab, 1);
  const sq = geo.fold(eng, tab, 2);
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
  const geo = new Geometry(N, C, S);
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = invstd[c] * (weight ? weight[c] : 1);
    shift[c] = (bias ? bias[c] : 0) - mean[c] * scale[c];
  }
  geo.pass(eng, 'bn_apply', [{ a: x }, { a: out, out: true }], 2, [0], (at) => geo.spread(eng, at, [scale, shift]));
}

/** Per-channel sum(g) and sum(g * xhat). */
export function backwardReduceWasm(
  eng: FastEngine, g: Float32Array, x: Float32Array, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array,
): { sumG: Float64Array; sumGXhat: Float64Array } {
  const geo = new Geometry(N, C, S);
  // tables: mean, then the accumulators sum(g), sum(g * (x - mean))
  const tab = geo.pass(eng, 'bn_backward_reduce', [{ a: g }, { a: x }], 3, [0, 1], (at) => {
    geo.spread(eng, at, [mean]);
    geo.zero(eng, at + 8 * geo.width, 2);
  });
  const sumG = geo.fold(eng, tab, 1);
  const sumGXhat = geo.fold(eng, tab, 2).map((v, c) => v * invstd[c]);
  return { sumG, sumGXhat };
}

/** The input gradient, as the reference's backwardInput (batch statistics or fixed ones). */
export function backwardInputWasm(
  eng: FastEngine, g: Float32Array, x: Float32Array, N: number, C: number, S: number,
  mean: ArrayLike<number>, invstd: Float64Array, weight: TypedArray | null,
  sumG: Float64Array, sumGXhat: Float64Array, batchStats: boolean, out: FloatArray,
): void {
  const geo = new Geometry(N, C, S);
  const dst = { a: out as Float32Array, out: true };
  const k = new Float64Array(C);
  for (let c = 0; c < C; c++) k[c] = invstd[c] * (weight ? weight[c] : 1);
  if (!batchStats) {
    // g * k, written as g * k + (-0): adding -0 changes no value, not even a signed zero.
    geo.pass(eng, 'bn_apply', [{ a: g }, dst], 2, [0], (at) => geo.spread(eng, at, [k, new Float64Array(C).fill(-0)]));
    return;
  }
  const count = N * S;
  const coef = [mean, invstd, k, sumG.map((v) => v / count), sumGXhat.map((v) => v / count)];
  geo.pass(eng, 'bn_backward_apply', [{ a: g }, { a: x }, dst], 5, [0], (at) => geo.spread(eng, at, coef));
}
