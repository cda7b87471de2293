// Optimizers and gradient clipping against PyTorch 1.13 (test/fixtures/optim.json, written by
// scripts/fixtures/gen_optim.py), plus stateDict round trips and error messages.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Tensor, tensor } from '../src/index.js';
import { Adam, AdamW, SGD, clipGradNorm, clipGradValue, type Optimizer, type OptimizerStateDict } from '../src/optim/index.js';
import { decode, expectClose, type EncodedTensor, type FixtureCase } from './helpers/fixtures.js';

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/optim.json', import.meta.url)), 'utf8'));
const cases: Record<string, FixtureCase> = fixture.cases;

interface OptimizerMeta {
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, unknown>;
  groups: Record<string, unknown>[] | null;
  steps: number;
}
const optMeta: Record<string, OptimizerMeta> = fixture.meta.optimizers;

const CTORS = { SGD, Adam, AdamW } as const;

/** Builds the case's optimizer: one group, or one group per parameter with its overrides. */
function build(meta: OptimizerMeta, params: Tensor[]): Optimizer {
  const spec = meta.groups === null ? params : params.map((p, i) => ({ params: [p], ...meta.groups![i] }));
  return new CTORS[meta.optimizer](spec as never, meta.options as never) as Optimizer;
}

function setGrads(c: FixtureCase, params: Tensor[], k: number): void {
  params.forEach((p, i) => {
    const g = c[`g${k}_${i}`];
    p.grad = g ? decode(g) : null;
  });
}

// Parameters are float32 and we compute each step in float64 before rounding, where PyTorch rounds
// after every float32 op (and rounds its scalars lr, betas to float32): each stored value may differ
// by a few float32 ulps (~1.2e-7 relative each). rtol 1e-6 allows ~8 ulps; atol 1e-7 covers a value
// that cancels towards 0 and keeps the absolute error of its O(1) operands.
const RTOL = 1e-6;
const ATOL = 1e-7;
// A momentum buffer is a running sum of gradients up to |g| ~ 9 (step 2 scales them by 3) whose
// signs alternate, so an element can cancel to ~0.3 while its rounding error is a few ulps of
// the O(1-10) terms (measured: up to 7e-7; emulating PyTorch's per-op float32 rounding instead
// reproduces its buffers exactly, so this is rounding, not a different update).
const BUFFER_ATOL = 1e-6;

describe('optimizers match torch.optim (5 steps, two parameters, float32)', () => {
  for (const [name, meta] of Object.entries(optMeta)) {
    it(name, () => {
      const c = cases[`opt_${name}`];
      const params = [decode(c.p0_0, true), decode(c.p1_0, true)];
      const opt = build(meta, params);
      for (let k = 0; k < meta.steps; k++) {
        setGrads(c, params, k);
        opt.step();
        params.forEach((p, i) => expectClose(p, c[`p${i}_${k + 1}`], `${name}: p${i} after step ${k + 1}`, RTOL, ATOL));
      }
      // The state PyTorch ends with: momentum buffers, moments, and per-parameter step counts
      // (p1 skipped one step, so its count is 4).
      const sd = opt.stateDict();
      params.forEach((p, i) => {
        const keys = Object.keys(c).filter((k) => k.startsWith(`state${i}_`));
        expect(Object.keys(sd.state[i] ?? {}).sort(), `${name}: state keys of p${i}`).toEqual(keys.map((k) => k.slice(`state${i}_`.length)).sort());
        for (const key of keys) {
          const field = key.slice(`state${i}_`.length);
          const value = sd.state[i][field];
          if (field === 'step') expect(value).toBe(c[key].data[0]);
          else expectClose(new Tensor(value as Float32Array, p.shape), c[key], `${name}: ${field} of p${i}`, RTOL, BUFFER_ATOL);
        }
      });
    });
  }

  it('a parameter without grad is left alone and gets no state', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const opt = new Adam([a, b], { lr: 0.1 });
    a.grad = tensor([1, 1]);
    opt.step();
    expect(Array.from(b.data)).toEqual([3, 4]);
    expect(opt.state.has(b)).toBe(false);
    expect(opt.stateDict().state).toEqual({ 0: expect.any(Object) });
  });

  it('zeroGrad sets grads to null, or to zeros in place with setToNone = false', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1 });
    p.grad = tensor([5, 6]);
    const g = p.grad;
    opt.zeroGrad(false);
    expect(p.grad).toBe(g);
    expect(Array.from(g.data)).toEqual([0, 0]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });

  it('trains through autograd: SGD with momentum minimises a quadratic', () => {
    const w = tensor([3, -2], { requiresGrad: true, dtype: 'float64' });
    const opt = new SGD([w], { lr: 0.1, momentum: 0.5 });
    for (let i = 0; i < 60; i++) {
      opt.zeroGrad();
      const loss = opt.step(() => {
        const l = w.sub(tensor([1, 1], { dtype: 'float64' })).pow(2).sum();
        l.backward();
        return l;
      });
      expect(typeof loss).toBe('number');
    }
    expect(w.data[0]).toBeCloseTo(1, 6);
    expect(w.data[1]).toBeCloseTo(1, 6);
  });

  it('addParamGroup fills missing hyper-parameters from the defaults', () => {
    const opt = new SGD([tensor([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
    opt.addParamGroup({ params: [tensor([2], { requiresGrad: true })], lr: 0.01 });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false });
  });
});

