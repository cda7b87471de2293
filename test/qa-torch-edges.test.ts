// Cases where skipgrad differed from PyTorch, found by differential testing of the ops against
// live torch (random and edge inputs, forward values, dtypes, shapes and gradients). Every
// expected value below comes from torch 1.13 (/usr/bin/python3), written in as literals.
// The gradient of each case is of sum(out * w) with w = arange(out.numel) * 0.5 - 1.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';

function weighted(out: Tensor): Tensor {
  const w = sg.tensor(Float32Array.from({ length: out.size }, (_, i) => i * 0.5 - 1), { shape: out.shape });
  return sg.sum(sg.mul(out, w));
}

const Inf = Number.POSITIVE_INFINITY;
const arange = (n: number, shape: number[]) => sg.tensor(Float32Array.from({ length: n }, (_, i) => i), { shape, requiresGrad: true });

const CASES: [string, () => Tensor, (x: Tensor) => Tensor, number[], number[], number[]][] = [
  // torch.std's backward is 0 where the result is 0 (a constant slice), not sqrt's 0.5/0 * 0 = NaN.
  ['std(dim 1) of a constant row', () => sg.tensor([[2, 2, 2], [0, 1, 1]], { requiresGrad: true }), (x) => x.std(1),
    [0, 0.5773502588272095], [2], [0, 0, 0, 0.2886751592159271, -0.14433756470680237, -0.14433756470680237]],
  ['std(dim 0, correction 0, keepdim) all constant', () => sg.tensor([[3, 3], [3, 3]], { requiresGrad: true }),
    (x) => x.std(0, { correction: 0, keepdim: true }), [0, 0], [1, 2], [0, 0, 0, 0]],
  // var/std of a slice holding ±Inf: torch's var_backward leaves the other slices' and elements' gradients finite.
  ['var(dim 1) with an Inf row', () => sg.tensor([[1, Inf, 1], [1, 2, 4]], { requiresGrad: true }), (x) => sg.variance(x, 1),
    [NaN, 2.3333332538604736], [2], [Inf, NaN, Inf, 0.6666666269302368, 0.16666662693023682, -0.8333333730697632]],
  ['var(dim 0, correction 0) with an Inf column', () => sg.tensor([[1, Inf, 1], [1, 2, 4]], { requiresGrad: true }), (x) => sg.variance(x, 0, { correction: 0 }),
    [0, NaN, 2.25], [3], [-0, NaN, -0, -0, Inf, 0]],
  ['std(dim 1) with a -Inf row', () => sg.tensor([[-Inf, 2, 0], [1, 2, 4]], { requiresGrad: true }), (x) => x.std(1),
    [NaN, 1.5275251865386963], [2], [NaN, NaN, NaN, 0.2182178795337677, 0.05455445870757103, -0.2727723717689514]],
  // F.pad crops with negative padding in reflect and replicate modes too, and has a circular mode.
  ['pad reflect (-1, 2)', () => arange(10, [1, 2, 5]), (x) => sg.pad(x, [-1, 2], { mode: 'reflect' }),
    [1, 2, 3, 4, 3, 2, 6, 7, 8, 9, 8, 7], [1, 2, 6], [0, -1, 1, 1, 0.5, 0, 2, 7, 7, 3.5]],
  ['pad replicate (-2, 3)', () => arange(10, [1, 2, 5]), (x) => sg.pad(x, [-2, 3], { mode: 'replicate' }),
    [2, 3, 4, 4, 4, 4, 7, 8, 9, 9, 9, 9], [1, 2, 6], [0, 0, -1, -0.5, 3, 0, 0, 2, 2.5, 15]],
  ['pad reflect 2-D (1, -1, -1, 2)', () => arange(12, [1, 1, 3, 4]), (x) => sg.pad(x, [1, -1, -1, 2], { mode: 'reflect' }),
    [5, 4, 5, 6, 9, 8, 9, 10, 5, 4, 5, 6, 1, 0, 1, 2], [1, 1, 4, 4], [5.5, 11, 6.5, 0, 3, 6, 5, 0, 1.5, 3, 2.5, 0]],
  ['pad circular (2, 1)', () => arange(10, [1, 2, 5]), (x) => sg.pad(x, [2, 1], { mode: 'circular' }),
    [3, 4, 0, 1, 2, 3, 4, 0, 8, 9, 5, 6, 7, 8, 9, 5], [1, 2, 8], [2.5, 0.5, 1, 0.5, 1.5, 10.5, 4.5, 5, 8.5, 9.5]],
  ['pad circular 2-D (4, 1, 1, 3): a pad as large as the dim', () => arange(12, [1, 1, 3, 4]), (x) => sg.pad(x, [4, 1, 1, 3], { mode: 'circular' }),
    [8, 9, 10, 11, 8, 9, 10, 11, 8, 0, 1, 2, 3, 0, 1, 2, 3, 0, 4, 5, 6, 7, 4, 5, 6, 7, 4, 8, 9, 10, 11, 8, 9, 10, 11, 8, 0, 1, 2, 3, 0, 1, 2, 3, 0, 4, 5, 6, 7, 4, 5, 6, 7, 4, 8, 9, 10, 11, 8, 9, 10, 11, 8],
    [1, 1, 7, 9], [73.5, 47, 49, 51, 100.5, 65, 67, 69, 130.5, 84, 87, 90]],
];

