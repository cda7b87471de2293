// Float64 gradcheck (backward vs central differences) for every engine op, one table row per case.
// Inputs are seeded and kept away from kinks (|x| near 0, clamp bounds, relu at 0) and out of
// domains where the op is not differentiable (log, sqrt and pow bases stay positive).

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';

type Gen = () => Tensor;
type Row = [name: string, fn: (...xs: Tensor[]) => Tensor, ...inputs: Gen[]];

const f64 = { dtype: 'float64' } as const;
/** Standard normal leaf. */
const rn = (...shape: number[]): Gen => () => sg.randn(shape, { ...f64, requiresGrad: true });
/** Uniform in [0.5, 1.5): bases of log, sqrt, pow. */
const pos = (...shape: number[]): Gen => () => sg.rand(shape, f64).add(0.5).requiresGrad_();
/** |x| in [0.5, 1.5) with a random sign: divisors. */
const nz = (...shape: number[]): Gen => () =>
  sg.rand(shape, f64).add(0.5).mul(sg.randint(0, 2, shape).mul(2).sub(1)).requiresGrad_();
/** Normal values moved at least 0.1 away from each kink. */
const away = (points: number[], ...shape: number[]): Gen => () => {
  const t = sg.randn(shape, f64);
  for (const p of points) {
    for (let i = 0; i < t.size; i++) if (Math.abs(t.data[i] - p) < 0.1) t.data[i] = p + (t.data[i] < p ? -0.2 : 0.2);
  }
  return t.requiresGrad_();
};
/** A tensor that takes no gradient (targets, indices, conditions, class weights). */
const fixed = (make: () => Tensor): Gen => make;
const ints = (values: sg.NestedArray): Gen => () => sg.tensor(values, { dtype: 'int32' });

const ROWS: Row[] = [];

// Binary ops: same shape, [2,3]⊕[3], [2,1,4]⊕[3,1], tensor⊕number, number⊕tensor, tensor⊕0-d tensor.
const BINARY = { add: sg.add, sub: sg.sub, mul: sg.mul, div: sg.div, pow: sg.pow } as const;
for (const [op, f] of Object.entries(BINARY)) {
  const lhs = op === 'pow' ? pos : rn;
  const rhs = op === 'div' ? nz : rn;
  ROWS.push(
    [`${op} [2,3]⊕[2,3]`, (a, b) => f(a, b), lhs(2, 3), rhs(2, 3)],
    [`${op} [2,3]⊕[3]`, (a, b) => f(a, b), lhs(2, 3), rhs(3)],
    [`${op} [2,1,4]⊕[3,1]`, (a, b) => f(a, b), lhs(2, 1, 4), rhs(3, 1)],
    [`${op} [2,3]⊕0-d`, (a, b) => f(a, b), lhs(2, 3), rhs()],
    [`${op} tensor⊕1.5`, (a) => f(a, 1.5), lhs(2, 3)],
    [`${op} 1.5⊕tensor`, (b) => f(1.5, b), rhs(2, 3)],
  );
}

ROWS.push(
  ['pow x^3 with negative bases', (a) => a.pow(3), away([0], 2, 3)],
  ['neg', (a) => a.neg(), rn(2, 3)],
  ['exp', (a) => a.exp(), rn(2, 3)],
  ['log', (a) => a.log(), pos(2, 3)],
  ['sqrt', (a) => a.sqrt(), pos(2, 3)],
  ['abs', (a) => a.abs(), away([0], 2, 3)],
  ['relu', (a) => a.relu(), away([0], 2, 3)],
  ['sigmoid', (a) => a.sigmoid(), rn(2, 3)],
  ['tanh', (a) => a.tanh(), rn(2, 3)],
  ['clamp min only', (a) => a.clamp(-0.3), away([-0.3], 3, 4)],
  ['clamp max only', (a) => a.clamp(null, 0.4), away([0.4], 3, 4)],
  ['clamp both', (a) => a.clamp(-0.5, 0.5), away([-0.5, 0.5], 3, 4)],
  ['where same shape', (c, a, b) => sg.where(c, a, b), fixed(() => sg.randint(0, 2, [2, 3])), rn(2, 3), rn(2, 3)],
  ['where broadcast', (c, a, b) => sg.where(c, a, b), fixed(() => sg.randint(0, 2, [2, 3])), rn(3), rn(2, 1)],
  ['where with a number', (c, a) => sg.where(c, a, 0.5), fixed(() => sg.randint(0, 2, [2, 3])), rn(2, 3)],
);

