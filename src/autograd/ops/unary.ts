// Pointwise functions. Each derivative is written in terms of the input x and output y,
// so backward is one fused loop: grad * f'(x, y).

import { allocate, allocateUninit, type DType } from '../../kernels/dtype.js';
import { reluBackward, reluForward } from '../../kernels/elementwise.js';
import { defineOp, type Op } from '../function.js';
import { Tensor } from '../tensor.js';
import { floatDType, unaryRaw } from './helpers.js';

/** f'(x) of a pointwise op, given the input x and the output y = f(x) (whichever is cheaper to use). */
export type Derivative = (x: number, y: number) => number;

/** Defines a pointwise op from f and f'. `keepInt` ops (abs, relu, clamp) keep int32 inputs as int32. */
export function pointwiseOp(name: string, f: (x: number) => number, df: Derivative, keepInt = false): Op<[Tensor]> {
  return defineOp({
    name,
    forward(ctx, x: Tensor) {
      const dtype: DType = keepInt ? x.dtype : floatDType(x);
      const y = unaryRaw(x, f, dtype);
      ctx.saveForBackward(x, y);
      return y;
    },
    backward(ctx, g) {
      const [x, y] = ctx.savedTensors;
      const xd = x.data;
      const yd = y.data;
      const gd = g.data;
      const out = allocateUninit(g.dtype, g.size);
      for (let i = 0; i < out.length; i++) out[i] = gd[i] * df(xd[i], yd[i]);
      return [new Tensor(out, g.shape)];
    },
  });
}

/** eˣ elementwise, as `torch.exp`. */
export const exp = pointwiseOp('exp', Math.exp, (_x, y) => y);
/** Natural log elementwise (−Inf at 0, NaN below), as `torch.log`. */
export const log = pointwiseOp('log', Math.log, (x) => 1 / x);
/** √x elementwise (NaN below 0), as `torch.sqrt`. */
export const sqrt = pointwiseOp('sqrt', Math.sqrt, (_x, y) => 0.5 / y);
/** |x| elementwise (int32 stays int32; gradient 0 at 0), as `torch.abs`. */
export const abs = pointwiseOp('abs', Math.abs, (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), true);
/**
 * max(0, x) elementwise (int32 stays int32, NaN passes through), as `torch.relu`.
 * relu is the hot pointwise op of a ResNet: its own kernels (SIMD for float32), same semantics
 * as pointwiseOp('relu', x > 0 ? x : NaN-preserving 0, ...) except that its backward selects, as
 * PyTorch's threshold_backward: x <= 0 gives +0 even for a NaN or Inf g, and a NaN x passes g.
 */
export const relu = defineOp({
  name: 'relu',
  forward(ctx, x: Tensor) {
    const y = allocateUninit(x.dtype, x.size); // the kernels write every element
    reluForward(x.data, y);
    ctx.saveForBackward(x);
    return new Tensor(y, x.shape);
  },
  backward(ctx, g) {
    const [x] = ctx.savedTensors;
    const out = allocateUninit(g.dtype, g.size);
    reluBackward(g.data, x.data, out);
    return [new Tensor(out, g.shape)];
  },
});
/** 1/(1 + e⁻ˣ) elementwise, as `torch.sigmoid`. */
export const sigmoid = pointwiseOp(
  'sigmoid',
  // Split by sign so exp never overflows.
  (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  (_x, y) => y * (1 - y),
);
/** Hyperbolic tangent elementwise, as `torch.tanh`. */
export const tanh = pointwiseOp('tanh', Math.tanh, (_x, y) => 1 - y * y);

const clampOp = defineOp({
  name: 'clamp',
  forward(ctx, x: Tensor, min: number, max: number) {
    ctx.saveForBackward(x);
    ctx.state.min = min;
    ctx.state.max = max;
    // min(max(v, min), max) as torch: with min > max every element becomes max; NaN stays NaN.
    return unaryRaw(x, (v) => {
      const c = v < min ? min : v;
      return c > max ? max : c;
    });
  },
  backward(ctx, g) {
    const [x] = ctx.savedTensors;
    const { min, max } = ctx.state;
    const out = allocate(g.dtype, g.size);
    // Gradient passes where min <= x <= max, as in PyTorch.
    for (let i = 0; i < out.length; i++) out[i] = x.data[i] >= min && x.data[i] <= max ? g.data[i] : 0;
    return [new Tensor(out, g.shape), null, null];
  },
});

/** Clamps to [min, max]; either bound may be omitted. With min > max all become max (torch.clamp). */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  return clampOp(x, lo, hi);
}
