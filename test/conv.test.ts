import { describe, expect, it } from 'vitest';
import { conv2d } from '../src/autograd/ops/conv2d.js';
import { conv2dParams } from '../src/kernels/conv.js';
import { gradcheck, manualSeed, randn, tensor, zeros, type Tensor } from '../src/index.js';
import { decode, expectClose, loadFixture } from './helpers/fixtures.js';

const f64 = (shape: number[]) => randn(shape, { dtype: 'float64', requiresGrad: true });

describe('conv2d: PyTorch parity (float32, test/fixtures/conv.json)', () => {
  const cases = Object.entries(loadFixture('conv')).filter(([name]) => name.startsWith('conv_'));
  it('has the cases', () => expect(cases.length).toBeGreaterThanOrEqual(10));
  for (const [name, c] of cases) {
    it(name, () => {
      const [sH, sW, pH, pW, dH, dW, groups] = Array.from(decode(c.cfg).data);
      const x = decode(c.x, true);
      const w = decode(c.w, true);
      const b = c.b ? decode(c.b, true) : null;
      const padding = pH < 0 ? 'same' : ([pH, pW] as [number, number]);
      const y = conv2d(x, w, b, { stride: [sH, sW], padding, dilation: [dH, dW], groups });
      y.backward(decode(c.gy));
      // PyTorch sums in float32 over up to C_in/groups*kH*kW = 147 products (N*H_out*W_out = 70
      // for weight gradients), we in float64 (gemmReference). Redone in float64, PyTorch's own float32
      // weight gradients are off by up to 5.5e-6 (conv_3x3_p1_batch2, |value| 0.1), ours by 4e-8,
      // so the bound has to cover PyTorch's rounding: atol 1e-5.
      const atol = 1e-5;
      expectClose(y, c.y, `${name} y`, 1e-5, atol);
      expectClose(x.grad, c.gx, `${name} gx`, 1e-5, atol);
      expectClose(w.grad, c.gw, `${name} gw`, 1e-5, atol);
      if (b) expectClose(b.grad, c.gb, `${name} gb`, 1e-5, atol);
      else expect(c.gb).toBeUndefined();
    });
  }
});

describe('conv2d: float64 gradcheck', () => {
  const check = (xShape: number[], wShape: number[], bias: boolean, options: Parameters<typeof conv2d>[3]) => {
    manualSeed(7);
    const inputs = [f64(xShape), f64(wShape)];
    if (bias) inputs.push(f64([wShape[0]]));
    expect(gradcheck((x, w, b) => conv2d(x, w, b ?? null, options), inputs).ok).toBe(true);
  };

  for (const stride of [1, 2]) {
    for (const padding of [0, 1, 2, 3]) {
      it(`3x3 on 7x5, stride ${stride}, padding ${padding}, bias`, () => check([1, 2, 7, 5], [3, 2, 3, 3], true, { stride, padding }));
    }
  }
  it('batch 3, no bias, stride [2,1], padding [1,0]', () => check([3, 2, 5, 4], [2, 2, 3, 3], false, { stride: [2, 1], padding: [1, 0] }));
  it('dilation 2, groups 2, padding 2', () => check([1, 4, 7, 5], [4, 2, 3, 3], true, { dilation: 2, groups: 2, padding: 2 }));
  it('depthwise (groups = C_in = 3), stride 2, padding 1', () => check([1, 3, 7, 5], [3, 1, 3, 3], false, { groups: 3, stride: 2, padding: 1 }));
  it('1x1 direct path, batch 3, groups 2, bias', () => check([3, 4, 3, 3], [4, 2, 1, 1], true, { groups: 2 }));
  it('1x1 stride 2 padding 1', () => check([1, 3, 5, 4], [2, 3, 1, 1], true, { stride: 2, padding: 1 }));
  it('7x7 stride 2 padding 3', () => check([1, 1, 9, 8], [2, 1, 7, 7], true, { stride: 2, padding: 3 }));
  it("padding 'same' with an even kernel and dilation [1,2]", () => check([1, 2, 6, 5], [2, 2, 4, 2], true, { padding: 'same', dilation: [1, 2] }));
  it('unbatched [C, H, W] input', () => {
    manualSeed(3);
    const x = f64([2, 5, 4]);
    expect(conv2d(x, f64([3, 2, 3, 3]), null, { padding: 1 }).shape).toEqual([3, 5, 4]);
    expect(gradcheck((a, w) => conv2d(a, w, null, { padding: 1 }), [x, f64([3, 2, 3, 3])]).ok).toBe(true);
  });
});

