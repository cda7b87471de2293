// nn.LayerNorm, nn.GroupNorm and nn.InstanceNorm2d around F.layer_norm / group_norm /
// instance_norm, with PyTorch's parameter and buffer names, defaults and reprs.

import { allocate } from '../../kernels/dtype.js';
import { fmt, sizeOf } from '../../kernels/shape.js';
import { groupNorm, instanceNorm } from '../../autograd/ops/group_norm.js';
import { layerNorm, normalizedShapeOf } from '../../autograd/ops/layer_norm.js';
import { reshape } from '../../autograd/ops/movement.js';
import { Tensor } from '../../autograd/tensor.js';
import { Module, pyFloat, pyValue } from '../module.js';
import { Parameter } from '../parameter.js';

/** The floating dtypes a normalization layer's parameters can have. */
export type FloatDType = 'float32' | 'float64';
const filled = (dtype: FloatDType, shape: number[], v: number) => new Tensor(allocate(dtype, sizeOf(shape)).fill(v), shape);

/** Options of {@link LayerNorm}, as `torch.nn.LayerNorm`'s keyword arguments. */
export interface LayerNormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learn a weight (and bias) of shape normalizedShape, initialized to ones (zeros); default true. */
  elementwiseAffine?: boolean;
  /** Learn the bias too when elementwiseAffine (default true). */
  bias?: boolean;
  dtype?: FloatDType;
}

/** Layer norm over the trailing dims `normalizedShape` (a number is one dim). */
export class LayerNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], options: LayerNormLayerOptions = {}) {
    super();
    this.normalizedShape = normalizedShapeOf('LayerNorm', normalizedShape);
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    const dtype = options.dtype ?? 'float32';
    this.weight = this.elementwiseAffine ? new Parameter(filled(dtype, this.normalizedShape, 1)) : null;
    this.bias = this.elementwiseAffine && (options.bias ?? true) ? new Parameter(filled(dtype, this.normalizedShape, 0)) : null;
  }

  /** Weight 1, bias 0. */
  resetParameters(): void {
    this.weight?.data.fill(1);
    this.bias?.data.fill(0);
  }

  /** Normalizes `x` over its trailing `normalizedShape` dims. */
  forward(x: Tensor): Tensor {
    const s = this.normalizedShape;
    if (x.ndim < s.length || s.some((d, i) => x.shape[x.ndim - s.length + i] !== d)) {
      throw new Error(`LayerNorm(${pyValue(s)}): expected input of shape [*, ${s.join(', ')}], got ${fmt(x.shape)}`);
    }
    return layerNorm(x, s, this.weight, this.bias, { eps: this.eps });
  }

  override extraRepr(): string {
    return `${pyValue(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyValue(this.elementwiseAffine)}`;
  }
}

/** Options of {@link GroupNorm}, as `torch.nn.GroupNorm`'s keyword arguments. */
export interface GroupNormLayerOptions {
  eps?: number;
  /** Learn a per-channel weight and bias (ones and zeros); default true. */
  affine?: boolean;
  dtype?: FloatDType;
}

