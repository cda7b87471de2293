// Float64 gradcheck (backward vs central differences) for issue 11's ops: unary math, activations
// and losses, every float input checked (targets and posWeight included). Inputs are seeded and kept
// away from kinks and out of domains where an op is not differentiable.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';

type Gen = () => Tensor;
type Row = [name: string, fn: (...xs: Tensor[]) => Tensor, ...inputs: Gen[]];

const f64 = { dtype: 'float64' } as const;
const F = sg.F;
/** Normal leaf times `scale`. */
const rn = (shape: number[], scale = 1): Gen => () => sg.randn(shape, f64).mul(scale).requiresGrad_();
/** Uniform in [lo, lo + width). */
const uni = (shape: number[], lo: number, width: number): Gen => () => sg.rand(shape, f64).mul(width).add(lo).requiresGrad_();
/** Normal values times `scale`, moved at least 0.1 away from each kink. */
const away = (points: number[], shape: number[], scale = 1): Gen => () => {
  const t = sg.randn(shape, f64).mul(scale);
  for (const p of points) {
    for (let i = 0; i < t.size; i++) if (Math.abs(t.data[i] - p) < 0.1) t.data[i] = p + (t.data[i] < p ? -0.2 : 0.2);
  }
  return t.requiresGrad_();
};
/** Probability rows (softmax over dim 1) that take a gradient. */
const probs = (shape: number[]): Gen => () => sg.randn(shape, f64).softmax(1).detach().requiresGrad_();
const logProbs = (shape: number[]): Gen => () => sg.randn(shape, f64).logSoftmax(1).detach().requiresGrad_();
const fixed = (make: () => Tensor): Gen => make;
const ints = (values: sg.NestedArray): Gen => () => sg.tensor(values, { dtype: 'int32' });
/** `base` plus a difference kept 0.1 away from each kink: a (input, target) pair for regression losses. */
const pair = (points: number[], shape: number[], scale = 1.5): [Gen, Gen] => {
  let target: Tensor;
  return [
    () => {
      target = sg.randn(shape, f64);
      return away(points, shape, scale)().detach().add(target).requiresGrad_();
    },
    () => target.requiresGrad_(),
  ];
};