// closeTo for finite values; NaN and ±Inf exactly.
const near = (v: number) => (Number.isFinite(v) ? expect.closeTo(v, 5) : v);

describe('ops agree with torch 1.13 where they used to differ', () => {
  it.each(CASES)('%s', (_name, make, fn, value, shape, grad) => {
    const x = make();
    const out = fn(x);
    expect(out.shape).toEqual(shape);
    expect(Array.from(out.data)).toEqual(value.map(near));
    weighted(out).backward();
    expect(Array.from(x.grad!.data)).toEqual(grad.map(near));
  });

  it('clamp with min > max sets every element to max, NaN stays NaN, no gradient (torch: [-1, -1, -1, nan], grad 0)', () => {
    const x = sg.tensor([-2, 0.5, 3, Number.NaN], { requiresGrad: true });
    const y = sg.clamp(x, 1, -1);
    expect(Array.from(y.data)).toEqual([-1, -1, -1, Number.NaN]);
    y.sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(sg.clamp(sg.tensor([-2, 0, 3], { dtype: 'int32' }), 1, -1).data)).toEqual([-1, -1, -1]);
  });

  it('std of a constant tensor has gradient 0, not NaN (torch: [0, 0, 0])', () => {
    const x = sg.tensor([1, 1, 1], { requiresGrad: true });
    x.std().backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0]);
  });

  it.each([
    // torch: "Padding value causes wrapping around more than once."
    ['circular pad beyond the dim size', () => sg.pad(sg.zeros([1, 1, 5]), [6, 0], { mode: 'circular' }), /pad: circular padding \(6, 0\) of dim 2 wraps around more than once/],
    // torch's result is ill-defined (it reads uninitialized memory for [-5, 1]); refused here.
    ['negative circular pad', () => sg.pad(sg.zeros([1, 1, 5]), [-1, 2], { mode: 'circular' }), /negative padding \(-1, 2\) is not supported in circular mode/],
    // torch: "Padding size should be less than the corresponding input dimension"
    ['reflect pad of the dim size, cropped on the other side', () => sg.pad(sg.zeros([1, 1, 5]), [-6, 7], { mode: 'reflect' }), /reflect padding \(-6, 7\) of dim 2 must be less than its size 5/],
    // torch: "input (W: 5) is too small. Calculated output W: 0"
    ['reflect crop to nothing', () => sg.pad(sg.zeros([1, 2, 5]), [-3, -2], { mode: 'reflect' }), /pad: reflect padding \(-3, -2\) of dim 2 leaves nothing of its size 5/],
    ['replicate crop to nothing', () => sg.pad(sg.zeros([1, 2, 5]), [-3, -2], { mode: 'replicate' }), /pad: replicate padding \(-3, -2\) of dim 2 leaves nothing/],
    ['unknown mode names the modes', () => sg.pad(sg.zeros([1, 5]), [1, 1], { mode: 'wrap' as sg.PadMode }), /unknown mode 'wrap' \(use constant, reflect, replicate or circular\)/],
  ])('%s throws', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });
});
