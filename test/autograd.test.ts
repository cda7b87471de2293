// The engine itself: graph traversal, accumulation, hooks, graph release, user ops, RNG, dtypes.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';

const f64 = { dtype: 'float64' } as const;
const leaf = (values: sg.NestedArray) => sg.tensor(values, { ...f64, requiresGrad: true });
const values = (t: Tensor | null) => Array.from(t!.data);

describe('backward traversal', () => {
  it('backpropagates through a 10,000-op chain without recursion, exactly', () => {
    const x = leaf([1.5, -3]);
    let y: Tensor = x;
    // Alternating ×(-2) and ×0.5: every partial product is a power of two, so the result is exact.
    for (let i = 0; i < 10_000; i++) y = i % 2 === 0 ? y.mul(-2) : y.mul(0.5);
    expect(values(y)).toEqual([1.5, -3]); // (-1)^5000 = 1
    y.sum().backward();
    expect(values(x.grad)).toEqual([1, 1]);
  });

  it('sums 10,000 uses of one leaf', () => {
    const x = leaf([2]);
    let y: Tensor = x;
    for (let i = 0; i < 10_000; i++) y = y.add(x);
    y.backward();
    expect(values(x.grad)).toEqual([10_001]);
  });

  it('accumulates into .grad across two backward calls', () => {
    const x = leaf([1, 2]);
    x.mul(3).sum().backward();
    x.mul(x).sum().backward();
    expect(values(x.grad)).toEqual([3 + 2, 3 + 4]);
  });

  it('fans out: x used by several ops gets the sum of their gradients', () => {
    const x = leaf([0.5, -1]);
    const y = x.mul(x).add(x.mul(3)).add(x.exp()); // y' = 2x + 3 + e^x
    y.sum().backward();
    expect(values(x.grad)).toEqual([2 * 0.5 + 3 + Math.exp(0.5), 2 * -1 + 3 + Math.exp(-1)]);
  });

  it('reduces a broadcast gradient to the input shape ([2,3] + [3], [2,1] * [3])', () => {
    const a = leaf([[1, 2, 3], [4, 5, 6]]);
    const b = leaf([10, 20, 30]);
    const c = leaf([[2], [3]]);
    a.add(b).mul(c).sum().backward();
    expect(b.grad!.shape).toEqual([3]);
    expect(values(b.grad)).toEqual([5, 5, 5]); // sum over rows of c
    expect(c.grad!.shape).toEqual([2, 1]);
    expect(values(c.grad)).toEqual([6 + 60, 15 + 60]);
    expect(values(sg.reduceToShape(sg.ones([2, 3, 4], f64), [3, 1]))).toEqual([8, 8, 8]);
  });

  it('casts the gradient to each input dtype (float32 + float64)', () => {
    const a = sg.tensor([1, 2], { requiresGrad: true });
    const b = leaf([3, 4]);
    const y = a.mul(b);
    expect(y.dtype).toBe('float64');
    y.sum().backward();
    expect(a.grad!.dtype).toBe('float32');
    expect(values(a.grad)).toEqual([3, 4]);
    expect(b.grad!.dtype).toBe('float64');
  });
});

