// convTranspose2d as PyTorch's F.conv_transpose2d: the adjoint of conv2d. Seen as a conv2d from
// the (larger) output y back to the input x with the same weight, its forward is that conv's
// input gradient, its input gradient that conv's forward and its weight gradient that conv's
// weight gradient with the roles of x and the output gradient swapped. So all three run on the
// conv2d kernels through the dispatcher (fast, Winograd and reference paths alike).

import { allocateUninit, isFloat, type FloatArray } from '../../kernels/dtype.js';
import * as K from '../../kernels/conv.js';
import * as D from '../../kernels/conv_dispatch.js';
import { fmt } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { pair, type Pair } from './conv2d.js';
import { reshape } from './movement.js';

/** Options of {@link convTranspose2d}, as `torch.nn.functional.conv_transpose2d`'s. */
export interface ConvTranspose2dOptions {
  stride?: Pair;
  /** Zeros the matching conv2d would add: removed from each side of the output. */
  padding?: Pair;
  /** Extra rows / columns on the bottom / right of the output (each below stride or dilation). */
  outputPadding?: Pair;
  groups?: number;
  dilation?: Pair;
}

/** The conv2d whose input gradient this transposed convolution is: p.{h,w} the output, p.{outH,outW} the input. */
type Params = K.Conv2dParams;

const none = (like: FloatArray): FloatArray => (like instanceof Float64Array ? new Float64Array(0) : new Float32Array(0));

const convTranspose2dOp = defineOp<[Tensor, Tensor, Tensor | null, Params], { p: Params }>({
  name: 'convTranspose2d',
  forward(ctx, x, weight, bias, p) {
    const out = allocateUninit(x.dtype, p.n * p.cIn * p.h * p.w) as FloatArray; // overwritten
    const xd = x.data as FloatArray;
    // The conv's own input is only read for its weight gradient, which is not asked for here.
    D.conv2dBackward(xd, none(xd), weight.data as FloatArray, p, { gx: out, gw: null, gb: null });
    if (bias) {
      const L = p.h * p.w;
      for (let b = 0; b < p.n; b++) {
        for (let c = 0; c < p.cIn; c++) {
          const v = bias.data[c];
          for (let k = (b * p.cIn + c) * L, e = k + L; k < e; k++) out[k] += v;
        }
      }
    }
    ctx.saveForBackward(x, weight);
    ctx.state.p = p;
    return new Tensor(out, [p.n, p.cIn, p.h, p.w]);
  },
  backward(ctx, g) {
    const [x, w] = ctx.savedTensors;
    const { p } = ctx.state;
    const gd = g.data as FloatArray;
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (ctx.needsInputGrad[0]) {
      const out = allocateUninit(x.dtype, x.size) as FloatArray;
      D.conv2dForward(gd, w.data as FloatArray, null, p, out);
      gx = new Tensor(out, x.shape);
    }
    if (ctx.needsInputGrad[1]) {
      const out = allocateUninit(w.dtype, w.size) as FloatArray;
      D.conv2dBackward(x.data as FloatArray, gd, w.data as FloatArray, p, { gx: null, gw: out, gb: null });
      gw = new Tensor(out, w.shape);
    }
    if (ctx.needsInputGrad[2]) {
      const out = allocateUninit(g.dtype, p.cIn) as FloatArray;
      const L = p.h * p.w;
      for (let c = 0; c < p.cIn; c++) {
        let s = 0;
        for (let b = 0; b < p.n; b++) for (let k = (b * p.cIn + c) * L, e = k + L; k < e; k++) s += gd[k];
        out[c] = s;
      }
      gb = new Tensor(out, [p.cIn]);
    }
    return [gx, gw, gb, null];
  },
});

/** Output size of one axis: (in - 1) * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1. */
export function convTransposeOutSize(inSize: number, k: number, stride: number, padding: number, dilation: number, outputPadding: number): number {
  return (inSize - 1) * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1;
}

