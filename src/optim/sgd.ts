// Stochastic gradient descent, exactly torch.optim.SGD's update (torch 1.13, single-tensor path):
//   d = ±grad + weightDecay·p;  buf = d on the first step, else momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf;  p -= lr·d.
// Arithmetic is float64 per element; p and buf are stored in the parameter's dtype, as PyTorch's are.

import type { Tensor } from '../autograd/tensor.js';
import type { FloatArray, TypedArray } from '../kernels/dtype.js';
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
    const { lr, momentum, dampening, weightDecay: wd, nesterov, maximize } = g;
    const data = p.data as FloatArray;
    const n = data.length;
    const first = momentum !== 0 && state.momentumBuffer === undefined;
    const buf = momentum !== 0 ? stateBuffer(state, 'momentumBuffer', p) : null;
    for (let i = 0; i < n; i++) {
      let d = maximize ? -grad[i] : grad[i];
      if (wd !== 0) d += wd * data[i];
      if (buf) {
        // The first step copies d into the buffer with no dampening, as PyTorch's clone does.
        buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d;
        d = nesterov ? d + momentum * buf[i] : buf[i];
      }
      data[i] -= lr * d;
    }
  }
}
