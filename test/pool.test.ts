import { describe, expect, it } from 'vitest';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d, type AvgPool2dOptions, type MaxPool2dOptions } from '../src/autograd/index.js';
import { poolOutputSize } from '../src/kernels/pool.js';
import { gradcheck, manualSeed, randn, tensor, zeros, type Tensor } from '../src/index.js';
import { decode, expectClose, loadFixture } from './helpers/fixtures.js';

const f64 = (shape: number[]) => randn(shape, { dtype: 'float64', requiresGrad: true });
const pairOf = (a: number, b: number): [number, number] => [a, b];

describe('pooling: PyTorch parity (float32, test/fixtures/conv.json)', () => {
  const cases = Object.entries(loadFixture('conv')).filter(([name]) => !name.startsWith('conv_'));
  it('has the cases', () => expect(cases.length).toBeGreaterThanOrEqual(15));
  for (const [name, c] of cases) {
    it(name, () => {
      const cfg = Array.from(decode(c.cfg).data);
      const x = decode(c.x, true);
      let y: Tensor;
      if (name.startsWith('maxpool_')) {
        const [kH, kW, sH, sW, pH, pW, dH, dW, ceil] = cfg;
        y = maxPool2d(x, { kernelSize: [kH, kW], stride: [sH, sW], padding: [pH, pW], dilation: [dH, dW], ceilMode: ceil === 1 });
      } else if (name.startsWith('avgpool_')) {
        const [kH, kW, sH, sW, pH, pW, ceil, includePad, divisor] = cfg;
        y = avgPool2d(x, {
          kernelSize: [kH, kW], stride: [sH, sW], padding: [pH, pW], ceilMode: ceil === 1,
          countIncludePad: includePad === 1, divisorOverride: divisor || undefined,
        });
      } else {
        y = adaptiveAvgPool2d(x, pairOf(cfg[0], cfg[1]));
      }
      y.backward(decode(c.gy));
      // Pooling sums at most 35 values of O(1), so the default tolerances hold.
      expectClose(y, c.y, `${name} y`);
      expectClose(x.grad, c.gx, `${name} gx`);
    });
  }
});

describe('pooling: float64 gradcheck', () => {
  const check = (shape: number[], f: (x: Tensor) => Tensor) => {
    manualSeed(13);
    expect(gradcheck(f, [f64(shape)]).ok).toBe(true);
  };
  const maxGrid: Array<[number[], MaxPool2dOptions]> = [
    [[1, 2, 7, 5], { kernelSize: 2 }],
    [[1, 2, 7, 5], { kernelSize: 3, stride: 1, padding: 1 }],
    [[3, 2, 7, 5], { kernelSize: 3, stride: 2, padding: 1 }],
    [[1, 2, 7, 5], { kernelSize: 3, stride: 2, ceilMode: true }],
    [[1, 2, 7, 5], { kernelSize: 3, stride: 1, padding: 1, dilation: 2 }],
    [[1, 1, 7, 6], { kernelSize: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2] }],
    [[1, 1, 9, 8], { kernelSize: 7, stride: 2, padding: 3 }],
  ];
  for (const [shape, o] of maxGrid) it(`maxPool2d ${JSON.stringify(shape)} ${JSON.stringify(o)}`, () => check(shape, (x) => maxPool2d(x, o)));

  const avgGrid: Array<[number[], AvgPool2dOptions]> = [
    [[1, 2, 7, 5], { kernelSize: 2 }],
    [[3, 2, 7, 5], { kernelSize: 3, stride: 2, padding: 1 }],
    [[1, 2, 7, 5], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }],
    [[1, 2, 5, 6], { kernelSize: 2, stride: 2, padding: 1, ceilMode: true }],
    [[1, 2, 6, 5], { kernelSize: [3, 2], stride: [2, 1], padding: 1, divisorOverride: 5 }],
  ];
  for (const [shape, o] of avgGrid) it(`avgPool2d ${JSON.stringify(shape)} ${JSON.stringify(o)}`, () => check(shape, (x) => avgPool2d(x, o)));

  for (const out of [1, pairOf(3, 2), 4, pairOf(9, 6)]) {
    it(`adaptiveAvgPool2d 7x5 -> ${JSON.stringify(out)}`, () => check([3, 2, 7, 5], (x) => adaptiveAvgPool2d(x, out)));
  }
  it('unbatched [C, H, W] input', () => {
    manualSeed(2);
    const x = f64([2, 7, 5]);
    expect(maxPool2d(x, { kernelSize: 2 }).shape).toEqual([2, 3, 2]);
    check([2, 7, 5], (t) => avgPool2d(maxPool2d(t, { kernelSize: 3, stride: 1, padding: 1 }), { kernelSize: 2 }).add(adaptiveAvgPool2d(t, 3).sum()));
  });
});

