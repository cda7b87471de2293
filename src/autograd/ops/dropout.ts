// Inverted dropout: each element is dropped with probability p and the kept ones are scaled by
// 1/(1-p), so the expected value is unchanged and eval mode is the identity.

import { allocate, isFloat } from '../../kernels/dtype.js';
import { fmt } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { defaultGenerator, type Generator } from '../random.js';
import { Tensor } from '../tensor.js';

const dropoutOp = defineOp<[Tensor, number, Generator], { mask: Tensor }>({
  name: 'dropout',
  forward(ctx, x, p, generator) {
    // The mask holds 0 or the scale in x's dtype, as PyTorch's noise tensor does, so the kept
    // values are exactly x * scale rounded once; backward reuses the same mask.
    const scale = p === 1 ? 0 : 1 / (1 - p);
    const mask = allocate(x.dtype, x.size);
    const out = allocate(x.dtype, x.size);
    for (let i = 0; i < x.size; i++) {
      mask[i] = generator.random() < p ? 0 : scale;
      out[i] = x.data[i] * mask[i];
    }
    ctx.state.mask = new Tensor(mask, x.shape);
    return new Tensor(out, x.shape);
  },
  backward(ctx, g) {
    const m = ctx.state.mask.data;
    const out = allocate(ctx.state.mask.dtype, m.length);
    for (let i = 0; i < m.length; i++) out[i] = g.data[i] * m[i];
    return [new Tensor(out, g.shape), null, null];
  },
});

/**
 * F.dropout: drops each element with probability p (a draw `generator.random() < p`, from the
 * seeded default generator unless one is given) and scales the rest by 1/(1-p).
 * Returns x itself when not training or p = 0; p = 1 gives zeros.
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator: Generator = defaultGenerator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: probability has to be between 0 and 1, but got ${p} (input ${fmt(x.shape)})`);
  if (!isFloat(x.dtype)) throw new Error(`dropout: expected a float input, got ${x.dtype} of shape ${fmt(x.shape)}`);
  if (!training || p === 0) return x;
  return dropoutOp(x, p, generator);
}
