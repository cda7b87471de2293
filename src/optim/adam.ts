// Adam (Kingma & Ba), exactly torch 1.13's single-tensor `_single_tensor_adam`: the step is counted
// per parameter, weight decay is added to the gradient (L2), bias corrections use that count.
// AdamW (adamw.ts) shares this update with decoupled decay. Scalars and per-element arithmetic
// are float64; the parameter and the moment buffers are stored in the parameter's dtype. The
// loop is kernels/optim.ts's adamStep (float32 runs in wasm SIMD with the same bits).

import type { Tensor } from '../autograd/tensor.js';
import type { FloatArray, TypedArray } from '../kernels/dtype.js';
import { adamStep } from '../kernels/optim.js';
import { checkNonNegative, Optimizer, stateBuffer, type HyperParams, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface AdamHyper extends HyperParams {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

export type AdamOptions = Partial<AdamHyper>;

export const ADAM_STATE = { step: 'count', expAvg: 'buffer', expAvgSq: 'buffer', maxExpAvgSq: 'buffer' } as const;

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
