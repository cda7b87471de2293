// JS side of the wasm reductions (reduce_module.ts): a float32 tensor viewed as [outer, len,
// inner] is reduced in place if it is arena storage, else copied into scratch in chunks of at
// most chunkElements() and reduced
// over len into a state region (f64 sums, or f32 values + i32 indices), one entry per output
// element, which is copied out once that output is complete.

import { allocate } from '../dtype.js';
import { chunkElements, splitEven, threadsFor, type FastEngine } from './engine.js';

/** One reduction: how its state is laid out, started, advanced and read out. */
interface Pass {
  /** Bytes of state per output element, one region per entry. */
  stateBytes: readonly number[];
  /** Sets the state of `count` output elements at the regions `at` to the empty reduction. */
  init(at: readonly number[], count: number): void;
  /** The kernel's export name and its arguments for a chunk of nO x kn x w elements at `src`, the first k being kBase. */
  kernel: string;
  args(src: number, at: readonly number[], nO: number, kn: number, w: number, kBase: number): number[];
  /** Copies `count` finished outputs to output position `offset`. */
  finish(at: readonly number[], count: number, offset: number): void;
}

/**
 * Walks x = [outer, len, inner]. If a slab (one o) fits a chunk, chunks are whole slabs.
 * Otherwise each o is reduced by column blocks of w columns, each block in chunks of kc rows
 * along the axis (packed, w apart), the state carrying over from one chunk to the next.
 * w = inner while a chunk holds 8 rows, else chunk / 8: a column state then serves at least 8
 * rows per call (sum over axis 0 of [64, 512, 7, 7]: 0.75 ms against 0.86 with w = chunk).
 */
function walk(eng: FastEngine, x: Float32Array, outer: number, len: number, inner: number, pass: Pass): void {
  const xAt = eng.resident(x);
  if (xAt >= 0) {
    // Arena storage: in place, the outer slabs split across threads (each output element is
    // reduced by one thread, in the same order as on one: the split never changes the bits).
    const at = eng.layout(pass.stateBytes.map((b) => b * outer * inner));
    pass.init(at, outer * inner);
    const T = Math.min(outer, threadsFor(outer * len * inner));
    const jobs = splitEven(outer, T); // whole slabs per thread
    eng.runtime.pool.run(pass.kernel, jobs.map(([o0, o1]) =>
      pass.args(xAt + 4 * o0 * len * inner, at.map((r, k) => r + pass.stateBytes[k] * o0 * inner), o1 - o0, len, inner, 0)));
    pass.finish(at, outer * inner, 0);
    return;
  }
  const run = eng.fn(pass.kernel);
  const cap = chunkElements();
  const slab = len * inner;
  const perChunk = slab <= cap ? Math.min(outer, Math.floor(cap / slab)) : 1;
  const w = inner <= cap >> 3 ? inner : Math.max(1, cap >> 3);
  const kc = slab <= cap ? len : Math.max(1, Math.floor(cap / w));
  const [srcElements, states] = slab <= cap ? [perChunk * slab, perChunk * inner] : [kc * w, w];
  const [src, ...at] = eng.layout([4 * srcElements, ...pass.stateBytes.map((b) => b * states)]);
  const heap = eng.f32; // after layout: growing the memory replaces the view
  const s = src >> 2;
  if (slab <= cap) {
    for (let o = 0; o < outer; o += perChunk) {
      const n = Math.min(perChunk, outer - o);
      heap.set(x.subarray(o * slab, (o + n) * slab), s);
      pass.init(at, n * inner);
      run(...pass.args(src, at, n, len, inner, 0));
      pass.finish(at, n * inner, o * inner);
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let i0 = 0; i0 < inner; i0 += w) {
      const wc = Math.min(w, inner - i0);
      pass.init(at, wc);
      for (let k0 = 0; k0 < len; k0 += kc) {
        const kn = Math.min(kc, len - k0);
        const first = (o * len + k0) * inner + i0;
        if (wc === inner) heap.set(x.subarray(first, first + kn * inner), s);
        else for (let k = 0; k < kn; k++) heap.set(x.subarray(first + k * inner, first + k * inner + wc), s + k * wc);
        run(...pass.args(src, at, 1, kn, wc, k0));
      }
      pass.finish(at, wc, o * inner + i0);
    }
  }
}

/** out[o, i] = sum over k of x[o, k, i], added in float64 and rounded once. */
export function sumAxisWasm(eng: FastEngine, x: Float32Array, outer: number, len: number, inner: number): Float32Array {
  const out = allocate('float32', outer * inner) as Float32Array;
  walk(eng, x, outer, len, inner, {
    stateBytes: [8],
    init: ([acc], count) => eng.f64.fill(0, acc >> 3, (acc >> 3) + count),
    kernel: inner === 1 ? 'sum_rows' : 'sum_cols',
    args: (src, [acc], nO, kn, w) => (inner === 1 ? [src, acc, nO, kn] : [src, acc, nO, kn, w]),
    finish: ([acc], count, offset) => out.set(eng.f64.subarray(acc >> 3, (acc >> 3) + count), offset),
  });
  return out;
}

/** The first maximum (minimum) over k of x[o, k, i] and its k; NaN wins over numbers. len >= 1. */
export function extremumAxisWasm(
  eng: FastEngine,
  x: Float32Array,
  outer: number,
  len: number,
  inner: number,
  wantMax: boolean,
): { values: Float32Array; indices: Int32Array } {
  const values = allocate('float32', outer * inner) as Float32Array;
  const indices = new Int32Array(outer * inner);
  const name = wantMax ? 'max' : 'min';
  walk(eng, x, outer, len, inner, {
    stateBytes: [4, 4],
    init([b, ix], count) {
      eng.f32.fill(wantMax ? -Infinity : Infinity, b >> 2, (b >> 2) + count);
      eng.i32.fill(0, ix >> 2, (ix >> 2) + count);
    },
    kernel: `${name}_${inner === 1 ? 'rows' : 'cols'}`,
    args: (src, [b, ix], nO, kn, w, kBase) => (inner === 1 ? [src, b, ix, nO, kn, kBase] : [src, b, ix, nO, kn, w, kBase]),
    finish([b, ix], count, offset) {
      values.set(eng.f32.subarray(b >> 2, (b >> 2) + count), offset);
      indices.set(eng.i32.subarray(ix >> 2, (ix >> 2) + count), offset);
    },
  });
  return { values, indices };
}
