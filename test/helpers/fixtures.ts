// Reads PyTorch fixtures (written by scripts/fixtures/*.py) and compares tensors against them.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { Tensor, tensor } from '../../src/index.js';
import type { DType } from '../../src/index.js';

export interface EncodedTensor {
  shape: number[];
  dtype: DType;
  data: number[];
}

export type FixtureCase = Record<string, EncodedTensor>;

export function loadFixture(name: string): Record<string, FixtureCase> {
  const path = fileURLToPath(new URL(`../fixtures/${name}.json`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')).cases;
}

export function decode(e: EncodedTensor, requiresGrad = false): Tensor {
  const Ctor = e.dtype === 'float64' ? Float64Array : e.dtype === 'int32' ? Int32Array : Float32Array;
  return tensor(Ctor.from(e.data), { shape: e.shape, requiresGrad: requiresGrad && e.dtype !== 'int32' });
}

/**
 * The inputs of a parity case: every key but the output `out`, the upstream gradient `g`, the
 * expected gradients `grad_*` and any other expected-value prefix the fixture uses.
 */
export function fixtureInputNames(c: FixtureCase, expectedPrefixes: readonly string[] = []): string[] {
  const prefixes = ['grad_', ...expectedPrefixes];
  return Object.keys(c).filter((k) => k !== 'out' && k !== 'g' && !prefixes.some((p) => k.startsWith(p)));
}

/** Decodes a case's inputs; an input requires grad exactly where PyTorch recorded its gradient. */
export function fixtureInputs(c: FixtureCase, names: readonly string[]): Record<string, Tensor> {
  const inputs: Record<string, Tensor> = {};
  for (const k of names) inputs[k] = decode(c[k], `grad_${k}` in c);
  return inputs;
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise (numpy.allclose), with the
 * worst element named in the failure message.
 */
export function expectClose(actual: Tensor | null, expected: EncodedTensor, what: string, rtol = 1e-5, atol = 1e-6): void {
  expect(actual, `${what}: missing`).not.toBeNull();
  const a = actual!;
  expect(a.shape, `${what}: shape`).toEqual(expected.shape);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i];
    const excess = Math.abs(a.data[i] - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${a.data[worst]}, PyTorch gives ${expected.data[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}
