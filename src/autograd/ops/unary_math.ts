// More pointwise math: sin cos erf rsqrt log2 log1p expm1 (float results, as PyTorch: int32 gives
// float32), and the step functions sign floor ceil round, which keep int32 as int32 and have a
// zero gradient everywhere (PyTorch returns zeros, not None, so a NaN upstream gradient gives 0).

import { allocate } from '../../kernels/dtype.js';
import { erf as erfFn, roundHalfEven } from '../../kernels/special.js';
import { defineOp, type Op } from '../function.js';
import { Tensor } from '../tensor.js';
import { unaryRaw } from './helpers.js';
import { pointwiseOp } from './unary.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** Sine elementwise (radians), as `torch.sin`. */
export const sin = pointwiseOp('sin', Math.sin, (x) => Math.cos(x));
/** Cosine elementwise (radians), as `torch.cos`. */
export const cos = pointwiseOp('cos', Math.cos, (x) => -Math.sin(x));
/** The Gauss error function elementwise, as `torch.erf`. */
export const erf = pointwiseOp('erf', erfFn, (x) => TWO_OVER_SQRT_PI * Math.exp(-x * x));
/** 1/√x; d/dx = −½·y³ (PyTorch's formula, in terms of the output). */
export const rsqrt = pointwiseOp('rsqrt', (x) => 1 / Math.sqrt(x), (_x, y) => -0.5 * y * y * y);
/** Base-2 log elementwise, as `torch.log2`. */
export const log2 = pointwiseOp('log2', Math.log2, (x) => 1 / (x * Math.LN2));
/** log(1 + x) elementwise, accurate for small x, as `torch.log1p`. */
export const log1p = pointwiseOp('log1p', Math.log1p, (x) => 1 / (1 + x));
/** eˣ − 1 elementwise, accurate for small x, as `torch.expm1`. */
export const expm1 = pointwiseOp('expm1', Math.expm1, (_x, y) => y + 1);

/** A piecewise-constant op: output in the input's dtype, gradient zero. */
function stepOp(name: string, f: (x: number) => number): Op<[Tensor]> {
  return defineOp({
    name,
    forward: (_ctx, x: Tensor) => unaryRaw(x, f),
    backward: (_ctx, g) => [new Tensor(allocate(g.dtype, g.size), g.shape)],
  });
}

/** −1, 0 or 1; NaN and ±0 give 0 (as torch.sign). */
export const sign = stepOp('sign', (x) => (x > 0 ? 1 : x < 0 ? -1 : 0));
/** Rounds down elementwise, keeping the dtype; gradient zero, as `torch.floor`. */
export const floor = stepOp('floor', Math.floor);
/** Rounds up elementwise, keeping the dtype; gradient zero, as `torch.ceil`. */
export const ceil = stepOp('ceil', Math.ceil);
const roundOp = stepOp('round', roundHalfEven);

/** Options of {@link round}. */
export interface RoundOptions {
  /** Decimal places to round to (default 0; negative rounds to tens, hundreds, …), as torch.round's. */
  decimals?: number;
}

/** Rounds half to even (0.5 → 0, 1.5 → 2, −2.5 → −2), as torch.round, optionally to `decimals` places. */
export function round(x: Tensor, options: RoundOptions = {}): Tensor {
  const decimals = options.decimals ?? 0;
  if (!Number.isInteger(decimals)) throw new Error(`round: decimals must be an integer, got ${decimals}`);
  if (decimals === 0) return roundOp(x);
  // PyTorch's formula: nearbyint(x·10^d)/10^d, or nearbyint(x/10^-d)·10^-d for negative d.
  const p = 10 ** Math.abs(decimals);
  return decimals > 0 ? roundDecimalsOp(x, p) : roundTensOp(x, p);
}
const roundDecimalsOp = defineOp({
  name: 'round',
  forward: (_ctx, x: Tensor, p: number) => unaryRaw(x, (v) => roundHalfEven(v * p) / p),
  backward: (_ctx, g) => [new Tensor(allocate(g.dtype, g.size), g.shape), null],
});
const roundTensOp = defineOp({
  name: 'round',
  forward: (_ctx, x: Tensor, p: number) => unaryRaw(x, (v) => roundHalfEven(v / p) * p),
  backward: (_ctx, g) => [new Tensor(allocate(g.dtype, g.size), g.shape), null],
});
