// Indexing: select, narrow, indexSelect, integer-tensor indexing (`index`), boolean masks
// (`maskedSelect`, `maskedIndex`) and oneHot. Masks are the comparisons' int32 0/1 tensors
// (see compare.ts); index tensors are int32, negative entries count from the end where PyTorch
// allows it (select, narrow, index) and are refused where it does not (indexSelect).

import { broadcastShapes, broadcastStrides, fmt, sizeOf, stridesOf } from '../../kernels/shape.js';
import { Tensor } from '../tensor.js';
import { checkMask } from './compare.js';
import { dimOf } from './helpers.js';
import { indexMapOp, mapByDim } from './index_map.js';
import { reshape, slice } from './movement.js';

function checkIndexTensor(op: string, index: unknown): asserts index is Tensor {
  if (!(index instanceof Tensor)) throw new Error(`${op}: index must be an int32 Tensor, got ${typeof index}`);
  if (index.dtype !== 'int32') throw new Error(`${op}: index must be int32, got ${index.dtype} ${fmt(index.shape)}`);
}

/** x[..., i, ...] at position `index` of `dim`: that dim is removed (composed from slice + reshape). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  if (x.ndim === 0) throw new Error('select: cannot select from a 0-d tensor');
  const d = dimOf('select', dim, x.shape);
  const n = x.shape[d];
  if (!Number.isInteger(index) || index < -n || index >= n) {
    throw new Error(`select: index ${index} is out of range for dim ${dim} of size ${n} in shape ${fmt(x.shape)}`);
  }
  const i = index < 0 ? index + n : index;
  return reshape(slice(x, d, i, i + 1), [...x.shape.slice(0, d), ...x.shape.slice(d + 1)]);
}

/** `length` elements of `dim` from `start` (negative counts from the end), as torch.narrow. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  if (x.ndim === 0) throw new Error('narrow: cannot narrow a 0-d tensor');
  const d = dimOf('narrow', dim, x.shape);
  const n = x.shape[d];
  if (!Number.isInteger(start) || start < -n || start > n) {
    throw new Error(`narrow: start ${start} is out of range for dim ${dim} of size ${n} in shape ${fmt(x.shape)}`);
  }
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(length) || length < 0 || s + length > n) {
    throw new Error(`narrow: start ${start} + length ${length} exceeds dim ${dim} of size ${n} in shape ${fmt(x.shape)}`);
  }
  return slice(x, d, s, s + length);
}

const indexSelectOp = indexMapOp('indexSelect');

/** Entries `index` (1-D or 0-d int32, each in [0, size)) of `dim`; that dim becomes index.numel() long. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndexTensor('indexSelect', index);
  if (index.ndim > 1) throw new Error(`indexSelect: index must be 1-D or 0-d, got ${fmt(index.shape)}`);
  const inShape = x.ndim === 0 ? [1] : x.shape;
  const d = dimOf('indexSelect', dim, x.shape);
  const n = inShape[d];
  for (const v of index.data) {
    if (v < 0 || v >= n) {
      throw new Error(`indexSelect: index ${v} is out of range for dim ${dim} of size ${n} in shape ${fmt(x.shape)}`);
    }
  }
  // A 0-d input gives a 0-d result, as PyTorch 1.13 does (whatever the index's length).
  if (x.ndim === 0) return indexSelectOp(x, new Int32Array(1), [], 0);
  const outShape = inShape.slice();
  outShape[d] = index.size;
  const map = mapByDim(inShape, outShape, (k, i) => (k === d ? index.data[i] : i));
  return indexSelectOp(x, map, outShape, 0);
}

const indexOp = indexMapOp('index');

/**
 * Integer-tensor indexing of the leading dims, as x[i0, i1, ...] in PyTorch: the int32 index
 * tensors broadcast together to a shape B, and the result is B + x.shape[k:] for k indices.
 * Negative indices count from the end. (Slices between index tensors are not supported; use
 * `slice`/`select` first, or `maskedIndex` for a boolean mask.)
 */
