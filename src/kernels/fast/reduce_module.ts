// WebAssembly SIMD bodies of the float32 reductions (sum over an axis). Filled in by the
// reductions work; registered in runtime.ts.

import type { ModuleBuilder } from '../wasm/emitter.js';

export function emitReduce(_mb: ModuleBuilder): void {}
