// Creating tensors: from values, constants, ranges and the seeded generator.

import { allocate, castArray, dtypeOf, isDType, type DType, type TypedArray } from '../kernels/dtype.js';
import { checkShape, fmt, sizeOf, type Shape } from '../kernels/shape.js';
import { defaultGenerator, type Generator } from './random.js';
import { Tensor, type NestedArray } from './tensor.js';

/** Options of the creation functions, as PyTorch's `dtype=` and `requires_grad=` keywords. */
export interface TensorOptions {
  /** Element type; float32 unless the function says otherwise. */
  dtype?: DType;
  /** Make the new tensor a leaf that requires grad (float dtypes only); default false. */
  requiresGrad?: boolean;
}

/** Options of the random creation functions. */
export interface RandomOptions extends TensorOptions {
  /** Draw from this generator instead of `defaultGenerator`. */
  generator?: Generator;
}

function checkDType(op: string, dtype: DType | undefined): DType {
  const d = dtype ?? 'float32';
  if (!isDType(d)) throw new Error(`${op}: unknown dtype '${String(d)}' (use float32, float64 or int32)`);
  return d;
}

/** Refuses a value an int32 cannot hold (NaN, ±Inf, beyond ±2^31) instead of wrapping it, as PyTorch does. */
function checkInt32(op: string, v: number): void {
  const t = Math.trunc(v);
  if (!(t >= -2147483648 && t <= 2147483647)) {
    throw new Error(`${op}: value ${v} cannot be converted to int32 without overflow`);
  }
}

const TENSOR_OPTIONS = ['dtype', 'requiresGrad', 'shape'];

/** tensor()'s second argument is an options object: a shape passed there bare (`tensor(data, [2, 3])`) is refused, not ignored. */
function checkTensorOptions(options: unknown): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    const got = Array.isArray(options) ? `the array ${JSON.stringify(options)} (a shape goes in {shape: [...]})` : String(options);
    throw new TypeError(`tensor: the second argument must be options {dtype, requiresGrad, shape}, got ${got}`);
  }
  const unknown = Object.keys(options).filter((k) => !TENSOR_OPTIONS.includes(k));
  if (unknown.length) throw new TypeError(`tensor: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')} (known: dtype, requiresGrad, shape)`);
}

/**
 * A tensor from a number, nested arrays, or a typed array (with `shape`, default 1-D).
 * The dtype defaults to float32, or to the typed array's own type.
 */
export function tensor(
  values: NestedArray | TypedArray,
  options: TensorOptions & { shape?: Shape } = {},
): Tensor {
  checkTensorOptions(options);
  if (ArrayBuffer.isView(values)) {
    const dtype = checkDType('tensor', options.dtype ?? dtypeOf(values));
    const shape = options.shape ?? [values.length];
    checkShape('tensor', shape);
    if (sizeOf(shape) !== values.length) {
      throw new Error(`tensor: shape ${fmt(shape)} needs ${sizeOf(shape)} elements, the array has ${values.length}`);
    }
    if (dtype === 'int32' && dtypeOf(values) !== 'int32') for (const v of values) checkInt32('tensor', v);
    return new Tensor(castArray(values, dtype), shape, options.requiresGrad);
  }
  const dtype = checkDType('tensor', options.dtype);
  const shape: number[] = [];
  let probe: NestedArray = values;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0] as NestedArray;
  }
  if (options.shape) {
    throw new Error('tensor: `shape` is only for typed-array input; nested arrays carry their own shape');
  }
  const data = allocate(dtype, sizeOf(shape));
  let k = 0;
  const fill = (v: NestedArray, dim: number, path: number[]): void => {
    if (dim === shape.length) {
      if (typeof v !== 'number') throw new Error(`tensor: expected a number at [${path.join(',')}], got ${typeof v}`);
      if (dtype === 'int32') checkInt32('tensor', v);
      data[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new Error(`tensor: ragged nested array at [${path.join(',')}]: expected length ${shape[dim]}`);
    }
    for (let i = 0; i < v.length; i++) fill(v[i], dim + 1, [...path, i]);
  };
  fill(values, 0, []);
  return new Tensor(data, shape, options.requiresGrad);
}

/** A tensor of `shape` filled with `value`, as `torch.full` (float32 unless `dtype` says otherwise). */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = checkDType('full', options.dtype);
  if (dtype === 'int32') checkInt32('full', value);
  const data = allocate(dtype, sizeOf(shape));
  data.fill(value);
  return new Tensor(data, shape, options.requiresGrad);
}

/** A tensor of `shape` filled with 0, as `torch.zeros`; `[]` gives a 0-d tensor. */
export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 0, options);
}

/** A tensor of `shape` filled with 1, as `torch.ones`. */
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** Zeros with `t`'s shape and dtype (unless `options.dtype` overrides it), as `torch.zeros_like`. */
export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, ...options });
}

/** Ones with `t`'s shape and dtype (unless `options.dtype` overrides it), as `torch.ones_like`. */
export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, ...options });
}

/** Values start, start+step, … below end (PyTorch's `arange`); int32 when all arguments are integers. */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: step must be a non-zero finite number, got ${step}`);
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new Error(`arange: start and end must be finite numbers, got ${start} and ${end}`);
  if ((end - start) * step < 0) throw new Error(`arange: the range ${start} to ${end} runs against the step ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = options.dtype ?? (allInt ? 'int32' : 'float32');
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n], options.requiresGrad);
}

/** The dtype of a floating-point random tensor: float32 by default; int32 refused, as torch. */
function floatDType(op: string, dtype: DType | undefined): DType {
  const d = checkDType(op, dtype);
  if (d === 'int32') throw new Error(`${op}: dtype int32 is not supported (floating-point only); use randint for integers`);
  return d;
}

/** Uniform in [0, 1). */
export function rand(shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('rand', shape);
  const gen = options.generator ?? defaultGenerator;
  const data = allocate(floatDType('rand', options.dtype), sizeOf(shape));
  // A float32 store may round a draw just below 1 up to 1: draw again, so [0, 1) holds.
  for (let i = 0; i < data.length; i++) {
    data[i] = gen.random();
    while (data[i] === 1) data[i] = gen.random();
  }
  return new Tensor(data, shape, options.requiresGrad);
}

/** Standard normal. */
export function randn(shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('randn', shape);
  const gen = options.generator ?? defaultGenerator;
  const data = allocate(floatDType('randn', options.dtype), sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = gen.normal();
  return new Tensor(data, shape, options.requiresGrad);
}

/** Integers uniform in [low, high); int32 by default. */
export function randint(low: number, high: number, shape: Shape, options: RandomOptions = {}): Tensor {
  checkShape('randint', shape);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: need integers low < high, got ${low} and ${high}`);
  }
  const gen = options.generator ?? defaultGenerator;
  const data = allocate(options.dtype ?? 'int32', sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = gen.randint(low, high);
  return new Tensor(data, shape, options.requiresGrad);
}
