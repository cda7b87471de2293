// Deprecated: the kernel mode of before the backend registry (backend.ts), kept as aliases.
// 'reference' is the reference backend; 'fast' is the wasm backend (whatever backend is the
// default, so tests and benchmarks written for the wasm kernels keep testing those). The
// environment variable SKIPGRAD_KERNELS=reference still selects the reference backend when
// SKIPGRAD_BACKEND is not set.

import { getBackend, setBackend } from './backend.js';

/** @deprecated The kernel selection before backends: 'fast' is the wasm backend, 'reference' the reference one. */
export type KernelMode = 'fast' | 'reference';

/** @deprecated Use getBackend(): 'reference' when the reference backend is in use, else 'fast'. */
export function getKernelMode(): KernelMode {
  return getBackend() === 'reference' ? 'reference' : 'fast';
}

/** @deprecated Use setBackend(): 'fast' selects 'wasm', 'reference' selects 'reference'. */
export function setKernelMode(m: KernelMode): void {
  if (m !== 'fast' && m !== 'reference') throw new RangeError(`setKernelMode: expected 'fast' or 'reference', got ${String(m)}`);
  setBackend(m === 'fast' ? 'wasm' : 'reference');
}
