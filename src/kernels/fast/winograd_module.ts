// WebAssembly SIMD bodies of the Winograd F(2x2, 3x3) transforms. Filled in by the Winograd
// work; registered in runtime.ts.

import type { ModuleBuilder } from '../wasm/emitter.js';

export function emitWinograd(_mb: ModuleBuilder): void {}
