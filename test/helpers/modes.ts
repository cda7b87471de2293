// Runs a test body in one kernel mode and restores the previous one.
import { getKernelMode, setKernelMode, type KernelMode } from '../../src/kernels/mode.js';

export function inMode<T>(mode: KernelMode, f: () => T): T {
  const prev = getKernelMode();
  setKernelMode(mode);
  try {
    return f();
  } finally {
    setKernelMode(prev);
  }
}