describe('pooling: behaviour', () => {
  it('maxPool2d picks the first of tied maxima, and the max through -Infinity padding', () => {
    const x = tensor([[[[1, 5, 5], [-2, 5, 0], [-7, -8, -9]]]], { requiresGrad: true });
    const y = maxPool2d(x, { kernelSize: 2, stride: 1, padding: 1 });
    expect(y.toArray()).toEqual([[[[1, 5, 5, 5], [1, 5, 5, 5], [-2, 5, 5, 0], [-7, -7, -8, -9]]]]);
    y.sum().backward();
    // Every output's gradient goes to its window's first maximum.
    expect(x.grad!.toArray()).toEqual([[[[2, 4, 2], [1, 2, 1], [2, 1, 1]]]]);
  });

  it('maxPool2d propagates NaN', () => {
    const y = maxPool2d(tensor([[[[1, NaN], [3, 2]]]]), { kernelSize: 2 });
    expect(Number.isNaN(y.item())).toBe(true);
  });

  it('avgPool2d divisors: with and without padding, and overridden', () => {
    const x = tensor([[[[1, 2], [3, 4]]]]);
    const o = { kernelSize: 2, stride: 1, padding: 1 } as const;
    expect(avgPool2d(x, o).toArray()).toEqual([[[[0.25, 0.75, 0.5], [1, 2.5, 1.5], [0.75, 1.75, 1]]]]);
    expect(avgPool2d(x, { ...o, countIncludePad: false }).toArray()).toEqual([[[[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]]]]);
    expect(avgPool2d(x, { ...o, divisorOverride: 2 }).toArray()).toEqual([[[[0.5, 1.5, 1], [2, 5, 3], [1.5, 3.5, 2]]]]);
  });

  it("ceilMode follows PyTorch's rule: the last window must start inside the input or left padding", () => {
    expect(poolOutputSize(7, 3, 0, 2, 1, false)).toBe(3);
    expect(poolOutputSize(8, 3, 0, 2, 1, true)).toBe(4); // floor would give 3
    // ceil((5 + 2 - 2) / 2) + 1 = 4 windows, but the 4th would start at 6 - 1 = 5, in the right padding.
    expect(poolOutputSize(5, 2, 1, 2, 1, true)).toBe(3);
  });

  it('adaptiveAvgPool2d uses overlapping bins [floor(i*H/out), ceil((i+1)*H/out))', () => {
    const x = tensor([[[[1, 2, 3, 4, 5]]]]);
    // Width 5 into 3 bins: [0,2), [1,4), [3,5).
    expect(adaptiveAvgPool2d(x, [1, 3]).toArray()).toEqual([[[[1.5, 3, 4.5]]]]);
  });

  it('keeps float64 and float32', () => {
    expect(maxPool2d(zeros([1, 1, 4, 4], { dtype: 'float64' }), { kernelSize: 2 }).dtype).toBe('float64');
    expect(avgPool2d(zeros([1, 1, 4, 4]), { kernelSize: 2 }).dtype).toBe('float32');
  });
});

