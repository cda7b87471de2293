// Activation modules with PyTorch's class names, defaults and reprs, each calling its functional
// op in src/autograd/ops/activations.ts. PyTorch's `inplace` flag has no counterpart: skipgrad
// never computes in place.

import {
  elu, gelu, hardswish, hardtanh, leakyRelu, logSigmoid, mish, relu6, silu, softplus, type GeluOptions,
} from '../../autograd/ops/activations.js';
import type { Tensor } from '../../autograd/tensor.js';
import { Module, pyFloat, pyValue } from '../module.js';

export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(options: GeluOptions = {}) {
    super();
    this.approximate = options.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh') {
      throw new Error(`GELU: approximate must be 'none' or 'tanh', got '${this.approximate}'`);
    }
  }

  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

export class Softplus extends Module {
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return softplus(x, this.beta, this.threshold);
  }

  override extraRepr(): string {
    // PyTorch's defaults are the ints 1 and 20, so integers print without ".0".
    return `beta=${pyValue(this.beta)}, threshold=${pyValue(this.threshold)}`;
  }
}

export class Hardtanh extends Module {
  constructor(
    readonly minVal = -1,
    readonly maxVal = 1,
  ) {
    super();
    if (!(maxVal > minVal)) throw new Error(`${this.className}: maxVal ${maxVal} must be greater than minVal ${minVal}`);
  }

  forward(x: Tensor): Tensor {
    return hardtanh(x, this.minVal, this.maxVal);
  }

  override extraRepr(): string {
    return `min_val=${pyFloat(this.minVal)}, max_val=${pyFloat(this.maxVal)}`;
  }
}

/** Hardtanh(0, 6), as PyTorch's ReLU6 (which subclasses Hardtanh too). */
export class ReLU6 extends Hardtanh {
  constructor() {
    super(0, 6);
  }

  override forward(x: Tensor): Tensor {
    return relu6(x);
  }

  override extraRepr(): string {
    return '';
  }
}

export class Hardswish extends Module {
  forward(x: Tensor): Tensor {
    return hardswish(x);
  }
}

export class Mish extends Module {
  forward(x: Tensor): Tensor {
    return mish(x);
  }
}

export class LogSigmoid extends Module {
  forward(x: Tensor): Tensor {
    return logSigmoid(x);
  }
}
