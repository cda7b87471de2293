// F.avg_pool2d (NCHW, or unbatched CHW) with countIncludePad and divisorOverride.
// Forward and backward side by side on the kernels in kernels/pool.ts.

import type { DType, FloatArray } from '../../kernels/dtype.js';
import * as K from '../../kernels/pool.js';
import { fmt } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { batched, floatLike, poolOptions, type AvgPool2dOptions } from './pool_common.js';

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