// Reductions of a [2,3,4]. Random normals have no ties, so max/min are differentiable.
for (const op of ['sum', 'mean'] as const) {
  ROWS.push(
    [`${op} all`, (a) => a[op](), rn(2, 3, 4)],
    [`${op} dim 1`, (a) => a[op](1), rn(2, 3, 4)],
    [`${op} dim -1 keepdim`, (a) => a[op](-1, { keepdim: true }), rn(2, 3, 4)],
    [`${op} dims [0,2]`, (a) => a[op]([0, 2]), rn(2, 3, 4)],
    [`${op} dims [0,2] keepdim`, (a) => a[op]([0, 2], { keepdim: true }), rn(2, 3, 4)],
  );
}
for (const op of ['max', 'min'] as const) {
  ROWS.push(
    [`${op} all`, (a) => a[op](), rn(2, 3, 4)],
    [`${op} dim 0`, (a) => a[op](0), rn(2, 3, 4)],
    [`${op} dim 1 keepdim`, (a) => a[op](1, { keepdim: true }), rn(2, 3, 4)],
    [`${op} dim -1`, (a) => a[op](-1), rn(2, 3, 4)],
  );
}
ROWS.push(
  ['var all unbiased', (a) => a.var(), rn(2, 3, 4)],
  ['var all biased', (a) => a.var(undefined, { unbiased: false }), rn(2, 3, 4)],
  ['var dim 1', (a) => a.var(1), rn(2, 3, 4)],
  ['var dim 1 biased keepdim', (a) => a.var(1, { unbiased: false, keepdim: true }), rn(2, 3, 4)],
  ['var dims [0,2]', (a) => a.var([0, 2]), rn(2, 3, 4)],
  ['var dims [0,2] biased keepdim', (a) => a.var([0, 2], { unbiased: false, keepdim: true }), rn(2, 3, 4)],
);

const MATMUL: [string, number[], number[]][] = [
  ['2-D', [3, 4], [4, 5]],
  ['batched', [2, 3, 4], [2, 4, 5]],
  ['broadcast batch', [2, 1, 3, 4], [5, 4, 2]],
  ['batched @ 2-D', [2, 3, 4], [4, 5]],
  ['1-D @ 2-D', [4], [4, 5]],
  ['2-D @ 1-D', [3, 4], [4]],
  ['1-D @ 1-D', [4], [4]],
  ['1-D @ batched', [4], [2, 4, 3]],
];
for (const [what, sa, sb] of MATMUL) ROWS.push([`matmul ${what}`, (a, b) => a.matmul(b), rn(...sa), rn(...sb)]);

ROWS.push(
  ['reshape', (a) => a.reshape([4, 6]), rn(2, 3, 4)],
  ['reshape with -1', (a) => a.reshape([-1, 4]), rn(2, 3, 4)],
  ['view', (a) => a.view([3, 8]), rn(2, 3, 4)],
  ['flatten', (a) => a.flatten(), rn(2, 3, 4)],
  ['flatten 1..2', (a) => a.flatten(1, 2), rn(2, 3, 4)],
  ['permute', (a) => a.permute([2, 0, 1]), rn(2, 3, 4)],
  ['transpose', (a) => a.transpose(0, 2), rn(2, 3, 4)],
  ['squeeze all', (a) => a.squeeze(), rn(2, 1, 3, 1)],
  ['squeeze dim', (a) => a.squeeze(1), rn(2, 1, 3, 1)],
  ['unsqueeze', (a) => a.unsqueeze(-1), rn(2, 3)],
  ['expand', (a) => a.expand([2, 3, 4]), rn(3, 1)],
  ['slice step 2', (a) => a.slice(1, 0, 6, 2), rn(2, 6, 3)],
  ['slice negative indices', (a) => a.slice(1, -4, -1), rn(2, 6, 3)],
  ['slice negative start, step 2', (a) => a.slice(-1, -4, undefined, 2), rn(2, 3, 5)],
  ['cat dim 0', (a, b) => sg.cat([a, b], 0), rn(2, 3), rn(1, 3)],
  ['cat dim 1, three parts', (a, b, c) => sg.cat([a, b, c], 1), rn(2, 1, 3), rn(2, 2, 3), rn(2, 3, 3)],
  ['cat with a constant part', (a, b) => sg.cat([a, b], -1), rn(2, 3), fixed(() => sg.randn([2, 2], f64))],
  ['stack dim 0', (a, b) => sg.stack([a, b], 0), rn(2, 3), rn(2, 3)],
  ['stack dim -1', (a, b, c) => sg.stack([a, b, c], -1), rn(2, 3), rn(2, 3), rn(2, 3)],
);

