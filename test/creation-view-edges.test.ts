// Creation and view edges where skipgrad differed from torch 1.13 (found comparing the two,
// 2026-12-02): a same-shape reshape is a new view, rand stays below 1, arange and rand refuse
// what torch refuses.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

describe('creation and view edges, as torch', () => {
  it('a same-shape view is a new tensor: a hook on it does not touch the input (torch: x.grad = [3, 3, 3])', () => {
    const x = sg.ones([3], { requiresGrad: true });
    const y = x.reshape([3]);
    expect(y).not.toBe(x);
    expect(y.isLeaf).toBe(false);
    y.registerHook((g) => g.mul(0));
    y.mul(2).add(x.mul(3)).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([3, 3, 3]);
  });

  it('retainGrad on a same-shape view and a no-op squeeze keeps its own gradient (torch: 2, and not a leaf)', () => {
    const x = sg.ones([3], { requiresGrad: true });
    const y = x.reshape([3]);
    y.retainGrad();
    y.mul(2).add(x.mul(3)).sum().backward();
    expect(Array.from(y.grad!.data)).toEqual([2, 2, 2]);
    expect(x.squeeze(0).isLeaf).toBe(false);
  });

  it('float32 rand never returns 1 (seed 0 drew one at index 4,433,008 before)', () => {
    sg.manualSeed(0);
    const r = sg.rand([4433009]).data;
    let max = 0;
    for (let i = 0; i < r.length; i++) max = Math.max(max, r[i]);
    expect(max).toBeLessThan(1);
    expect(max).toBeGreaterThan(0.9999);
  });

  it('rand and randn refuse int32, as torch', () => {
    expect(() => sg.rand([3], { dtype: 'int32' })).toThrow('rand: dtype int32 is not supported');
    expect(() => sg.randn([3], { dtype: 'int32' })).toThrow('randn: dtype int32 is not supported');
  });

  it('arange refuses a range that runs against its step and non-finite bounds, as torch', () => {
    expect(() => sg.arange(5, 0)).toThrow('arange: the range 5 to 0 runs against the step 1');
    expect(() => sg.arange(0, 5, -1)).toThrow('arange: the range 0 to 5 runs against the step -1');
    expect(() => sg.arange(0, Infinity)).toThrow('arange: start and end must be finite numbers');
    expect(() => sg.arange(NaN)).toThrow('arange: start and end must be finite numbers');
    expect(Array.from(sg.arange(5, 0, -2).data)).toEqual([5, 3, 1]);
    expect(sg.arange(3, 3).shape).toEqual([0]);
  });

  it('flatten of a 0-d tensor checks its dims (0 and -1 only), as torch', () => {
    expect(sg.tensor(3).flatten().shape).toEqual([1]);
    expect(sg.tensor(3).flatten(-1, 0).shape).toEqual([1]);
    expect(() => sg.tensor(3).flatten(3)).toThrow(/flatten/);
  });
});