describe('retainGrad, hooks, detach, noGrad', () => {
  it('retainGrad keeps an intermediate gradient; others stay null', () => {
    const x = leaf([1, 2]);
    const h = x.mul(2);
    const k = h.add(1);
    h.retainGrad();
    k.mul(k).sum().backward(); // d/dh = 2k
    expect(values(h.grad)).toEqual([6, 10]);
    expect(k.grad).toBeNull();
    expect(values(x.grad)).toEqual([12, 20]);
  });

  it('a leaf hook reads the gradient, can replace it, and remove() stops it', () => {
    const x = leaf([1, 2]);
    const seen: number[][] = [];
    const read = x.registerHook((g) => void seen.push(values(g)));
    const double = x.registerHook((g) => g.mul(2));
    x.mul(3).sum().backward();
    expect(seen).toEqual([[3, 3]]);
    expect(values(x.grad)).toEqual([6, 6]);
    read.remove();
    double.remove();
    x.grad = null;
    x.mul(3).sum().backward();
    expect(seen).toHaveLength(1);
    expect(values(x.grad)).toEqual([3, 3]);
  });

  it('an intermediate hook changes what flows further back', () => {
    const x = leaf([1, 2]);
    const h = x.mul(x);
    const seen: number[][] = [];
    const handle = h.registerHook((g) => {
      seen.push(values(g));
      return g.mul(2);
    });
    h.mul(5).sum().backward();
    expect(seen).toEqual([[5, 5]]);
    expect(values(x.grad)).toEqual([2 * 5 * 2 * 1, 2 * 5 * 2 * 2]);
    handle.remove();
    x.grad = null;
    const h2 = x.mul(x);
    h2.mul(5).sum().backward();
    expect(values(x.grad)).toEqual([10, 20]);
  });

  it('a hook that returns the wrong shape is rejected', () => {
    const x = leaf([1, 2]);
    x.registerHook(() => sg.zeros([3], f64));
    expect(() => x.sum().backward()).toThrow('hook: a gradient hook must return undefined or a tensor of shape [2]');
  });

  it('detach() shares storage but cuts the graph', () => {
    const x = leaf([1, 2]);
    const d = x.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    const y = x.mul(d).sum(); // d is a constant here
    y.backward();
    expect(values(x.grad)).toEqual([2, 4]);
    const shared = x.detach();
    shared.data[0] = 7;
    expect(x.data[0]).toBe(7);
  });

  it('noGrad records nothing; enableGrad turns recording back on inside it', () => {
    const x = leaf([1, 2]);
    const y = sg.noGrad(() => x.mul(2).exp());
    expect(y.gradFn).toBeNull();
    expect(y.requiresGrad).toBe(false);
    expect(sg.isGradEnabled()).toBe(true);
    const z = sg.noGrad(() => sg.enableGrad(() => x.mul(2)));
    expect(z.gradFn).not.toBeNull();
  });

  it('requiresGrad_() turns gradients on in place and returns the tensor', () => {
    const x = sg.tensor([1, 2], f64);
    expect(x.requiresGrad).toBe(false);
    expect(x.requiresGrad_()).toBe(x);
    expect(x.requiresGrad).toBe(true);
    x.mul(4).sum().backward();
    expect(values(x.grad)).toEqual([4, 4]);
    expect(() => x.mul(2).requiresGrad_(false)).toThrow('requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()');
  });
});

describe('graph release', () => {
  it('a second backward through a freed graph throws; retainGraph allows it', () => {
    const x = leaf([1, 2]);
    const y = x.mul(x).sum();
    y.backward();
    expect(() => y.backward()).toThrow(
      /trying to backward through the graph a second time .*Pass \{retainGraph: true\} to the first backward\(\)/,
    );
    x.grad = null;
    const z = x.mul(x).sum();
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect(values(x.grad)).toEqual([4, 8]);
  });

  it('a user op reading savedTensors after release gets the same clear error', () => {
    const ctxs: sg.Context[] = [];
    const keep = sg.defineOp({
      name: 'keep',
      forward(ctx, a: Tensor) {
        ctx.saveForBackward(a);
        ctxs.push(ctx);
        return a.mul(1);
      },
      backward: (ctx, g) => [g.mul(ctx.savedTensors.length)],
    });
    keep(leaf([1])).sum().backward();
    expect(() => ctxs[0].savedTensors).toThrow('keep: trying to backward through the graph a second time');
  });
});