describe('pooling: errors name the op and the shapes', () => {
  const x = zeros([1, 2, 7, 5]);
  const cases: Array<[string, () => Tensor, string]> = [
    ['maxPool2d 2-D input', () => maxPool2d(zeros([7, 5]), { kernelSize: 2 }), 'maxPool2d: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got [7,5]'],
    ['maxPool2d padding over half the kernel', () => maxPool2d(x, { kernelSize: 3, padding: 2 }),
      'maxPool2d: padding [2,2] must be at most half of kernelSize [3,3] (input [1,2,7,5])'],
    ['maxPool2d output too small', () => maxPool2d(x, { kernelSize: 6 }),
      'maxPool2d: output size 1x0 is too small: input [1,2,7,5], kernelSize [6,6], stride [6,6], padding [0,0], dilation [1,1]'],
    ['maxPool2d zero stride', () => maxPool2d(x, { kernelSize: 2, stride: 0 }), 'maxPool2d: stride must be positive integers, got [0,0] (input [1,2,7,5])'],
    ['maxPool2d zero kernel', () => maxPool2d(x, { kernelSize: [2, 0] }), 'maxPool2d: kernelSize must be positive integers, got [2,0] (input [1,2,7,5])'],
    ['maxPool2d zero dilation', () => maxPool2d(x, { kernelSize: 2, dilation: 0 }), 'maxPool2d: dilation must be positive integers, got [0,0] (input [1,2,7,5])'],
    ['maxPool2d negative padding', () => maxPool2d(x, { kernelSize: 2, padding: -1 }), 'maxPool2d: padding must be non-negative integers, got [-1,-1] (input [1,2,7,5])'],
    ['maxPool2d int input', () => maxPool2d(zeros([1, 2, 7, 5], { dtype: 'int32' }), { kernelSize: 2 }), 'maxPool2d: input [1,2,7,5] must be float, got int32'],
    ['maxPool2d empty spatial dim', () => maxPool2d(zeros([1, 2, 0, 5]), { kernelSize: 2 }), 'maxPool2d: input [1,2,0,5] has an empty channel or spatial dim'],
    ['avgPool2d padding over half the kernel', () => avgPool2d(x, { kernelSize: 2, padding: [0, 2] }),
      'avgPool2d: padding [0,2] must be at most half of kernelSize [2,2] (input [1,2,7,5])'],
    ['avgPool2d output too small', () => avgPool2d(x, { kernelSize: [8, 2] }),
      'avgPool2d: output size 0x2 is too small: input [1,2,7,5], kernelSize [8,2], stride [8,2], padding [0,0], dilation [1,1]'],
    ['avgPool2d zero divisor', () => avgPool2d(x, { kernelSize: 2, divisorOverride: 0 }), 'avgPool2d: divisorOverride must be a non-zero number, got 0 (input [1,2,7,5])'],
    ['avgPool2d 5-D input', () => avgPool2d(zeros([1, 1, 2, 7, 5]), { kernelSize: 2 }), 'avgPool2d: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got [1,1,2,7,5]'],
    ['avgPool2d bad pair', () => avgPool2d(x, { kernelSize: [2] as unknown as number }), 'avgPool2d: kernelSize must be a number or an [h, w] pair, got [2]'],
    ['adaptiveAvgPool2d 2-D input', () => adaptiveAvgPool2d(zeros([7, 5]), 2), 'adaptiveAvgPool2d: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got [7,5]'],
    ['adaptiveAvgPool2d negative size', () => adaptiveAvgPool2d(x, [2, -1]), 'adaptiveAvgPool2d: outputSize must be non-negative integers, got [2,-1] (input [1,2,7,5])'],
    ['adaptiveAvgPool2d empty input', () => adaptiveAvgPool2d(zeros([1, 0, 7, 5]), 2), 'adaptiveAvgPool2d: input [1,0,7,5] has an empty channel or spatial dim'],
    ['adaptiveAvgPool2d int input', () => adaptiveAvgPool2d(zeros([1, 2, 7, 5], { dtype: 'int32' }), 2), 'adaptiveAvgPool2d: input [1,2,7,5] must be float, got int32'],
  ];
  for (const [what, run, message] of cases) it(what, () => expect(run).toThrow(message));
});