/** Group norm: the channels of each image in numGroups groups, each normalized by its own statistics. */
export class GroupNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly affine: boolean;

  constructor(readonly numGroups: number, readonly numChannels: number, options: GroupNormLayerOptions = {}) {
    super();
    for (const [what, v] of [['numGroups', numGroups], ['numChannels', numChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`GroupNorm: ${what} must be a positive integer, got ${v}`);
    }
    if (numChannels % numGroups) throw new Error(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    this.eps = options.eps ?? 1e-5;
    this.affine = options.affine ?? true;
    const dtype = options.dtype ?? 'float32';
    this.weight = this.affine ? new Parameter(filled(dtype, [numChannels], 1)) : null;
    this.bias = this.affine ? new Parameter(filled(dtype, [numChannels], 0)) : null;
  }

  /** Weight 1, bias 0. */
  resetParameters(): void {
    this.weight?.data.fill(1);
    this.bias?.data.fill(0);
  }

  /** Normalizes `x` [N, C, …] per group of channels. */
  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new Error(`GroupNorm(${this.numGroups}, ${this.numChannels}): expected input [N, ${this.numChannels}, ...], got ${fmt(x.shape)}`);
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, { eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyValue(this.affine)}`;
  }
}

/**
 * Options of {@link InstanceNorm2d}, as `torch.nn.InstanceNorm2d`'s keyword arguments (affine and trackRunningStats
 * off by default).
 */
export interface InstanceNormLayerOptions {
  eps?: number;
  /** Weight of each new batch in the running averages (default 0.1). */
  momentum?: number;
  /** Learn a per-channel weight and bias (default false). */
  affine?: boolean;
  /** Keep running statistics and use them in eval mode (default false). */
  trackRunningStats?: boolean;
  dtype?: FloatDType;
}

/** Instance norm over [N, C, H, W] (or unbatched [C, H, W]): each image's channel by its own statistics. */
export class InstanceNorm2d extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  /** Registered as in PyTorch (state-dict key) but, as there, never advanced by instance norm. */
  declare num_batches_tracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(readonly numFeatures: number, options: InstanceNormLayerOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new Error(`InstanceNorm2d: numFeatures must be a positive integer, got ${numFeatures}`);
    this.eps = options.eps ?? 1e-5;
    const momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (typeof momentum !== 'number') throw new Error(`InstanceNorm2d: momentum must be a number (PyTorch's instance norm has no cumulative average), got ${String(momentum)}`);
    this.momentum = momentum;
    this.affine = options.affine ?? false;
    this.trackRunningStats = options.trackRunningStats ?? false;
    const dtype = options.dtype ?? 'float32';
    this.weight = this.affine ? new Parameter(filled(dtype, [numFeatures], 1)) : null;
    this.bias = this.affine ? new Parameter(filled(dtype, [numFeatures], 0)) : null;
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? filled(dtype, [numFeatures], 0) : null);
    this.registerBuffer('running_var', track ? filled(dtype, [numFeatures], 1) : null);
    this.registerBuffer('num_batches_tracked', track ? new Tensor(new Int32Array(1), []) : null);
  }

  /** Running mean 0, running variance 1, no batches seen. */
  resetRunningStats(): void {
    this.running_mean?.data.fill(0);
    this.running_var?.data.fill(1);
    this.num_batches_tracked?.data.fill(0);
  }

  /** Running statistics reset, weight 1, bias 0. */
  resetParameters(): void {
    this.resetRunningStats();
    this.weight?.data.fill(1);
    this.bias?.data.fill(0);
  }

  /** Normalizes each image's channels of `x` by their own statistics (or the running ones in eval mode when tracked). */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 && x.ndim !== 4) {
      throw new Error(`InstanceNorm2d: expected 3D or 4D input [C, H, W] or [N, C, H, W], got ${x.ndim}D input of shape ${fmt(x.shape)}`);
    }
    const c = x.shape[x.ndim - 3];
    if (c !== this.numFeatures) {
      throw new Error(`InstanceNorm2d(${this.numFeatures}): expected input's size at dim ${x.ndim - 3} to match numFeatures ${this.numFeatures}, got ${fmt(x.shape)}`);
    }
    const x4 = x.ndim === 3 ? reshape(x, [1, ...x.shape]) : x;
    const y = instanceNorm(x4, this.running_mean, this.running_var, this.weight, this.bias, {
      useInputStats: this.training || !this.trackRunningStats,
      momentum: this.momentum,
      eps: this.eps,
    });
    return x.ndim === 3 ? reshape(y, x.shape) : y;
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${pyValue(this.momentum)}, ` +
      `affine=${pyValue(this.affine)}, track_running_stats=${pyValue(this.trackRunningStats)}`
    );
  }
}
