// conv1d as PyTorch's F.conv1d, composed from conv2d on a unit-height image: x [N, C, L] is
// [N, C, 1, L] and weight [O, C/groups, K] is [O, C/groups, 1, K], so the 2-D kernels (and their
// fast paths) do the work and conv2d's backward gives every gradient.

import { fmt } from '../../kernels/shape.js';
import type { Tensor } from '../tensor.js';
import { conv2d } from './conv2d.js';
import { reshape } from './movement.js';

/** A 1-D size: a number or a one-element array, as PyTorch's `_single`. */
export type Single = number | [number];

/** Options of {@link conv1d}, as `torch.nn.functional.conv1d`'s (stride 1, padding 0, dilation 1, groups 1). */
export interface Conv1dOptions {
  stride?: Single;
  /** A number, or PyTorch's 'valid' / 'same' (stride 1 only). */
  padding?: Single | 'valid' | 'same';
  dilation?: Single;
  groups?: number;
}

/** A number or a one-element array as a number; `op` and `what` name the caller in errors. */
export function single(op: string, what: string, v: Single): number {
  if (typeof v === 'number') return v;
  if (!Array.isArray(v) || v.length !== 1 || typeof v[0] !== 'number') {
    throw new Error(`${op}: ${what} must be a number or a one-element array, got ${JSON.stringify(v)}`);
  }
  return v[0];
}

/**
 * 1-D convolution as F.conv1d: x [N, C_in, L] (or unbatched [C_in, L]), weight
 * [C_out, C_in/groups, K], optional bias [C_out]. Returns [N, C_out, L_out] (or [C_out, L_out]).
 */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv1dOptions = {}): Tensor {
  const shapes = `input ${fmt(x.shape)}, weight ${fmt(weight.shape)}`;
  if (x.ndim !== 2 && x.ndim !== 3) throw new Error(`conv1d: expected a 3-D input [N, C, L] (or 2-D [C, L]), got ${fmt(x.shape)}`);
  if (weight.ndim !== 3) throw new Error(`conv1d: expected a 3-D weight [C_out, C_in/groups, K], got ${fmt(weight.shape)} (input ${fmt(x.shape)})`);
  const groups = options.groups ?? 1;
  const stride = single('conv1d', 'stride', options.stride ?? 1);
  const dilation = single('conv1d', 'dilation', options.dilation ?? 1);
  const padding = options.padding ?? 0;
  const pad = padding === 'same' || padding === 'valid' ? padding : single('conv1d', 'padding', padding);
  const unbatched = x.ndim === 2;
  const [C, L] = x.shape.slice(-2);
  const [O, Cg, K] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`conv1d: groups must be a positive integer, got ${groups} (${shapes})`);
  if (Cg * groups !== C) throw new Error(`conv1d: input ${fmt(x.shape)} has ${C} channels but weight ${fmt(weight.shape)} with groups ${groups} expects ${Cg * groups}`);
  if (O % groups !== 0) throw new Error(`conv1d: weight ${fmt(weight.shape)} has ${O} output channels, not divisible by groups ${groups}`);
  if (pad === 'same' && stride !== 1) throw new Error(`conv1d: padding 'same' is not supported for strided convolutions (stride ${stride}, ${shapes})`);
  const total = pad === 'same' ? dilation * (K - 1) : pad === 'valid' ? 0 : 2 * pad;
  if (typeof pad === 'number' && !(Number.isInteger(pad) && pad >= 0)) throw new Error(`conv1d: padding must be a non-negative integer, got ${pad} (${shapes})`);
  for (const [name, t] of [['input', x], ['weight', weight], ['bias', bias]] as const) {
    if (t && t.dtype === 'int32') throw new Error(`conv1d: ${name} ${fmt(t.shape)} must be float, got int32 (${shapes})`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) {
    throw new Error(`conv1d: bias ${fmt(bias.shape)} must be [${O}], one value per output channel of weight ${fmt(weight.shape)}`);
  }
  if (L < 1) throw new Error(`conv1d: input ${fmt(x.shape)} has an empty length`);
  if (dilation * (K - 1) + 1 > L + total) {
    throw new Error(`conv1d: kernel size ${K} (dilated to ${dilation * (K - 1) + 1}) is larger than the padded input length ${L + total} (${shapes})`);
  }
  const x4 = reshape(x, unbatched ? [1, C, 1, L] : [x.shape[0], C, 1, L]);
  const w4 = reshape(weight, [O, Cg, 1, K]);
  const y = conv2d(x4, w4, bias, {
    stride: [1, stride],
    padding: typeof pad === 'string' ? pad : [0, pad],
    dilation: [1, dilation],
    groups,
  });
  return reshape(y, unbatched ? [O, y.shape[3]] : [y.shape[0], O, y.shape[3]]);
}
