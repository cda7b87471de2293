// nn.Conv2d: a learnable weight [out, in/groups, kh, kw] and bias [out] around F.conv2d.

import { allocate } from '../../kernels/dtype.js';
import { conv2d, pair, type Pair } from '../../autograd/ops/conv2d.js';
import { Tensor } from '../../autograd/tensor.js';
import { Module, pyValue } from '../module.js';
import { Parameter } from '../parameter.js';
import { defaultLayerInit } from '../init.js';

/** Options of {@link Conv2d}, as `torch.nn.Conv2d`'s keyword arguments. */
export interface Conv2dLayerOptions {
  stride?: Pair;
  /** A number, an [h, w] pair, or 'same' / 'valid' (stride 1 only for 'same'). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
  /** Learn a bias (default true). */
  bias?: boolean;
  dtype?: 'float32' | 'float64';
}

/** 2-D convolution over [N, C_in, H, W], as `torch.nn.Conv2d`; weight [C_out, C_in/groups, kH, kW]. */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    const groups = options.groups ?? 1;
    const shapes = `Conv2d(${inChannels}, ${outChannels}, kernelSize=${JSON.stringify(kernelSize)}, groups=${groups})`;
    for (const [what, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['groups', groups]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Conv2d: ${what} must be a positive integer, got ${v} in ${shapes}`);
    }
    if (inChannels % groups) throw new Error(`Conv2d: inChannels must be divisible by groups in ${shapes}`);
    if (outChannels % groups) throw new Error(`Conv2d: outChannels must be divisible by groups in ${shapes}`);
    this.kernelSize = pair('Conv2d', 'kernelSize', kernelSize);
    this.stride = pair('Conv2d', 'stride', options.stride ?? 1);
    const padding = options.padding ?? 0;
    this.padding = padding === 'same' || padding === 'valid' ? padding : pair('Conv2d', 'padding', padding);
    this.dilation = pair('Conv2d', 'dilation', options.dilation ?? 1);
    this.groups = groups;
    const dtype = options.dtype ?? 'float32';
    const wShape = [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = new Parameter(new Tensor(allocate(dtype, wShape.reduce((a, b) => a * b, 1)), wShape));
    this.bias = options.bias ?? true ? new Parameter(new Tensor(allocate(dtype, outChannels), [outChannels])) : null;
    this.resetParameters();
  }

  /** PyTorch's default: weight kaiming-uniform with a = √5 (U(±1/√fan_in)), bias U(±1/√fan_in). */
  resetParameters(): void {
    defaultLayerInit(this.weight, this.bias);
  }

  /** Convolves `x` [N, C_in, H, W] into [N, C_out, H_out, W_out]. */
  forward(x: Tensor): Tensor {
    const { stride, padding, dilation, groups } = this;
    return conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${pyValue(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyValue(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}
