// Float64 gradcheck (backward vs central differences) for issue 11's differentiable ops, one
// table row per case. Inputs are seeded; maximum/minimum stay away from ties (their gradient
// splits there, which finite differences cannot see) and sort/topk inputs have no ties.
// prod is checked with zeros in the input: it is a polynomial, so differences are exact there.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';

type Gen = () => Tensor;
type Row = [name: string, fn: (...xs: Tensor[]) => Tensor, ...inputs: Gen[]];

const f64 = { dtype: 'float64' } as const;
const rn = (...shape: number[]): Gen => () => sg.randn(shape, { ...f64, requiresGrad: true });
const ints = (values: sg.NestedArray): Gen => () => sg.tensor(values, { dtype: 'int32' });
/** A leaf with the given values (float64). */
const vals = (values: sg.NestedArray): Gen => () => sg.tensor(values, { ...f64, requiresGrad: true });
/** Normal values with some entries set to zero. */
const withZeros = (zeros: number[], ...shape: number[]): Gen => () => {
  const t = sg.randn(shape, f64);
  for (const i of zeros) t.data[i] = 0;
  return t.requiresGrad_();
};
const pieces = (parts: Tensor[]): Tensor => sg.cat(parts.map((p, i) => p.flatten().mul(i + 1)));

const ROWS: Row[] = [
  ['maximum broadcast', (a, b) => sg.maximum(a, b), rn(2, 3), rn(3)],
  ['minimum broadcast', (a, b) => sg.minimum(a, b), rn(2, 1, 3), rn(4, 1)],
  ['maximum with a number', (a) => a.maximum(0.1), vals([[-1.5, 0.4, 2], [0.3, -0.2, 1]])],
  ['maskedFill broadcast mask', (a, m) => a.maskedFill(m, 3), rn(2, 3), ints([1, 0, 1])],
  ['maskedFill with a 0-d tensor value', (a, m, v) => a.maskedFill(m, v), rn(2, 3), ints([[1, 0, 0], [0, 1, 1]]), rn()],
  ['select dim 1', (a) => a.select(1, 1), rn(2, 3, 4)],
  ['select dim -1, index -2', (a) => a.select(-1, -2), rn(2, 3)],
  ['narrow', (a) => a.narrow(0, 1, 2), rn(4, 3)],
  ['indexSelect dim 0, repeated', (a, i) => a.indexSelect(0, i), rn(3, 4), ints([2, 0, 2])],
  ['indexSelect dim -1', (a, i) => a.indexSelect(-1, i), rn(2, 3, 4), ints([3, 1])],
  ['index one tensor, repeated', (a, i) => a.index(i), rn(4, 2), ints([[0, 3], [3, 3]])],
  ['index two broadcast tensors', (a, i, j) => a.index([i, j]), rn(3, 4, 2), ints([[0], [2]]), ints([1, -1, 1])],
  ['maskedSelect broadcast input', (a, m) => a.maskedSelect(m), rn(3), ints([[1, 0, 1], [1, 1, 0]])],
  ['maskedIndex rows', (a, m) => a.maskedIndex(m), rn(4, 3), ints([1, 0, 1, 1])],
  ['scatter dim 1', (a, i, s) => a.scatter(1, i, s), rn(3, 5), ints([[0, 4], [3, 1], [2, 0]]), rn(3, 2)],
  ['scatter, src larger than index', (a, i, s) => a.scatter(0, i, s), rn(3, 2), ints([[2, 0]]), rn(2, 3)],
  ['scatterAdd duplicates', (a, i, s) => a.scatterAdd(1, i, s), rn(2, 4), ints([[1, 1, 3], [0, 0, 0]]), rn(2, 3)],
  ['pad constant, two dims', (a) => sg.pad(a, [1, 2, 0, 1], { value: 0.5 }), rn(2, 3, 2)],
  ['pad constant, negative (crop)', (a) => sg.pad(a, [-1, 2]), rn(2, 4)],
  ['pad reflect', (a) => sg.pad(a, [1, 2, 2, 1], { mode: 'reflect' }), rn(1, 2, 4, 5)],
  ['pad replicate', (a) => sg.pad(a, [3, 1, 0, 2], { mode: 'replicate' }), rn(2, 3, 2)],
  ['std all', (a) => a.std(), rn(3, 4)],
  ['std dim 1 biased', (a) => a.std(1, { unbiased: false }), rn(3, 4)],
  ['std dims keepdim, correction 2', (a) => a.std([0, 2], { keepdim: true, correction: 2 }), rn(2, 3, 4)],
  ['logsumexp dim 1', (a) => a.logsumexp(1), rn(3, 4)],
  ['logsumexp dims keepdim', (a) => a.logsumexp([0, 2], { keepdim: true }), rn(2, 3, 4)],
  ['prod all, no zeros', (a) => a.prod(), rn(2, 3)],
  ['prod all, one zero', (a) => a.prod(), withZeros([4], 2, 3)],
  ['prod dim 1: rows with none, one and two zeros', (a) => a.prod(1), withZeros([5, 8, 10], 3, 4)],
  ['prod dim 0 keepdim', (a) => a.prod(0, { keepdim: true }), withZeros([1], 3, 2)],
  ['cumsum dim 1', (a) => a.cumsum(1), rn(2, 4, 3)],
  ['cumsum dim -1', (a) => a.cumsum(-1), rn(3, 4)],
  ['split by size', (a) => pieces(a.split(2, 1)), rn(2, 5)],
  ['split by sizes', (a) => pieces(a.split([1, 3, 1])), rn(5, 2)],
  ['chunk', (a) => pieces(a.chunk(3, -1)), rn(2, 7)],
  ['flip two dims', (a) => a.flip([0, -1]), rn(2, 3, 4)],
  ['repeat', (a) => a.repeat([2, 3]), rn(2, 3)],
  ['repeat with extra dims', (a) => a.repeat([2, 1, 2]), rn(3)],
  ['tril diagonal 1', (a) => a.tril(1), rn(4, 3)],
  ['triu batched, diagonal -1', (a) => a.triu(-1), rn(2, 3, 3)],
  ['sort values', (a) => a.sort(1).values, rn(3, 5)],
  ['sort descending dim 0', (a) => a.sort(0, { descending: true }).values, rn(4, 3)],
  ['topk largest', (a) => a.topk(2).values, rn(3, 5)],
  ['topk smallest', (a) => a.topk(3, 0, { largest: false }).values, rn(4, 2)],
];

describe('ops2: float64 gradcheck', () => {
  it.each(ROWS.map((row, k) => [row[0], k] as const))('%s', (_name, k) => {
    const [, fn, ...gens] = ROWS[k];
    sg.manualSeed(2000 + k);
    const inputs = gens.map((g) => g());
    expect(sg.gradcheck(fn, inputs).ok).toBe(true);
  });
});
