// Seeded random arrays for kernel tests, drawn from the project's own generator.
import { Generator } from '../../src/index.js';

/** A uniform [0, 1) source seeded with `seed`. */
export function rng(seed: number): () => number {
  const g = new Generator(seed);
  return () => g.random();
}

/** n values uniform in [-1, 1). */
export function randomF32(n: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return a;
}

export const abs = (a: Float32Array): Float32Array => a.map(Math.abs);
