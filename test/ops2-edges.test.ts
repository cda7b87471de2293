// Issue 11's edges as PyTorch 1.13 has them (each expectation checked against /usr/bin/python3 +
// torch): empty and 0-d tensors, NaN/±Inf, negative dims, broadcasting, bool-like masks, and the
// errors for out-of-range dims and indices. One table of [name, expression, expected]: expected is
// the value (nested arrays; NaN matches NaN) or, for a RegExp, the error the expression throws.
// The second table holds gradients: [name, inputs, fn, expected gradient of each input].

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { conv2dParams } from '../src/kernels/conv.js';
import { useWinograd } from '../src/kernels/conv_winograd.js';

const NaN_ = Number.NaN;
const Inf = Number.POSITIVE_INFINITY;
const t = (v: sg.NestedArray) => sg.tensor(v);
const i32 = (v: sg.NestedArray) => sg.tensor(v, { dtype: 'int32' });
const empty = (...shape: number[]) => sg.zeros(shape);

type Expect = sg.NestedArray | RegExp;
type Result = Tensor | Tensor[] | number | readonly number[];
const ROWS: [string, () => Result, Expect][] = [
  // --- the edge list: matmul/linear with zero dims
  ['[8,0] @ [0,8] is zeros(8,8)', () => empty(8, 0).matmul(empty(0, 8)).sum(), 0],
  ['[8,0] @ [0,8] has shape [8,8]', () => empty(8, 0).matmul(empty(0, 8)).shape, [8, 8]],
  ['[8,3] @ [3,0] is [8,0]', () => empty(8, 3).matmul(empty(3, 0)).shape, [8, 0]],
  ['[2,3,0] @ [0,2] batched is zeros', () => sg.ones([2, 3, 0]).matmul(sg.ones([0, 2])), [[[0, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0]]]],
  ['linear with 0 in-features gives the bias', () => sg.linear(empty(2, 0), empty(3, 0), t([1, 2, 3])), [[1, 2, 3], [1, 2, 3]]],
  ['linear with 0 out-features is [2,0]', () => sg.linear(sg.ones([2, 4]), empty(0, 4)).shape, [2, 0]],
  // --- dim 0 / -1 on 0-d tensors
  ['0-d sum(0)', () => t(5).sum(0), 5],
  ['0-d sum(-1)', () => t(5).sum(-1), 5],
  ['0-d sum([0,-1]) repeats the dim', () => t(5).sum([0, -1]), /sum: repeated dim/],
  ['0-d mean(0)', () => t(5).mean(0), 5],
  ['0-d max(0)', () => t(5).max(0), 5],
  ['0-d min(-1)', () => t(5).min(-1), 5],
  ['0-d argmax(0)', () => t(5).argmax(0), 0],
  ['0-d argmax(1) is out of range', () => t(5).argmax(1), /argmax: dim 1 is out of range for a tensor of rank 0 \(shape \[\], dims -1..0\)/],
  ['0-d var(0) is NaN', () => t(5).var(0), NaN_],
  ['0-d squeeze(0)', () => t(5).squeeze(0), 5],
  ['0-d transpose(0, -1)', () => t(5).transpose(0, -1), 5],
  ['0-d gather(0, 0-d index)', () => t(5).gather(0, i32(0)), 5],
  ['0-d cumsum(0)', () => t(5).cumsum(0), 5],
  ['0-d prod(0)', () => t(5).prod(0), 5],
  ['0-d flip(0)', () => t(5).flip(0), 5],
  ['0-d sort', () => t(5).sort().values, 5],
  ['0-d any(0)', () => t(5).any(0), 1],
  ['0-d select refused', () => t(5).select(0, 0), /select: cannot select from a 0-d tensor/],
  ['0-d tril refused', () => t(5).tril(), /tril: input must have at least 2 dims, got \[\]/],
  // --- int32 powers, argmax of nothing, int32 overflow, non-tensor operands
  ['int32 ** -2 raises', () => i32([2, 3]).pow(-2), /pow: integers to negative integer powers are not allowed/],
  ['int32 ** int32 with a negative raises', () => i32([2, 3]).pow(i32([-2, 1])), /pow: integers to negative/],
  ['int32 ** 2 stays int32', () => i32([2, 3]).pow(2), [4, 9]],
  ['int32 ** 0.5 is float', () => i32([4, 9]).pow(0.5), [2, 3]],
  ['argmax of an empty tensor raises', () => empty(0).argmax(), /argmax: cannot take the argmax of an empty tensor \[0\]/],
  ['argmin of an empty tensor raises', () => empty(2, 0).argmin(), /argmin: cannot take the argmin of an empty tensor/],
  ['argmax over a size-0 dim raises', () => empty(2, 0).argmax(1), /argmax: cannot reduce dim 1 of size 0 in shape \[2,0\]/],
  ['argmax over dim 0 of [2,0] is empty', () => empty(2, 0).argmax(0).shape, [0]],
  ['tensor([3e9], int32) raises', () => sg.tensor([3e9], { dtype: 'int32' }), /tensor: value 3000000000 cannot be converted to int32 without overflow/],
  ['tensor([NaN], int32) raises', () => sg.tensor([NaN_], { dtype: 'int32' }), /cannot be converted to int32/],
  ['tensor(Float32Array [3e9], int32) raises', () => sg.tensor(new Float32Array([3e9]), { dtype: 'int32' }), /cannot be converted to int32/],
  ['tensor([1.7, -1.7], int32) truncates', () => sg.tensor([1.7, -1.7], { dtype: 'int32' }), [1, -1]],
  ['tensor([-2147483648], int32) fits', () => sg.tensor([-2147483648], { dtype: 'int32' }), [-2147483648]],
  ['full(3e9, int32) raises', () => sg.full([2], 3e9, { dtype: 'int32' }), /full: value 3000000000 cannot be converted/],
  ['add(x, [1,2,3]) raises', () => sg.add(t([1, 2]), [1, 2, 3] as unknown as number), /add: operand must be a Tensor or a number, got an array/],
  ["add(x, '3') raises", () => sg.add(t([1, 2]), '3' as unknown as number), /add: operand must be a Tensor or a number, got a string/],
  ["'3' * x raises", () => sg.mul('3' as unknown as number, t([1, 2])), /mul: operand must be a Tensor or a number, got a string/],
  ['x.sub(null) raises', () => t([1, 2]).sub(null as unknown as number), /sub: operand must be a Tensor or a number, got null/],
  ["x.gt('1') raises", () => t([1, 2]).gt('1' as unknown as number), /gt: operand must be a Tensor or a number/],
  // --- comparisons: broadcasting, NaN, int32 0/1 that count and mask
  ['gt broadcasts', () => t([[1, 5], [3, 2]]).gt(t([2, 2])), [[0, 1], [1, 0]]],
  ['NaN == NaN is 0, NaN != NaN is 1', () => sg.stack([t([NaN_, 1]).eq(t([NaN_, 1])), t([NaN_, 1]).ne(t([NaN_, 1]))]), [[0, 1], [1, 0]]],
  ['NaN compares false', () => sg.cat([t([NaN_]).gt(0), t([NaN_]).le(0), t([NaN_]).lt(Inf)]), [0, 0, 0]],
  ['float32 0.1 equals the number 0.1 (the number takes float32)', () => t([0.1]).eq(0.1), [1]],
  ['.sum() of a comparison counts', () => t([1, 5, 3, 7]).gt(2).sum(), 3],
  ['accuracy: mean of a comparison is a float fraction', () => t([1, 2, 3, 4]).eq(t([1, 0, 3, 4])).mean(), 0.75],
  ['a comparison result takes no gradient', () => Number(sg.randn([2], { requiresGrad: true }).gt(0).requiresGrad), 0],
  ['maskedFill casts a constant 0-d value to the input dtype', () => Number(t([1, 2]).maskedFill(i32([1, 0]), sg.tensor(3, { dtype: 'float64' })).dtype === 'float32'), 1],
  ['comparison of an empty tensor', () => empty(0, 3).eq(1).shape, [0, 3]],
  ['a comparison works as a where condition', () => sg.where(t([-1, 2, -3]).gt(0), t([-1, 2, -3]), 0), [0, 2, 0]],
  ['maskedFill from a comparison', () => t([1, NaN_, 3]).maskedFill(t([1, NaN_, 3]).isnan(), 0), [1, 0, 3]],
  ['maskedSelect from a comparison', () => t([[1, 5], [3, 2]]).maskedSelect(t([[1, 5], [3, 2]]).ge(3)), [5, 3]],
  ['maskedIndex from a comparison', () => t([[1, 5], [3, 2]]).maskedIndex(t([1, 3]).gt(2)), [[3, 2]]],
  ['maskedSelect of nothing', () => t([1, 2]).maskedSelect(i32([0, 0])).shape, [0]],
  ['maskedFill refuses a float mask', () => t([1, 2]).maskedFill(t([1, 0]), 0), /maskedFill: mask must be a bool-like int32 tensor/],
  ['maskedFill mask larger than the input', () => t([1, 2]).maskedFill(i32([[1, 0], [0, 1]]), 0), /maskedFill: mask \[2,2\] must broadcast to the input's shape \[2\]/],
  ['maskedFill on int32 truncates the value', () => i32([1, 2]).maskedFill(i32([1, 0]), 7.9), [7, 2]],
  ['isnan / isinf / isfinite', () => sg.stack(['isnan', 'isinf', 'isfinite'].map((f) => (t([NaN_, Inf, -Inf, 1]) as any)[f]())), [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]]],
  ['any / all of nothing', () => sg.stack([empty(0).any(), empty(0).all()]), [0, 1]],
  ['any / all count NaN as true', () => sg.stack([t([0, NaN_]).any(), t([NaN_, 1]).all()]), [1, 1]],
  ['all over dim -1 of [2,0] is ones', () => empty(2, 0).all(-1), [1, 1]],
  ['argmax: NaN is the max, first one wins', () => t([1, NaN_, 3, NaN_]).argmax(), 1],
  ['argmin: NaN wins too', () => t([1, NaN_, -3]).argmin(), 1],
  ['argmax ties take the first index', () => t([[1, 5, 5], [2, 2, 0]]).argmax(1), [1, 0]],
  ['argmin dim out of range names the op', () => t([[1, 2]]).argmin(2), /argmin: dim 2 is out of range for a tensor of rank 2 \(shape \[1,2\], dims -2..1\)/],
  ['maximum propagates NaN', () => sg.maximum(t([1, NaN_, 3]), t([NaN_, 0, 1])), [NaN_, NaN_, 3]],
  ['minimum broadcasts with a number', () => t([[1, -2], [3, 0]]).minimum(0.5), [[0.5, -2], [0.5, 0]]],
  // --- indexing errors and edges
  ['sort dim out of range names the shape', () => sg.zeros([2, 3]).sort(2).values, /sort: dim 2 is out of range for a tensor of rank 2 \(shape \[2,3\], dims -2..1\)/],
  ['select index out of range', () => sg.arange(6).reshape([2, 3]).select(1, 3), /select: index 3 is out of range for dim 1 of size 3 in shape \[2,3\]/],
  ['narrow past the end', () => sg.arange(6).narrow(0, 4, 3), /narrow: start 4 \+ length 3 exceeds dim 0 of size 6 in shape \[6\]/],
  ['indexSelect index out of range', () => sg.zeros([3]).indexSelect(0, i32([5])), /indexSelect: index 5 is out of range for dim 0 of size 3 in shape \[3\]/],
  ['indexSelect refuses a float index', () => sg.zeros([3]).indexSelect(0, t([1])), /indexSelect: index must be int32, got float32/],
  ['indexSelect with an empty index', () => sg.ones([2, 3]).indexSelect(1, i32([])).shape, [2, 0]],
  ['index out of bounds', () => sg.zeros([3, 2]).index(i32([3])), /index: index 3 is out of bounds for dim 0 of size 3 in shape \[3,2\]/],
  ['indexSelect of a 0-d tensor is 0-d', () => t(5).indexSelect(0, i32([0, 0])), 5],
  ['indexSelect with a 0-d index keeps the dim', () => sg.ones([2, 3]).indexSelect(1, i32(1)).shape, [2, 1]],
  ['topk of a 0-d tensor', () => t(3).topk(1).values, 3],
  ['index negative wraps', () => sg.arange(4).index(i32([-1, 0])), [3, 0]],
  ['index too many indices', () => sg.zeros([3]).index([i32([0]), i32([0])]), /index: too many indices \(2\) for a tensor of shape \[3\]/],
  ['index shapes that do not broadcast', () => sg.zeros([3, 3]).index([i32([0, 1]), i32([0, 1, 2])]), /index: shapes \[2\] and \[3\] cannot be broadcast/],
  ['scatter index out of bounds', () => sg.zeros([3]).scatter(0, i32([5]), sg.ones([1])), /scatter: index 5 is out of bounds for dim 0 with size 3 \(self \[3\]\)/],
  ['scatter src larger than index', () => sg.zeros([2, 3]).scatter(1, i32([[2], [0]]), t([[1, 9], [2, 9]])), [[0, 0, 1], [2, 0, 0]]],
  ['scatter index larger than src', () => sg.zeros([3]).scatter(0, i32([0, 1]), t([1])), /scatter: index \[2\] must be no larger than src \[1\]/],
  ['scatterAdd accumulates duplicates', () => sg.zeros([3]).scatterAdd(0, i32([1, 1, 2]), t([1, 2, 4])), [0, 3, 4]],
  ['oneHot of an empty tensor needs numClasses', () => sg.oneHot(i32([])), /oneHot: cannot infer the number of classes from an empty tensor/],
  ['oneHot value >= numClasses', () => sg.oneHot(i32([3]), 2), /oneHot: class value 3 must be smaller than numClasses 2/],
  ['oneHot negative value', () => sg.oneHot(i32([-1]), 2), /oneHot: class values must be non-negative, got -1/],
  ['oneHot refuses floats', () => sg.oneHot(t([1])), /oneHot: input must be an int32 tensor/],
  // --- pad
  ['pad: last dim first, asymmetric', () => sg.pad(t([[1, 2]]), [1, 0, 0, 1]), [[0, 1, 2], [0, 0, 0]]],
  ['pad reflect at the limit', () => sg.pad(t([[1, 2, 3]]), [2, 2], { mode: 'reflect' }), [[3, 2, 1, 2, 3, 2, 1]]],
  ['pad reflect too wide', () => sg.pad(t([[1, 2, 3]]), [3, 1], { mode: 'reflect' }), /pad: reflect padding \(3, 1\) of dim 1 must be less than its size 3 in \[1,3\]/],
  ['pad replicate', () => sg.pad(t([[1, 2]]), [2, 1], { mode: 'replicate' }), [[1, 1, 1, 2, 2]]],
  ['pad crop past empty', () => sg.pad(t([1, 2]), [-2, -1]), /pad: padding \(-2, -1\) of dim 0 leaves a negative size for input \[2\]/],
  ['pad an empty dim with constants', () => sg.pad(empty(2, 0), [1, 1], { value: 4 }), [[4, 4], [4, 4]]],
  ['pad odd padding length', () => sg.pad(t([1]), [1]), /pad: padding \[1\] must be integer \(left, right\) pairs/],
  ['pad unknown mode', () => sg.pad(t([1]), [1, 1], { mode: 'wrap' as 'reflect' }), /pad: unknown mode 'wrap'/],
  ['pad value with reflect refused', () => sg.pad(t([[1, 2]]), [1, 1], { mode: 'reflect', value: 1 }), /pad: value only applies to constant padding/],
  // --- reductions and scans at the edges
  ['std of one element is NaN', () => t([5]).std(), NaN_],
  ['std of nothing is NaN', () => empty(0).std(), NaN_],
  ['std with both correction and unbiased', () => t([1, 2]).std(undefined, { correction: 0, unbiased: true }), /std: give either correction or unbiased/],
  ['prod of nothing is 1', () => empty(0).prod(), 1],
  ['prod of int32 stays int32', () => i32([1, 2, 3]).prod(), 6],
  ['cumsum of int32', () => i32([1, 2, 3]).cumsum(0), [1, 3, 6]],
  ['cumsum of nothing', () => empty(0).cumsum(0).size, 0],
  ['logsumexp of all -Inf is -Inf', () => t([-Inf, -Inf]).logsumexp(0), -Inf],
  ['logsumexp with +Inf is +Inf', () => t([Inf, 1]).logsumexp(0), Inf],
  ['logsumexp of nothing is -Inf', () => empty(0).logsumexp(0), -Inf],
  ['logsumexp propagates NaN', () => t([1, NaN_]).logsumexp(0), NaN_],
  ['logsumexp needs a dim', () => t([1]).logsumexp(undefined), /logsumexp: dim is required/],
  // --- split/chunk/flip/repeat/tril
  ['chunk 5 into 3', () => sg.arange(5).chunk(3).map((p) => p.size), [2, 2, 1]],
  ['chunk an empty dim gives chunks empty pieces', () => empty(0).chunk(3).length, 3],
  ['split sizes must add up', () => sg.arange(5).split([2, 2]), /split: sizes \[2,2\] must be non-negative integers adding up to 5/],
  ['split size 0 of a non-empty dim', () => sg.arange(5).split(0), /split: splitSize must be a positive integer, got 0/],
  ['flip repeated dim', () => sg.zeros([2, 2]).flip([0, -2]), /flip: repeated dim in \[0,-2\]/],
  ['repeat with fewer repeats than dims', () => sg.zeros([2, 3]).repeat([2]), /repeat: 1 repeats for a tensor of shape \[2,3\]/],
  ['repeat 0 times is empty', () => t([1, 2]).repeat([0]).size, 0],
  ['tril zeroes NaN above the diagonal', () => t([[1, NaN_], [Inf, 2]]).tril(), [[1, 0], [Inf, 2]]],
  // --- sort/topk with NaN, stability, empties
  ['sort ascending puts NaN last', () => t([1, NaN_, 0]).sort().values, [0, 1, NaN_]],
  ['sort descending puts NaN first', () => t([1, NaN_, 2]).sort(-1, { descending: true }).indices, [1, 2, 0]],
  ['sort descending is stable', () => t([1, 2, 1, 2]).sort(0, { descending: true }).indices, [1, 3, 0, 2]],
  ['topk takes NaN as the largest', () => t([1, NaN_, 2]).topk(2).indices, [1, 2]],
  ['topk smallest skips NaN', () => t([1, NaN_, 2]).topk(2, -1, { largest: false }).values, [1, 2]],
  ['topk k too large', () => t([1, 2]).topk(3).values, /topk: k 3 is out of range for dim -1 of size 2 in shape \[2\]/],
  ['topk 0', () => t([1, 2]).topk(0).values.size, 0],
  ['sort of nothing', () => empty(0).sort().values.size, 0],
];

