// Issue 11's ops at the edges, against PyTorch (fixture: scripts/fixtures/gen_nn2.py →
// test/fixtures/nn2_edges.json): NaN, ±0, ±Inf, huge and tiny inputs with the gradient for g = 1
// (and for a NaN and an Inf g, where PyTorch's backward selects rather than multiplies);
// empty and 0-d tensors; plus the errors for bad shapes, dtypes and options.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { decode, fixtureInputNames, loadFixture, type EncodedTensor } from './helpers/fixtures.js';

type In = Record<string, Tensor>;
const F = sg.F;

const UNARY = ['sin', 'cos', 'erf', 'sign', 'rsqrt', 'floor', 'ceil', 'round', 'log2', 'log1p', 'expm1'] as const;
const CASES: Record<string, (t: In) => Tensor> = {
  gelu: ({ a }) => F.gelu(a),
  gelu_tanh: ({ a }) => F.gelu(a, { approximate: 'tanh' }),
  silu: ({ a }) => F.silu(a),
  leaky_relu: ({ a }) => F.leakyRelu(a),
  elu: ({ a }) => F.elu(a),
  softplus: ({ a }) => F.softplus(a),
  hardtanh: ({ a }) => F.hardtanh(a),
  relu6: ({ a }) => F.relu6(a),
  hardswish: ({ a }) => F.hardswish(a),
  mish: ({ a }) => F.mish(a),
  logsigmoid: ({ a }) => F.logSigmoid(a),
  bce_at_0_and_1: ({ a, t }) => F.binaryCrossEntropy(a, t, { reduction: 'none' }),
  bcel_inf_logits: ({ a, t }) => F.binaryCrossEntropyWithLogits(a, t, { reduction: 'none' }),
  kl_zero_target: ({ a, t }) => F.klDiv(a, t, { reduction: 'none' }),
  ce_all_ignored: ({ a, t }) => F.crossEntropy(a, t),
  ce_empty_mean: ({ a, t }) => F.crossEntropy(a, t),
  ce_empty_sum: ({ a, t }) => F.crossEntropy(a, t, { reduction: 'sum' }),
  ce_prob_empty_mean: ({ a, t }) => F.crossEntropy(a, t),
  mse_empty_mean: ({ a, t }) => F.mseLoss(a, t),
  l1_empty_sum: ({ a, t }) => F.l1Loss(a, t, { reduction: 'sum' }),
  kl_empty_batchmean: ({ a, t }) => F.klDiv(a, t, { reduction: 'batchmean' }),
  bce_0d: ({ a, t }) => F.binaryCrossEntropy(a, t),
  huber_0d: ({ a, t }) => F.huberLoss(a, t, { reduction: 'none' }),
  kl_0d_batchmean: ({ a, t }) => F.klDiv(a, t, { reduction: 'batchmean' }),
  gelu_0d: ({ a }) => F.gelu(a),
  round_0d: ({ a }) => a.round(),
  // Found by comparing every op with torch at the edges; each was wrong before.
  ce_smooth_ignored_inf_row: ({ a, t }) => F.crossEntropy(a, t, { labelSmoothing: 0.1 }),
  ce_smooth_ignored_none_nan_grad: ({ a, t }) => F.crossEntropy(a, t, { labelSmoothing: 0.1, reduction: 'none' }),
  nll_zero_class_weight: ({ a, t, w }) => F.nllLoss(a, t, { weight: w }),
  nll_zero_class_weight_nan_grad: ({ a, t, w }) => F.nllLoss(a, t, { weight: w, reduction: 'none' }),
  div_tiny_huge_denominator: ({ a, b }) => a.div(b),
  smooth_l1_beta0: ({ a, t }) => F.smoothL1Loss(a, t, { beta: 0, reduction: 'none' }),
  pow_c_rules: ({ a, b }) => a.pow(b),
  pow_c_rules_nan_grad: ({ a, b }) => a.pow(b),
  pow_scalar_0_inf_grad: ({ a }) => a.pow(0),
  pow_scalar_half: ({ a }) => a.pow(0.5),
  pow_scalar_minus_half: ({ a }) => a.pow(-0.5),
  pow_scalar_3_underflow_inf_grad: ({ a }) => a.pow(3),
  prod_inf: ({ a }) => a.prod(),
  prod_nan: ({ a }) => a.prod(),
  prod_dim_inf: ({ a }) => a.prod(1),
  prod_two_zeros_nan_grad: ({ a }) => a.prod(),
  prod_one_zero_dim: ({ a }) => a.prod(0),
  prod_float32_overflow: ({ a }) => a.prod(),
  std_huge: ({ a }) => a.std(),
  std_tiny: ({ a }) => a.std(),
  var_rows_correction_3: ({ a }) => a.var(1, { correction: 3 }),
};
for (const name of UNARY) CASES[name] = ({ a }) => a[name]();
/** Run with a NaN and with an Inf upstream gradient (cases `<name>_nan_grad`, `<name>_inf_grad`). */
const SELECTS: Record<string, (a: Tensor) => Tensor> = {
  relu: (a) => a.relu(),
  relu6: (a) => F.relu6(a),
  hardtanh: (a) => F.hardtanh(a),
  hardswish: (a) => F.hardswish(a),
  leaky_relu: (a) => F.leakyRelu(a),
  elu: (a) => F.elu(a),
  abs: (a) => a.abs(),
  clamp: (a) => a.clamp(-1.5, 2),
  maximum: (a) => sg.maximum(a, sg.zeros(a.shape)),
  minimum: (a) => sg.minimum(a, sg.zeros(a.shape)),
  where: (a) => sg.where(a.gt(0), a, sg.zeros(a.shape)),
};
for (const [name, f] of Object.entries(SELECTS)) for (const g of ['nan', 'inf']) CASES[`${name}_${g}_grad`] = ({ a }) => f(a);

