// The calling thread's handle on the SIMD elementwise, batch-norm, pooling, reduction and
// optimizer kernels (their module is part of the kernel runtime, on the kernel arena's memory).
//
// Operands that are arena blocks (tensor storage: memory/arena.ts) can be used in place
// (`resident`); any other array is copied through a scratch block in chunks: those copies run
// at memcpy speed (TypedArray.set, 20-37 GB/s here), well above the ~5 GB/s of a JS loop, so
// even the round trip wins 5-20x over the JS loops (bench/elementwise.ts).

import { ScratchBlock } from '../memory/arena.js';
import { kernelRuntime, type KernelFn, type KernelRuntime } from '../runtime.js';
import { getNumThreads } from '../threads/pool.js';

export type { KernelFn };

export interface FastTuning {
  /** Arrays with fewer elements than this use the JS loops (the call and copies cost ~1 us). */
  minElements: number;
  /** Elements per operand per wasm call: a chunk of each operand is copied in, processed, copied out. */
  chunkElements: number;
  /** Elementwise work on resident operands is split across threads in pieces of at least this many elements. */
  parallelElements: number;
}

// Measured: a wasm call with its copies costs ~0.3-0.5 us, so relu / add / relu backward break
// even with the JS loops near 200-250 elements (at 512: 0.41 vs 0.97 us for relu). The chunk
// size hardly matters (4K, 16K and 64K elements within noise at ResNet sizes); 16K keeps the
// scratch small.
// Splitting resident elementwise work: add on 2 threads vs 1 took 11.9 vs 23.4 us at 100K
// elements, 8.5 vs 10.9 at 50K (workers spin briefly between jobs, so a hand-over is cheap
// when kernels come back to back): pieces of at least 32K elements.
const tuning: FastTuning = { minElements: 256, chunkElements: 16384, parallelElements: 1 << 15 };

export function getFastTuning(): FastTuning {
  return { ...tuning };
}

/** Change dispatch thresholds (tests push tiny shapes through wasm); returns the previous values. */
export function setFastTuning(t: Partial<FastTuning>): FastTuning {
  const prev = getFastTuning();
  for (const [k, v] of Object.entries(t) as [keyof FastTuning, number][]) {
    const ok = k in tuning && Number.isInteger(v) && (k === 'chunkElements' ? v >= 4 && v % 4 === 0 : k === 'parallelElements' ? v >= 4 : v >= 0);
    if (!ok) throw new RangeError(`setFastTuning: bad ${k}=${v} (chunkElements must be a positive multiple of 4, parallelElements at least 4)`);
    tuning[k] = v;
  }
  return prev;
}

/** An array a kernel reads (`in`) and/or writes (`out`). */
export interface Operand {
  a: Float32Array;
  in: boolean;
  out: boolean;
}

/** [start, end) ranges splitting n items into `parts` contiguous, nearly equal, non-empty pieces (fewer when n < parts). */
export function splitEven(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0, s = 0; t < parts && s < n; t++) {
    const e = s + Math.floor(n / parts) + (t < n % parts ? 1 : 0);
    out.push([s, e]);
    s = e;
  }
  return out;
}

/**
 * [start, end) element ranges splitting n into `parts` nearly equal pieces whose boundaries are
 * multiples of 4: a vector loop may touch 3 elements past its end, which then stay in its own
 * piece (the last piece ends at n, where the arena block's slack takes the overrun).
 */
export function splitRange(n: number, parts: number): [number, number][] {
  return splitEven(Math.ceil(n / 4), parts).map(([a, b]) => [4 * a, Math.min(n, 4 * b)]);
}

/** Threads for elementwise work over n elements: one per parallelElements, at most the thread count. */
export function threadsFor(n: number): number {
  return Math.max(1, Math.min(getNumThreads(), Math.floor(n / tuning.parallelElements)));
}

export class FastEngine {
  private readonly scratch: ScratchBlock;
  private f32View: Float32Array;
  private f64View: Float64Array;
  private i32View: Int32Array;

  constructor(readonly runtime: KernelRuntime) {
    this.scratch = new ScratchBlock(runtime.arena);
    this.f32View = runtime.arena.f32;
    this.f64View = new Float64Array(this.f32View.buffer);
    this.i32View = new Int32Array(this.f32View.buffer);
  }

  fn(name: string): KernelFn {
    return this.runtime.fn(name);
  }

