// nn.Linear: y = x Wᵀ + b with weight [out, in] and bias [out].

import { allocate } from '../../kernels/dtype.js';
import { linear } from '../../autograd/ops/linear.js';
import { Tensor } from '../../autograd/tensor.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { defaultLayerInit } from '../init.js';

/** Options of {@link Linear}, as `torch.nn.Linear`'s keyword arguments. */
export interface LinearOptions {
  /** Learn a bias (default true). */
  bias?: boolean;
  dtype?: 'float32' | 'float64';
}

/** Affine map y = x·Wᵀ + b over the last dim, as `torch.nn.Linear`; weight [outFeatures, inFeatures]. */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [what, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`Linear: ${what} must be a non-negative integer, got ${v} in Linear(${inFeatures}, ${outFeatures})`);
    }
    const dtype = options.dtype ?? 'float32';
    this.weight = new Parameter(new Tensor(allocate(dtype, outFeatures * inFeatures), [outFeatures, inFeatures]));
    this.bias = options.bias ?? true ? new Parameter(new Tensor(allocate(dtype, outFeatures), [outFeatures])) : null;
    this.resetParameters();
  }

  /** PyTorch's default: weight kaiming-uniform with a = √5 (U(±1/√in)), bias U(±1/√in). */
  resetParameters(): void {
    defaultLayerInit(this.weight, this.bias);
  }

  /** Maps `x` [..., inFeatures] to [..., outFeatures]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}
