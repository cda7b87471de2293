// WebAssembly SIMD bodies of the optimizer updates. Filled in by the optimizer work; registered
// in runtime.ts.

import type { ModuleBuilder } from '../wasm/emitter.js';

export function emitOptim(_mb: ModuleBuilder): void {}
