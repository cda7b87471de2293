// What the 2-D pooling ops share: their options, unbatched-input handling and option parsing.

import { allocate, isFloat, type DType, type FloatArray } from '../../kernels/dtype.js';
import type * as K from '../../kernels/pool.js';
import { fmt } from '../../kernels/shape.js';
import type { Tensor } from '../tensor.js';
import { pair, type Pair } from './conv2d.js';
import { reshape } from './movement.js';

/** Options of `maxPool2d`, as F.max_pool2d's arguments (padding 0, dilation 1, no ceil mode by default). */
export interface MaxPool2dOptions {
  kernelSize: Pair;
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

/** Options of `avgPool2d`, as F.avg_pool2d's arguments (padding 0, no ceil mode by default). */
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
export function batched(op: string, x: Tensor, f: (x4: Tensor) => Tensor): Tensor {
  if (!isFloat(x.dtype)) throw new Error(`${op}: input ${fmt(x.shape)} must be float, got ${x.dtype}`);
  if (x.ndim !== 3) return f(x);
  const out = f(reshape(x, [1, ...x.shape]));
  return reshape(out, out.shape.slice(1));
}

export function floatLike(dtype: DType, size: number): FloatArray {
  return allocate(dtype, size) as FloatArray;
}

export function poolOptions(op: string, o: MaxPool2dOptions): K.Pool2dOptions {
  const kernelSize = pair(op, 'kernelSize', o.kernelSize);
  return {
    kernelSize,
    stride: o.stride === undefined ? kernelSize : pair(op, 'stride', o.stride),
    padding: pair(op, 'padding', o.padding ?? 0),
    dilation: pair(op, 'dilation', o.dilation ?? 1),
    ceilMode: o.ceilMode ?? false,
  };
}
