// Float64 gradcheck (backward vs central differences) of issue 11's layers, one table row per
// case, every input that takes a gradient (input, weight, bias) checked.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';

type Gen = () => Tensor;
type Row = [name: string, fn: (...xs: Tensor[]) => Tensor, ...inputs: Gen[]];

const f64 = { dtype: 'float64' } as const;
const rn = (...shape: number[]): Gen => () => sg.randn(shape, { ...f64, requiresGrad: true });
/** A tensor that takes no gradient (indices, running statistics). */
const fixed = (make: () => Tensor): Gen => make;
const ints = (values: sg.NestedArray): Gen => () => sg.tensor(values, { dtype: 'int32' });
const posVar = (c: number): Gen => () => sg.rand([c], f64).add(0.5);

const ROWS: Row[] = [
  ['layerNorm last dim', (x, w, b) => sg.layerNorm(x, 5, w, b), rn(3, 4, 5), rn(5), rn(5)],
  ['layerNorm two dims, eps 1e-3', (x, w, b) => sg.layerNorm(x, [3, 4], w, b, { eps: 1e-3 }), rn(2, 3, 4), rn(3, 4), rn(3, 4)],
  ['layerNorm no affine', (x) => sg.layerNorm(x, [6]), rn(4, 6)],
  ['layerNorm weight only', (x, w) => sg.layerNorm(x, [7], w), rn(3, 7), rn(7)],

  ['groupNorm [N,C,H,W], 3 groups', (x, w, b) => sg.groupNorm(x, 3, w, b), rn(2, 6, 3, 2), rn(6), rn(6)],
  ['groupNorm [N,C], 2 groups', (x, w, b) => sg.groupNorm(x, 2, w, b), rn(3, 4), rn(4), rn(4)],
  ['groupNorm [N,C,L] no affine', (x) => sg.groupNorm(x, 4), rn(2, 4, 5)],
  ['groupNorm one group', (x, w, b) => sg.groupNorm(x, 1, w, b, { eps: 1e-2 }), rn(2, 3, 2, 3), rn(3), rn(3)],

  ['instanceNorm affine', (x, w, b) => sg.instanceNorm(x, null, null, w, b), rn(2, 3, 3, 4), rn(3), rn(3)],
  ['instanceNorm [N,C,L] no affine', (x) => sg.instanceNorm(x), rn(3, 2, 6)],
  ['instanceNorm updating running stats', (x, w, b, rm, rv) => sg.instanceNorm(x, rm, rv, w, b, { momentum: 0.3 }),
    rn(2, 3, 2, 3), rn(3), rn(3), fixed(() => sg.randn([3], f64)), posVar(3)],
  ['instanceNorm with running stats (eval)', (x, w, b, rm, rv) => sg.instanceNorm(x, rm, rv, w, b, { useInputStats: false }),
    rn(2, 3, 2, 3), rn(3), rn(3), fixed(() => sg.randn([3], f64)), posVar(3)],

  ['embedding, repeated indices', (i, w) => sg.embedding(i, w), ints([[0, 3, 3], [5, 0, 3]]), rn(6, 4)],
  ['embedding 0-d index', (i, w) => sg.embedding(i, w), fixed(() => sg.tensor(2, { dtype: 'int32' })), rn(4, 3)],

  ['conv1d', (x, w, b) => sg.conv1d(x, w, b), rn(2, 3, 7), rn(4, 3, 3), rn(4)],
  ['conv1d stride 2, padding 1', (x, w, b) => sg.conv1d(x, w, b, { stride: 2, padding: 1 }), rn(2, 3, 8), rn(2, 3, 4), rn(2)],
  ['conv1d dilation 2, groups 2', (x, w) => sg.conv1d(x, w, null, { dilation: 2, groups: 2 }), rn(1, 4, 9), rn(6, 2, 3)],
  ['conv1d same, even kernel', (x, w, b) => sg.conv1d(x, w, b, { padding: 'same' }), rn(2, 2, 6), rn(3, 2, 4), rn(3)],
  ['conv1d unbatched', (x, w, b) => sg.conv1d(x, w, b, { padding: 1 }), rn(3, 5), rn(2, 3, 3), rn(2)],

  ['convTranspose2d', (x, w, b) => sg.convTranspose2d(x, w, b), rn(2, 3, 3, 4), rn(3, 2, 3, 3), rn(2)],
  ['convTranspose2d stride 2, padding 1, outputPadding 1', (x, w, b) =>
    sg.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }), rn(1, 2, 3, 3), rn(2, 3, 3, 3), rn(3)],
  ['convTranspose2d groups 2, dilation 2', (x, w) => sg.convTranspose2d(x, w, null, { groups: 2, dilation: 2 }), rn(1, 4, 3, 3), rn(4, 1, 2, 3)],
  ['convTranspose2d mixed pairs', (x, w, b) =>
    sg.convTranspose2d(x, w, b, { stride: [2, 1], padding: [1, 0], outputPadding: [1, 0], dilation: [1, 2] }), rn(2, 2, 3, 3), rn(2, 3, 2, 3), rn(3)],
  ['convTranspose2d outputPadding below dilation', (x, w, b) => sg.convTranspose2d(x, w, b, { dilation: 2, outputPadding: 1 }),
    rn(1, 2, 3, 3), rn(2, 2, 2, 2), rn(2)],
  ['convTranspose2d unbatched', (x, w, b) => sg.convTranspose2d(x, w, b, { stride: 2 }), rn(2, 2, 3), rn(2, 2, 2, 2), rn(2)],

  ['interpolate nearest x2', (x) => sg.interpolate(x, { scaleFactor: 2 }), rn(1, 2, 3, 3)],
  ['interpolate nearest 1.7 x 2.3', (x) => sg.interpolate(x, { scaleFactor: [1.7, 2.3] }), rn(1, 2, 4, 3)],
  ['interpolate nearest downsample to size', (x) => sg.interpolate(x, { size: [3, 2] }), rn(1, 2, 7, 5)],
  ['interpolate nearest-exact', (x) => sg.interpolate(x, { scaleFactor: 1.6, mode: 'nearest-exact' }), rn(1, 1, 4, 5)],
  ['interpolate nearest 3-D', (x) => sg.interpolate(x, { size: 7 }), rn(2, 2, 4)],
  ['interpolate bilinear x2', (x) => sg.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }), rn(1, 2, 3, 4)],
  ['interpolate bilinear alignCorners to size', (x) => sg.interpolate(x, { size: [5, 7], mode: 'bilinear', alignCorners: true }), rn(2, 1, 3, 4)],
  ['interpolate bilinear downsample 0.6', (x) => sg.interpolate(x, { scaleFactor: 0.6, mode: 'bilinear' }), rn(1, 2, 6, 7)],
  ['interpolate linear 3-D', (x) => sg.interpolate(x, { scaleFactor: 1.5, mode: 'linear' }), rn(2, 2, 4)],
  ['interpolate trilinear', (x) => sg.interpolate(x, { size: [3, 3, 4], mode: 'trilinear' }), rn(1, 1, 2, 2, 3)],

  // a fresh generator with one seed per call: the same mask at every evaluation
  ['dropout2d (fixed mask)', (x) => sg.dropout2d(x, 0.4, true, new sg.Generator(5)), rn(3, 4, 2, 2)],
];

