// The calling thread's handle on the SIMD elementwise, batch-norm, pooling, reduction and
// optimizer kernels (their module is part of the kernel runtime, on the kernel arena's memory).
//
// Operands that are arena blocks (tensor storage: memory/arena.ts) can be used in place
// (`resident`); any other array is copied through a scratch block in chunks: those copies run
// at memcpy speed (TypedArray.set, 20-37 GB/s here), well above the ~5 GB/s of a JS loop, so
// even the round trip wins 5-20x over the JS loops (bench/elementwise.ts).

import { ScratchBlock } from '../memory/arena.js';
import { kernelRuntime, type KernelFn, type KernelRuntime } from '../runtime.js';

export type { KernelFn };

export interface FastTuning {
  /** Arrays with fewer elements than this use the JS loops (the call and copies cost ~1 us). */
  minElements: number;
  /** Elements per operand per wasm call: a chunk of each operand is copied in, processed, copied out. */
  chunkElements: number;
}

// Measured: a wasm call with its copies costs ~0.3-0.5 us, so relu / add / relu backward break
// even with the JS loops near 200-250 elements (at 512: 0.41 vs 0.97 us for relu). The chunk
// size hardly matters (4K, 16K and 64K elements within noise at ResNet sizes); 16K keeps the
// scratch small.
const tuning: FastTuning = { minElements: 256, chunkElements: 16384 };

export function getFastTuning(): FastTuning {
  return { ...tuning };
}

/** Change dispatch thresholds (tests push tiny shapes through wasm); returns the previous values. */
export function setFastTuning(t: Partial<FastTuning>): FastTuning {
  const prev = getFastTuning();
  for (const [k, v] of Object.entries(t) as [keyof FastTuning, number][]) {
    const ok = k in tuning && Number.isInteger(v) && (k === 'chunkElements' ? v >= 4 && v % 4 === 0 : v >= 0);
    if (!ok) throw new RangeError(`setFastTuning: bad ${k}=${v} (chunkElements must be a positive multiple of 4)`);
    tuning[k] = v;
  }
  return prev;
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
