// Process-wide kernel selection. 'fast' lets kernels use their optimized paths (wasm SIMD,
// threads); 'reference' forces the plain TypeScript kernels everywhere, e.g. to check results
// or to benchmark against (`--reference`). The environment variable SKIPGRAD_KERNELS=reference
// sets the initial mode.

export type KernelMode = 'fast' | 'reference';

let mode: KernelMode = process.env.SKIPGRAD_KERNELS === 'reference' ? 'reference' : 'fast';

export function getKernelMode(): KernelMode {
  return mode;
}

export function setKernelMode(m: KernelMode): void {
  if (m !== 'fast' && m !== 'reference') throw new RangeError(`setKernelMode: expected 'fast' or 'reference', got ${String(m)}`);
  mode = m;
}
