// PyTorch parity for every engine op (fixture: scripts/fixtures/gen_ops.py → test/fixtures/ops.json).
// Each fixture case holds float32 inputs, PyTorch's output, an upstream gradient g and the gradient of
// every float input after out.backward(g); CASES below gives the same computation in skipgrad.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { decode, expectClose, loadFixture, type FixtureCase, fixtureInputNames, fixtureInputs } from './helpers/fixtures.js';

type In = Record<string, Tensor>;
type Case = (t: In) => Tensor;

const CASES: Record<string, Case> = {};

// Broadcasting binary ops; the number 1.5 stands for a Python scalar operand.
const BINARY = { add: sg.add, sub: sg.sub, mul: sg.mul, div: sg.div, pow: sg.pow } as const;
for (const [op, f] of Object.entries(BINARY)) {
  for (const shape of ['same', 'row', 'bcast3', '0d']) CASES[`${op}_${shape}`] = ({ a, b }) => f(a, b);
  CASES[`${op}_scalar`] = ({ a }) => f(a, 1.5);
  CASES[`${op}_rscalar`] = ({ b }) => f(1.5, b);
}

Object.assign(CASES, {
  pow_cube_negbase: ({ a }) => a.pow(3),
  neg: ({ a }) => a.neg(),
  exp: ({ a }) => a.exp(),
  log: ({ a }) => a.log(),
  sqrt: ({ a }) => a.sqrt(),
  abs: ({ a }) => a.abs(),
  relu: ({ a }) => a.relu(),
  sigmoid: ({ a }) => a.sigmoid(),
  tanh: ({ a }) => a.tanh(),
  clamp_min: ({ a }) => a.clamp(-0.3),
  clamp_max: ({ a }) => a.clamp(null, 0.4),
  clamp_both: ({ a }) => a.clamp(-0.5, 0.5),
  where_same: ({ cond, a, b }) => sg.where(cond, a, b),
  where_bcast: ({ cond, a, b }) => sg.where(cond, a, b),

  max_all: ({ a }) => a.max(),
  max_dim0: ({ a }) => a.max(0),
  max_dim1_keep: ({ a }) => a.max(1, { keepdim: true }),
  max_neg: ({ a }) => a.max(-1),
  min_all: ({ a }) => a.min(),
  min_dim0: ({ a }) => a.min(0),
  min_dim1_keep: ({ a }) => a.min(1, { keepdim: true }),
  min_neg: ({ a }) => a.min(-1),
  var_all: ({ a }) => a.var(),
  var_all_biased: ({ a }) => a.var(undefined, { unbiased: false }),
  var_dim1: ({ a }) => a.var(1),
  var_dim1_biased_keep: ({ a }) => a.var(1, { unbiased: false, keepdim: true }),
  var_dims: ({ a }) => a.var([0, 2]),
  var_dims_biased: ({ a }) => a.var([0, 2], { unbiased: false }),

  reshape: ({ a }) => a.reshape([4, 6]),
  reshape_infer: ({ a }) => a.reshape([-1, 4]),
  view: ({ a }) => a.view([3, 8]),
  flatten: ({ a }) => a.flatten(),
  flatten_1_2: ({ a }) => a.flatten(1, 2),
  permute: ({ a }) => a.permute([2, 0, 1]),
  permute_neg: ({ a }) => a.permute([-1, 0, 1]),
  transpose_0_2: ({ a }) => a.transpose(0, 2),
  transpose_2d: ({ a }) => a.transpose(),
  squeeze_all: ({ a }) => a.squeeze(),
  squeeze_dim: ({ a }) => a.squeeze(1),
  squeeze_noop: ({ a }) => a.squeeze(0),
  unsqueeze_0: ({ a }) => a.unsqueeze(0),
  unsqueeze_neg: ({ a }) => a.unsqueeze(-1),
  expand: ({ a }) => a.expand([2, 3, 4]),
  expand_keep: ({ a }) => a.expand([2, -1, 4]),
  slice_step2: ({ a }) => a.slice(1, 0, 6, 2),
  slice_neg: ({ a }) => a.slice(1, -4, -1),
  slice_neg_step: ({ a }) => a.slice(-1, -4, undefined, 2),
  slice_dim0: ({ a }) => a.slice(0, 1, 2),
  cat_dim0: ({ a, b }) => sg.cat([a, b], 0),
  cat_dim1_three: ({ a, b, c }) => sg.cat([a, b, c], 1),
  cat_neg: ({ a, b }) => sg.cat([a, b], -1),
  stack_dim0: ({ a, b }) => sg.stack([a, b], 0),
  stack_neg: ({ a, b, c }) => sg.stack([a, b, c], -1),

  softmax_1e4: ({ a }) => a.softmax(1),
  logsoftmax_1e4: ({ a }) => a.logSoftmax(1),
  gather_d1: ({ a, index }) => a.gather(1, index),
  gather_d0: ({ a, index }) => a.gather(0, index),

  ce_mean: ({ a, target }) => sg.crossEntropy(a, target),
  ce_sum: ({ a, target }) => sg.crossEntropy(a, target, { reduction: 'sum' }),
  ce_none: ({ a, target }) => sg.crossEntropy(a, target, { reduction: 'none' }),
  ce_smooth: ({ a, target }) => sg.crossEntropy(a, target, { labelSmoothing: 0.1 }),
  ce_smooth_sum: ({ a, target }) => sg.crossEntropy(a, target, { labelSmoothing: 0.1, reduction: 'sum' }),
  ce_smooth_none: ({ a, target }) => sg.crossEntropy(a, target, { labelSmoothing: 0.1, reduction: 'none' }),
  ce_weight: ({ a, target, weight }) => sg.crossEntropy(a, target, { weight }),
  ce_weight_smooth: ({ a, target, weight }) => sg.crossEntropy(a, target, { weight, labelSmoothing: 0.1 }),
  ce_ignore: ({ a, target }) => sg.crossEntropy(a, target),
  ce_ignore_custom: ({ a, target }) => sg.crossEntropy(a, target, { ignoreIndex: 2 }),
  ce_weight_ignore_smooth: ({ a, target, weight }) =>
    sg.crossEntropy(a, target, { weight, ignoreIndex: 1, labelSmoothing: 0.1 }),
  ce_1e4: ({ a, target }) => sg.crossEntropy(a, target),
  ce_1e4_smooth: ({ a, target }) => sg.crossEntropy(a, target, { labelSmoothing: 0.1 }),
  nll_mean: ({ a, target }) => sg.nllLoss(a, target),
  nll_sum: ({ a, target }) => sg.nllLoss(a, target, { reduction: 'sum' }),
  nll_none: ({ a, target }) => sg.nllLoss(a, target, { reduction: 'none' }),
  nll_weight: ({ a, target, weight }) => sg.nllLoss(a, target, { weight }),
  nll_ignore: ({ a, target }) => sg.nllLoss(a, target, { ignoreIndex: 0 }),
  mse_mean: ({ a, b }) => sg.mseLoss(a, b),
  mse_sum: ({ a, b }) => sg.mseLoss(a, b, { reduction: 'sum' }),
  mse_none: ({ a, b }) => sg.mseLoss(a, b, { reduction: 'none' }),

  fanout_residual: ({ a }) => a.tanh().mul(a).add(a),
  residual_block: ({ a, b }) => a.matmul(b).relu().add(a),
} satisfies Record<string, Case>);

