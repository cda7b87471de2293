// `.grad` takes a gradient without copying it only when nothing else can reach that storage
// (engine.ts markOwned). Each case here would alias two tensors if the rule were looser: a
// later in-place change to `.grad` (a second backward, an optimizer, clipping) must never show
// through another tensor.

import { describe, expect, it } from 'vitest';
import { Tensor, defineOp, tensor } from '../src/index.js';

const values = (t: Tensor | null | undefined) => Array.from(t!.data);

describe('gradient ownership', () => {
  it('gives a parameter its own storage when an op returns one gradient for two inputs (add)', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    a.add(b).sum().backward();
    expect(a.grad!.data).not.toBe(b.grad!.data);
    a.grad!.data[0] = 100;
    expect(values(b.grad)).toEqual([1, 1]);
  });

  it('does not alias .grad with a retained intermediate gradient (identity-like backward)', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.reshape([3, 1]);
    y.retainGrad();
    y.mul(tensor([[2], [3], [4]])).sum().backward();
    expect(values(x.grad)).toEqual([2, 3, 4]);
    x.grad!.data[1] = -1;
    expect(values(y.grad)).toEqual([2, 3, 4]);
  });

  it('copies what a leaf hook saw, so the hook keeps the value it was given', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const seen: Tensor[] = [];
    x.registerHook((g) => void seen.push(g));
    x.mul(tensor([5, 6])).sum().backward();
    x.mul(tensor([5, 6])).sum().backward(); // accumulates in place into x.grad
    expect(values(x.grad)).toEqual([10, 12]);
    expect(values(seen[0])).toEqual([5, 6]);
    expect(values(seen[1])).toEqual([5, 6]);
  });

  it('copies a gradient that is a saved tensor or a view of one (custom op)', () => {
    const passSaved = defineOp({
      name: 'passSaved',
      forward(ctx, a: Tensor, w: Tensor) {
        ctx.saveForBackward(w);
        return a.mul(w);
      },
      backward(ctx, g) {
        const [w] = ctx.savedTensors;
        return [new Tensor(w.data, w.shape), null]; // a fresh tensor on a saved tensor's storage
      },
    });
    const w = tensor([7, 8]);
    const a = tensor([1, 1], { requiresGrad: true });
    passSaved(a, w).sum().backward();
    expect(a.grad!.data).not.toBe(w.data);
    a.mul(tensor([1, 1])).sum().backward();
    expect(values(a.grad)).toEqual([8, 9]);
    expect(values(w)).toEqual([7, 8]);
  });

  it('copies a gradient built on storage kept in ctx.state (custom op)', () => {
    const fromState = defineOp({
      name: 'fromState',
      forward(ctx, a: Tensor) {
        ctx.state.buf = new Float32Array([3, 4]);
        return a.mul(tensor([1, 1]));
      },
      backward(ctx) {
        return [new Tensor(ctx.state.buf as Float32Array, [2])];
      },
    });
    const a = tensor([1, 1], { requiresGrad: true });
    const out = fromState(a);
    const kept = (out.gradFn as unknown as { ctx: { state: { buf: Float32Array } } }).ctx.state.buf;
    out.sum().backward();
    expect(a.grad!.data).not.toBe(kept);
    expect(values(a.grad)).toEqual([3, 4]);
  });

  it('sums over repeated backward calls and over two uses of one input', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).sum().backward();
    expect(values(x.grad)).toEqual([2, 4, 6]);
    x.mul(tensor([1, 1, 1])).sum().backward();
    expect(values(x.grad)).toEqual([3, 5, 7]);
  });
});
