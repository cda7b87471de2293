// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, exactly torch 1.13's
// `_single_tensor_adamw` — p *= 1 − lr·weightDecay before the Adam update, default decay 1e-2.

import type { Tensor } from '../autograd/tensor.js';
import type { TypedArray } from '../kernels/dtype.js';
import { ADAM_STATE, adamUpdate, validateAdam, type AdamHyper, type AdamOptions } from './adam.js';
import { Optimizer, type ParamGroup, type ParamState, type Params } from './optimizer.js';

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, exactly torch 1.13's update —
 * p *= 1 − lr·weightDecay before the Adam step; the default weightDecay is 1e-2, as in PyTorch.
 */
export class AdamW extends Optimizer<AdamHyper> {
  protected readonly stateKinds = ADAM_STATE;

  constructor(params: Params<AdamHyper>, options: AdamOptions = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false }, options);
  }

  protected validateGroup(g: ParamGroup<AdamHyper>): void {
    validateAdam('AdamW', g);
  }

  protected update(p: Tensor, grad: TypedArray, g: ParamGroup<AdamHyper>, state: ParamState): void {
    adamUpdate(p, grad, g, state, true);
  }
}
