// Module hooks (forward pre-hooks, forward hooks, full backward hooks) and tensor hooks, with
// PyTorch's semantics: order, shapes, replacing values, and removal leaving no trace in the graph.

import { describe, expect, it } from 'vitest';
import { Tensor, noGrad, tensor } from '../src/index.js';
import { Identity, Linear, Module, ReLU, Sequential } from '../src/nn/index.js';

const values = (t: Tensor | null) => Array.from(t!.data);

/** Linear(3, 2) with fixed weights: y = x Wᵀ + b. */
function fixedLinear(): Linear {
  const lin = new Linear(3, 2);
  lin.weight.data.set([1, 2, 3, -1, 0, 1]);
  lin.bias!.data.set([0.5, -0.5]);
  return lin;
}

const X = () => tensor([[1, 2, 3], [0, -1, 2]], { requiresGrad: true });
// loss = Σ y ⊙ G, so ∂L/∂y = G and ∂L/∂x = G W.
const G = () => tensor([[1, 10], [100, 1000]]);
const GW = [1 - 10, 2, 3 + 10, 100 - 1000, 200, 300 + 1000];

/** Every node reachable from `t` backwards. */
function graphNodes(t: Tensor): number {
  const seen = new Set<unknown>();
  const stack = [t.gradFn];
  while (stack.length) {
    const n = stack.pop();
    if (!n || seen.has(n)) continue;
    seen.add(n);
    for (const e of n.edges) if (e?.node) stack.push(e.node);
  }
  return seen.size;
}