const ROWS: Row[] = [
  ['sin', (a) => a.sin(), rn([3, 4], 3)],
  ['cos', (a) => a.cos(), rn([3, 4], 3)],
  ['erf', (a) => a.erf(), rn([3, 4], 1.5)],
  ['erf in its tails (|x| in [2, 4])', (a) => a.erf(), () => sg.tensor([-3.9, -2.6, -2.01, 2.01, 2.49, 2.51, 3.2, 4], { ...f64, requiresGrad: true })],
  ['rsqrt', (a) => a.rsqrt(), uni([3, 4], 0.1, 2)],
  ['log2', (a) => a.log2(), uni([3, 4], 0.1, 2)],
  ['log1p', (a) => a.log1p(), uni([3, 4], -0.9, 3)],
  ['expm1', (a) => a.expm1(), rn([3, 4], 2)],
  ['sign (zero gradient)', (a) => a.sign(), rn([3, 4], 3)],
  ['floor (zero gradient)', (a) => a.floor(), rn([3, 4], 3)],
  ['ceil (zero gradient)', (a) => a.ceil(), rn([3, 4], 3)],
  ['round (zero gradient)', (a) => a.round(), rn([3, 4], 3)],
  ['round to 2 decimals (zero gradient)', (a) => a.round({ decimals: 2 }), rn([3, 4], 3)],

  ['gelu', (a) => F.gelu(a), rn([3, 4], 3)],
  ['gelu tanh', (a) => F.gelu(a, { approximate: 'tanh' }), rn([3, 4], 3)],
  ['silu', (a) => F.silu(a), rn([3, 4], 3)],
  ['leakyRelu', (a) => F.leakyRelu(a), away([0], [3, 4], 3)],
  ['leakyRelu 0.2', (a) => F.leakyRelu(a, 0.2), away([0], [3, 4], 3)],
  ['elu', (a) => F.elu(a), away([0], [3, 4], 3)],
  ['elu alpha 0.5', (a) => F.elu(a, 0.5), away([0], [3, 4], 3)],
  ['softplus', (a) => F.softplus(a), rn([3, 4], 3)],
  ['softplus beta 2, threshold 5', (a) => F.softplus(a, 2, 5), away([2.5], [3, 4], 3)],
  ['hardtanh', (a) => F.hardtanh(a), away([-1, 1], [3, 4], 2)],
  ['hardtanh -0.5..2', (a) => F.hardtanh(a, -0.5, 2), away([-0.5, 2], [3, 4], 2)],
  ['relu6', (a) => F.relu6(a), away([0, 6], [3, 4], 4)],
  ['hardswish', (a) => F.hardswish(a), away([-3, 3], [3, 4], 3)],
  ['mish', (a) => F.mish(a), rn([3, 4], 3)],
  ['logSigmoid', (a) => F.logSigmoid(a), rn([3, 4], 3)],
  ['logSigmoid at ±30', (a) => F.logSigmoid(a), () => sg.tensor([-30, -20, 20, 30], { ...f64, requiresGrad: true })],

  ['binaryCrossEntropy mean', (a, t) => F.binaryCrossEntropy(a, t), uni([4, 3], 0.05, 0.9), uni([4, 3], 0.05, 0.9)],
  ['binaryCrossEntropy weight, sum', (a, t, w) => F.binaryCrossEntropy(a, t, { weight: w, reduction: 'sum' }),
    uni([4, 3], 0.05, 0.9), uni([4, 3], 0.05, 0.9), uni([3], 0.2, 1)],
  ['binaryCrossEntropyWithLogits none', (a, t) => F.binaryCrossEntropyWithLogits(a, t, { reduction: 'none' }), rn([4, 3], 3), uni([4, 3], 0, 1)],
  ['binaryCrossEntropyWithLogits weight + posWeight (all three get gradients)', (a, t, w, pw) =>
    F.binaryCrossEntropyWithLogits(a, t, { weight: w, posWeight: pw }), rn([4, 3], 3), uni([4, 3], 0, 1), uni([3], 0.2, 1), uni([3], 0, 3)],

  ['crossEntropy probabilities, mean', (a, t) => F.crossEntropy(a, t), rn([5, 4], 2), probs([5, 4])],
  ['crossEntropy probabilities, weight + smoothing, none', (a, t, w) =>
    F.crossEntropy(a, t, { weight: w, labelSmoothing: 0.2, reduction: 'none' }), rn([5, 4], 2), probs([5, 4]), fixed(() => sg.tensor([0.5, 1.5, 1, 2], f64))],
  ['crossEntropy probabilities on [N, C, d1, d2]', (a, t) => F.crossEntropy(a, t), rn([2, 4, 3, 2]), probs([2, 4, 3, 2])],
  ['crossEntropy [N, C, d] class indices, sum', (a, t) => F.crossEntropy(a, t, { reduction: 'sum' }), rn([2, 4, 3]), ints([[0, 3, 1], [2, 2, 0]])],
  ['crossEntropy [N, C, d1, d2] weight + ignoreIndex + smoothing', (a, t, w) =>
    F.crossEntropy(a, t, { weight: w, ignoreIndex: 1, labelSmoothing: 0.1 }), rn([2, 4, 3, 2]),
    ints([[[1, 0], [3, 1], [2, 2]], [[0, 3], [1, 1], [2, 0]]]), fixed(() => sg.tensor([0.5, 1.5, 1, 2], f64))],
  ['crossEntropy unbatched [C]', (a, t) => F.crossEntropy(a, t), rn([4]), ints(2)],
  ['nllLoss [N, C, d] weight, none', (a, t, w) => F.nllLoss(a, t, { weight: w, reduction: 'none' }), rn([2, 4, 3]),
    ints([[0, 3, 1], [2, 2, 0]]), fixed(() => sg.tensor([0.5, 1.5, 1, 2], f64))],

  ['l1Loss mean', (a, t) => F.l1Loss(a, t), ...pair([0], [3, 4])],
  ['smoothL1Loss sum', (a, t) => F.smoothL1Loss(a, t, { reduction: 'sum' }), ...pair([-1, 1], [3, 4])],
  ['smoothL1Loss beta 0.5', (a, t) => F.smoothL1Loss(a, t, { beta: 0.5 }), ...pair([-0.5, 0.5], [3, 4])],
  ['huberLoss none', (a, t) => F.huberLoss(a, t, { reduction: 'none' }), ...pair([-1, 1], [3, 4])],
  ['huberLoss delta 2', (a, t) => F.huberLoss(a, t, { delta: 2 }), ...pair([-2, 2], [3, 4], 3)],
  ['klDiv batchmean', (a, t) => F.klDiv(a, t, { reduction: 'batchmean' }), logProbs([4, 5]), probs([4, 5])],
  ['klDiv none', (a, t) => F.klDiv(a, t, { reduction: 'none' }), logProbs([4, 5]), probs([4, 5])],
  ['klDiv logTarget, sum', (a, t) => F.klDiv(a, t, { reduction: 'sum', logTarget: true }), logProbs([4, 5]), logProbs([4, 5])],
];

describe('nn2: float64 gradcheck', () => {
  it.each(ROWS.map((row, k) => [row[0], k] as const))('%s', (_name, k) => {
    const [, fn, ...gens] = ROWS[k];
    sg.manualSeed(2000 + k);
    const inputs = gens.map((g) => g());
    expect(sg.gradcheck(fn, inputs).ok).toBe(true);
  });
});
