// Numerical check of an op's gradients: analytic (backward) vs central differences, in float64.

import { fmt } from '../kernels/shape.js';
import { noGrad } from './grad_mode.js';
import { Tensor } from './tensor.js';

/** Options of `gradcheck`, with PyTorch's defaults. */
export interface GradcheckOptions {
  /** Step of the central differences (default 1e-6). */
  eps?: number;
  /**
   * Absolute tolerance (default 1e-5): an element passes when |analytic - numeric| <= atol + rtol·|numeric|.
   */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Throw on failure (default) or return the report. */
  raiseException?: boolean;
}

/** The worst mismatching gradient element found by `gradcheck`. */
export interface GradcheckFailure {
  /** Position of the input in `inputs`. */
  input: number;
  /** Flat (row-major) index of the element in that input. */
  index: number;
  /** The gradient computed by backward. */
  analytic: number;
  /** The central-difference estimate. */
  numeric: number;
}

/** What `gradcheck` returns when it does not throw. */
export interface GradcheckResult {
  /** True when every element passed. */
  ok: boolean;
  /** The element furthest beyond the tolerance, or null when `ok`. */
  worst: GradcheckFailure | null;
}

/**
 * Checks d(sum(fn(inputs) * v))/d(input) for a fixed random-free projection v (v_k = 1 + k mod 3
 * scaled, so different output elements weigh differently) against central differences.
 * Every input that requires grad must be float64. Reports the worst element on failure.
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): GradcheckResult {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const checked = inputs.map((t, i) => {
    if (t.requiresGrad && t.dtype !== 'float64') {
      throw new Error(`gradcheck: input ${i} (shape ${fmt(t.shape)}) must be float64, got ${t.dtype}`);
    }
    return t.requiresGrad;
  });
  if (!checked.some(Boolean)) throw new Error('gradcheck: no input requires grad');

  const weights = (n: number) => Float64Array.from({ length: n }, (_, k) => 1 + ((k * 7) % 5) / 4);
  const project = (out: Tensor): number => {
    const w = weights(out.size);
    let s = 0;
    for (let k = 0; k < out.size; k++) s += out.data[k] * w[k];
    return s;
  };

  // Analytic: one backward with the projection as the output gradient.
  for (const t of inputs) t.grad = null;
  const out = fn(...inputs);
  if (out.dtype !== 'float64') throw new Error(`gradcheck: fn must return float64, got ${out.dtype}`);
  if (!out.requiresGrad) throw new Error('gradcheck: the output does not depend on any input that requires grad');
  out.backward(new Tensor(weights(out.size), out.shape));

  let worst: GradcheckFailure | null = null;
  let worstExcess = 0;
  noGrad(() => {
    inputs.forEach((t, i) => {
      if (!checked[i]) return;
      const analytic = t.grad ? t.grad.data : new Float64Array(t.size);
      for (let k = 0; k < t.size; k++) {
        const orig = t.data[k];
        t.data[k] = orig + eps;
        const plus = project(fn(...inputs));
        t.data[k] = orig - eps;
        const minus = project(fn(...inputs));
        t.data[k] = orig;
        const numeric = (plus - minus) / (2 * eps);
        const a = analytic[k];
        const excess = Math.abs(a - numeric) - (atol + rtol * Math.abs(numeric));
        if (!(excess <= 0) && (worst === null || !(excess <= worstExcess))) {
          worst = { input: i, index: k, analytic: a, numeric };
          worstExcess = excess;
        }
      }
    });
  });
  for (const t of inputs) t.grad = null;
  const ok = worst === null;
  if (!ok && (options.raiseException ?? true)) {
    const w = worst as unknown as GradcheckFailure;
    throw new Error(
      `gradcheck: gradient mismatch for input ${w.input} at flat index ${w.index}: ` +
        `analytic ${w.analytic}, numeric ${w.numeric} (atol ${atol}, rtol ${rtol})`,
    );
  }
  return { ok, worst };
}
