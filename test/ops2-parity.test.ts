// PyTorch parity for issue 11's tensor ops (fixture: scripts/fixtures/gen_ops2.py → test/fixtures/ops2.json).
// Each fixture case holds the inputs, PyTorch's output and, for a float output, an upstream gradient g
// and every float input's gradient after out.backward(g); CASES gives the same computation in skipgrad.
// Bool results are int32 0/1 here (PyTorch's bool, cast with .int() in the generator).

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { decode, expectClose, loadFixture, type FixtureCase, fixtureInputNames, fixtureInputs } from './helpers/fixtures.js';

type In = Record<string, Tensor>;
type Case = (t: In) => Tensor;

/** What the generator does with several outputs: cat([piece_i.flatten() * (i + 1)]). */
const pieces = (parts: Tensor[]): Tensor => sg.cat(parts.map((p, i) => p.flatten().mul(i + 1)));

const CASES: Record<string, Case> = {};
const CMP = { eq: sg.eq, ne: sg.ne, gt: sg.gt, ge: sg.ge, lt: sg.lt, le: sg.le } as const;
for (const [op, f] of Object.entries(CMP)) {
  CASES[`${op}_bcast`] = ({ a, b }) => f(a, b);
  CASES[`${op}_int_scalar`] = ({ i }) => f(i, 2);
}

