// nn.init and the layers' default initialization: exact fans and gains, bounds, and statistics.
// Statistical checks use large tensors and bounds of 6 standard errors, so with a fixed seed they
// are deterministic and would also hold for practically any other seed.

import { describe, expect, it } from 'vitest';
import { Tensor, manualSeed, zeros } from '../src/index.js';
import { BatchNorm2d, Conv2d, Linear, init } from '../src/nn/index.js';

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of t.data) {
    s += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = s / t.size;
  let q = 0;
  for (const v of t.data) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / (t.size - 1)), min, max };
}

/** Checks U(-b, b): all inside, reaching close to both ends, mean 0 and std b/√3 within 6 standard errors. */
function expectUniform(t: Tensor, b: number): void {
  const { mean, std, min, max } = stats(t);
  const n = t.size;
  expect(min).toBeGreaterThanOrEqual(-b);
  expect(max).toBeLessThanOrEqual(b);
  // P(no sample within 1% of an end) = 0.995^n, negligible for n ≥ 10⁴.
  expect(min).toBeLessThan(-0.99 * b);
  expect(max).toBeGreaterThan(0.99 * b);
  const sigma = b / Math.sqrt(3);
  expect(Math.abs(mean)).toBeLessThan((6 * sigma) / Math.sqrt(n));
  // The sample variance of a uniform has standard error σ²·√(0.8/n); 6 of those.
  expect(Math.abs(std * std - sigma * sigma)).toBeLessThan(6 * sigma * sigma * Math.sqrt(0.8 / n));
}

/** Checks N(0, σ²): mean and variance within 6 standard errors (variance s.e. σ²·√(2/n)). */
function expectNormal(t: Tensor, mu: number, sigma: number): void {
  const { mean, std } = stats(t);
  const n = t.size;
  expect(Math.abs(mean - mu)).toBeLessThan((6 * sigma) / Math.sqrt(n));
  expect(Math.abs(std * std - sigma * sigma)).toBeLessThan(6 * sigma * sigma * Math.sqrt(2 / n));
}

describe('fans and gains', () => {
  it('computes fan_in and fan_out as PyTorch', () => {
    expect(init.calculateFanInAndFanOut(zeros([64, 1, 7, 7]))).toEqual({ fanIn: 49, fanOut: 3136 });
    expect(init.calculateFanInAndFanOut(zeros([128, 64, 3, 3]))).toEqual({ fanIn: 576, fanOut: 1152 });
    expect(init.calculateFanInAndFanOut(zeros([10, 512]))).toEqual({ fanIn: 512, fanOut: 10 });
    expect(() => init.calculateFanInAndFanOut(zeros([5]))).toThrow(
      'calculateFanInAndFanOut: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, got [5]',
    );
  });

  it('calculateGain matches torch.nn.init.calculate_gain', () => {
    expect(init.calculateGain('linear')).toBe(1);
    expect(init.calculateGain('conv2d')).toBe(1);
    expect(init.calculateGain('sigmoid')).toBe(1);
    expect(init.calculateGain('tanh')).toBe(5 / 3);
    expect(init.calculateGain('relu')).toBe(Math.SQRT2);
    expect(init.calculateGain('leaky_relu')).toBe(Math.sqrt(2 / (1 + 0.01 ** 2)));
    expect(init.calculateGain('leaky_relu', Math.sqrt(5))).toBe(Math.sqrt(2 / 6));
    expect(init.calculateGain('selu')).toBe(0.75);
  });
});

