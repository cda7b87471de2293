import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

describe('smoke', () => {
  it('residual fan-out accumulates', () => {
    const x = sg.tensor([1, -2, 3], { requiresGrad: true, dtype: 'float64' });
    const y = x.mul(x).add(x).sum();
    y.backward();
    expect(Array.from(x.grad!.data)).toEqual([3, -3, 7]);
  });
  it('gradcheck broadcasting', () => {
    sg.manualSeed(1);
    const a = sg.randn([2, 3], { dtype: 'float64', requiresGrad: true });
    const b = sg.randn([3], { dtype: 'float64', requiresGrad: true });
    expect(sg.gradcheck((p, q) => p.mul(q).add(q).div(p.abs().add(1)).tanh(), [a, b]).ok).toBe(true);
    expect(sg.gradcheck((p, q) => p.matmul(q.reshape([3, 1])).logSoftmax(0), [a, b]).ok).toBe(true);
    expect(sg.gradcheck((p) => p.var(1).add(p.max(0).sum()).add(p.softmax(1).sum(0).sum()), [a]).ok).toBe(true);
  });
  it('long chain', () => {
    let x = sg.tensor([1.5], { requiresGrad: true });
    const x0 = x;
    for (let i = 0; i < 10000; i++) x = x.mul(1.0001).add(0);
    x.sum().backward();
    expect(x0.grad!.item()).toBeCloseTo(Math.pow(1.0001, 10000), 2);
  });
});
