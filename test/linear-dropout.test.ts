import { describe, expect, it } from 'vitest';
import { dropout } from '../src/autograd/ops/dropout.js';
import { linear } from '../src/autograd/ops/linear.js';
import { Generator, defaultGenerator, gradcheck, manualSeed, ones, randn, tensor, zeros } from '../src/index.js';
import { decode, expectClose, loadFixture } from './helpers/fixtures.js';

const cases = loadFixture('bn');
const f64 = { dtype: 'float64' as const, requiresGrad: true };

describe('linear', () => {
  for (const name of ['linear_3d_f32', 'linear_2d_f64_nobias']) {
    it(`matches PyTorch: ${name}`, () => {
      const c = cases[name];
      const tol: [number, number] = c.x.dtype === 'float64' ? [1e-12, 1e-12] : [1e-5, 1e-6];
      const x = decode(c.x, true);
      const w = decode(c.w, true);
      const b = c.b ? decode(c.b, true) : null;
      const y = linear(x, w, b);
      expect(y.gradFn?.name).toBe('linear');
      y.backward(decode(c.g));
      expectClose(y, c.out, 'out', ...tol);
      expectClose(x.grad, c.dx, 'dx', ...tol);
      expectClose(w.grad, c.dw, 'dweight', ...tol);
      if (b) expectClose(b.grad, c.db, 'dbias', ...tol);
    });
  }

  it('gradcheck: 1-D bias, no bias, 3-D input, 1-D input', () => {
    manualSeed(21);
    const x = randn([4, 3], f64);
    const w = randn([5, 3], f64);
    const b = randn([5], f64);
    expect(gradcheck((x, w, b) => linear(x, w, b), [x, w, b]).ok).toBe(true);
    expect(gradcheck((x, w) => linear(x, w), [x, w]).ok).toBe(true);
    const x3 = randn([2, 3, 3], f64);
    expect(gradcheck((x, w, b) => linear(x, w, b), [x3, w, b]).ok).toBe(true);
    const x1 = randn([3], f64);
    expect(gradcheck((x, w, b) => linear(x, w, b), [x1, w, b]).ok).toBe(true);
  });

  it('computes x @ W^T + b with the expected shapes', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const w = tensor([[1, 0], [0, 1], [1, 1]]);
    expect(linear(x, w, tensor([10, 20, 30])).toArray()).toEqual([[11, 22, 33], [13, 24, 37]]);
    expect(linear(tensor([1, 2]), w).toArray()).toEqual([1, 2, 3]);
    expect(linear(zeros([2, 0, 2]), w).shape).toEqual([2, 0, 3]);
  });

  it('names the op and the shapes in every error', () => {
    expect(() => linear(zeros([4, 3]), zeros([5, 2]))).toThrow('linear: input [4,3] has 3 features but weight [5,2] expects 2');
    expect(() => linear(zeros([4, 3]), zeros([3]))).toThrow('linear: weight must be [out, in], got [3]');
    expect(() => linear(zeros([]), zeros([5, 1]))).toThrow('linear: input must have a feature dim, got []');
    expect(() => linear(zeros([4, 3], { dtype: 'int32' }), zeros([5, 3]))).toThrow('linear: input [4,3] must be float, got int32');
    expect(() => linear(zeros([4, 3]), zeros([5, 3]), zeros([4]))).toThrow('linear: bias [4] must be [5] to match weight [5,3]');
  });
});

describe('dropout', () => {
  it('drops a fraction p (within 4 sigma over 1e5 elements) and scales the rest exactly', () => {
    manualSeed(31);
    const n = 100_000;
    const p = 0.3;
    const x = ones([n]);
    const y = dropout(x, p);
    const scale = Math.fround(1 / (1 - p)); // float32 mask, as PyTorch's noise tensor
    let dropped = 0;
    let wrongScale = 0;
    for (const v of y.data) {
      if (v === 0) dropped++;
      else if (v !== scale) wrongScale++;
    }
    expect(wrongScale).toBe(0);
    const sigma = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(dropped - n * p)).toBeLessThan(4 * sigma);

    const x64 = randn([1000], { dtype: 'float64' });
    const y64 = dropout(x64, 0.2);
    for (let i = 0; i < 1000; i++) if (y64.data[i] !== 0) expect(y64.data[i]).toBe(x64.data[i] * (1 / 0.8));
  });

  it('is reproducible after manualSeed and with an explicit generator', () => {
    const x = randn([50]);
    manualSeed(5);
    const a = dropout(x, 0.5);
    manualSeed(5);
    const b = dropout(x, 0.5);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const before = defaultGenerator.getState();
    const c = dropout(x, 0.5, true, new Generator(9));
    const d = dropout(x, 0.5, true, new Generator(9));
    expect(Array.from(c.data)).toEqual(Array.from(d.data));
    expect(defaultGenerator.getState()).toEqual(before);
  });

  it('backward multiplies by the saved mask, the same one on every backward', () => {
    manualSeed(32);
    const x = randn([200], f64);
    const y = dropout(x, 0.4);
    const g = randn([200], { dtype: 'float64' });
    y.backward(g, { retainGraph: true });
    const mask = Array.from(y.data, (v, i) => v / x.data[i]);
    for (let i = 0; i < 200; i++) expect(x.grad!.data[i]).toBeCloseTo(g.data[i] * mask[i], 12);
    const first = Array.from(x.grad!.data);
    y.backward(g);
    for (let i = 0; i < 200; i++) expect(x.grad!.data[i]).toBe(2 * first[i]);
  });

  it('is the identity in eval mode and for p = 0; p = 1 gives zeros', () => {
    const x = randn([3, 4], { requiresGrad: true });
    const before = defaultGenerator.getState();
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(dropout(x, 0)).toBe(x);
    expect(defaultGenerator.getState()).toEqual(before);
    const z = dropout(x, 1);
    for (const v of z.data) expect(v === 0).toBe(true);
    z.sum().backward();
    for (const v of x.grad!.data) expect(v).toBe(0);
  });

  it('names the op and the shapes in every error', () => {
    const x = zeros([2, 3]);
    expect(() => dropout(x, 1.5)).toThrow('dropout: probability has to be between 0 and 1, but got 1.5 (input [2,3])');
    expect(() => dropout(x, -0.1)).toThrow('dropout: probability has to be between 0 and 1, but got -0.1 (input [2,3])');
    expect(() => dropout(x, NaN)).toThrow('dropout: probability has to be between 0 and 1, but got NaN (input [2,3])');
    expect(() => dropout(zeros([2], { dtype: 'int32' }))).toThrow('dropout: expected a float input, got int32 of shape [2]');
  });
});