for (const dim of [0, 1, -1]) {
  ROWS.push(
    [`softmax dim ${dim}`, (a) => a.softmax(dim), rn(2, 3, 4)],
    [`logSoftmax dim ${dim}`, (a) => a.logSoftmax(dim), rn(2, 3, 4)],
  );
}
ROWS.push(
  ['gather dim 1 (repeated indices)', (a, i) => a.gather(1, i), rn(3, 5), ints([[0, 4, 4, 1], [2, 2, 0, 3], [1, 0, 4, 4]])],
  ['gather dim 0', (a, i) => a.gather(0, i), rn(3, 4), ints([[2, 0, 1, 2], [0, 0, 2, 1]])],
);

// Losses on logits [5,4]; the class weights take no gradient (as in PyTorch).
const W = fixed(() => sg.tensor([0.5, 1.5, 1, 2], f64));
const T = ints([3, 0, 1, 3, 2]);
const TIgnored = ints([1, 0, 1, 3, 2]);
const CE: [string, sg.CrossEntropyOptions][] = [
  ['mean', {}],
  ['sum', { reduction: 'sum' }],
  ['none', { reduction: 'none' }],
  ['labelSmoothing 0.1', { labelSmoothing: 0.1 }],
  ['labelSmoothing 0.1, sum', { labelSmoothing: 0.1, reduction: 'sum' }],
  ['labelSmoothing 0.1, none', { labelSmoothing: 0.1, reduction: 'none' }],
];
for (const [what, opts] of CE) ROWS.push([`crossEntropy ${what}`, (a, t) => sg.crossEntropy(a, t, opts), rn(5, 4), T]);
ROWS.push(
  ['crossEntropy class weights', (a, t, w) => sg.crossEntropy(a, t, { weight: w }), rn(5, 4), T, W],
  ['crossEntropy ignoreIndex', (a, t) => sg.crossEntropy(a, t, { ignoreIndex: 1 }), rn(5, 4), TIgnored],
  ['crossEntropy weights + ignoreIndex + smoothing', (a, t, w) =>
    sg.crossEntropy(a, t, { weight: w, ignoreIndex: 1, labelSmoothing: 0.1 }), rn(5, 4), TIgnored, W],
  ['nllLoss mean', (a, t) => sg.nllLoss(a, t), rn(5, 4), T],
  ['nllLoss sum', (a, t) => sg.nllLoss(a, t, { reduction: 'sum' }), rn(5, 4), T],
  ['nllLoss none', (a, t) => sg.nllLoss(a, t, { reduction: 'none' }), rn(5, 4), T],
  ['nllLoss weights + ignoreIndex', (a, t, w) => sg.nllLoss(a, t, { weight: w, ignoreIndex: 1 }), rn(5, 4), TIgnored, W],
  ['mseLoss mean', (a, b) => sg.mseLoss(a, b), rn(3, 4), rn(3, 4)],
  ['mseLoss sum', (a, b) => sg.mseLoss(a, b, { reduction: 'sum' }), rn(3, 4), rn(3, 4)],
  ['mseLoss none', (a, b) => sg.mseLoss(a, b, { reduction: 'none' }), rn(3, 4), rn(3, 4)],
);

// Graph shapes: y = f(x) + x with x used three times, and a residual block.
ROWS.push(
  ['fan-out residual tanh(x)*x + x', (a) => a.tanh().mul(a).add(a), rn(2, 3)],
  ['residual block relu(x@w) + x', (a, w) => a.matmul(w).add(0.05).relu().add(a), rn(3, 4), rn(4, 4)],
  ['shared subexpression', (a) => { const h = a.exp(); return h.mul(h).sub(h.sum(1, { keepdim: true })); }, rn(2, 3)],
);

describe('ops: float64 gradcheck', () => {
  it.each(ROWS.map((row, k) => [row[0], k] as const))('%s', (_name, k) => {
    const [, fn, ...gens] = ROWS[k];
    sg.manualSeed(1000 + k);
    const inputs = gens.map((g) => g());
    // gradcheck throws naming the worst element on failure.
    expect(sg.gradcheck(fn, inputs).ok).toBe(true);
  });

  it('catches a wrong backward (the checker itself works)', () => {
    const wrongSquare = sg.defineOp({
      name: 'wrongSquare',
      forward(ctx, x: Tensor) {
        ctx.saveForBackward(x);
        return new sg.Tensor(x.data.map((v) => v * v), x.shape);
      },
      backward: (ctx, g) => [g.mul(ctx.savedTensors[0]).mul(2.01)],
    });
    sg.manualSeed(7);
    const x = sg.randn([3], { ...f64, requiresGrad: true });
    expect(() => sg.gradcheck((t) => wrongSquare(t), [x])).toThrow(/gradcheck: gradient mismatch for input 0 at flat index \d/);
  });
});