describe('full backward hooks', () => {
  it('fire after the forward hooks, once, with gradInput and gradOutput of the right shapes and values', () => {
    const lin = fixedLinear();
    const order: string[] = [];
    let gin: (Tensor | null)[] = [];
    let gout: (Tensor | null)[] = [];
    lin.registerForwardPreHook(() => void order.push('pre'));
    lin.registerForwardHook(() => void order.push('forward'));
    lin.registerFullBackwardHook((m, gradInput, gradOutput) => {
      expect(m).toBe(lin);
      order.push('backward');
      gin = gradInput;
      gout = gradOutput;
    });
    const x = X();
    const y = lin.call(x);
    expect(order).toEqual(['pre', 'forward']);
    y.mul(G()).sum().backward();
    expect(order).toEqual(['pre', 'forward', 'backward']);
    expect(gin).toHaveLength(1);
    expect(gout).toHaveLength(1);
    expect(gin[0]!.shape).toEqual([2, 3]);
    expect(gout[0]!.shape).toEqual([2, 2]);
    expect(values(gout[0])).toEqual([1, 10, 100, 1000]);
    expect(values(gin[0])).toEqual(GW);
    expect(values(x.grad)).toEqual(GW);
  });

  it('a returned gradInput replaces the input gradient; parameter gradients are untouched', () => {
    const plain = fixedLinear();
    plain.call(X()).mul(G()).sum().backward();
    const lin = fixedLinear();
    lin.registerFullBackwardHook((_m, gin) => [gin[0]!.mul(-2)]);
    const x = X();
    lin.call(x).mul(G()).sum().backward();
    expect(values(x.grad)).toEqual(GW.map((v) => -2 * v));
    expect(values(lin.weight.grad)).toEqual(values(plain.weight.grad));
    expect(values(lin.bias!.grad)).toEqual(values(plain.bias!.grad));
  });

  it('several hooks run in registration order, each seeing the previous replacement', () => {
    const lin = fixedLinear();
    const seen: number[] = [];
    lin.registerFullBackwardHook((_m, gin) => [gin[0]!.add(1)]);
    lin.registerFullBackwardHook((_m, gin) => void seen.push(gin[0]!.data[0]));
    const x = X();
    lin.call(x).mul(G()).sum().backward();
    expect(seen).toEqual([GW[0] + 1]);
    expect(values(x.grad)).toEqual(GW.map((v) => v + 1));
  });

  it('see replaced inputs and outputs: a pre-hook input and a forward-hook output are what gets wrapped', () => {
    const relu = new ReLU();
    let gin: (Tensor | null)[] = [];
    let gout: (Tensor | null)[] = [];
    relu.registerForwardPreHook((_m, args) => (args[0] as Tensor).mul(2)); // relu(2x)
    relu.registerForwardHook((_m, _args, out) => (out as Tensor).mul(3)); // 3·relu(2x)
    relu.registerFullBackwardHook((_m, a, b) => void ((gin = a), (gout = b)));
    const x = tensor([-1, 1, 2], { requiresGrad: true });
    const y = relu.call(x);
    expect(values(y)).toEqual([0, 6, 12]);
    y.mul(tensor([1, 2, 3])).sum().backward();
    expect(values(gout[0])).toEqual([1, 2, 3]); // w.r.t. the replaced output 3·relu(2x)
    expect(values(gin[0])).toEqual([0, 2 * 3, 3 * 3]); // w.r.t. the replaced input u = 2x: 3·relu'(u)·g
    expect(values(x.grad)).toEqual([0, 12, 18]); // and 2 more from u = 2x
  });

  it('gradInput has one entry per argument: null for non-tensors, inputs without grad and unused inputs', () => {
    class Mix extends Module {
      forward(a: Tensor, b: Tensor, k: number, unused: Tensor, c: Tensor): Tensor {
        void unused;
        return a.mul(b).mul(k).add(c);
      }
    }
    const m = new Mix();
    let gin: (Tensor | null)[] = [];
    m.registerFullBackwardHook((_m, a) => void (gin = a));
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const unused = tensor([0, 0], { requiresGrad: true });
    const c = tensor([5, 6]); // no grad
    m.call(a, b, 10, unused, c).sum().backward();
    expect(gin).toHaveLength(5);
    expect(values(gin[0])).toEqual([30, 40]);
    expect(values(gin[1])).toEqual([10, 20]);
    expect(gin.slice(2)).toEqual([null, null, null]);
    expect(unused.grad).toBeNull();
  });

  it('fire with gradInput all null when no input needs a gradient (a first layer)', () => {
    const lin = fixedLinear();
    const calls: [(Tensor | null)[], (Tensor | null)[]][] = [];
    lin.registerFullBackwardHook((_m, gin, gout) => void calls.push([gin, gout]));
    lin.call(tensor([[1, 2, 3], [0, -1, 2]])).mul(G()).sum().backward();
    expect(calls).toHaveLength(1);
    expect(calls[0][0]).toEqual([null]);
    expect(values(calls[0][1][0])).toEqual([1, 10, 100, 1000]);
    expect(lin.weight.grad).not.toBeNull();
  });

  it('wait for every use of an input inside the module, and nest outside-in in forward, inside-out in backward', () => {
    class Twice extends Module {
      inner = new Identity();
      forward(x: Tensor): Tensor {
        return this.inner.call(x).mul(x); // x used twice: ∂(x²)/∂x = 2x
      }
    }
    const twice = new Twice();
    const net = new Sequential(twice, new ReLU());
    const order: string[] = [];
    let gin: Tensor | null = null;
    twice.registerFullBackwardHook((_m, g) => void (order.push('twice'), (gin = g[0])));
    twice.inner.registerFullBackwardHook(() => void order.push('inner'));
    net.at(1).registerFullBackwardHook(() => void order.push('relu'));
    net.registerFullBackwardHook(() => void order.push('net'));
    const x = tensor([1, -2, 3], { requiresGrad: true });
    net.call(x).sum().backward();
    expect(order).toEqual(['relu', 'inner', 'twice', 'net']);
    expect(values(gin)).toEqual([2, -4, 6]);
  });

  it('rejects a replacement of the wrong length or shape, naming the module and the shapes', () => {
    const lin = fixedLinear();
    const h = lin.registerFullBackwardHook(() => [null, null]);
    expect(() => lin.call(X()).sum().backward()).toThrow(
      'full backward hook of Linear: must return undefined or an array of 1 gradients (one per input), got 2 entries',
    );
    h.remove();
    lin.registerFullBackwardHook(() => [tensor([1, 2])]);
    expect(() => lin.call(X()).sum().backward()).toThrow(
      'full backward hook of Linear: gradInput[0] must be null or a tensor of shape [2,3], got shape [2]',
    );
  });

  it('fire again on a second backward with retainGraph, with that backward’s gradients', () => {
    const lin = fixedLinear();
    const seen: number[][] = [];
    lin.registerFullBackwardHook((_m, _gin, gout) => void seen.push(values(gout[0])));
    const y = lin.call(X());
    y.sum().backward(undefined, { retainGraph: true });
    y.mul(2).sum().backward();
    expect(seen).toEqual([[1, 1, 1, 1], [2, 2, 2, 2]]);
  });

  it('removing the hook leaves no trace: same graph as never hooked, hook not called', () => {
    const lin = fixedLinear();
    const baseline = graphNodes(lin.call(X()).sum());
    let calls = 0;
    const h = lin.registerFullBackwardHook(() => void calls++);
    const hooked = lin.call(X()).sum();
    expect(graphNodes(hooked)).toBeGreaterThan(baseline); // the taps are real graph nodes
    h.remove();
    const x = X();
    const loss = lin.call(x).sum();
    expect(graphNodes(loss)).toBe(baseline);
    loss.backward();
    expect(calls).toBe(0);
    expect(values(x.grad)).toEqual([0, 2, 4, 0, 2, 4]); // column sums of W
  });

  it('that were registered when the module ran are the ones that fire (PyTorch keeps the list of the call)', () => {
    const lin = fixedLinear();
    const fired: string[] = [];
    const early = lin.registerFullBackwardHook(() => void fired.push('early'));
    const y = lin.call(X());
    early.remove();
    lin.registerFullBackwardHook(() => void fired.push('late'));
    y.sum().backward();
    expect(fired).toEqual(['early']);
  });

  it('add nothing when grad recording is off', () => {
    const lin = fixedLinear();
    let calls = 0;
    lin.registerFullBackwardHook(() => void calls++);
    const y = noGrad(() => lin.call(X()));
    expect(y.requiresGrad).toBe(false);
    expect(calls).toBe(0);
  });
});

describe('tensor hooks on module outputs', () => {
  it('registerHook reads and replaces the gradient at a layer output; remove() restores it', () => {
    const lin = fixedLinear();
    const x = X();
    const y = lin.call(x);
    const seen: number[][] = [];
    const h = y.registerHook((g) => {
      seen.push(values(g));
      return g.mul(0);
    });
    y.mul(G()).sum().backward();
    expect(seen).toEqual([[1, 10, 100, 1000]]);
    expect(values(x.grad)).toEqual([0, 0, 0, 0, 0, 0]);
    h.remove();
    const x2 = X();
    const y2 = lin.call(x2);
    y2.mul(G()).sum().backward();
    expect(values(x2.grad)).toEqual(GW);
  });

  it('retainGrad keeps a hooked module output’s gradient', () => {
    const lin = fixedLinear();
    lin.registerFullBackwardHook(() => undefined);
    const y = lin.call(X());
    y.retainGrad();
    y.mul(G()).sum().backward();
    expect(values(y.grad)).toEqual([1, 10, 100, 1000]);
  });
});