/**
 * Elementwise agreement where NaN must meet NaN and ±Inf the same infinity; finite values as
 * numpy.allclose (rtol 1e-5, atol 1e-6). Float32 rounding of 1e30 makes torch's float32
 * intermediates overflow where skipgrad's float64 ones do not: see KNOWN_DIFFERENCES.
 */
function expectSame(actual: Tensor | null, e: EncodedTensor, what: string, skip: ReadonlySet<number> = new Set()): void {
  expect(actual, `${what}: missing`).not.toBeNull();
  expect(actual!.shape, `${what}: shape`).toEqual(e.shape);
  e.data.forEach((raw, i) => {
    if (skip.has(i)) return;
    const want = Number(raw);
    const got = actual!.data[i];
    const ok = Number.isNaN(want) ? Number.isNaN(got) : !Number.isFinite(want) ? got === want : Math.abs(got - want) <= 1e-6 + 1e-5 * Math.abs(want);
    if (!ok) expect.fail(`${what}: element ${i} is ${got}, PyTorch gives ${want}`);
  });
}

/**
 * Where skipgrad computes in float64 and PyTorch overflows float32 intermediates: tanh-GELU's
 * gradient at ±1e30 (x³ overflows float32 in torch, giving NaN; the true derivative is 1 and 0).
 */
const KNOWN_DIFFERENCES: Record<string, { grad: number[] }> = { gelu_tanh: { grad: [5, 6] } };

const fixture = loadFixture('nn2_edges');

