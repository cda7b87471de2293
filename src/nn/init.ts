/**
 * nn.init: in-place initializers, as torch.nn.init, drawing from the seeded default generator.
 * They write straight into `t.data`, so they are never recorded in the graph (PyTorch's no_grad).
 *
 * @module
 */

import { fmt } from '../kernels/shape.js';
import { defaultGenerator, type Generator } from '../autograd/random.js';
import type { Tensor } from '../autograd/tensor.js';

/** The nonlinearities `calculateGain` knows, as `torch.nn.init.calculate_gain`'s names. */
export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** Which fan the Kaiming initializers scale by: fan-in preserves forward variance, fan-out backward. */
export type FanMode = 'fanIn' | 'fanOut';

/** Options of {@link kaimingUniform} and {@link kaimingNormal}, as `torch.nn.init.kaiming_*`'s arguments. */
export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (only with 'leaky_relu'); default 0. */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d':
    case 'conv_transpose1d': case 'conv_transpose2d': case 'conv_transpose3d': case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (!Number.isFinite(slope)) throw new Error(`calculateGain: negative slope ${slope} is not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
  }
  throw new Error(`calculateGain: unsupported nonlinearity ${String(nonlinearity)}`);
}

/**
 * fan_in and fan_out as PyTorch's _calculate_fan_in_and_fan_out: dim 1 and dim 0 sizes times the
 * receptive field (the product of dims 2..), e.g. a conv weight [out, in/groups, kh, kw].
 */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) {
    throw new Error(`calculateFanInAndFanOut: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions, got ${fmt(t.shape)}`);
  }
  let receptive = 1;
  for (let i = 2; i < t.ndim; i++) receptive *= t.shape[i];
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

function fanOf(op: string, t: Tensor, mode: FanMode): number {
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new Error(`${op}: mode must be 'fanIn' or 'fanOut', got ${String(mode)}`);
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return mode === 'fanIn' ? fanIn : fanOut;
}

/** Fills t with U(a, b). */
export function uniform(t: Tensor, a = 0, b = 1, generator: Generator = defaultGenerator): Tensor {
  if (!(a <= b)) throw new Error(`uniform: need a <= b, got a=${a}, b=${b} (tensor ${fmt(t.shape)})`);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = a + (b - a) * generator.random();
  return t;
}

/** Fills t with N(mean, std²). */
export function normal(t: Tensor, mean = 0, std = 1, generator: Generator = defaultGenerator): Tensor {
  if (!(std >= 0)) throw new Error(`normal: std must be non-negative, got ${std} (tensor ${fmt(t.shape)})`);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = mean + std * generator.normal();
  return t;
}

/** Fills t with `value`, in place; returns t. */
export function constant(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  return t;
}

/** Fills t with 0, in place; returns t. */
export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

/** Fills t with 1, in place; returns t. */
export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

/** U(-b, b) with b = gain·√(6/(fan_in+fan_out)) (Glorot & Bengio). */
export function xavierUniform(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -bound, bound, generator);
}

/** N(0, std²) with std = gain·√(2/(fan_in+fan_out)). */
export function xavierNormal(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), generator);
}

function kaimingStd(op: string, t: Tensor, o: KaimingOptions): number {
  const fan = fanOf(op, t, o.mode ?? 'fanIn');
  if (fan === 0) throw new Error(`${op}: cannot initialize a tensor with a zero fan, shape ${fmt(t.shape)}`);
  return calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan);
}

/** U(-b, b) with b = gain·√(3/fan) (He et al.); nn layers use a = √5, giving b = 1/√fan_in. */
export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  if (t.size === 0) return t; // PyTorch: a no-op on zero-element tensors
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform', t, options);
  return uniform(t, -bound, bound, options.generator);
}

/** N(0, std²) with std = gain/√fan. */
export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  if (t.size === 0) return t;
  return normal(t, 0, kaimingStd('kaimingNormal', t, options), options.generator);
}

/**
 * PyTorch's default for Linear and Conv layers (their reset_parameters): weight kaiming-uniform
 * with a = √5, i.e. U(±1/√fan_in), and bias U(±1/√fan_in).
 */
export function defaultLayerInit(weight: Tensor, bias: Tensor | null, generator: Generator = defaultGenerator): void {
  kaimingUniform(weight, { a: Math.sqrt(5), generator });
  if (bias) {
    const { fanIn } = calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform(bias, -bound, bound, generator);
  }
}