describe('stateDict', () => {
  // Runs `total` steps of the case's gradients, optionally stopping after `cut` to save the state
  // through JSON and continue on fresh parameters and a fresh optimizer.
  function run(name: string, cut: number | null): Tensor[] {
    const meta = optMeta[name];
    const c = cases[`opt_${name}`];
    let params = [decode(c.p0_0, true), decode(c.p1_0, true)];
    let opt = build(meta, params);
    for (let k = 0; k < meta.steps; k++) {
      if (k === cut) {
        const saved = JSON.parse(JSON.stringify(opt.stateDict())) as OptimizerStateDict;
        params = params.map((p) => tensor(Float32Array.from(p.data), { shape: [...p.shape], requiresGrad: true }));
        opt = build(meta, params);
        opt.loadStateDict(saved);
      }
      setGrads(c, params, k);
      opt.step();
    }
    return params;
  }

  for (const name of ['sgd_nesterov', 'sgd_groups', 'adam_amsgrad', 'adam_groups', 'adamw']) {
    it(`${name}: continuing from a loaded state is bit-identical to an uninterrupted run`, () => {
      const straight = run(name, null);
      for (const cut of [1, 3]) {
        const resumed = run(name, cut);
        resumed.forEach((p, i) => expect(Array.from(p.data), `p${i}, cut at ${cut}`).toEqual(Array.from(straight[i].data)));
      }
    });
  }

  it('is JSON: buffers become plain arrays, hyper-parameters and indices survive', () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new Adam([p], { lr: 0.1, betas: [0.8, 0.9] });
    p.grad = tensor([0.5, -1, 2]);
    opt.step();
    const json = JSON.parse(JSON.stringify(opt.stateDict()));
    expect(json.paramGroups).toEqual([{ lr: 0.1, betas: [0.8, 0.9], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [0] }]);
    expect(json.state[0].step).toBe(1);
    expect(json.state[0].expAvg).toEqual(Array.from(opt.state.get(p)!.expAvg as Float32Array));
    // The live state is a copy: stepping again does not change a saved dict.
    const sd = opt.stateDict();
    opt.step();
    expect(sd.state[0].step).toBe(1);
  });

  it('loadStateDict restores hyper-parameters (a scheduler changed lr)', () => {
    const p = tensor([1], { requiresGrad: true });
    const a = new SGD([p], { lr: 0.1, momentum: 0.9 });
    a.paramGroups[0].lr = 0.025;
    const b = new SGD([tensor([1], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
    b.loadStateDict(a.stateDict());
    expect(b.paramGroups[0].lr).toBe(0.025);
  });

  it('loadStateDict rejects mismatched groups, sizes and state, changing nothing', () => {
    const mk = () => [tensor([1, 2, 3], { requiresGrad: true }), tensor([4], { requiresGrad: true })];
    const src = new SGD(mk(), { lr: 0.1, momentum: 0.9 });
    src.paramGroups[0].params.forEach((p) => (p.grad = tensor(new Float32Array(p.size).fill(1), { shape: [...p.shape] })));
    src.step();
    const sd = JSON.parse(JSON.stringify(src.stateDict()));

    const [a, b] = mk();
    const twoGroups = new SGD([{ params: [a] }, { params: [b] }], { lr: 0.1, momentum: 0.9 });
    expect(() => twoGroups.loadStateDict(sd)).toThrow('SGD.loadStateDict: the state dict has 1 parameter groups, the optimizer has 2');

    const oneParam = new SGD([tensor([1, 2, 3], { requiresGrad: true })], { lr: 0.1 });
    expect(() => oneParam.loadStateDict(sd)).toThrow('SGD.loadStateDict: parameter group 0 holds 2 parameters in the state dict and 1 in the optimizer');

    const [c, d] = [tensor([1, 2], { requiresGrad: true }), tensor([4], { requiresGrad: true })];
    const wrongShape = new SGD([c, d], { lr: 0.5 });
    expect(() => wrongShape.loadStateDict(sd)).toThrow('SGD.loadStateDict: parameter 0: momentumBuffer has 3 elements, the parameter has shape [2] (2 elements)');
    expect(wrongShape.paramGroups[0].lr).toBe(0.5);
    expect(wrongShape.state.size).toBe(0);

    const adam = new Adam(mk());
    expect(() => adam.loadStateDict(sd)).toThrow("Adam.loadStateDict: parameter 0: unknown state 'momentumBuffer' (Adam keeps step, expAvg, expAvgSq, maxExpAvgSq)");
    expect(() => adam.loadStateDict({ paramGroups: [] } as never)).toThrow('Adam.loadStateDict: expected {state, paramGroups}');
  });
});

describe('validation errors', () => {
  const p = () => tensor([1, 2], { requiresGrad: true });
  it('SGD', () => {
    expect(() => new SGD([p()], { lr: -0.1 })).toThrow('SGD: invalid learning rate -0.1 (must be >= 0)');
    expect(() => new SGD([p()], { lr: 0.1, momentum: -1 })).toThrow('SGD: invalid momentum value -1 (must be >= 0)');
    expect(() => new SGD([p()], { lr: 0.1, weightDecay: -1 })).toThrow('SGD: invalid weightDecay value -1');
    expect(() => new SGD([p()], { lr: 0.1, nesterov: true })).toThrow('SGD: nesterov momentum requires a momentum and zero dampening, got momentum 0 and dampening 0');
    expect(() => new SGD([p()], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow('SGD: nesterov momentum requires a momentum and zero dampening');
    expect(() => new SGD([p()])).toThrow("SGD: parameter group 0 didn't specify a value of the required hyper-parameter lr");
    expect(() => new SGD([{ params: [p()], lr: 0.1 }, { params: [p()], lr: Number.NaN }])).toThrow('SGD: invalid learning rate NaN');
  });
  it('Adam and AdamW', () => {
    expect(() => new Adam([p()], { betas: [1, 0.999] })).toThrow('Adam: invalid beta parameter at index 0: 1 (must be in [0, 1))');
    expect(() => new AdamW([p()], { betas: [0.9, -0.1] })).toThrow('AdamW: invalid beta parameter at index 1: -0.1');
    expect(() => new Adam([p()], { eps: -1 })).toThrow('Adam: invalid epsilon value -1');
    expect(() => new AdamW([p()], { lr: -1 })).toThrow('AdamW: invalid learning rate -1');
  });
  it('parameters', () => {
    expect(() => new SGD([], { lr: 0.1 })).toThrow('SGD: got an empty parameter list');
    const leaf = p();
    expect(() => new SGD([leaf.mul(2)], { lr: 0.1 })).toThrow("SGD: can't optimize a non-leaf tensor (parameter 0 of group 0, shape [2])");
    expect(() => new Adam([leaf, leaf])).toThrow('Adam: parameter 1 of group 0, shape [2] appears twice in its group');
    expect(() => new Adam([{ params: [leaf] }, { params: [p(), leaf] }])).toThrow('Adam: parameter 1 of group 1, shape [2] is already in group 0');
    expect(() => new SGD([tensor([1, 2], { dtype: 'int32' })], { lr: 0.1 })).toThrow('SGD: can only optimize float tensors (parameter 0 of group 0, shape [2] is int32)');
    expect(() => new SGD([[1, 2]] as never, { lr: 0.1 })).toThrow('SGD: parameter group 0 must be an object {params, …}, got an array of length 2');
    expect(() => new SGD(5 as never, { lr: 0.1 })).toThrow('SGD: params must be an array of Tensors or of parameter groups, got number 5');
  });
  it('a grad of the wrong size', () => {
    const q = p();
    const opt = new SGD([q], { lr: 0.1 });
    q.grad = tensor([1, 2, 3]);
    expect(() => opt.step()).toThrow('SGD.step: the grad of parameter 0 of group 0 has shape [3], the parameter has shape [2]');
  });
});

describe('clipGradNorm / clipGradValue match torch.nn.utils', () => {
  const clipMeta: Record<string, { normType?: number | 'inf'; maxNorm?: number; clipValue?: number }> = fixture.meta.clip;
  for (const [name, meta] of Object.entries(clipMeta)) {
    it(name, () => {
      const c = cases[`clip_${name}`];
      const params = [0, 1, 2].map((i) => {
        const t = tensor(new Float32Array(c[`g${i}`].data.length), { shape: c[`g${i}`].shape, requiresGrad: true });
        t.grad = decode(c[`g${i}`]);
        return t;
      });
      if (meta.clipValue !== undefined) {
        clipGradValue(params, meta.clipValue);
      } else {
        const normType = meta.normType === 'inf' ? Infinity : meta.normType!;
        const total = clipGradNorm(params, meta.maxNorm!, normType);
        // PyTorch returns its float32 norm, accumulated in float32 over 28 values; ours is float64.
        expectClose(tensor([total]), c.total as EncodedTensor, `${name}: total norm`, 1e-6, 0);
      }
      params.forEach((p, i) => expectClose(p.grad, c[`c${i}`], `${name}: clipped grad ${i}`, 1e-6, 1e-7));
    });
  }

  it('skips null grads, accepts one tensor, and returns 0 when there are no grads', () => {
    const a = tensor([3, 4], { requiresGrad: true });
    const b = tensor([1], { requiresGrad: true });
    expect(clipGradNorm([a, b], 1)).toBe(0);
    a.grad = tensor([3, 4], { dtype: 'float64' });
    expect(clipGradNorm(a, 1)).toBe(5);
    // PyTorch's coefficient: maxNorm / (total + 1e-6).
    expect(Array.from(a.grad.data)).toEqual([3 * (1 / (5 + 1e-6)), 4 * (1 / (5 + 1e-6))]);
  });

  it('non-finite norms: an error on request, else scaled by it as PyTorch does', () => {
    const a = tensor([1, 1], { requiresGrad: true });
    a.grad = tensor([Number.NaN, 1]);
    expect(() => clipGradNorm([a], 1, 2, { errorIfNonfinite: true })).toThrow('clipGradNorm: the total norm of order 2 for gradients is NaN, so it cannot be clipped');
    a.grad = tensor([Infinity, 2]);
    expect(() => clipGradNorm([a], 1, Infinity, { errorIfNonfinite: true })).toThrow('clipGradNorm: the total norm of order Infinity for gradients is Infinity');
    expect(clipGradNorm([a], 1)).toBe(Infinity);
    expect(Array.from(a.grad.data)).toEqual([Number.NaN, 0]);
    expect(() => clipGradNorm([a], 1, 0)).toThrow('clipGradNorm: normType must be positive or Infinity, got 0');
    expect(() => clipGradValue([a], -1)).toThrow('clipGradValue: clipValue must be >= 0, got -1');
  });
});