describe('nn2 edges: NaN, ±Inf, ±0, huge/tiny, empty and 0-d, as PyTorch', () => {
  it('the fixture and the case table name the same cases', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(fixture).sort());
  });

  it.each(Object.keys(fixture))('%s', (name) => {
    const c = fixture[name];
    const inputs: In = {};
    for (const k of fixtureInputNames(c)) inputs[k] = decode(c[k], `grad_${k}` in c);
    const out = CASES[name](inputs);
    expectSame(out, c.out, `${name} forward`);
    out.backward(c.g ? decode(c.g) : sg.onesLike(out));
    for (const k of Object.keys(inputs)) {
      if (`grad_${k}` in c) expectSame(inputs[k].grad, c[`grad_${k}`], `${name} grad of ${k}`, new Set(KNOWN_DIFFERENCES[name]?.grad));
    }
  });

  it('tanh-GELU at ±1e30 has the true derivative (1 and 0) where float32 torch gives NaN', () => {
    const x = sg.tensor([1e30, -1e30], { requiresGrad: true });
    F.gelu(x, { approximate: 'tanh' }).sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 0]);
  });

  it('every unary op and activation keeps empty and 0-d shapes, forward and backward', () => {
    const fns: [string, (t: Tensor) => Tensor][] = [
      ...UNARY.map((n) => [n, (t: Tensor) => t[n]()] as [string, (t: Tensor) => Tensor]),
      ...(['gelu', 'silu', 'leakyRelu', 'elu', 'softplus', 'hardtanh', 'relu6', 'hardswish', 'mish', 'logSigmoid'] as const).map(
        (n) => [n, (t: Tensor) => (F[n] as (x: Tensor) => Tensor)(t)] as [string, (t: Tensor) => Tensor],
      ),
    ];
    for (const [name, f] of fns) {
      for (const shape of [[0], [2, 0, 3], []]) {
        const x = sg.full(shape, 0.25, { requiresGrad: true });
        const y = f(x);
        expect(y.shape, `${name} ${JSON.stringify(shape)}`).toEqual(shape);
        y.sum().backward();
        expect(x.grad!.shape).toEqual(shape);
      }
    }
  });

  it('int32 inputs: step functions and hardtanh keep int32, math gives float32, other activations refuse', () => {
    const i = sg.tensor([3, -2, 0], { dtype: 'int32' });
    for (const t of [i.sign(), i.floor(), i.ceil(), i.round(), F.hardtanh(i, -1.5, 2.5), F.relu6(i)]) expect(t.dtype).toBe('int32');
    expect(Array.from(F.hardtanh(i, -1.5, 2.5).data)).toEqual([2, -1, 0]); // as torch: the bounds truncate toward 0
    expect(Array.from(i.sign().data)).toEqual([1, -1, 0]);
    for (const t of [i.sin(), i.erf(), i.rsqrt(), i.log1p()]) expect(t.dtype).toBe('float32');
    expect(() => F.gelu(i)).toThrow('gelu: expected a floating-point tensor, got int32');
    expect(() => F.silu(i)).toThrow('silu: expected a floating-point tensor, got int32');
    expect(() => F.logSigmoid(i)).toThrow('logSigmoid: expected a floating-point tensor, got int32');
  });

  it('elementwise losses give the same values with and without a graph', () => {
    sg.manualSeed(5);
    const a = sg.randn([3, 4], { requiresGrad: true });
    const t = sg.rand([3, 4]);
    const pw = sg.rand([4]);
    for (const f of [
      (x: Tensor) => F.huberLoss(x, t, { reduction: 'none' }),
      (x: Tensor) => F.binaryCrossEntropyWithLogits(x, t, { posWeight: pw, reduction: 'none' }),
      (x: Tensor) => F.klDiv(x, t, { reduction: 'none' }),
    ]) {
      expect(Array.from(sg.noGrad(() => f(a)).data)).toEqual(Array.from(f(a).data));
    }
  });

  it('float64 stays float64 through activations and losses', () => {
    const x = sg.randn([2, 3], { dtype: 'float64' });
    expect(F.gelu(x).dtype).toBe('float64');
    expect(F.mish(x).dtype).toBe('float64');
    expect(F.binaryCrossEntropyWithLogits(x, sg.zeros([2, 3], { dtype: 'float64' })).dtype).toBe('float64');
  });
});

