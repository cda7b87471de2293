// The wasm kernel runtime: the kernel arena's shared memory, every kernel module compiled once
// on it (GEMM, convolution helpers, and the SIMD module of elementwise / batch norm / pooling /
// reductions / optimizer updates), and the worker pool that runs any of their exports on every
// thread. Created on first use; null where WebAssembly SIMD or SharedArrayBuffer is missing
// (every kernel then runs its plain TypeScript reference).

import v8 from 'node:v8';
import { emitBatchNormColumns } from './fast/batchnorm_columns_module.js';
import { emitBatchNorm } from './fast/batchnorm_module.js';
import { emitElementwise } from './fast/elementwise_module.js';
import { emitOptim } from './fast/optim_module.js';
import { emitPool } from './fast/pool_module.js';
import { emitReduce } from './fast/reduce_module.js';
import { emitWinograd } from './fast/winograd_module.js';
import { MAXIMUM_PAGES, kernelArena, type Arena } from './memory/arena.js';
import { KernelPool } from './threads/pool.js';
import { buildConvModule } from './wasm/conv_module.js';
import { ModuleBuilder } from './wasm/emitter.js';
import { buildGemmModule } from './wasm/gemm_module.js';
import { wasmApi, type WasmApi } from './wasm/wasm_api.js';

export type KernelFn = (...args: number[]) => void;

export interface KernelRuntime {
  arena: Arena;
  pool: KernelPool;
  /** Whether the GEMM micro-kernel uses relaxed SIMD's fused multiply-add. */
  relaxedSimd: boolean;
  /** The calling thread's export `name` of any kernel module. */
  fn(name: string): KernelFn;
}

/** The module of the SIMD elementwise, batch-norm, pooling, reduction, optimizer and Winograd-transform kernels. */
function buildSimdModule(): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', initialPages: 1, maximumPages: MAXIMUM_PAGES, shared: true });
  emitElementwise(mb);
  emitBatchNorm(mb);
  emitBatchNormColumns(mb);
  emitPool(mb);
  emitReduce(mb);
  emitOptim(mb);
  emitWinograd(mb);
  return mb.toBytes();
}

/** The GEMM module with relaxed SIMD where this V8 has it (behind a flag on Node 20), else plain SIMD. */
function gemmBytes(wasm: WasmApi): { bytes: Uint8Array<ArrayBuffer>; relaxed: boolean } | null {
  if (process.env.SKIPGRAD_GEMM_RELAXED !== '0') {
    const bytes = buildGemmModule({ relaxed: true, maximumPages: MAXIMUM_PAGES });
    if (wasm.validate(bytes)) return { bytes, relaxed: true };
    // Only set the flag when needed: newer V8s have relaxed SIMD on and complain about the flag.
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (wasm.validate(bytes)) return { bytes, relaxed: true };
  }
  const bytes = buildGemmModule({ relaxed: false, maximumPages: MAXIMUM_PAGES });
  return wasm.validate(bytes) ? { bytes, relaxed: false } : null;
}

function createRuntime(): KernelRuntime | null {
  const wasm = wasmApi;
  const arena = kernelArena();
  if (wasm === undefined || arena === null) return null;
  // Compile straight to optimized code: the baseline compiler (Liftoff) would run the first
  // calls several times slower, and these kernels are hot from the first training step.
  v8.setFlagsFromString('--no-liftoff');
  const gemm = gemmBytes(wasm);
  const conv = buildConvModule(MAXIMUM_PAGES);
  const simd = buildSimdModule();
  if (gemm === null || !wasm.validate(conv) || !wasm.validate(simd)) return null; // no SIMD128 here
  const pool = new KernelPool(arena.memory, [gemm.bytes, conv, simd].map((b) => new wasm.Module(b)));
  const fns = new Map<string, KernelFn>();
  return {
    arena,
    pool,
    relaxedSimd: gemm.relaxed,
    fn(name) {
      let f = fns.get(name);
      if (f === undefined) {
        const e = pool.exports[name];
        if (typeof e !== 'function') throw new Error(`kernel runtime: no wasm export ${name}`);
        fns.set(name, (f = e as KernelFn));
      }
      return f;
    },
  };
}

let runtime: KernelRuntime | null | undefined; // undefined: not tried; null: unavailable here

/** The runtime, created on first use; null where the wasm kernels cannot run (the references run instead). */
export function kernelRuntime(): KernelRuntime | null {
  if (runtime === undefined) {
    try {
      runtime = createRuntime();
    } catch (e) {
      runtime = null;
      process.emitWarning(`skipgrad: wasm kernels unavailable (${e instanceof Error ? e.message : String(e)}); using the reference kernels`);
    }
  }
  return runtime;
}