describe('initializers', () => {
  it('uniform, normal, constant, zeros, ones', () => {
    manualSeed(1);
    expectUniform(init.uniform(zeros([20000]), -2, 2), 2);
    const shifted = stats(init.uniform(zeros([20000]), 3, 5));
    expect(shifted.min).toBeGreaterThanOrEqual(3);
    expect(shifted.max).toBeLessThanOrEqual(5);
    expectNormal(init.normal(zeros([20000]), 1.5, 0.5), 1.5, 0.5);
    expect(Array.from(init.constant(zeros([3]), 0.25).data)).toEqual([0.25, 0.25, 0.25]);
    expect(Array.from(init.ones(zeros([2])).data)).toEqual([1, 1]);
    expect(Array.from(init.zeros(init.ones(zeros([2]))).data)).toEqual([0, 0]);
    expect(() => init.normal(zeros([2]), 0, -1)).toThrow('normal: std must be non-negative, got -1 (tensor [2])');
  });

  it('xavierUniform and xavierNormal use √(2/(fan_in+fan_out))', () => {
    manualSeed(2);
    const t = zeros([200, 100]);
    expectUniform(init.xavierUniform(t), Math.sqrt(6 / 300));
    expectUniform(init.xavierUniform(t, 2), 2 * Math.sqrt(6 / 300));
    expectNormal(init.xavierNormal(zeros([64, 32, 3, 3])), 0, Math.sqrt(2 / (288 + 576)));
  });

  it('kaimingUniform and kaimingNormal use gain/√fan with the chosen mode', () => {
    manualSeed(3);
    // Default a = 0 with leaky_relu: gain √2, bound √(6/fan_in).
    expectUniform(init.kaimingUniform(zeros([100, 50, 2, 2])), Math.sqrt(6 / 200));
    expectUniform(init.kaimingUniform(zeros([100, 50, 2, 2]), { mode: 'fanOut', nonlinearity: 'relu' }), Math.sqrt(6 / 400));
    expectNormal(init.kaimingNormal(zeros([150, 200])), 0, Math.SQRT2 / Math.sqrt(200));
    expectNormal(init.kaimingNormal(zeros([150, 200]), { mode: 'fanOut', nonlinearity: 'tanh' }), 0, 5 / 3 / Math.sqrt(150));
    expect(() => init.kaimingUniform(zeros([4, 0, 3]))).not.toThrow(); // zero elements: a no-op, as PyTorch
  });

  it('draws from the seeded default generator', () => {
    manualSeed(7);
    const a = init.kaimingUniform(zeros([4, 4]));
    manualSeed(7);
    const b = init.kaimingUniform(zeros([4, 4]));
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe("layers' default initialization (PyTorch's reset_parameters)", () => {
  it('Conv2d: weight and bias U(±1/√fan_in) (kaiming-uniform with a = √5)', () => {
    manualSeed(4);
    const conv = new Conv2d(64, 128, 3); // fan_in 576, 73728 weights
    const bound = 1 / Math.sqrt(576);
    expectUniform(conv.weight, bound);
    const b = stats(conv.bias!);
    expect(b.min).toBeGreaterThanOrEqual(-bound);
    expect(b.max).toBeLessThanOrEqual(bound);
    expect(b.max - b.min).toBeGreaterThan(bound); // 128 draws span most of the range
    // Groups shrink fan_in: weight [8, 2, 3, 3] has fan_in 18.
    const grouped = stats(new Conv2d(4, 8, 3, { groups: 2 }).weight);
    expect(Math.max(-grouped.min, grouped.max)).toBeLessThanOrEqual(1 / Math.sqrt(18));
  });

  it('Linear: weight and bias U(±1/√in_features)', () => {
    manualSeed(5);
    const lin = new Linear(400, 100);
    expectUniform(lin.weight, 1 / Math.sqrt(400));
    const b = stats(lin.bias!);
    expect(Math.max(-b.min, b.max)).toBeLessThanOrEqual(1 / Math.sqrt(400));
  });

  it('BatchNorm2d: weight 1, bias 0, running mean 0, running var 1, no batches', () => {
    const bn = new BatchNorm2d(3);
    expect(Array.from(bn.weight!.data)).toEqual([1, 1, 1]);
    expect(Array.from(bn.bias!.data)).toEqual([0, 0, 0]);
    expect(Array.from(bn.running_mean!.data)).toEqual([0, 0, 0]);
    expect(Array.from(bn.running_var!.data)).toEqual([1, 1, 1]);
    expect(bn.num_batches_tracked!.shape).toEqual([]);
    expect(bn.num_batches_tracked!.item()).toBe(0);
  });
});