function check(actual: Result, expected: sg.NestedArray): void {
  const value = typeof actual === 'number' ? actual
    : actual instanceof sg.Tensor ? actual.toArray()
    : (actual as readonly (number | Tensor)[]).map((a) => (typeof a === 'number' ? a : a.toArray()));
  expect(value).toEqual(expected); // toEqual matches NaN with NaN
}

describe('ops2 edges: values and errors as PyTorch', () => {
  it.each(ROWS.map((r, k) => [r[0], k] as const))('%s', (_name, k) => {
    const [, fn, expected] = ROWS[k];
    if (expected instanceof RegExp) expect(fn).toThrow(expected);
    else check(fn(), expected);
  });
});

type GradRow = [name: string, inputs: () => Tensor[], fn: (...xs: Tensor[]) => Tensor, grads: sg.NestedArray[]];
const leaf = (v: sg.NestedArray) => sg.tensor(v, { requiresGrad: true });
const GRAD_ROWS: GradRow[] = [
  ['relu passes the gradient at a NaN input', () => [leaf([NaN_, -1, 2])], (x) => x.relu(), [[1, 0, 1]]],
  ['relu at NaN on the SIMD path (float32, 4096 elements)', () => [leaf(Array.from({ length: 4096 }, (_, i) => (i % 3 === 0 ? NaN_ : i % 3 === 1 ? -1 : 1)))],
    (x) => x.relu(), [Array.from({ length: 4096 }, (_, i) => (i % 3 === 1 ? 0 : 1))]],
  ['max() sends the gradient to the NaNs, shared', () => [leaf([1, NaN_, 3, NaN_])], (x) => x.max(), [[0, 0.5, 0, 0.5]]],
  ['min() sends the gradient to the NaN', () => [leaf([1, NaN_, -3])], (x) => x.min(), [[0, 1, 0]]],
  ['max() ties share', () => [leaf([1, 3, 3])], (x) => x.max(), [[0, 0.5, 0.5]]],
  ['maximum: ties split, NaN sends to both', () => [leaf([1, 2, NaN_, 4]), leaf([1, 3, 1, NaN_])], (a, b) => sg.maximum(a, b),
    [[0.5, 0, 1, 1], [0.5, 1, 1, 1]]],
  ['minimum: ties split', () => [leaf([1, 2]), leaf([1, 3])], (a, b) => sg.minimum(a, b), [[0.5, 1], [0.5, 0]]],
  ['[8,0] @ [0,8] backward gives empty gradients', () => [sg.zeros([2, 0], { requiresGrad: true }), sg.zeros([0, 2], { requiresGrad: true })],
    (a, b) => a.matmul(b), [[[], []], []]],
  ['linear with 0 in-features: bias gradient', () => [sg.zeros([2, 0]), sg.zeros([3, 0]), leaf([1, 2, 3])], (x, w, b) => sg.linear(x, w, b), [[[], []], [[], [], []], [2, 2, 2]]],
  ['prod with two zeros in a line: all zero', () => [leaf([0, 2, 0])], (x) => x.prod(), [[0, 0, 0]]],
  ['prod with one zero: only its own gradient', () => [leaf([3, 0, 2])], (x) => x.prod(), [[0, 6, 0]]],
  ['0-d max(0) backward', () => [leaf(4)], (x) => x.max(0), [1]],
  ['sort values backward follows the permutation', () => [leaf([3, 1, 2])], (x) => x.sort().values.mul(t([1, 10, 100])), [[100, 1, 10]]],
];

