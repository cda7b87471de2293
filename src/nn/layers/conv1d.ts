// nn.Conv1d: weight [out, in/groups, k] and bias [out] around F.conv1d.

import { allocate } from '../../kernels/dtype.js';
import { fmt } from '../../kernels/shape.js';
import { conv1d, single, type Single } from '../../autograd/ops/conv1d.js';
import { Tensor } from '../../autograd/tensor.js';
import { Module, pyValue } from '../module.js';
import { Parameter } from '../parameter.js';
import { defaultLayerInit } from '../init.js';

/** Options of {@link Conv1d}, as `torch.nn.Conv1d`'s keyword arguments. */
export interface Conv1dLayerOptions {
  stride?: Single;
  /** A number, or 'same' / 'valid' ('same' needs stride 1). */
  padding?: Single | 'same' | 'valid';
  dilation?: Single;
  groups?: number;
  /** Learn a bias (default true). */
  bias?: boolean;
  /** Only 'zeros' (the default) is supported; other modes are refused. */
  paddingMode?: 'zeros';
  dtype?: 'float32' | 'float64';
}

/** 1-D convolution over [N, C_in, L], as `torch.nn.Conv1d`; weight [C_out, C_in/groups, k]. */
export class Conv1d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  /** One-element arrays, as PyTorch's 1-tuples. */
  readonly kernelSize: [number];
  readonly stride: [number];
  readonly padding: [number] | 'same' | 'valid';
  readonly dilation: [number];
  readonly groups: number;
  readonly paddingMode = 'zeros' as const;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Single, options: Conv1dLayerOptions = {}) {
    super();
    const groups = options.groups ?? 1;
    const what = `Conv1d(${inChannels}, ${outChannels}, kernelSize=${JSON.stringify(kernelSize)}, groups=${groups})`;
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['groups', groups]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Conv1d: ${name} must be a positive integer, got ${v} in ${what}`);
    }
    if (inChannels % groups) throw new Error(`Conv1d: inChannels must be divisible by groups in ${what}`);
    if (outChannels % groups) throw new Error(`Conv1d: outChannels must be divisible by groups in ${what}`);
    if ((options.paddingMode ?? 'zeros') !== 'zeros') throw new Error(`Conv1d: paddingMode '${options.paddingMode}' is not supported (only 'zeros') in ${what}`);
    this.kernelSize = [single('Conv1d', 'kernelSize', kernelSize)];
    this.stride = [single('Conv1d', 'stride', options.stride ?? 1)];
    const padding = options.padding ?? 0;
    this.padding = padding === 'same' || padding === 'valid' ? padding : [single('Conv1d', 'padding', padding)];
    if (padding === 'same' && this.stride[0] !== 1) throw new Error(`Conv1d: padding 'same' is not supported for strided convolutions in ${what}`);
    this.dilation = [single('Conv1d', 'dilation', options.dilation ?? 1)];
    this.groups = groups;
    const dtype = options.dtype ?? 'float32';
    const wShape = [outChannels, inChannels / groups, this.kernelSize[0]];
    this.weight = new Parameter(new Tensor(allocate(dtype, wShape[0] * wShape[1] * wShape[2]), wShape));
    this.bias = options.bias ?? true ? new Parameter(new Tensor(allocate(dtype, outChannels), [outChannels])) : null;
    this.resetParameters();
  }

  /** PyTorch's default: weight kaiming-uniform with a = √5 (U(±1/√fan_in)), bias U(±1/√fan_in). */
  resetParameters(): void {
    defaultLayerInit(this.weight, this.bias);
  }

  /** Convolves `x` [N, C_in, L] into [N, C_out, L_out]. */
  forward(x: Tensor): Tensor {
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[x.ndim - 2] !== this.inChannels) {
      throw new Error(`Conv1d(${this.inChannels}, ${this.outChannels}): expected input [N, ${this.inChannels}, L] or [${this.inChannels}, L], got ${fmt(x.shape)}`);
    }
    const { stride, padding, dilation, groups } = this;
    return conv1d(x, this.weight, this.bias, { stride, padding, dilation, groups });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding[0] !== 0) s += `, padding=${pyValue(this.padding)}`;
    if (this.dilation[0] !== 1) s += `, dilation=${pyValue(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}
