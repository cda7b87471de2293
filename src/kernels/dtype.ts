// Element types and their storage. The kernels layer works on these typed arrays only.

import { kernelArena } from './memory/arena.js';

/**
 * The element types: float32 (the default, as PyTorch's), float64 (e.g. for `gradcheck`) and
 * int32 (indices, class labels, and the 0/1 results of comparisons; there is no bool dtype).
 */
export type DType = 'float32' | 'float64' | 'int32';
/** A tensor's storage: the typed array matching its dtype. */
export type TypedArray = Float32Array | Float64Array | Int32Array;
/** Storage of a float tensor (float32 or float64). */
export type FloatArray = Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

export function isDType(x: unknown): x is DType {
  return x === 'float32' || x === 'float64' || x === 'int32';
}

export function allocate(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return kernelArena()?.float32(size) ?? new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
  }
}

/**
 * Like `allocate`, with contents left undefined (as torch.empty): for outputs a kernel
 * overwrites in full. A recycled float32 arena block then skips its zero-fill (~14 ms of a
 * ResNet-18 step when every output was zeroed first).
 */
export function allocateUninit(dtype: DType, size: number): TypedArray {
  if (dtype === 'float32') return kernelArena()?.float32(size, false) ?? new Float32Array(size);
  return allocate(dtype, size);
}

export function dtypeOf(array: TypedArray): DType {
  if (array instanceof Float32Array) return 'float32';
  if (array instanceof Float64Array) return 'float64';
  return 'int32';
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}

/**
 * Type promotion for binary ops, as in PyTorch: int32 < float32 < float64.
 * A float64 operand makes the result float64; an int32 tensor with a float32 one gives float32.
 */
export function promote(a: DType, b: DType): DType {
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

/** Copies `src` into a new array of `dtype` (float→int32 truncates toward zero, like PyTorch). */
export function castArray(src: TypedArray, dtype: DType): TypedArray {
  const out = allocateUninit(dtype, src.length); // not slice(): a float32 copy gets arena storage
  if (dtypeOf(src) === dtype) {
    out.set(src);
    return out;
  }
  if (dtype === 'int32') for (let i = 0; i < src.length; i++) out[i] = Math.trunc(src[i]);
  else out.set(src);
  return out;
}