  /** Byte address of `a` if kernels may use it in place (a whole arena block), else -1. */
  resident(a: ArrayBufferView): number {
    return this.runtime.arena.addressOf(a);
  }

  /**
   * Runs the elementwise kernel `fn` over the operands (all of one length n); `args(at, m)`
   * gives its arguments for operands at byte addresses `at`, m elements each. When every
   * operand is resident, the kernel runs on them in place, split across the worker pool's
   * threads for large n (each thread a contiguous range: results do not depend on the split).
   * Otherwise the foreign operands go through scratch in chunks (in: copied in, out: copied
   * back) while resident ones are used in place, on this thread.
   */
  map(fn: string, ops: readonly Operand[], args: (at: readonly number[], m: number) => number[]): void {
    const n = ops[0].a.length;
    if (n === 0) return;
    const res = ops.map((o) => this.resident(o.a));
    if (res.every((r) => r >= 0)) {
      const T = threadsFor(n);
      if (T === 1) this.fn(fn)(...args(res, n));
      else this.runtime.pool.run(fn, splitRange(n, T).map(([s, e]) => args(res.map((r) => r + 4 * s), e - s)));
      return;
    }
    const f = this.fn(fn);
    const ch = Math.min(chunkElements(), (n + 3) & ~3);
    const copied = ops.flatMap((o, k) => (res[k] < 0 ? [k] : []));
    const regions = this.layout(copied.map(() => ch * 4));
    const at = res.slice();
    copied.forEach((k, j) => (at[k] = regions[j]));
    const heap = this.f32; // after layout: growing the memory replaces the view
    for (let i = 0; i < n; i += ch) {
      const m = Math.min(ch, n - i);
      for (const k of copied) if (ops[k].in) heap.set(ops[k].a.subarray(i, i + m), at[k] >> 2);
      f(...args(at.map((a, k) => (res[k] >= 0 ? a + 4 * i : a)), m));
      for (const k of copied) if (ops[k].out) ops[k].a.set(heap.subarray(at[k] >> 2, (at[k] >> 2) + m), i);
    }
  }

  /** Views over the whole memory, re-created after it grew (old views keep the old length). */
  private refresh(): void {
    const f32 = this.runtime.arena.f32;
    if (f32 === this.f32View) return;
    this.f32View = f32;
    this.f64View = new Float64Array(f32.buffer);
    this.i32View = new Int32Array(f32.buffer);
  }

  get f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  get f64(): Float64Array {
    this.refresh();
    return this.f64View;
  }

  get i32(): Int32Array {
    this.refresh();
    return this.i32View;
  }

  /**
   * Lays out consecutive scratch regions of the given byte sizes (each padded by 16 bytes for the
   * vector loops' overrun) in the engine's scratch block and returns their byte addresses. They
   * are valid until the next `layout`. Throws if the arena cannot hold them.
   *
   * Every region starts 2 KiB past a 4 KiB boundary. Large typed arrays' storage is page-aligned
   * (or 16 bytes past), and memcpy between two addresses equal modulo 4 KiB is about 10x slower
   * on this machine (AMD EPYC, 4K aliasing in `rep movsb`): copying 64 KiB out of wasm memory
   * at offset 0 into a page-aligned Float32Array ran at 2.9 GB/s, at offset 2048 at 37 GB/s.
   */
  layout(sizes: readonly number[]): number[] {
    const rel: number[] = [];
    let p = 2048;
    for (const s of sizes) {
      rel.push(p);
      p = Math.ceil((p + s + 16 - 2048) / 4096) * 4096 + 2048;
    }
    const base = this.scratch.ensure(p + 4096);
    if (base < 0) throw new RangeError(`fast kernels: cannot reserve ${p} bytes of scratch in the kernel arena`);
    const origin = Math.ceil(base / 4096) * 4096;
    return rel.map((r) => origin + r);
  }
}

let engine: FastEngine | null | undefined; // undefined: not tried; null: unavailable here

/** The engine, created on first use; null where WebAssembly SIMD is unavailable (the JS loops run instead). */
export function fastEngine(): FastEngine | null {
  if (engine === undefined) {
    const rt = kernelRuntime();
    engine = rt === null ? null : new FastEngine(rt);
  }
  return engine;
}

/** Chunk size in elements for one operand (a multiple of 4). */
export function chunkElements(): number {
  return tuning.chunkElements;
}

export function fastEligible(n: number): boolean {
  return n >= tuning.minElements;
}
