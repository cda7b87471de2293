// Small shared pieces for op definitions: scalar promotion and raw binary/unary evaluation.

import { allocate, allocateUninit, isFloat, promote, type DType } from '../../kernels/dtype.js';
import { mapBinary, mapUnary, type BinaryFn, type UnaryFn } from '../../kernels/elementwise.js';
import { broadcastShapes, fmt, sizeOf } from '../../kernels/shape.js';
import { Tensor } from '../tensor.js';

/**
 * An operand of the elementwise ops: a tensor, or a number taken as a 0-d tensor of the other
 * operand's dtype (float32 if that is int32 and the number is not an integer).
 */
export type TensorLike = Tensor | number;

/** A number becomes a 0-d tensor of the other operand's dtype (float32 if that is int32 and the number is not an integer). */
export function asTensor(x: TensorLike, like: TensorLike, op = 'asTensor'): Tensor {
  if (x instanceof Tensor) return x;
  // Without this an array became NaN and a string like '3' was coerced to 3.
  checkOperand(op, x);
  let dtype: DType = like instanceof Tensor ? like.dtype : 'float32';
  if (dtype === 'int32' && !Number.isInteger(x)) dtype = 'float32';
  const data = allocate(dtype, 1);
  data[0] = x;
  return new Tensor(data, []);
}

export function binaryRaw(op: string, a: Tensor, b: Tensor, fn: BinaryFn, dtype?: DType): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = allocateUninit(dtype ?? promote(a.dtype, b.dtype), sizeOf(shape)); // every element written
  mapBinary(a.data, a.shape, b.data, b.shape, out, shape, fn);
  return new Tensor(out, shape);
}

export function unaryRaw(a: Tensor, fn: UnaryFn, dtype?: DType): Tensor {
  const out = allocateUninit(dtype ?? a.dtype, a.size);
  mapUnary(a.data, out, fn);
  return new Tensor(out, a.shape);
}

/** dtype of a float-valued function of `t` (int32 input gives float32, as in PyTorch). */
export function floatDType(t: Tensor): DType {
  return isFloat(t.dtype) ? t.dtype : 'float32';
}

/** Refuses an operand that is neither a Tensor nor a number (PyTorch raises a TypeError too). */
export function checkOperand(op: string, x: unknown): asserts x is TensorLike {
  if (x instanceof Tensor || typeof x === 'number') return;
  const what = Array.isArray(x) ? 'an array (wrap it with tensor())' : x === null ? 'null' : `a ${typeof x}`;
  throw new TypeError(`${op}: operand must be a Tensor or a number, got ${what}`);
}

/**
 * A possibly negative dim of a tensor of `shape`, as a non-negative index; the error names the op
 * and the shape. A 0-d tensor accepts dim 0 and -1 (PyTorch treats it as rank 1 here).
 */
export function dimOf(op: string, dim: number, shape: readonly number[]): number {
  const rank = Math.max(shape.length, 1);
  const d = dim < 0 ? dim + rank : dim;
  if (!Number.isInteger(dim) || d < 0 || d >= rank) {
    throw new Error(`${op}: dim ${dim} is out of range for a tensor of rank ${shape.length} (shape ${fmt(shape)}, dims ${-rank}..${rank - 1})`);
  }
  return d;
}
