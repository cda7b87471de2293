// A Parameter is a Tensor that a Module lists among its parameters (PyTorch's nn.Parameter).
// Being a Tensor subclass is what lets Module discover it just by looking at its own properties.

import type { TypedArray } from '../kernels/dtype.js';
import { Tensor } from '../autograd/tensor.js';

export class Parameter extends Tensor {
  /**
   * Wraps `data` (sharing its storage, as PyTorch does) as a leaf that requires grad by default.
   * A tensor that is part of a graph is detached first: parameters are always leaves.
   */
  constructor(data: Tensor | TypedArray, requiresGrad = true, shape?: readonly number[]) {
    if (data instanceof Tensor) super(data.data, data.shape, requiresGrad);
    else super(data, shape ?? [data.length], requiresGrad);
  }

  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}
