// Stochastic gradient descent, exactly torch.optim.SGD's update (torch 1.13, single-tensor path):
//   d = ±grad + weightDecay·p;  buf = d on the first step, else momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf;  p -= lr·d.
// The loop is kernels/optim.ts's sgdStep (float64 arithmetic, p and buf stored in the parameter's
// dtype, as PyTorch's are; float32 runs in wasm SIMD with the same bits).

import type { Tensor } from '../autograd/tensor.js';
import type { FloatArray, TypedArray } from '../kernels/dtype.js';
import { sgdStep } from '../kernels/optim.js';
import { checkNonNegative, Optimizer, stateBuffer, type HyperParams, type ParamGroup, type ParamState, type Params } from './optimizer.js';

/** SGD's hyper-parameters, as torch.optim.SGD's keywords. */
export interface SGDHyper extends HyperParams {
  lr: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Ascend instead of descend (default false). */
  maximize: boolean;
}

/** `lr` may be left out only when every parameter group gives its own. */
export type SGDOptions = Partial<SGDHyper>;

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay,
 * exactly torch.optim.SGD's update (torch 1.13): `lr` has no default and must be given, for all
 * groups or per group.
 *
 * @example
 * ```ts
 * const opt = new sg.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 * opt.zeroGrad();
 * loss.backward();
 * opt.step();
 * ```
 */
export class SGD extends Optimizer<SGDHyper> {
  protected readonly stateKinds = { momentumBuffer: 'buffer' } as const;

  /** `options` are the defaults for every group; a group may override any of them. */
  constructor(params: Params<SGDHyper>, options: SGDOptions = {}) {
    super('SGD', params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false }, options);
  }

  protected validateGroup(g: ParamGroup<SGDHyper>): void {
    checkNonNegative('SGD', 'learning rate', g.lr);
    checkNonNegative('SGD', 'momentum value', g.momentum);
    checkNonNegative('SGD', 'weightDecay value', g.weightDecay);
    if (typeof g.dampening !== 'number' || Number.isNaN(g.dampening)) throw new Error(`SGD: invalid dampening ${String(g.dampening)}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new Error(`SGD: nesterov momentum requires a momentum and zero dampening, got momentum ${g.momentum} and dampening ${g.dampening}`);
    }
  }

  protected update(p: Tensor, grad: TypedArray, g: ParamGroup<SGDHyper>, state: ParamState): void {
    const first = g.momentum !== 0 && state.momentumBuffer === undefined;
    const buf = g.momentum !== 0 ? stateBuffer(state, 'momentumBuffer', p) : null;
    sgdStep(p.data as FloatArray, grad, buf, first, g);
  }
}
