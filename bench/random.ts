// Seeded operands for kernel benchmarks, from the project's own generator.
import { Generator } from '../src/index.js';

/** n values uniform in [-1, 1). */
export function randomArray(n: number, seed: number): Float32Array {
  const g = new Generator(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = g.random() * 2 - 1;
  return a;
}