describe('layers: float64 gradcheck', () => {
  it.each(ROWS.map((row, k) => [row[0], k] as const))('%s', (_name, k) => {
    const [, fn, ...gens] = ROWS[k];
    sg.manualSeed(2000 + k);
    const inputs = gens.map((g) => g());
    expect(sg.gradcheck(fn, inputs).ok).toBe(true);
  });

  // paddingIdx and scaleGradByFreq change the gradient on purpose (as PyTorch), so they are
  // checked against the plain embedding's (gradchecked) gradient instead.
  it('embedding paddingIdx: the padding row gets no gradient, the others the plain gradient', () => {
    sg.manualSeed(3);
    const idx = sg.tensor([[1, 2, 1, 4], [0, 1, 4, 4]], { dtype: 'int32' });
    const w = sg.randn([5, 3], { ...f64, requiresGrad: true });
    const g = sg.randn([2, 4, 3], f64);
    sg.embedding(idx, w).backward(g);
    const plain = Array.from(w.grad!.data);
    w.grad = null;
    sg.embedding(idx, w, { paddingIdx: 1 }).backward(g);
    const padded = Array.from(w.grad!.data);
    expect(padded.slice(3, 6)).toEqual([0, 0, 0]);
    expect(plain.slice(3, 6).some((v) => v !== 0)).toBe(true);
    expect([...padded.slice(0, 3), ...padded.slice(6)]).toEqual([...plain.slice(0, 3), ...plain.slice(6)]);
  });

  it('embedding scaleGradByFreq divides each row by its index count in the batch', () => {
    sg.manualSeed(4);
    const idx = sg.tensor([2, 2, 0, 1, 2], { dtype: 'int32' });
    const w = sg.randn([4, 3], { ...f64, requiresGrad: true });
    const g = sg.randn([5, 3], f64);
    sg.embedding(idx, w).backward(g);
    const plain = Array.from(w.grad!.data);
    w.grad = null;
    sg.embedding(idx, w, { scaleGradByFreq: true }).backward(g);
    const counts = [1, 1, 3, 0];
    const expected = plain.map((v, k) => (counts[Math.floor(k / 3)] ? v / counts[Math.floor(k / 3)] : 0));
    Array.from(w.grad!.data).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 14));
  });
});
