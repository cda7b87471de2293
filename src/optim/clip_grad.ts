// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (torch 1.13).
// Both modify `.grad` in place; parameters whose grad is null are skipped.

import { Tensor } from '../autograd/tensor.js';
import type { TypedArray } from '../kernels/dtype.js';

/** Options of `clipGradNorm`, as clip_grad_norm_'s keywords. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite instead of scaling by it. */
  errorIfNonfinite?: boolean;
}

/**
 * Scales all gradients together so that their joint `normType`-norm is at most `maxNorm`:
 * every grad is multiplied by min(1, maxNorm / (total + 1e-6)), as PyTorch does (so a total
 * within 1e-6 below maxNorm is scaled very slightly too). Returns the total norm before clipping.
 * `normType` is any positive number or Infinity (the largest |g|).
 */
export function clipGradNorm(parameters: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2, options: ClipGradNormOptions = {}): number {
  if (!(normType > 0)) throw new Error(`clipGradNorm: normType must be positive or Infinity, got ${normType}`);
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  const grads = gradsOf('clipGradNorm', parameters);
  if (grads.length === 0) return 0;
  const total = normType === Infinity ? maxAbs(grads) : pNorm(grads, normType);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(
      `clipGradNorm: the total norm of order ${normType} for gradients is ${total}, so it cannot be clipped; ` +
        'pass errorIfNonfinite: false to scale the gradients by the non-finite norm anyway',
    );
  }
  const coef = Math.min(maxNorm / (total + 1e-6), 1); // NaN stays NaN, as torch.clamp
  if (!(coef >= 1)) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return total;
}

/** Clamps every gradient element into [-clipValue, clipValue]. */
export function clipGradValue(parameters: Tensor | Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0)) throw new Error(`clipGradValue: clipValue must be >= 0, got ${clipValue}`);
  for (const g of gradsOf('clipGradValue', parameters)) {
    for (let i = 0; i < g.length; i++) {
      const x = g[i];
      if (x > clipValue) g[i] = clipValue;
      else if (x < -clipValue) g[i] = -clipValue;
    }
  }
}

function gradsOf(who: string, parameters: Tensor | Iterable<Tensor>): TypedArray[] {
  const list = parameters instanceof Tensor ? [parameters] : Array.from(parameters);
  const out: TypedArray[] = [];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new TypeError(`${who}: parameter ${i} is not a Tensor`);
    if (p.grad) out.push(p.grad.data);
  });
  return out;
}

function maxAbs(grads: TypedArray[]): number {
  let m = 0;
  for (const g of grads) {
    for (let i = 0; i < g.length; i++) {
      const a = Math.abs(g[i]);
      if (a > m) m = a;
      else if (a !== a) return NaN; // max propagates NaN, as torch's does
    }
  }
  return m;
}

// Float64 accumulation; PyTorch sums in the grads' dtype, so the two agree to float32 rounding.
function pNorm(grads: TypedArray[], p: number): number {
  let s = 0;
  for (const g of grads) {
    if (p === 2) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
    else if (p === 1) for (let i = 0; i < g.length; i++) s += Math.abs(g[i]);
    else for (let i = 0; i < g.length; i++) s += Math.abs(g[i]) ** p;
  }
  return p === 2 ? Math.sqrt(s) : p === 1 ? s : s ** (1 / p);
}
