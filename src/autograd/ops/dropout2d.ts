// Channel dropout as PyTorch's F.dropout2d: each whole channel (one (image, channel) pair) is
// zeroed with probability p and the kept ones are scaled by 1/(1-p); eval mode is the identity.

import { allocate, isFloat } from '../../kernels/dtype.js';
import { fmt, sizeOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { defaultGenerator, type Generator } from '../random.js';
import { Tensor } from '../tensor.js';

const dropout2dOp = defineOp<[Tensor, number, Generator], { mask: Float64Array; S: number }>({
  name: 'dropout2d',
  forward(ctx, x, p, generator) {
    const scale = p === 1 ? 0 : 1 / (1 - p);
    const planes = x.shape[0] * x.shape[1];
    const S = sizeOf(x.shape.slice(2));
    // One draw per channel, in (image, channel) order; the mask is rounded to x's dtype as PyTorch's noise is.
    const mask = new Float64Array(planes);
    const m = allocate(x.dtype, 1);
    for (let i = 0; i < planes; i++) {
      m[0] = generator.random() < p ? 0 : scale;
      mask[i] = m[0];
    }
    const out = allocate(x.dtype, x.size);
    for (let i = 0; i < planes; i++) for (let k = i * S, e = k + S; k < e; k++) out[k] = x.data[k] * mask[i];
    Object.assign(ctx.state, { mask, S });
    return new Tensor(out, x.shape);
  },
  backward(ctx, g) {
    const { mask, S } = ctx.state;
    const out = allocate(g.dtype, g.size);
    for (let i = 0; i < mask.length; i++) for (let k = i * S, e = k + S; k < e; k++) out[k] = g.data[k] * mask[i];
    return [new Tensor(out, g.shape), null, null];
  },
});

/**
 * F.dropout2d: x [N, C, H, W] loses each channel with probability p (one `generator.random() < p`
 * draw per channel from the seeded default generator unless one is given); the rest are scaled by
 * 1/(1-p). As PyTorch 1.13 to 2.x, a 3-D input is read as [N, C, L] (channel-wise 1-D dropout).
 * Returns x itself when not training or p = 0.
 */
export function dropout2d(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout2d: probability has to be between 0 and 1, but got ${p} (input ${fmt(x.shape)})`);
  if (!isFloat(x.dtype)) throw new Error(`dropout2d: expected a float input, got ${x.dtype} of shape ${fmt(x.shape)}`);
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new Error(`dropout2d: expected a 4-D input [N, C, H, W] (or 3-D [N, C, L]), got ${fmt(x.shape)}; use dropout for other ranks`);
  }
  if (!training || p === 0) return x;
  return dropout2dOp(x, p, generator);
}