describe('nn2 errors name the op, the shapes or the option', () => {
  const z = (...shape: number[]) => sg.zeros(shape);
  const half = (...shape: number[]) => sg.full(shape, 0.5);
  const int = (v: sg.NestedArray) => sg.tensor(v, { dtype: 'int32' });
  it.each([
    ['round decimals', () => z(2).round({ decimals: 0.5 }), 'round: decimals must be an integer, got 0.5'],
    ['gelu approximate', () => F.gelu(z(2), { approximate: 'fast' as never }), "gelu: approximate must be 'none' or 'tanh', got 'fast'"],
    ['hardtanh bounds', () => F.hardtanh(z(2), 2, 1), 'hardtanh: minVal 2 is greater than maxVal 1'],
    ['bce shapes', () => F.binaryCrossEntropy(half(3), half(4)), 'binaryCrossEntropy: input [3] and target [4] must have the same shape'],
    ['bce range', () => F.binaryCrossEntropy(sg.tensor([0.5, 1.5]), half(2)),
      'binaryCrossEntropy: every element of input must be between 0 and 1, got 1.5 at flat index 1 (use binaryCrossEntropyWithLogits on logits)'],
    ['bce NaN', () => F.binaryCrossEntropy(sg.tensor([NaN]), half(1)), 'binaryCrossEntropy: every element of input must be between 0 and 1, got NaN'],
    ['bce weight', () => F.binaryCrossEntropy(half(2, 3), half(2, 3), { weight: half(2) }),
      "binaryCrossEntropy: weight [2] does not broadcast to the input's shape [2,3]"],
    ['bce int target', () => F.binaryCrossEntropy(half(2), int([0, 1])), 'binaryCrossEntropy: target must be a floating-point tensor, got int32'],
    ['bcel shapes', () => F.binaryCrossEntropyWithLogits(z(3), z(2, 3)), 'binaryCrossEntropyWithLogits: input [3] and target [2,3] must have the same shape'],
    ['bcel posWeight', () => F.binaryCrossEntropyWithLogits(z(2, 3), z(2, 3), { posWeight: z(4) }),
      "binaryCrossEntropyWithLogits: posWeight [4] does not broadcast to the input's shape [2,3]"],
    ['bcel reduction', () => F.binaryCrossEntropyWithLogits(z(2), z(2), { reduction: 'avg' as never }),
      "binaryCrossEntropyWithLogits: reduction must be 'mean', 'sum' or 'none', got 'avg'"],
    ['l1 shapes', () => F.l1Loss(z(3), z(4)), 'l1Loss: input [3] and target [4] must have the same shape'],
    ['smoothL1 shapes', () => F.smoothL1Loss(z(2, 2), z(4)), 'smoothL1Loss: input [2,2] and target [4] must have the same shape'],
    ['smoothL1 beta', () => F.smoothL1Loss(z(2), z(2), { beta: -1 }), 'smoothL1Loss: beta must be >= 0, got -1'],
    ['huber delta', () => F.huberLoss(z(2), z(2), { delta: 0 }), 'huberLoss: delta must be > 0, got 0'],
    ['huber shapes', () => F.huberLoss(z(1), z(2)), 'huberLoss: input [1] and target [2] must have the same shape'],
    ['klDiv shapes', () => F.klDiv(z(3), z(4)), 'klDiv: input [3] and target [4] must have the same shape'],
    ['klDiv reduction', () => F.klDiv(z(3), z(3), { reduction: 'avg' as never }), "klDiv: reduction must be 'mean', 'batchmean', 'sum' or 'none', got 'avg'"],
    ['crossEntropy prob shape', () => F.crossEntropy(z(2, 4), z(2, 5)), 'crossEntropy: target [2,5] does not match input [2,4]'],
    ['crossEntropy prob ignoreIndex', () => F.crossEntropy(z(2, 4), z(2, 4), { ignoreIndex: 1 }),
      'crossEntropy: ignoreIndex is not supported for class-probability (float32) targets'],
    ['crossEntropy nd target', () => F.crossEntropy(z(2, 4, 3), int([[0, 1], [2, 3]])), 'crossEntropy: target [2,2] does not match input [2,4,3] (expected [2,3])'],
    ['crossEntropy unbatched target', () => F.crossEntropy(z(4), int([1])), 'crossEntropy: target [1] does not match input [4] (expected [])'],
    ['nllLoss nd target range', () => F.nllLoss(z(1, 3, 2), int([[0, 3]])), 'nllLoss: target 3 at position 1 is out of range for 3 classes'],
    ['nllLoss weight', () => F.nllLoss(z(2, 3, 2), int([[0, 1], [1, 2]]), { weight: z(2) }), 'nllLoss: weight [2] must be [3]'],
  ] as const)('%s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });
});
