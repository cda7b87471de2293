// Stateless layers: ReLU, Identity, Flatten, Dropout (which follows the module's train/eval mode).

import { dropout } from '../../autograd/ops/dropout.js';
import { flatten } from '../../autograd/ops/movement.js';
import { relu } from '../../autograd/ops/unary.js';
import type { Tensor } from '../../autograd/tensor.js';
import { Module, pyValue } from '../module.js';

/** max(0, x) elementwise, as `torch.nn.ReLU`. */
export class ReLU extends Module {
  /** Applies ReLU to `x`. */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** Returns its input unchanged (a placeholder layer). */
export class Identity extends Module {
  /** Returns `x` itself. */
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim into one (by default all but the batch dim). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  /** Flattens `x`'s dims startDim..endDim. */
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Zeroes each element with probability p in train mode (scaling the rest by 1/(1-p)); identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: probability has to be between 0 and 1, but got ${p}`);
  }

  /** Applies dropout in train mode; returns `x` in eval mode. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${pyValue(this.p)}, inplace=False`;
  }
}
