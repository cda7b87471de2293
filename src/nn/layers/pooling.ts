// nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d: option holders around the functional pools.

import type { Pair } from '../../autograd/ops/conv2d.js';
import { maxPool2d } from '../../autograd/ops/max_pool2d.js';
import { avgPool2d } from '../../autograd/ops/avg_pool2d.js';
import { adaptiveAvgPool2d } from '../../autograd/ops/adaptive_avg_pool2d.js';
import type { Tensor } from '../../autograd/tensor.js';
import { Module, pyValue } from '../module.js';

/** Options of {@link MaxPool2d}, as `torch.nn.MaxPool2d`'s arguments (stride defaults to the kernel size). */
export interface MaxPool2dLayerOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

/** 2-D max pooling over [N, C, H, W], as `torch.nn.MaxPool2d`. */
export class MaxPool2d extends Module {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly ceilMode: boolean;

  constructor(readonly kernelSize: Pair, options: MaxPool2dLayerOptions = {}) {
    super();
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.ceilMode = options.ceilMode ?? false;
  }

  /** Max-pools `x` [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    const { kernelSize, stride, padding, dilation, ceilMode } = this;
    return maxPool2d(x, { kernelSize, stride, padding, dilation, ceilMode });
  }

  override extraRepr(): string {
    return (
      `kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}, padding=${pyValue(this.padding)}, ` +
      `dilation=${pyValue(this.dilation)}, ceil_mode=${pyValue(this.ceilMode)}`
    );
  }
}

/** Options of {@link AvgPool2d}, as `torch.nn.AvgPool2d`'s arguments (stride defaults to the kernel size). */
export interface AvgPool2dLayerOptions {
  /** Defaults to kernelSize. */
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
  /** Count zero padding in each window's divisor (default true). */
  countIncludePad?: boolean;
  divisorOverride?: number;
}

/** 2-D average pooling over [N, C, H, W], as `torch.nn.AvgPool2d`. */
export class AvgPool2d extends Module {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | undefined;

  constructor(readonly kernelSize: Pair, options: AvgPool2dLayerOptions = {}) {
    super();
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    this.ceilMode = options.ceilMode ?? false;
    this.countIncludePad = options.countIncludePad ?? true;
    this.divisorOverride = options.divisorOverride;
  }

  /** Average-pools `x` [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    const { kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride } = this;
    return avgPool2d(x, { kernelSize, stride, padding, ceilMode, countIncludePad, divisorOverride });
  }

  override extraRepr(): string {
    return `kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}, padding=${pyValue(this.padding)}`;
  }
}

/** Average pooling to a fixed output size [outH, outW] whatever the input size, as `torch.nn.AdaptiveAvgPool2d`. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }

  /** Average-pools `x` [N, C, H, W] to the output size. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${pyValue(this.outputSize)}`;
  }
}