export function index(x: Tensor, indices: Tensor | readonly Tensor[]): Tensor {
  const list = indices instanceof Tensor ? [indices] : indices;
  if (!Array.isArray(list) || list.length === 0) throw new Error('index: expected an int32 Tensor or a non-empty array of them');
  list.forEach((t) => checkIndexTensor('index', t));
  if (list.length > x.ndim) {
    throw new Error(`index: too many indices (${list.length}) for a tensor of shape ${fmt(x.shape)}`);
  }
  let b: number[] = [];
  for (const t of list) b = broadcastShapes('index', b, t.shape);
  const k = list.length;
  const rest = x.shape.slice(k);
  const restSize = sizeOf(rest);
  const inStrides = stridesOf(x.shape);
  const count = sizeOf(b);
  const idxStrides = list.map((t) => broadcastStrides(t.shape, b));
  // Flat input offset of each broadcast index position.
  const base = new Int32Array(count);
  const pos = new Array<number>(b.length).fill(0);
  for (let p = 0; p < count; p++) {
    let off = 0;
    for (let j = 0; j < k; j++) {
      let at = 0;
      for (let d = 0; d < b.length; d++) at += pos[d] * idxStrides[j][d];
      const n = x.shape[j];
      let v = list[j].data[at];
      if (v < -n || v >= n) throw new Error(`index: index ${v} is out of bounds for dim ${j} of size ${n} in shape ${fmt(x.shape)}`);
      if (v < 0) v += n;
      off += v * inStrides[j];
    }
    base[p] = off;
    for (let d = b.length - 1; d >= 0; d--) {
      if (++pos[d] < b[d]) break;
      pos[d] = 0;
    }
  }
  const map = new Int32Array(count * restSize);
  for (let p = 0; p < count; p++) for (let r = 0; r < restSize; r++) map[p * restSize + r] = base[p] + r;
  return indexOp(x, map, [...b, ...rest], 0);
}

const maskedSelectOp = indexMapOp('maskedSelect');

/** The elements of x where mask (int32 0/1, broadcast with x) is true, as a 1-D tensor in row-major order. */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  checkMask('maskedSelect', mask);
  const shape = broadcastShapes('maskedSelect', x.shape, mask.shape);
  const xStr = broadcastStrides(x.shape, shape);
  const mStr = broadcastStrides(mask.shape, shape);
  const n = sizeOf(shape);
  const picked: number[] = [];
  const pos = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < n; o++) {
    let xi = 0;
    let mi = 0;
    for (let d = 0; d < shape.length; d++) {
      xi += pos[d] * xStr[d];
      mi += pos[d] * mStr[d];
    }
    if (mask.data[mi] !== 0) picked.push(xi);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++pos[d] < shape[d]) break;
      pos[d] = 0;
    }
  }
  return maskedSelectOp(x, Int32Array.from(picked), [picked.length], 0);
}

const maskedIndexOp = indexMapOp('maskedIndex');

/**
 * x[mask] for a bool-like (int32 0/1) mask whose shape equals x's leading dims: the selected
 * sub-tensors, stacked along a new first dim ([count, ...x.shape[mask.ndim:]]).
 */
export function maskedIndex(x: Tensor, mask: Tensor): Tensor {
  checkMask('maskedIndex', mask);
  const m = mask.ndim;
  if (m > x.ndim || mask.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(`maskedIndex: mask ${fmt(mask.shape)} must match the leading dims of the input ${fmt(x.shape)}`);
  }
  const rest = x.shape.slice(m);
  const restSize = sizeOf(rest);
  const rows: number[] = [];
  for (let i = 0; i < mask.size; i++) if (mask.data[i] !== 0) rows.push(i);
  const map = new Int32Array(rows.length * restSize);
  rows.forEach((r, j) => {
    for (let k = 0; k < restSize; k++) map[j * restSize + k] = r * restSize + k;
  });
  return maskedIndexOp(x, map, [rows.length, ...rest], 0);
}

/** One-hot encoding of int32 class indices: int32 [...t.shape, numClasses]; numClasses defaults to max + 1. */
export function oneHot(t: Tensor, numClasses = -1): Tensor {
  if (!(t instanceof Tensor) || t.dtype !== 'int32') {
    throw new Error(`oneHot: input must be an int32 tensor of class indices, got ${t instanceof Tensor ? t.dtype : typeof t}`);
  }
  let c = numClasses;
  if (c === -1) {
    if (t.size === 0) throw new Error('oneHot: cannot infer the number of classes from an empty tensor; pass numClasses');
    c = 0;
    for (const v of t.data) c = Math.max(c, v + 1);
  } else if (!Number.isInteger(c) || c < 0) {
    throw new Error(`oneHot: numClasses must be a non-negative integer or -1, got ${numClasses}`);
  }
  const out = new Int32Array(t.size * c);
  for (let i = 0; i < t.size; i++) {
    const v = t.data[i];
    if (v < 0) throw new Error(`oneHot: class values must be non-negative, got ${v}`);
    if (v >= c) throw new Error(`oneHot: class value ${v} must be smaller than numClasses ${c}`);
    out[i * c + v] = 1;
  }
  return new Tensor(out, [...t.shape, c]);
}
