// PyTorch parity for issue 11's ops (fixture: scripts/fixtures/gen_nn2.py → test/fixtures/nn2.json):
// unary math, activations and losses. Each fixture case holds float32 inputs, PyTorch's output, an
// upstream gradient g and the gradient of every float input (targets included) after out.backward(g);
// CASES gives the same computation in skipgrad, through the package entry and through F.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { decode, expectClose, loadFixture, type FixtureCase, fixtureInputNames, fixtureInputs } from './helpers/fixtures.js';

type In = Record<string, Tensor>;
type Case = (t: In) => Tensor;
const F = sg.F;

const CASES: Record<string, Case> = {
  sin: ({ a }) => a.sin(),
  cos: ({ a }) => a.cos(),
  erf: ({ a }) => a.erf(),
  rsqrt: ({ a }) => a.rsqrt(),
  log2: ({ a }) => a.log2(),
  log1p: ({ a }) => a.log1p(),
  expm1: ({ a }) => a.expm1(),
  expm1_tiny: ({ a }) => sg.expm1(a),
  log1p_tiny: ({ a }) => sg.log1p(a),
  sign: ({ a }) => a.sign(),
  floor: ({ a }) => a.floor(),
  ceil: ({ a }) => a.ceil(),
  round: ({ a }) => a.round(),
  round_halves: ({ a }) => sg.round(a),
  round_decimals: ({ a }) => a.round({ decimals: 2 }),
  round_decimals_neg: ({ a }) => sg.round(a, { decimals: -1 }),

  gelu: ({ a }) => F.gelu(a),
  gelu_tanh: ({ a }) => F.gelu(a, { approximate: 'tanh' }),
  gelu_tails: ({ a }) => sg.gelu(a),
  silu: ({ a }) => F.silu(a),
  leaky_relu: ({ a }) => F.leakyRelu(a),
  leaky_relu_02: ({ a }) => F.leakyRelu(a, 0.2),
  elu: ({ a }) => F.elu(a),
  elu_alpha: ({ a }) => F.elu(a, 0.5),
  softplus: ({ a }) => F.softplus(a),
  softplus_beta_threshold: ({ a }) => F.softplus(a, 2, 5),
  softplus_tails: ({ a }) => F.softplus(a),
  hardtanh: ({ a }) => F.hardtanh(a),
  hardtanh_bounds: ({ a }) => F.hardtanh(a, -0.5, 2),
  relu6: ({ a }) => F.relu6(a),
  hardswish: ({ a }) => F.hardswish(a),
  mish: ({ a }) => F.mish(a),
  mish_tails: ({ a }) => F.mish(a),
  logsigmoid: ({ a }) => F.logSigmoid(a),
  logsigmoid_tails: ({ a }) => F.logSigmoid(a),

  bce_weight: ({ a, t, w }) => F.binaryCrossEntropy(a, t, { weight: w }),
  bce_hard_targets: ({ a, t }) => F.binaryCrossEntropy(a, t),
  bcel_weight: ({ a, t, w }) => F.binaryCrossEntropyWithLogits(a, t, { weight: w }),
  bcel_pos_weight: ({ a, t, pw }) => F.binaryCrossEntropyWithLogits(a, t, { posWeight: pw }),
  bcel_pos_weight_weight_sum: ({ a, t, w, pw }) =>
    F.binaryCrossEntropyWithLogits(a, t, { weight: w, posWeight: pw, reduction: 'sum' }),
  bcel_big_logits: ({ a, t }) => F.binaryCrossEntropyWithLogits(a, t, { reduction: 'none' }),

  ce_prob_weight_smooth: ({ a, t, w }) => F.crossEntropy(a, t, { weight: w, labelSmoothing: 0.2 }),
  ce_prob_nd: ({ a, t }) => F.crossEntropy(a, t),
  ce_prob_nd_weight_none: ({ a, t, w }) => F.crossEntropy(a, t, { weight: w, reduction: 'none' }),
  ce_nd_weight_ignore_smooth: ({ a, t, w }) => F.crossEntropy(a, t, { weight: w, ignoreIndex: 1, labelSmoothing: 0.1 }),
  ce_nd_smooth_none: ({ a, t }) => F.crossEntropy(a, t, { labelSmoothing: 0.3, reduction: 'none' }),
  ce_unbatched: ({ a, t }) => F.crossEntropy(a, t),
  ce_unbatched_prob_smooth: ({ a, t }) => F.crossEntropy(a, t, { labelSmoothing: 0.1 }),
  nll_nd: ({ a, t }) => F.nllLoss(a, t),
  nll_nd_weight_ignore_none: ({ a, t, w }) => F.nllLoss(a, t, { weight: w, ignoreIndex: 2, reduction: 'none' }),
  nll_nd_weight_sum: ({ a, t, w }) => F.nllLoss(a, t, { weight: w, reduction: 'sum' }),

  smooth_l1_beta: ({ a, t }) => F.smoothL1Loss(a, t, { beta: 0.5 }),
  huber_delta: ({ a, t }) => F.huberLoss(a, t, { delta: 2, reduction: 'sum' }),
  kl_log_target: ({ a, t }) => F.klDiv(a, t, { reduction: 'batchmean', logTarget: true }),
  kl_log_target_none: ({ a, t }) => F.klDiv(a, t, { reduction: 'none', logTarget: true }),
};
for (const reduction of ['mean', 'sum', 'none'] as const) {
  Object.assign(CASES, {
    [`bce_${reduction}`]: ({ a, t }: In) => F.binaryCrossEntropy(a, t, { reduction }),
    [`bcel_${reduction}`]: ({ a, t }: In) => F.binaryCrossEntropyWithLogits(a, t, { reduction }),
    [`ce_prob_${reduction}`]: ({ a, t }: In) => F.crossEntropy(a, t, { reduction }),
    [`ce_nd_${reduction}`]: ({ a, t }: In) => F.crossEntropy(a, t, { reduction }),
    [`l1_${reduction}`]: ({ a, t }: In) => F.l1Loss(a, t, { reduction }),
    [`smooth_l1_${reduction}`]: ({ a, t }: In) => F.smoothL1Loss(a, t, { reduction }),
    [`huber_${reduction}`]: ({ a, t }: In) => F.huberLoss(a, t, { reduction }),
  });
}
for (const reduction of ['mean', 'batchmean', 'sum', 'none'] as const) {
  CASES[`kl_${reduction}`] = ({ a, t }) => F.klDiv(a, t, { reduction });
}

const fixture = loadFixture('nn2');
const inputNames = (c: FixtureCase) => fixtureInputNames(c);

describe('nn2: PyTorch parity (float32 forward and every gradient)', () => {
  it('the fixture and the case table name the same cases', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(fixture).sort());
  });

  it.each(Object.keys(fixture))('%s', (name) => {
    const c = fixture[name];
    const inputs: In = fixtureInputs(c, inputNames(c)); // gradients exactly where PyTorch recorded them
    const out = CASES[name](inputs);
    expect(out.dtype).toBe('float32');
    expectClose(out, c.out, `${name} forward`);
    out.backward(decode(c.g));
    for (const k of inputNames(c)) {
      if (`grad_${k}` in c) expectClose(inputs[k].grad, c[`grad_${k}`], `${name} grad of ${k}`);
    }
  });
});
