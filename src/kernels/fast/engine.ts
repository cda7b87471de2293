// The WebAssembly module behind the fast elementwise, batch-norm and max-pool kernels, on a
// private (non-shared) memory, used from the calling thread only.
//
// Tensors live in ordinary typed arrays, so a kernel copies its operands into this memory,
// runs, and copies the result out. Those copies run at memcpy speed (TypedArray.set, 20-37
// GB/s here), well above the ~5 GB/s of a JS loop, and the SIMD body is faster still, so the
// round trip wins 5-20x (bench/elementwise.ts). Large arrays go through in chunks of
// `chunkElements` per operand, so the scratch memory stays small.
//
// Threads: these kernels run for 0.05-1 ms at ResNet sizes, while handing a job to a worker
// costs 25-100 us, so they stay on the calling thread.

import v8 from 'node:v8';
import { ModuleBuilder } from '../wasm/emitter.js';
import { wasmApi, type WasmMemory } from '../wasm/wasm_api.js';
import { emitBatchNormColumns } from './batchnorm_columns_module.js';
import { emitBatchNorm } from './batchnorm_module.js';
import { emitElementwise } from './elementwise_module.js';
import { emitPool } from './pool_module.js';

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

export type KernelFn = (...args: number[]) => void;

export class FastEngine {
  private f32View: Float32Array;
  private f64View: Float64Array;
  private i32View: Int32Array;

  constructor(
    private readonly memory: WasmMemory,
    private readonly exports: Record<string, unknown>,
  ) {
    this.f32View = new Float32Array(memory.buffer);
    this.f64View = new Float64Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
  }

  fn(name: string): KernelFn {
    const f = this.exports[name];
    if (typeof f !== 'function') throw new Error(`fast kernels: no export ${name}`);
    return f as KernelFn;
  }

  /** Grows the memory to at least `bytes` (views are re-created: a non-shared buffer detaches on growth). */
  reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / 65536));
    if (this.f32View.buffer !== this.memory.buffer) {
      this.f32View = new Float32Array(this.memory.buffer);
      this.f64View = new Float64Array(this.memory.buffer);
      this.i32View = new Int32Array(this.memory.buffer);
    }
  }

  get f32(): Float32Array {
    return this.f32View;
  }

  get f64(): Float64Array {
    return this.f64View;
  }

  get i32(): Int32Array {
    return this.i32View;
  }

  /**
   * Lays out consecutive regions of the given byte sizes (each padded by 16 bytes for the
   * vector loops' overrun), reserves them, and returns their byte addresses.
   *
   * Every region starts 2 KiB past a 4 KiB boundary. Large typed arrays' storage is page-aligned
   * (or 16 bytes past), and memcpy between two addresses equal modulo 4 KiB is about 10x slower
   * on this machine (AMD EPYC, 4K aliasing in `rep movsb`): copying 64 KiB out of wasm memory
   * at offset 0 into a page-aligned Float32Array ran at 2.9 GB/s, at offset 2048 at 37 GB/s.
   */
  layout(sizes: readonly number[]): number[] {
    const at: number[] = [];
    let p = 2048;
    for (const s of sizes) {
      at.push(p);
      p = Math.ceil((p + s + 16 - 2048) / 4096) * 4096 + 2048;
    }
    this.reserve(p);
    return at;
  }
}

let engine: FastEngine | null | undefined; // undefined: not tried; null: unavailable here

function createEngine(): FastEngine | null {
  const wasm = wasmApi;
  if (wasm === undefined) return null;
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', initialPages: 1, maximumPages: 65536, shared: false });
  emitElementwise(mb);
  emitBatchNorm(mb);
  emitBatchNormColumns(mb);
  emitPool(mb);
  const bytes = mb.toBytes();
  if (!wasm.validate(bytes)) return null; // no SIMD128 in this runtime
  // Straight to optimized code (as the GEMM does): the baseline compiler runs these loops
  // several times slower, and they are hot from the first training step.
  v8.setFlagsFromString('--no-liftoff');
  const memory = new wasm.Memory({ initial: 1, maximum: 65536 });
  const instance = new wasm.Instance(new wasm.Module(bytes), { env: { memory } });
  return new FastEngine(memory, instance.exports);
}

/** The engine, created on first use; null where WebAssembly SIMD is unavailable (the JS loops run instead). */
export function fastEngine(): FastEngine | null {
  if (engine === undefined) {
    try {
      engine = createEngine();
    } catch (e) {
      engine = null;
      process.emitWarning(`skipgrad: wasm elementwise kernels unavailable (${e instanceof Error ? e.message : String(e)}); using JS loops`);
    }
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