/**
 * Transposed 2-D convolution as F.conv_transpose2d: x [N, C_in, H, W] (or unbatched
 * [C_in, H, W]), weight [C_in, C_out/groups, kH, kW] (PyTorch's layout), optional bias [C_out].
 * Returns [N, C_out, H_out, W_out] with H_out = (H-1)*stride - 2*padding + dilation*(kH-1) +
 * outputPadding + 1 (and likewise W_out).
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  const shapes = `input ${fmt(x.shape)}, weight ${fmt(weight.shape)}`;
  if (x.ndim !== 3 && x.ndim !== 4) throw new Error(`${op}: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W]), got ${fmt(x.shape)}`);
  if (weight.ndim !== 4) throw new Error(`${op}: expected a 4-D weight [C_in, C_out/groups, kH, kW], got ${fmt(weight.shape)} (input ${fmt(x.shape)})`);
  for (const [name, t] of [['input', x], ['weight', weight], ['bias', bias]] as const) {
    if (t && !isFloat(t.dtype)) throw new Error(`${op}: ${name} ${fmt(t.shape)} must be float, got ${t.dtype} (${shapes})`);
    if (t && t.dtype !== x.dtype) throw new Error(`${op}: ${name} ${fmt(t.shape)} is ${t.dtype} but the input is ${x.dtype} (${shapes})`);
  }
  const unbatched = x.ndim === 3;
  const x4 = unbatched ? reshape(x, [1, ...x.shape]) : x;
  const [N, cIn, H, W] = x4.shape;
  const [wIn, og, kh, kw] = weight.shape;
  const groups = options.groups ?? 1;
  const stride = pair(op, 'stride', options.stride ?? 1);
  const padding = pair(op, 'padding', options.padding ?? 0);
  const outputPadding = pair(op, 'outputPadding', options.outputPadding ?? 0);
  const dilation = pair(op, 'dilation', options.dilation ?? 1);
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: groups must be a positive integer, got ${groups} (${shapes})`);
  for (const [name, v, min] of [['stride', stride, 1], ['dilation', dilation, 1], ['padding', padding, 0], ['outputPadding', outputPadding, 0]] as const) {
    if (!v.every((d) => Number.isInteger(d) && d >= min)) throw new Error(`${op}: ${name} must be integers >= ${min}, got [${v}] (${shapes})`);
  }
  if (wIn !== cIn) throw new Error(`${op}: input ${fmt(x.shape)} has ${cIn} channels but weight ${fmt(weight.shape)} expects ${wIn}`);
  if (cIn % groups !== 0) throw new Error(`${op}: input ${fmt(x.shape)} has ${cIn} channels, not divisible by groups ${groups}`);
  if (og < 1 || kh < 1 || kw < 1) throw new Error(`${op}: weight ${fmt(weight.shape)} must have no empty dims (input ${fmt(x.shape)})`);
  for (let i = 0; i < 2; i++) {
    if (outputPadding[i] >= stride[i] && outputPadding[i] >= dilation[i]) {
      throw new Error(`${op}: outputPadding [${outputPadding}] must be smaller than either stride [${stride}] or dilation [${dilation}] (${shapes})`);
    }
  }
  const cOut = og * groups;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== cOut)) {
    throw new Error(`${op}: bias ${fmt(bias.shape)} must be [${cOut}], one value per output channel of weight ${fmt(weight.shape)} with groups ${groups}`);
  }
  if (H < 1 || W < 1) throw new Error(`${op}: input ${fmt(x.shape)} has an empty spatial dim`);
  const outH = convTransposeOutSize(H, kh, stride[0], padding[0], dilation[0], outputPadding[0]);
  const outW = convTransposeOutSize(W, kw, stride[1], padding[1], dilation[1], outputPadding[1]);
  if (outH < 1 || outW < 1) {
    throw new Error(`${op}: input ${H}x${W} gives an output of ${outH}x${outW}, which is too small (${shapes}, padding [${padding}])`);
  }
  const p = K.conv2dParams([N, cOut, outH, outW], weight.shape, { stride, padding, dilation, groups }, op);
  // An outputPadding of at least the stride (allowed below the dilation) adds output rows that
  // the matching conv2d would read into one more output row; the input fixes its size.
  p.outH = H;
  p.outW = W;
  const y = convTranspose2dOp(x4, weight, bias, p);
  return unbatched ? reshape(y, y.shape.slice(1)) : y;
}
