// F.max_pool2d (NCHW, or unbatched CHW); padding counts as -Infinity.
// Forward and backward side by side on the kernels in kernels/pool.ts.

import type { DType, FloatArray } from '../../kernels/dtype.js';
import * as K from '../../kernels/pool.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { batched, floatLike, poolOptions, type MaxPool2dOptions } from './pool_common.js';

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
