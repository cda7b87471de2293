// F.adaptive_avg_pool2d (NCHW, or unbatched CHW) with PyTorch's bin edges.
// Forward and backward side by side on the kernels in kernels/pool.ts.

import type { DType, FloatArray } from '../../kernels/dtype.js';
import * as K from '../../kernels/pool.js';
import { fmt } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { pair, type Pair } from './conv2d.js';
import { batched, floatLike } from './pool_common.js';

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
