// Stochastic gradient descent, exactly torch.optim.SGD's update (torch 1.13, single-tensor path):
//   d = ±grad + weightDecay·p;  buf = d on the first step, else momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf;  p -= lr·d.
// The loop is kernels/optim.ts's sgdStep (float64 arithmetic, p and buf stored in the parameter's
// dtype, as PyTorch's are; float32 runs in wasm SIMD with the same bits).

import type { Tensor } from '../autograd/tensor.js';
import type { FloatArray, TypedArray } from '../kernels/dtype.js';
import { sgdStep } from '../kernels/optim.js';
import { checkNonNegative, Optimizer, stateBuffer, type HyperParams, type ParamGroup, type ParamState, type Params } from './optimizer.js';

export interface SGDHyper extends HyperParams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/** `lr` may be left out only when every parameter group gives its own. */
export type SGDOptions = Partial<SGDHyper>;

export class SGD extends Optimizer<SGDHyper> {
  protected readonly stateKinds = { momentumBuffer: 'buffer' } as const;

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