Object.assign(CASES, {
  argmax_all_ties: ({ a }) => a.argmax(),
  argmax_dim1_ties: ({ a }) => a.argmax(1),
  argmin_dim0_keep: ({ a }) => a.argmin(0, { keepdim: true }),
  argmin_neg: ({ a }) => a.argmin(-1),
  any_dim1: ({ i }) => i.any(1),
  all_dim0_keep: ({ i }) => i.all(0, { keepdim: true }),
  any_all: ({ i }) => i.any(),
  all_all: ({ i }) => i.all(),

  maximum_bcast_ties: ({ a, b }) => sg.maximum(a, b),
  maximum_scalar: ({ a }) => a.maximum(0.2),
  minimum_bcast_ties: ({ a, b }) => sg.minimum(a, b),
  minimum_scalar: ({ a }) => a.minimum(0.2),
  maskedFill_bcast: ({ a, mask }) => a.maskedFill(mask, -2.5),
  maskedFill_tensor_value: ({ a, mask, v }) => a.maskedFill(mask, v),

  select_d1: ({ a }) => a.select(1, 2),
  select_neg: ({ a }) => a.select(-1, -1),
  narrow_d1: ({ a }) => a.narrow(1, 1, 2),
  narrow_negstart: ({ a }) => a.narrow(-1, -3, 2),
  indexSelect_d0_repeat: ({ a, index }) => a.indexSelect(0, index),
  indexSelect_d1: ({ a, index }) => a.indexSelect(1, index),
  index_one: ({ a, i0 }) => a.index(i0),
  index_two_bcast: ({ a, i0, i1 }) => a.index([i0, i1]),
  maskedSelect_bcast: ({ a, mask }) => a.maskedSelect(mask),
  maskedSelect_grow: ({ a, mask }) => a.maskedSelect(mask),
  maskedIndex_rows: ({ a, mask }) => a.maskedIndex(mask),
  maskedIndex_full: ({ a, mask }) => a.maskedIndex(mask),
  oneHot_default: ({ i }) => sg.oneHot(i),
  oneHot_classes: ({ i }) => sg.oneHot(i, 6),

  scatter_d1: ({ a, index, src }) => a.scatter(1, index, src),
  scatter_d0: ({ a, index, src }) => a.scatter(0, index, src),
  scatter_value: ({ a, index }) => a.scatter(1, index, 1.25),
  scatterAdd_d1_dups: ({ a, index, src }) => a.scatterAdd(1, index, src),
  scatterAdd_d0: ({ a, index, src }) => a.scatterAdd(0, index, src),

  pad_const_2dims: ({ a }) => sg.pad(a, [1, 2, 0, 1], { value: 0.5 }),
  pad_const_crop: ({ a }) => sg.pad(a, [-1, 2]),
  pad_reflect_1d: ({ a }) => sg.pad(a, [2, 1], { mode: 'reflect' }),
  pad_reflect_2d: ({ a }) => sg.pad(a, [1, 2, 2, 1], { mode: 'reflect' }),
  pad_replicate_1d: ({ a }) => sg.pad(a, [3, 1], { mode: 'replicate' }),
  pad_replicate_2d: ({ a }) => sg.pad(a, [0, 2, 3, 1], { mode: 'replicate' }),

  std_all: ({ a }) => a.std(),
  std_dim1_biased: ({ a }) => a.std(1, { unbiased: false }),
  std_dims_keep: ({ a }) => a.std([0, 2], { keepdim: true }),
  std_correction2: ({ a }) => a.std(1, { correction: 2 }),
  logsumexp_d1: ({ a }) => a.logsumexp(1),
  logsumexp_dims_keep: ({ a }) => a.logsumexp([0, 2], { keepdim: true }),
  logsumexp_1e4: ({ a }) => a.logsumexp(-1),
  prod_dim1_zeros: ({ a }) => a.prod(1),
  prod_dim0_keep: ({ a }) => a.prod(0, { keepdim: true }),
  prod_all: ({ a }) => a.prod(),
  prod_all_one_zero: ({ a }) => a.prod(),
  cumsum_d1: ({ a }) => a.cumsum(1),
  cumsum_neg: ({ a }) => a.cumsum(-1),

  split_size: ({ a }) => pieces(a.split(2, 1)),
  split_sizes: ({ a }) => pieces(a.split([1, 3, 1], 0)),
  chunk_3: ({ a }) => pieces(a.chunk(3, -1)),
  flip_d0: ({ a }) => a.flip(0),
  flip_multi: ({ a }) => a.flip([0, -1]),
  repeat_2d: ({ a }) => a.repeat([2, 3]),
  repeat_extra_dims: ({ a }) => a.repeat([2, 1, 2]),
  tril: ({ a }) => a.tril(),
  tril_k1: ({ a }) => a.tril(1),
  triu_kneg: ({ a }) => a.triu(-1),
  triu_batched: ({ a }) => a.triu(1),

  sort_d1: ({ a }) => a.sort(1).values,
  sort_d1_idx: ({ a }) => a.sort(1).indices,
  sort_desc_d0: ({ a }) => a.sort(0, { descending: true }).values,
  sort_stable_ties_idx: ({ a }) => a.sort(1, { stable: true }).indices,
  sort_desc_stable_ties_idx: ({ a }) => a.sort(1, { descending: true, stable: true }).indices,
  topk_largest: ({ a }) => a.topk(2).values,
  topk_smallest_d0: ({ a }) => a.topk(3, 0, { largest: false }).values,
  topk_idx: ({ a }) => a.topk(3, 1).indices,
} satisfies Record<string, Case>);

const fixture = loadFixture('ops2');
const inputNames = (c: FixtureCase) => fixtureInputNames(c);

describe('ops2: PyTorch parity (float32 forward and backward; int32 0/1 for bool results)', () => {
  it('the fixture and the case table name the same cases', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(fixture).sort());
  });

  it.each(Object.keys(fixture))('%s', (name) => {
    const c = fixture[name];
    const inputs: In = fixtureInputs(c, inputNames(c)); // gradients exactly where PyTorch recorded them
    const out = CASES[name](inputs);
    expect(out.dtype, `${name} dtype`).toBe(c.out.dtype);
    if (c.out.dtype === 'int32') {
      // Indices and bool-like results: exact.
      expect(out.shape).toEqual(c.out.shape);
      expect(Array.from(out.data)).toEqual(c.out.data);
      return;
    }
    expectClose(out, c.out, `${name} forward`);
    if (!c.g) return;
    out.backward(decode(c.g));
    for (const k of inputNames(c)) {
      if (`grad_${k}` in c) expectClose(inputs[k].grad, c[`grad_${k}`], `${name} grad of ${k}`);
    }
  });
});
