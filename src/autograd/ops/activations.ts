// Activation functions with PyTorch's formulas, defaults and edge values (NaN and ±Inf give what
// torch gives; each forward is computed in float64 and stored in the input's dtype). softplus and
// logSigmoid never overflow exp; gelu's exact form uses erfc so its left tail keeps precision.
// Like PyTorch, they refuse int32 input except hardtanh/relu6, which keep int32.

import { allocateUninit, isFloat } from '../../kernels/dtype.js';
import { erfc } from '../../kernels/special.js';
import { defineOp, type Op } from '../function.js';
import { Tensor } from '../tensor.js';
import { unaryRaw } from './helpers.js';

type Params = Record<string, number>;

/**
 * A pointwise op with numeric parameters p: y = f(x, p), dy/dx = df(x, y, p). The parameters
 * travel as the op's second argument, so backward sees the values the forward used. df returns
 * null where PyTorch's backward selects rather than multiplies (hardtanh and hardswish outside
 * their ranges): the gradient there is +0 even for a NaN or Inf g.
 */
function activationOp(name: string, f: (x: number, p: Params) => number, df: (x: number, y: number, p: Params) => number | null, intOk = false): Op<[Tensor, Params]> {
  return defineOp({
    name,
    forward(ctx, x: Tensor, p: Params) {
      if (!(x instanceof Tensor)) throw new Error(`${name}: expected a Tensor, got ${x === null ? 'null' : typeof x}`);
      if (!intOk && !isFloat(x.dtype)) throw new Error(`${name}: expected a floating-point tensor, got ${x.dtype}`);
      const y = unaryRaw(x, (v) => f(v, p));
      ctx.saveForBackward(x, y);
      ctx.state.p = p;
      return y;
    },
    backward(ctx, g) {
      const [x, y] = ctx.savedTensors;
      const p = ctx.state.p as Params;
      const out = allocateUninit(g.dtype, g.size);
      for (let i = 0; i < out.length; i++) {
        const d = df(x.data[i], y.data[i], p);
        out[i] = d === null ? 0 : g.data[i] * d;
      }
      return [new Tensor(out, g.shape), null];
    },
  });
}

const NONE: Params = {};
const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const TANH_BETA = Math.sqrt(2 / Math.PI); // tanh-GELU's √(2/π) and κ = 0.044715
const TANH_KAPPA = 0.044715;

/** Split by sign so exp never overflows. */
const sigmoidFn = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** log(1 + eˣ) without overflow. */
const softplusFn = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

const geluExact = activationOp(
  'gelu',
  (x) => 0.5 * x * erfc(-x * SQRT1_2), // x·Φ(x)
  (x) => 0.5 * erfc(-x * SQRT1_2) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI, // Φ(x) + x·φ(x)
);

const geluTanh = activationOp(
  'gelu',
  (x) => 0.5 * x * (1 + Math.tanh(TANH_BETA * (x + TANH_KAPPA * x * x * x))),
  (x) => {
    const t = Math.tanh(TANH_BETA * (x + TANH_KAPPA * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * TANH_BETA * (1 + 3 * TANH_KAPPA * x * x);
  },
);

/** Options of {@link gelu}: `approximate: 'tanh'` uses the tanh approximation (default 'none', the exact erf form). */
export interface GeluOptions {
  /** 'none' (default): x·Φ(x) with the exact normal CDF; 'tanh': the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit, x·Φ(x), as torch.nn.functional.gelu. */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  const approximate = options.approximate ?? 'none';
  if (approximate === 'none') return geluExact(x, NONE);
  if (approximate === 'tanh') return geluTanh(x, NONE);
  throw new Error(`gelu: approximate must be 'none' or 'tanh', got '${approximate}'`);
}

const siluOp = activationOp(
  'silu',
  (x) => x * sigmoidFn(x),
  (x) => {
    const s = sigmoidFn(x);
    return s * (1 + x * (1 - s));
  },
);
/** x·σ(x) (also called swish). */
export const silu = (x: Tensor): Tensor => siluOp(x, NONE);

const leakyReluOp = activationOp(
  'leakyRelu',
  (x, p) => (x > 0 ? x : x * p.slope),
  (x, _y, p) => (x > 0 ? 1 : p.slope),
);
/** x for x > 0, negativeSlope·x otherwise. */
export const leakyRelu = (x: Tensor, negativeSlope = 0.01): Tensor => leakyReluOp(x, { slope: negativeSlope });

const eluOp = activationOp(
  'elu',
  (x, p) => (x <= 0 ? p.alpha * Math.expm1(x) : x),
  (x, _y, p) => (x <= 0 ? p.alpha * Math.exp(x) : 1),
);
/** x for x > 0, alpha·(eˣ − 1) otherwise. */
export const elu = (x: Tensor, alpha = 1): Tensor => eluOp(x, { alpha });

const softplusOp = activationOp(
  'softplus',
  (x, p) => (x * p.beta > p.threshold ? x : Math.log1p(Math.exp(x * p.beta)) / p.beta),
  (x, _y, p) => (x * p.beta > p.threshold ? 1 : sigmoidFn(x * p.beta)),
);
/** log(1 + e^(βx))/β, and x itself where βx > threshold (PyTorch's defaults β = 1, threshold = 20). */
export const softplus = (x: Tensor, beta = 1, threshold = 20): Tensor => softplusOp(x, { beta, threshold });

const hardtanhOp = activationOp(
  'hardtanh',
  (x, p) => (x < p.lo ? p.lo : x > p.hi ? p.hi : x), // NaN stays NaN
  (x, _y, p) => (x <= p.lo || x >= p.hi ? null : 1), // none at the bounds themselves either, as PyTorch
  true,
);
/** Clamps to [minVal, maxVal] (gradient 0 at and beyond the bounds). */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  if (minVal > maxVal) throw new Error(`hardtanh: minVal ${minVal} is greater than maxVal ${maxVal}`);
  return hardtanhOp(x, { lo: minVal, hi: maxVal });
}
/** min(max(x, 0), 6): hardtanh(x, 0, 6). */
export const relu6 = (x: Tensor): Tensor => hardtanh(x, 0, 6);

const hardswishOp = activationOp(
  'hardswish',
  (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
  (x) => (x < -3 ? null : x <= 3 ? x / 3 + 0.5 : 1), // a NaN x passes g, as PyTorch
);
/** x·relu6(x + 3)/6. */
export const hardswish = (x: Tensor): Tensor => hardswishOp(x, NONE);

const mishOp = activationOp(
  'mish',
  (x) => x * Math.tanh(softplusFn(x)),
  (x) => {
    const t = Math.tanh(softplusFn(x));
    return t + x * sigmoidFn(x) * (1 - t * t);
  },
);
/** x·tanh(softplus(x)). */
export const mish = (x: Tensor): Tensor => mishOp(x, NONE);

const logSigmoidOp = activationOp(
  'logSigmoid',
  (x) => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x))),
  (x) => {
    const z = Math.exp(-Math.abs(x));
    return x < 0 ? 1 / (1 + z) : z / (1 + z); // σ(−x)
  },
);
/** log σ(x), finite for every finite x (−1000 gives −1000, not −Inf). */
export const logSigmoid = (x: Tensor): Tensor => logSigmoidOp(x, NONE);
