// Exact comparison for kernel tests: the same value at every index, Object.is per element (so
// -0 and +0 differ), any NaN equal to any NaN.
import { expect } from 'vitest';

const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

export function expectSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect.fail(`${what}: element ${i} is ${show(actual[i])}, expected ${show(expected[i])}`);
  }
}
