// nn.ConvTranspose2d: weight [in, out/groups, kh, kw] (PyTorch's layout) and bias [out] around
// F.conv_transpose2d; forward optionally takes the wanted output size, as PyTorch's does.

import { allocate } from '../../kernels/dtype.js';
import { fmt } from '../../kernels/shape.js';
import { pair, type Pair } from '../../autograd/ops/conv2d.js';
import { convTranspose2d, convTransposeOutSize } from '../../autograd/ops/conv_transpose2d.js';
import { Tensor } from '../../autograd/tensor.js';
import { Module, pyValue } from '../module.js';
import { Parameter } from '../parameter.js';
import { defaultLayerInit } from '../init.js';

/** Options of {@link ConvTranspose2d}, as `torch.nn.ConvTranspose2d`'s keyword arguments. */
export interface ConvTranspose2dLayerOptions {
  stride?: Pair;
  padding?: Pair;
  /** Extra rows / columns at the bottom / right of the output (each below stride or dilation). */
  outputPadding?: Pair;
  groups?: number;
  /** Learn a bias (default true). */
  bias?: boolean;
  dilation?: Pair;
  /** Only 'zeros' (the default) is supported, as in PyTorch. */
  paddingMode?: 'zeros';
  dtype?: 'float32' | 'float64';
}

/**
 * 2-D transposed convolution (the gradient of Conv2d w.r.t. its input), as `torch.nn.ConvTranspose2d`; weight [C_in,
 * C_out/groups, kH, kW].
 */
export class ConvTranspose2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode = 'zeros' as const;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, options: ConvTranspose2dLayerOptions = {}) {
    super();
    const groups = options.groups ?? 1;
    const what = `ConvTranspose2d(${inChannels}, ${outChannels}, kernelSize=${JSON.stringify(kernelSize)}, groups=${groups})`;
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels], ['groups', groups]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`ConvTranspose2d: ${name} must be a positive integer, got ${v} in ${what}`);
    }
    if (inChannels % groups) throw new Error(`ConvTranspose2d: inChannels must be divisible by groups in ${what}`);
    if (outChannels % groups) throw new Error(`ConvTranspose2d: outChannels must be divisible by groups in ${what}`);
    if ((options.paddingMode ?? 'zeros') !== 'zeros') {
      throw new Error(`ConvTranspose2d: only paddingMode 'zeros' is supported, got '${options.paddingMode}' in ${what}`);
    }
    this.kernelSize = pair('ConvTranspose2d', 'kernelSize', kernelSize);
    this.stride = pair('ConvTranspose2d', 'stride', options.stride ?? 1);
    this.padding = pair('ConvTranspose2d', 'padding', options.padding ?? 0);
    this.outputPadding = pair('ConvTranspose2d', 'outputPadding', options.outputPadding ?? 0);
    this.dilation = pair('ConvTranspose2d', 'dilation', options.dilation ?? 1);
    this.groups = groups;
    const dtype = options.dtype ?? 'float32';
    const wShape = [inChannels, outChannels / groups, ...this.kernelSize];
    this.weight = new Parameter(new Tensor(allocate(dtype, wShape.reduce((a, b) => a * b, 1)), wShape));
    this.bias = options.bias ?? true ? new Parameter(new Tensor(allocate(dtype, outChannels), [outChannels])) : null;
    this.resetParameters();
  }

  /** PyTorch's default: kaiming-uniform with a = √5 on the weight (fan_in = out/groups * kh * kw), bias U(±1/√fan_in). */
  resetParameters(): void {
    defaultLayerInit(this.weight, this.bias);
  }

  /**
   * The output padding that gives `outputSize` ([H, W], or [N, C, H, W] whose last two are
   * taken), as PyTorch's _output_padding: each size must lie within [min, min + stride - 1].
   */
  outputPaddingFor(x: Tensor, outputSize: readonly number[]): [number, number] {
    const size = outputSize.slice(-2);
    if (size.length !== 2 || (outputSize.length !== 2 && outputSize.length !== x.ndim)) {
      throw new Error(`ConvTranspose2d: outputSize must have 2 or ${x.ndim} elements, got ${fmt(outputSize)}`);
    }
    const inSize = x.shape.slice(-2);
    return [0, 1].map((i) => {
      const min = convTransposeOutSize(inSize[i], this.kernelSize[i], this.stride[i], this.padding[i], this.dilation[i], 0);
      const max = min + this.stride[i] - 1;
      if (!(size[i] >= min && size[i] <= max)) {
        throw new Error(`ConvTranspose2d: requested an output size of ${fmt(size)}, but valid sizes range from [${min}] to [${max}] in dim ${i} (for an input of ${fmt(x.shape)})`);
      }
      return size[i] - min;
    }) as [number, number];
  }

  /** Transposed-convolves `x` [N, C_in, H, W]; `outputSize` picks among the possible output sizes, as PyTorch's `output_size`. */
  forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    if ((x.ndim !== 3 && x.ndim !== 4) || x.shape[x.ndim - 3] !== this.inChannels) {
      throw new Error(`ConvTranspose2d(${this.inChannels}, ${this.outChannels}): expected input [N, ${this.inChannels}, H, W] or [${this.inChannels}, H, W], got ${fmt(x.shape)}`);
    }
    const outputPadding = outputSize ? this.outputPaddingFor(x, outputSize) : this.outputPadding;
    const { stride, padding, dilation, groups } = this;
    return convTranspose2d(x, this.weight, this.bias, { stride, padding, outputPadding, groups, dilation });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyValue(this.kernelSize)}, stride=${pyValue(this.stride)}`;
    if (this.padding.some((p) => p !== 0)) s += `, padding=${pyValue(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyValue(this.dilation)}`;
    if (this.outputPadding.some((p) => p !== 0)) s += `, output_padding=${pyValue(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=False';
    return s;
  }
}