describe('conv2d: behaviour', () => {
  it('computes a hand-checked 2x2 cross-correlation with padding and bias', () => {
    const x = tensor([[[[1, 2], [3, 4]]]]);
    const w = tensor([[[[1, 0], [0, -1]]]]);
    const y = conv2d(x, w, tensor([10]), { padding: 1 });
    // y[i][j] = x[i-1][j-1] - x[i][j] + 10 over the zero-padded 2x2 image.
    expect(y.toArray()).toEqual([[[[9, 8, 10], [7, 7, 12], [10, 13, 14]]]]);
  });

  it('float32 and float64 agree; mixed dtypes promote to float64 and grads keep each dtype', () => {
    manualSeed(11);
    const x64 = randn([2, 2, 6, 5], { dtype: 'float64' });
    const w64 = randn([3, 2, 3, 3], { dtype: 'float64' });
    const x32 = tensor(Float32Array.from(x64.data), { shape: x64.shape, requiresGrad: true });
    const w32 = tensor(Float32Array.from(w64.data), { shape: w64.shape });
    const y32 = conv2d(x32, w32, null, { stride: 2, padding: 1 });
    const y64 = conv2d(tensor(Float64Array.from(x32.data), { shape: x64.shape }), tensor(Float64Array.from(w32.data), { shape: w64.shape }), null, { stride: 2, padding: 1 });
    expect(y32.dtype).toBe('float32');
    for (let i = 0; i < y64.size; i++) expect(Math.abs(y32.data[i] - y64.data[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(y64.data[i])));
    const w64g = tensor(Float64Array.from(w32.data), { shape: w64.shape, requiresGrad: true });
    const mixed = conv2d(x32, w64g, null, { stride: 2, padding: 1 });
    expect(mixed.dtype).toBe('float64');
    mixed.sum().backward();
    expect(x32.grad!.dtype).toBe('float32');
    expect(w64g.grad!.dtype).toBe('float64');
  });

  it('computes only the gradients that are needed', () => {
    manualSeed(5);
    const x = randn([1, 2, 5, 5]);
    const w = randn([2, 2, 3, 3], { requiresGrad: true });
    const b = zeros([2]);
    conv2d(x, w, b).sum().backward();
    expect(x.grad).toBeNull();
    expect(b.grad).toBeNull();
    expect(w.grad!.shape).toEqual([2, 2, 3, 3]);
    expect(conv2d(x, w.detach()).requiresGrad).toBe(false);
  });

  it('handles an empty batch', () => {
    expect(conv2d(zeros([0, 2, 5, 5]), zeros([3, 2, 3, 3])).shape).toEqual([0, 3, 3, 3]);
  });
});

describe('conv2d: errors name the op and the shapes', () => {
  const x = zeros([2, 3, 8, 8]);
  const w = zeros([4, 3, 3, 3]);
  const cases: Array<[string, () => Tensor, string]> = [
    ['channel mismatch', () => conv2d(x, zeros([4, 2, 3, 3])), 'conv2d: input [2,3,8,8] has 3 channels but weight [4,2,3,3] with groups 1 expects 2'],
    ['input not 4-D', () => conv2d(zeros([3, 8]), w), 'conv2d: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got [3,8]'],
    ['weight not 4-D', () => conv2d(x, zeros([4, 3, 3])), 'conv2d: expected a 4-D weight [C_out, C_in/groups, kH, kW], got [4,3,3] (input [2,3,8,8])'],
    ['input channels vs groups', () => conv2d(x, zeros([4, 1, 3, 3]), null, { groups: 2 }), 'conv2d: input [2,3,8,8] has 3 channels, not divisible by groups 2'],
    ['output channels vs groups', () => conv2d(zeros([1, 4, 5, 5]), zeros([3, 2, 3, 3]), null, { groups: 2 }), 'conv2d: weight [3,2,3,3] has 3 output channels, not divisible by groups 2'],
    ['kernel larger than padded input', () => conv2d(zeros([1, 3, 4, 9]), zeros([2, 3, 5, 3]), null, { dilation: [1, 2] }),
      'conv2d: kernel 5x3 (dilated to 5x5) is larger than the padded input 4x9 (input [1,3,4,9] and weight [2,3,5,3], padding [0,0])'],
    ['bias shape', () => conv2d(x, w, zeros([3])), 'conv2d: bias [3] must be [4], one value per output channel of weight [4,3,3,3]'],
    ['zero stride', () => conv2d(x, w, null, { stride: [1, 0] }), 'conv2d: stride must be positive integers, got [1,0] (input [2,3,8,8] and weight [4,3,3,3])'],
    ['zero dilation', () => conv2d(x, w, null, { dilation: 0 }), 'conv2d: dilation must be positive integers, got [0,0] (input [2,3,8,8] and weight [4,3,3,3])'],
    ['negative padding', () => conv2d(x, w, null, { padding: -1 }), 'conv2d: padding must be non-negative integers, got [-1,-1] (input [2,3,8,8] and weight [4,3,3,3])'],
    ['zero groups', () => conv2d(x, w, null, { groups: 0 }), 'conv2d: groups must be a positive integer, got 0 (input [2,3,8,8] and weight [4,3,3,3])'],
    ["strided 'same'", () => conv2d(x, w, null, { padding: 'same', stride: 2 }),
      "conv2d: padding 'same' is not supported for strided convolutions (stride [2,2], input [2,3,8,8] and weight [4,3,3,3])"],
    ['bad pair', () => conv2d(x, w, null, { stride: [1, 2, 3] as unknown as [number, number] }), 'conv2d: stride must be a number or an [h, w] pair, got [1,2,3]'],
    ['int input', () => conv2d(zeros([2, 3, 8, 8], { dtype: 'int32' }), w), 'conv2d: input [2,3,8,8] must be float, got int32 (input [2,3,8,8], weight [4,3,3,3])'],
    ['empty weight dim', () => conv2d(x, zeros([0, 3, 3, 3])), 'conv2d: weight [0,3,3,3] must have no empty dims (input [2,3,8,8])'],
    ['empty spatial input', () => conv2d(zeros([2, 3, 0, 8]), w), 'conv2d: input [2,3,0,8] has an empty spatial dim'],
  ];
  for (const [what, run, message] of cases) it(what, () => expect(run).toThrow(message));

  it('conv2dParams computes the output size PyTorch does', () => {
    const p = conv2dParams([1, 2, 7, 5], [4, 2, 3, 2], { stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 1 });
    // floor((7 + 2 - 3) / 2) + 1 = 4; floor((5 - 3) / 1) + 1 = 3
    expect([p.outH, p.outW]).toEqual([4, 3]);
  });
});
