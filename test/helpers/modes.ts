// Runs a test body in one kernel mode (or on one backend) and restores the previous one.
import { afterAll, beforeAll } from 'vitest';
import { getBackend, setBackend } from '../../src/kernels/backend.js';
import { setKernelMode, type KernelMode } from '../../src/kernels/mode.js';

export function inMode<T>(mode: KernelMode, f: () => T): T {
  const prev = getBackend();
  setKernelMode(mode);
  try {
    return f();
  } finally {
    setBackend(prev);
  }
}

/**
 * Runs the calling test file on backend `name` whatever SKIPGRAD_BACKEND says (for tests of
 * one backend's kernels, e.g. bit-identity of the wasm kernels with the reference).
 */
export function onBackend(name: string): void {
  let prev = name;
  beforeAll(() => {
    prev = getBackend();
    setBackend(name);
  });
  afterAll(() => setBackend(prev));
}
