// nn.Dropout2d: F.dropout2d, following the module's train/eval mode.

import { dropout2d } from '../../autograd/ops/dropout2d.js';
import type { Tensor } from '../../autograd/tensor.js';
import { Module, pyValue } from '../module.js';

/** Zeroes whole channels with probability p in train mode (scaling the rest by 1/(1-p)); identity in eval mode. */
export class Dropout2d extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout2d: probability has to be between 0 and 1, but got ${p}`);
  }

  /** Zeroes whole channels in train mode; returns `x` in eval mode. */
  forward(x: Tensor): Tensor {
    return dropout2d(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${pyValue(this.p)}, inplace=False`;
  }
}
