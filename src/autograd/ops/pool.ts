// 2-D pooling as PyTorch's F.max_pool2d, F.avg_pool2d and F.adaptive_avg_pool2d (NCHW, or
// unbatched CHW), each op's forward and backward side by side on the kernels in kernels/pool.ts.

import { allocate, isFloat, type DType, type FloatArray } from '../../kernels/dtype.js';
import * as K from '../../kernels/pool.js';
import { fmt } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { pair, type Pair } from './conv2d.js';
import { reshape } from './movement.js';

export interface MaxPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  /** Count zero padding in each window's divisor (default true). */
  countIncludePad?: boolean;
  /** If set, every window is divided by this instead. */
  divisorOverride?: number;
}

/** Runs `f` on x as [N, C, H, W], accepting unbatched [C, H, W] as PyTorch does. */
function batched(op: string, x: Tensor, f: (x4: Tensor) => Tensor): Tensor {
  if (!isFloat(x.dtype)) throw new Error(`${op}: input ${fmt(x.shape)} must be float, got ${x.dtype}`);
  if (x.ndim !== 3) return f(x);
  const out = f(reshape(x, [1, ...x.shape]));
  return reshape(out, out.shape.slice(1));
}

function floatLike(dtype: DType, size: number): FloatArray {
  return allocate(dtype, size) as FloatArray;
}

function poolOptions(op: string, o: MaxPool2dOptions): K.Pool2dOptions {
  const kernelSize = pair(op, 'kernelSize', o.kernelSize);
  return {
    kernelSize,
    stride: o.stride === undefined ? kernelSize : pair(op, 'stride', o.stride),
    padding: pair(op, 'padding', o.padding ?? 0),
    dilation: pair(op, 'dilation', o.dilation ?? 1),
    ceilMode: o.ceilMode ?? false,
  };
}

const maxPool2dOp = defineOp<[Tensor, K.Pool2dParams], { p: K.Pool2dParams; indices: Int32Array; inShape: readonly number[]; dtype: DType }>({
  name: 'maxPool2d',
  forward(ctx, x, p) {
    const out = floatLike(x.dtype, p.n * p.c * p.outH * p.outW);
    Object.assign(ctx.state, { p, indices: K.maxPool2dForward(x.data as FloatArray, p, out), inShape: x.shape, dtype: x.dtype });
    return new Tensor(out, [p.n, p.c, p.outH, p.outW]);
  },
  backward(ctx, g) {
    const { p, indices, inShape, dtype } = ctx.state;
    const gx = floatLike(dtype, p.n * p.c * p.h * p.w);
    K.maxPool2dBackward(g.data as FloatArray, indices, p, gx);
    return [new Tensor(gx, inShape), null];
  },
});

/** F.max_pool2d: the max of each window; padding counts as -Infinity and is at most half the kernel. */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor {
  return batched('maxPool2d', x, (x4) => maxPool2dOp(x4, K.pool2dParams(x4.shape, poolOptions('maxPool2d', options), 'maxPool2d')));
}

const avgPool2dOp = defineOp<[Tensor, K.Pool2dParams, K.AvgPoolOptions], { p: K.Pool2dParams; a: K.AvgPoolOptions; inShape: readonly number[]; dtype: DType }>({
  name: 'avgPool2d',
  forward(ctx, x, p, a) {
    const out = floatLike(x.dtype, p.n * p.c * p.outH * p.outW);
    K.avgPool2dForward(x.data as FloatArray, p, a, out);
    Object.assign(ctx.state, { p, a, inShape: x.shape, dtype: x.dtype });
    return new Tensor(out, [p.n, p.c, p.outH, p.outW]);
  },
  backward(ctx, g) {
    const { p, a, inShape, dtype } = ctx.state;
    const gx = floatLike(dtype, p.n * p.c * p.h * p.w);
    K.avgPool2dBackward(g.data as FloatArray, p, a, gx);
    return [new Tensor(gx, inShape), null, null];
  },
});

/** F.avg_pool2d: the mean of each window (zero padding, counted in the divisor unless countIncludePad is false). */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  const { divisorOverride } = options;
  if (divisorOverride !== undefined && (!Number.isFinite(divisorOverride) || divisorOverride === 0)) {
    throw new Error(`avgPool2d: divisorOverride must be a non-zero number, got ${divisorOverride} (input ${fmt(x.shape)})`);
  }
  const a: K.AvgPoolOptions = { countIncludePad: options.countIncludePad ?? true, divisorOverride: divisorOverride ?? null };
  return batched('avgPool2d', x, (x4) => {
    const p = K.pool2dParams(x4.shape, poolOptions('avgPool2d', { ...options, dilation: 1 }), 'avgPool2d');
    return avgPool2dOp(x4, p, a);
  });
}

const adaptiveAvgPool2dOp = defineOp<[Tensor, K.AdaptivePool2dParams], { p: K.AdaptivePool2dParams; inShape: readonly number[]; dtype: DType }>({
  name: 'adaptiveAvgPool2d',
  forward(ctx, x, p) {
    const out = floatLike(x.dtype, p.n * p.c * p.outH * p.outW);
    K.adaptiveAvgPool2dForward(x.data as FloatArray, p, out);
    Object.assign(ctx.state, { p, inShape: x.shape, dtype: x.dtype });
    return new Tensor(out, [p.n, p.c, p.outH, p.outW]);
  },
  backward(ctx, g) {
    const { p, inShape, dtype } = ctx.state;
    const gx = floatLike(dtype, p.n * p.c * p.h * p.w);
    K.adaptiveAvgPool2dBackward(g.data as FloatArray, p, gx);
    return [new Tensor(gx, inShape), null];
  },
});

/** F.adaptive_avg_pool2d: averages PyTorch's bins [floor(i*H/out), ceil((i+1)*H/out)) to an outputSize output. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  const [outH, outW] = pair('adaptiveAvgPool2d', 'outputSize', outputSize);
  return batched('adaptiveAvgPool2d', x, (x4) => {
    if (x4.ndim !== 4) throw new Error(`adaptiveAvgPool2d: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got ${fmt(x.shape)}`);
    const [n, c, h, w] = x4.shape;
    if (c < 1 || h < 1 || w < 1) throw new Error(`adaptiveAvgPool2d: input ${fmt(x.shape)} has an empty channel or spatial dim`);
    if (![outH, outW].every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`adaptiveAvgPool2d: outputSize must be non-negative integers, got [${outH},${outW}] (input ${fmt(x.shape)})`);
    }
    return adaptiveAvgPool2dOp(x4, { n, c, h, w, outH, outW });
  });
}
