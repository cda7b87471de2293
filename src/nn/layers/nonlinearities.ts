// Activation modules with PyTorch's class names, defaults and reprs, each calling its functional
// op in src/autograd/ops/activations.ts. PyTorch's `inplace` flag has no counterpart: skipgrad
// never computes in place.

import {
  elu, gelu, hardswish, hardtanh, leakyRelu, logSigmoid, mish, relu6, silu, softplus, type GeluOptions,
} from '../../autograd/ops/activations.js';
import type { Tensor } from '../../autograd/tensor.js';
import { Module, pyFloat, pyValue } from '../module.js';

/** Gaussian error linear unit x·Φ(x), as `torch.nn.GELU` (`approximate: 'tanh'` uses the tanh approximation). */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(options: GeluOptions = {}) {
    super();
    this.approximate = options.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh') {
      throw new Error(`GELU: approximate must be 'none' or 'tanh', got '${this.approximate}'`);
    }
  }

  /** Applies GELU to `x`. */
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x·sigmoid(x) (swish), as `torch.nn.SiLU`. */
export class SiLU extends Module {
  /** Applies SiLU to `x`. */
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** x for x ≥ 0, negativeSlope·x below (default 0.01), as `torch.nn.LeakyReLU`. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  /** Applies leaky ReLU to `x`. */
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

/** x for x > 0, alpha·(eˣ − 1) below (default alpha 1), as `torch.nn.ELU`. */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
  }

  /** Applies ELU to `x`. */
  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

/** log(1 + e^(beta·x))/beta, linear above `threshold`, as `torch.nn.Softplus` (defaults beta 1, threshold 20). */
export class Softplus extends Module {
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }

  /** Applies softplus to `x`. */
  forward(x: Tensor): Tensor {
    return softplus(x, this.beta, this.threshold);
  }

  override extraRepr(): string {
    // PyTorch's defaults are the ints 1 and 20, so integers print without ".0".
    return `beta=${pyValue(this.beta)}, threshold=${pyValue(this.threshold)}`;
  }
}

/** Clamps to [minVal, maxVal] (default [-1, 1]), as `torch.nn.Hardtanh`. */
export class Hardtanh extends Module {
  constructor(
    readonly minVal = -1,
    readonly maxVal = 1,
  ) {
    super();
    if (!(maxVal > minVal)) throw new Error(`${this.className}: maxVal ${maxVal} must be greater than minVal ${minVal}`);
  }

  /** Clamps `x` to [minVal, maxVal]. */
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

  /** Clamps `x` to [0, 6]. */
  override forward(x: Tensor): Tensor {
    return relu6(x);
  }

  override extraRepr(): string {
    return '';
  }
}

/** x·relu6(x + 3)/6, as `torch.nn.Hardswish`. */
export class Hardswish extends Module {
  /** Applies hardswish to `x`. */
  forward(x: Tensor): Tensor {
    return hardswish(x);
  }
}

/** x·tanh(softplus(x)), as `torch.nn.Mish`. */
export class Mish extends Module {
  /** Applies Mish to `x`. */
  forward(x: Tensor): Tensor {
    return mish(x);
  }
}

/** log(sigmoid(x)), computed stably, as `torch.nn.LogSigmoid`. */
export class LogSigmoid extends Module {
  /** Applies log-sigmoid to `x`. */
  forward(x: Tensor): Tensor {
    return logSigmoid(x);
  }
}