for (const op of ['sum', 'mean'] as const) {
  Object.assign(CASES, {
    [`${op}_all`]: ({ a }: In) => a[op](),
    [`${op}_dim1`]: ({ a }: In) => a[op](1),
    [`${op}_neg_keep`]: ({ a }: In) => a[op](-1, { keepdim: true }),
    [`${op}_dims`]: ({ a }: In) => a[op]([0, 2]),
    [`${op}_dims_keep`]: ({ a }: In) => a[op]([0, 2], { keepdim: true }),
  });
}
for (const name of ['mm_2d', 'mm_batched', 'mm_bcast_batch', 'mm_batch_2d', 'mm_1d_2d', 'mm_2d_1d', 'mm_1d_1d', 'mm_1d_3d']) {
  CASES[name] = ({ a, b }) => a.matmul(b);
}
for (const [dim, tag] of [[0, 'd0'], [1, 'd1'], [-1, 'dneg']] as const) {
  CASES[`softmax_${tag}`] = ({ a }) => a.softmax(dim);
  CASES[`logsoftmax_${tag}`] = ({ a }) => a.logSoftmax(dim);
}

const fixture = loadFixture('ops');
const inputNames = (c: FixtureCase) => fixtureInputNames(c);

describe('ops: PyTorch parity (float32 forward and backward)', () => {
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

  it('softmax of a 0-d tensor is 1 and logSoftmax 0, as torch.softmax(torch.tensor(3.), 0)', () => {
    const x = sg.tensor(3, { requiresGrad: true });
    expect([x.softmax(0).item(), x.logSoftmax(0).item(), x.softmax(-1).item()]).toEqual([1, 0, 1]);
    x.logSoftmax().backward();
    expect(x.grad!.item()).toBe(0);
  });

  it('logSoftmax and crossEntropy stay finite on logits of ±1e4', () => {
    for (const name of ['logsoftmax_1e4', 'softmax_1e4', 'ce_1e4', 'ce_1e4_smooth']) {
      const c = fixture[name];
      const a = decode(c.a, true);
      const out = CASES[name]({ a, target: c.target && decode(c.target) });
      out.backward(decode(c.g));
      for (const v of [...out.data, ...a.grad!.data]) expect(Number.isFinite(v), name).toBe(true);
    }
  });
});
