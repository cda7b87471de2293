// conv2d as PyTorch's F.conv2d (NCHW cross-correlation), on the im2col + GEMM kernels
// (kernels/conv_dispatch.ts picks the batched wasm path or the plain reference).

import { allocateUninit, castArray, isFloat, type FloatArray } from '../../kernels/dtype.js';
import * as K from '../../kernels/conv.js';
import * as D from '../../kernels/conv_dispatch.js';
import { fmt } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { reshape } from './movement.js';

/**
 * A size for both spatial dims (a number) or for height and width separately (`[h, w]`), as
 * PyTorch's `int or tuple` arguments.
 */
export type Pair = number | [number, number];

/** Options of `conv2d`, as F.conv2d's keywords (stride 1, padding 0, dilation 1, groups 1 by default). */
export interface Conv2dOptions {
  /** Step of the window (default 1). */
  stride?: Pair;
  /** A number, an [h, w] pair, or PyTorch's 'valid' / 'same' (stride 1 only). */
  padding?: Pair | 'valid' | 'same';
  /** Spacing between kernel elements (default 1). */
  dilation?: Pair;
  /**
   * Split input and output channels into this many independent groups (default 1); both channel
   * counts must divide by it.
   */
  groups?: number;
}

/** A number or [h, w] pair as a pair; `op` and `what` name the caller in errors. */
export function pair(op: string, what: string, v: Pair): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`${op}: ${what} must be a number or an [h, w] pair, got ${JSON.stringify(v)}`);
  return [v[0], v[1]];
}

/** The data of `t` as `dtype` (shared when it already is). */
function asDType(t: Tensor, dtype: 'float32' | 'float64'): Tensor {
  return t.dtype === dtype ? t : new Tensor(castArray(t.data, dtype), t.shape);
}

const conv2dOp = defineOp<[Tensor, Tensor, Tensor | null, K.Conv2dParams], { p: K.Conv2dParams; dtype: 'float32' | 'float64' }>({
  name: 'conv2d',
  forward(ctx, x, weight, bias, p) {
    const dtype = x.dtype === 'float64' || weight.dtype === 'float64' || bias?.dtype === 'float64' ? 'float64' : 'float32';
    const xd = asDType(x, dtype);
    const wd = asDType(weight, dtype);
    const out = allocateUninit(dtype, p.n * p.cOut * p.outH * p.outW) as FloatArray; // overwritten by the kernels
    D.conv2dForward(xd.data as FloatArray, wd.data as FloatArray, bias ? (asDType(bias, dtype).data as FloatArray) : null, p, out);
    // x is needed only for the weight gradient, the weight only for the input gradient.
    ctx.saveForBackward(xd, wd);
    ctx.state.p = p;
    ctx.state.dtype = dtype;
    return new Tensor(out, [p.n, p.cOut, p.outH, p.outW]);
  },
  backward(ctx, g) {
    const [x, w] = ctx.savedTensors;
    const { p, dtype } = ctx.state;
    const gd = asDType(g, dtype).data as FloatArray;
    // conv2dBackward overwrites every gradient it is given
    const gx = ctx.needsInputGrad[0] ? (allocateUninit(dtype, x.size) as FloatArray) : null;
    const gw = ctx.needsInputGrad[1] ? (allocateUninit(dtype, w.size) as FloatArray) : null;
    const gb = ctx.needsInputGrad[2] ? (allocateUninit(dtype, p.cOut) as FloatArray) : null;
    D.conv2dBackward(gd, x.data as FloatArray, w.data as FloatArray, p, { gx, gw, gb });
    return [gx && new Tensor(gx, x.shape), gw && new Tensor(gw, w.shape), gb && new Tensor(gb, [p.cOut]), null];
  },
});

/**
 * 2-D convolution as F.conv2d: x [N, C_in, H, W] (or unbatched [C_in, H, W]), weight
 * [C_out, C_in/groups, kH, kW], optional bias [C_out]; stride, padding and dilation are a number
 * or an [h, w] pair. Returns [N, C_out, H_out, W_out] (or [C_out, H_out, W_out]).
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  const shapes = `input ${fmt(x.shape)}, weight ${fmt(weight.shape)}`;
  for (const [name, t] of [['input', x], ['weight', weight], ['bias', bias]] as const) {
    if (t && !isFloat(t.dtype)) throw new Error(`conv2d: ${name} ${fmt(t.shape)} must be float, got ${t.dtype} (${shapes})`);
  }
  const unbatched = x.ndim === 3;
  const x4 = unbatched ? reshape(x, [1, ...x.shape]) : x;
  const padding = options.padding ?? 0;
  const p = K.conv2dParams(x4.shape, weight.shape, {
    stride: pair('conv2d', 'stride', options.stride ?? 1),
    padding: padding === 'same' || padding === 'valid' ? padding : pair('conv2d', 'padding', padding),
    dilation: pair('conv2d', 'dilation', options.dilation ?? 1),
    groups: options.groups ?? 1,
  });
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== p.cOut)) {
    throw new Error(`conv2d: bias ${fmt(bias.shape)} must be [${p.cOut}], one value per output channel of weight ${fmt(weight.shape)}`);
  }
  const out = conv2dOp(x4, weight, bias, p);
  return unbatched ? reshape(out, out.shape.slice(1)) : out;
}
