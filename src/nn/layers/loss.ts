// Loss modules with PyTorch's class names and constructor options (camelCase): each holds its
// options and calls its functional loss. `weight` and `posWeight` are buffers under PyTorch's
// state-dict keys (`weight`, `pos_weight`), as BatchNorm's `running_mean` is.
// Use: `const loss = new CrossEntropyLoss({labelSmoothing: 0.1}).call(logits, target)`.

import { crossEntropy, mseLoss, nllLoss, type CrossEntropyOptions, type NllOptions } from '../../autograd/ops/loss.js';
import {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, huberLoss, klDiv, l1Loss, smoothL1Loss,
  type BceOptions, type BceWithLogitsOptions, type HuberOptions, type KlDivOptions, type LossOptions, type SmoothL1Options,
} from '../../autograd/ops/loss_elementwise.js';
import { checkReduction, type Reduction } from '../../autograd/ops/loss_common.js';
import { Tensor } from '../../autograd/tensor.js';
import { Module } from '../module.js';

/** The reduction every loss module carries (default 'mean'), checked when the module is built. */
abstract class Loss extends Module {
  readonly reduction: Reduction;

  constructor(options: LossOptions) {
    super();
    this.reduction = checkReduction(this.className, options.reduction ?? 'mean');
  }

  abstract override forward(input: Tensor, target: Tensor): Tensor;

  /** A class/sample weight buffer (null when not given), checked to be a Tensor. */
  protected weightBuffer(name: string, t: Tensor | undefined): void {
    if (t !== undefined && !(t instanceof Tensor)) throw new Error(`${this.className}: ${name} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
    this.registerBuffer(name, t ?? null);
  }
}

/**
 * Cross entropy of logits [N, C, …] against class indices or class probabilities, as `torch.nn.CrossEntropyLoss`
 * (weight, ignoreIndex, labelSmoothing, reduction).
 */
export class CrossEntropyLoss extends Loss {
  declare weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;

  constructor(options: CrossEntropyOptions = {}) {
    super(options);
    this.weightBuffer('weight', options.weight);
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.labelSmoothing = options.labelSmoothing ?? 0;
    if (!(this.labelSmoothing >= 0 && this.labelSmoothing <= 1)) {
      throw new Error(`CrossEntropyLoss: labelSmoothing must be in [0, 1], got ${this.labelSmoothing}`);
    }
  }

  /** The loss of logits `input` against `target`. */
  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      weight: this.weight ?? undefined, ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing,
    });
  }
}

/** Negative log likelihood of log-probabilities [N, C, …] against class indices, as `torch.nn.NLLLoss`. */
export class NLLLoss extends Loss {
  declare weight: Tensor | null;
  readonly ignoreIndex: number;

  constructor(options: NllOptions = {}) {
    super(options);
    this.weightBuffer('weight', options.weight);
    this.ignoreIndex = options.ignoreIndex ?? -100;
  }

  /** The loss of log-probabilities `input` against class indices `target`. */
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { weight: this.weight ?? undefined, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

/** Mean squared error (x − y)², as `torch.nn.MSELoss`. */
export class MSELoss extends Loss {
  constructor(options: LossOptions = {}) {
    super(options);
  }

  /** The squared error of `input` against `target`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error |x − y|, as `torch.nn.L1Loss`. */
export class L1Loss extends Loss {
  constructor(options: LossOptions = {}) {
    super(options);
  }

  /** The absolute error of `input` against `target`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/** Squared error below `beta`, absolute error above (default beta 1), as `torch.nn.SmoothL1Loss`. */
export class SmoothL1Loss extends Loss {
  readonly beta: number;

  constructor(options: SmoothL1Options = {}) {
    super(options);
    this.beta = options.beta ?? 1;
    if (!(this.beta >= 0)) throw new Error(`SmoothL1Loss: beta must be >= 0, got ${this.beta}`);
  }

  /** The smooth L1 error of `input` against `target`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/** Squared error below `delta`, delta-scaled absolute error above (default delta 1), as `torch.nn.HuberLoss`. */
export class HuberLoss extends Loss {
  readonly delta: number;

  constructor(options: HuberOptions = {}) {
    super(options);
    this.delta = options.delta ?? 1;
    if (!(this.delta > 0)) throw new Error(`HuberLoss: delta must be > 0, got ${this.delta}`);
  }

  /** The Huber error of `input` against `target`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/** Binary cross entropy of probabilities in [0, 1], as `torch.nn.BCELoss` (log clamped at -100, as PyTorch). */
export class BCELoss extends Loss {
  declare weight: Tensor | null;

  constructor(options: BceOptions = {}) {
    super(options);
    this.weightBuffer('weight', options.weight);
  }

  /** The loss of probabilities `input` against targets in [0, 1]. */
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { weight: this.weight ?? undefined, reduction: this.reduction });
  }
}

/** Binary cross entropy on logits, computed stably, as `torch.nn.BCEWithLogitsLoss` (weight, posWeight, reduction). */
export class BCEWithLogitsLoss extends Loss {
  declare weight: Tensor | null;
  declare pos_weight: Tensor | null;

  constructor(options: BceWithLogitsOptions = {}) {
    super(options);
    this.weightBuffer('weight', options.weight);
    this.weightBuffer('pos_weight', options.posWeight);
  }

  get posWeight(): Tensor | null {
    return this.pos_weight;
  }

  /** The loss of logits `input` against targets in [0, 1]. */
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, {
      weight: this.weight ?? undefined, posWeight: this.posWeight ?? undefined, reduction: this.reduction,
    });
  }
}

/**
 * Kullback–Leibler divergence of log-probabilities `input` from `target`, as `torch.nn.KLDivLoss` ('batchmean'
 * divides by the batch size).
 */
export class KLDivLoss extends Module {
  readonly reduction: Reduction | 'batchmean';
  readonly logTarget: boolean;

  constructor(options: KlDivOptions = {}) {
    super();
    this.reduction = options.reduction ?? 'mean';
    if (!['mean', 'batchmean', 'sum', 'none'].includes(this.reduction)) {
      throw new Error(`KLDivLoss: reduction must be 'mean', 'batchmean', 'sum' or 'none', got '${this.reduction}'`);
    }
    this.logTarget = options.logTarget ?? false;
  }

  /** The divergence of `target` from log-probabilities `input`, reduced. */
  forward(input: Tensor, target: Tensor): Tensor {
    return klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}
