/**
 * Process-wide kernel selection. 'fast' lets kernels use their optimized paths (wasm SIMD,
 * threads); 'reference' forces the plain TypeScript kernels everywhere, e.g. to check results
 * or to benchmark against (`--reference`). The environment variable SKIPGRAD_KERNELS=reference
 * sets the initial mode.
 */
export type KernelMode = 'fast' | 'reference';

let mode: KernelMode = process.env.SKIPGRAD_KERNELS === 'reference' ? 'reference' : 'fast';

/** The current kernel mode ('fast' unless SKIPGRAD_KERNELS=reference or `setKernelMode` changed it). */
export function getKernelMode(): KernelMode {
  return mode;
}

/** Switches every kernel to its 'fast' or 'reference' path from the next call on; other values are refused. */
export function setKernelMode(m: KernelMode): void {
  if (m !== 'fast' && m !== 'reference') throw new RangeError(`setKernelMode: expected 'fast' or 'reference', got ${String(m)}`);
  mode = m;
}
