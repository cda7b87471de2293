// Pieces every loss shares: the reduction option and the same-shape check.

import { fmt, shapeEq } from '../../kernels/shape.js';
import type { Tensor } from '../tensor.js';
import { mean, sum } from './reduce.js';

/** How a loss reduces its per-element values: 'mean', 'sum' or 'none', as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

export function checkReduction(op: string, r: string): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${r}'`);
  return r;
}

/** Applies a reduction to a tensor of per-element losses (the mean of none is NaN, as PyTorch). */
export function reduceLoss(loss: Tensor, reduction: Reduction): Tensor {
  return reduction === 'none' ? loss : reduction === 'sum' ? sum(loss) : mean(loss);
}

export function checkSameShape(op: string, input: Tensor, target: Tensor): void {
  if (!shapeEq(input.shape, target.shape)) {
    throw new Error(`${op}: input ${fmt(input.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
}
