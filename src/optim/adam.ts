// Adam (Kingma & Ba), exactly torch 1.13's single-tensor `_single_tensor_adam`: the step is counted
// per parameter, weight decay is added to the gradient (L2), bias corrections use that count.
// AdamW (adamw.ts) shares this update with decoupled decay. Scalars and per-element arithmetic
// are float64; the parameter and the moment buffers are stored in the parameter's dtype. The
// loop is kernels/optim.ts's adamStep (float32 runs in wasm SIMD with the same bits).

import type { Tensor } from '../autograd/tensor.js';
import type { FloatArray, TypedArray } from '../kernels/dtype.js';
import { adamStep } from '../kernels/optim.js';
import { checkNonNegative, Optimizer, stateBuffer, type HyperParams, type ParamGroup, type ParamState, type Params } from './optimizer.js';

/** Adam's and AdamW's hyper-parameters, as torch.optim.Adam's keywords. */
export interface AdamHyper extends HyperParams {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay (default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad; default false). */
  amsgrad: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}

/** Constructor options of `Adam` and `AdamW`: any subset of the hyper-parameters. */
export type AdamOptions = Partial<AdamHyper>;

export const ADAM_STATE = { step: 'count', expAvg: 'buffer', expAvgSq: 'buffer', maxExpAvgSq: 'buffer' } as const;

/**
 * Adam (Kingma & Ba), exactly torch 1.13's single-tensor update: the step is counted per
 * parameter, weight decay is an L2 term added to the gradient, and `amsgrad` and `maximize` are
 * supported. For decoupled weight decay use `AdamW`.
 */
export class Adam extends Optimizer<AdamHyper> {
  protected readonly stateKinds = ADAM_STATE;

  constructor(params: Params<AdamHyper>, options: AdamOptions = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false }, options);
  }

  protected validateGroup(g: ParamGroup<AdamHyper>): void {
    validateAdam('Adam', g);
  }

  protected update(p: Tensor, grad: TypedArray, g: ParamGroup<AdamHyper>, state: ParamState): void {
    adamUpdate(p, grad, g, state, false);
  }
}

export function validateAdam(who: string, g: AdamHyper): void {
  checkNonNegative(who, 'learning rate', g.lr);
  checkNonNegative(who, 'epsilon value', g.eps);
  checkNonNegative(who, 'weightDecay value', g.weightDecay);
  if (!Array.isArray(g.betas) || g.betas.length !== 2) throw new Error(`${who}: betas must be a pair [beta1, beta2], got ${JSON.stringify(g.betas)}`);
  g.betas.forEach((b, i) => {
    if (!(typeof b === 'number' && b >= 0 && b < 1)) throw new Error(`${who}: invalid beta parameter at index ${i}: ${String(b)} (must be in [0, 1))`);
  });
}

/** One Adam step on `p`. `decoupled` = AdamW: p *= 1 − lr·wd first, and no L2 term in the gradient. */
export function adamUpdate(p: Tensor, grad: TypedArray, g: AdamHyper, state: ParamState, decoupled: boolean): void {
  const m = stateBuffer(state, 'expAvg', p);
  const v = stateBuffer(state, 'expAvgSq', p);
  const vMax = g.amsgrad ? stateBuffer(state, 'maxExpAvgSq', p) : null;
  const step = ((state.step as number | undefined) ?? 0) + 1;
  state.step = step;
  adamStep(p.data as FloatArray, grad, m, v, vMax, g, step, decoupled);
}