describe('ops2 edges: gradients as PyTorch', () => {
  it.each(GRAD_ROWS.map((r, k) => [r[0], k] as const))('%s', (_name, k) => {
    const [, make, fn, grads] = GRAD_ROWS[k];
    const inputs = make();
    const out = fn(...inputs);
    out.backward(sg.onesLike(out));
    inputs.forEach((x, i) => {
      if (grads[i] === undefined) return;
      const g = x.grad ?? (x.requiresGrad ? null : sg.zerosLike(x));
      expect(g?.toArray(), `gradient of input ${i}`).toEqual(grads[i]);
    });
  });
});

describe('ops2 edges: convolution with non-finite inputs', () => {
  it('a 3x3 convolution of a +Inf/-Inf input matches the reference (Winograd would give NaN)', () => {
    sg.manualSeed(11);
    const x = sg.randn([2, 8, 12, 12], { requiresGrad: true });
    x.data[5] = Infinity;
    x.data[40] = -Infinity;
    const w = sg.randn([16, 8, 3, 3]);
    // The shape must be one the fast path sends to Winograd, or this test would not reach it.
    const p = conv2dParams(x.shape, w.shape, { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 });
    expect(useWinograd(p, 'forward') && useWinograd(p, 'input')).toBe(true);
    const prev = sg.getKernelMode();
    try {
      sg.setKernelMode('fast');
      const fast = sg.conv2d(x, w, null, { padding: 1 });
      sg.setKernelMode('reference');
      const ref = sg.conv2d(x, w, null, { padding: 1 });
      expect(Array.from(fast.data).filter((v) => Number.isNaN(v)).length).toBe(0);
      expect(Array.from(fast.data).filter((v) => !Number.isFinite(v)).length).toBeGreaterThan(0);
      for (let i = 0; i < ref.size; i++) {
        if (!Number.isFinite(ref.data[i])) expect(fast.data[i], `element ${i}`).toBe(ref.data[i]);
        else expect(Math.abs(fast.data[i] - ref.data[i])).toBeLessThan(1e-3 * (1 + Math.abs(ref.data[i])));
      }
      // The input gradient of an Inf upstream gradient (Winograd's 'input' pass) as well.
      const gy = sg.ones(fast.shape);
      gy.data[7] = Infinity;
      sg.setKernelMode('fast');
      sg.conv2d(x, w, null, { padding: 1 }).backward(gy);
      const gFast = x.grad!;
      x.grad = null;
      sg.setKernelMode('reference');
      sg.conv2d(x, w, null, { padding: 1 }).backward(gy);
      const gRef = x.grad!;
      for (let i = 0; i < gRef.size; i++) {
        if (!Number.isFinite(gRef.data[i])) expect(gFast.data[i], `gradient element ${i}`).toBe(gRef.data[i]);
      }
      expect(Array.from(gFast.data).some((v) => Number.isNaN(v))).toBe(Array.from(gRef.data).some((v) => Number.isNaN(v)));
    } finally {
      sg.setKernelMode(prev);
    }
  });
});