describe('defineOp user ops', () => {
  // cubeMix(a, b) = a^3 * b, counting the backward work done for each input.
  const calls = { forward: 0, gradA: 0, gradB: 0 };
  const cubeMix = sg.defineOp({
    name: 'cubeMix',
    forward(ctx, a: Tensor, b: Tensor) {
      calls.forward++;
      ctx.saveForBackward(a, b);
      return a.mul(a).mul(a).mul(b);
    },
    backward(ctx, g) {
      const [a, b] = ctx.savedTensors;
      const ga = ctx.needsInputGrad[0] ? (calls.gradA++, g.mul(a).mul(a).mul(b).mul(3)) : null;
      const gb = ctx.needsInputGrad[1] ? (calls.gradB++, g.mul(a).mul(a).mul(a)) : null;
      return [ga, gb];
    },
  });
  const reset = () => Object.assign(calls, { forward: 0, gradA: 0, gradB: 0 });

  it('computes gradients for both inputs', () => {
    reset();
    const a = leaf([2, -1]);
    const b = leaf([3, 4]);
    cubeMix(a, b).sum().backward();
    expect(values(a.grad)).toEqual([3 * 4 * 3, 3 * 1 * 4]);
    expect(values(b.grad)).toEqual([8, -1]);
    expect(calls).toEqual({ forward: 1, gradA: 1, gradB: 1 });
    expect(sg.gradcheck((p, q) => cubeMix(p, q), [leaf([0.7, -1.3]), leaf([0.4, 2])]).ok).toBe(true);
  });

  it('skips the work for an input with needsInputGrad false', () => {
    reset();
    const a = leaf([2, -1]);
    const b = sg.tensor([3, 4], f64); // constant
    cubeMix(a, b).sum().backward();
    expect(calls).toEqual({ forward: 1, gradA: 1, gradB: 0 });
    expect(b.grad).toBeNull();
  });

  it('records no node when no input requires grad, or under noGrad', () => {
    reset();
    const plain = cubeMix(sg.tensor([1], f64), sg.tensor([2], f64));
    const quiet = sg.noGrad(() => cubeMix(leaf([1]), leaf([2])));
    expect([plain.gradFn, quiet.gradFn]).toEqual([null, null]);
    expect(calls.forward).toBe(2);
  });

  it('the gradFn is named after the op (built-in ops too)', () => {
    expect(cubeMix(leaf([1]), leaf([1])).gradFn!.name).toBe('cubeMix');
    const x = leaf([[1, 2], [3, 4]]);
    const names = [x.min(), x.min(0), x.max(), x.max(1), x.sum(), x.matmul(x)].map((t) => t.gradFn!.name);
    expect(names).toEqual(['min', 'min', 'max', 'max', 'sum', 'matmul']);
  });
});

describe('dtypes', () => {
  it('int32 tensors cannot require grad', () => {
    expect(() => sg.tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow(
      'requiresGrad: only float tensors can require gradients, this one is int32',
    );
    expect(() => sg.arange(3).requiresGrad_()).toThrow('only float tensors can require gradients');
  });

  it('promotes like PyTorch', () => {
    const i = sg.tensor([3, 4], { dtype: 'int32' });
    const cases: [Tensor, string, number[]][] = [
      [sg.tensor([1, 2]).add(sg.tensor([0.5, 0.25], f64)), 'float64', [1.5, 2.25]],
      [i.add(1.5), 'float32', [4.5, 5.5]],
      [i.add(2), 'int32', [5, 6]],
      [i.add(i), 'int32', [6, 8]],
      [i.div(sg.tensor([2, 8], { dtype: 'int32' })), 'float32', [1.5, 0.5]],
      [i.mul(sg.tensor([0.5, 0.5])), 'float32', [1.5, 2]],
      [i.mean(), 'float32', [3.5]],
      [i.exp().log(), 'float32', [3, 4]],
    ];
    for (const [t, dtype, expected] of cases) {
      expect(t.dtype).toBe(dtype);
      values(t).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
    }
  });
});

describe('random', () => {
  it('manualSeed makes rand, randn and randint reproducible', () => {
    const draw = () => [sg.rand([5]), sg.randn([5]), sg.randint(0, 10, [5])].map(values);
    sg.manualSeed(42);
    const first = draw();
    sg.manualSeed(42);
    expect(draw()).toEqual(first);
    sg.manualSeed(43);
    expect(draw()).not.toEqual(first);
    const [u, , k] = first;
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(k.every((v) => Number.isInteger(v) && v >= 0 && v < 10)).toBe(true);
  });

  it('Generator getState/setState resumes the same stream (including a pending normal)', () => {
    const gen = new sg.Generator(7);
    gen.normal(); // leaves a Box–Muller spare in the state
    const state = gen.getState();
    const next = [gen.normal(), gen.normal(), gen.random(), gen.randint(0, 100)];
    const other = new sg.Generator(123);
    other.setState(JSON.parse(JSON.stringify(state)));
    expect([other.normal(), other.normal(), other.random(), other.randint(0, 100)]).toEqual(next);
    const t1 = sg.randn([4], { generator: new sg.Generator(5) });
    const t2 = sg.randn([4], { generator: new sg.Generator(5) });
    expect(values(t1)).toEqual(values(t2));
  });
});
