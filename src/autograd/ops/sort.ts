// sort and topk along a dim. The order is computed on raw data (stable: equal values keep
// their original order, in both directions; NaN sorts above every number, as in PyTorch);
// the values are then `gather(x, dim, indices)`, so their gradient is gather's.

import { fmt, sizeOf } from '../../kernels/shape.js';
import { Tensor } from '../tensor.js';
import { dimOf } from './helpers.js';
import { gather } from './softmax.js';

/** What `sort` and `topk` return, as PyTorch's (values, indices) named tuple. */
export interface SortResult {
  /** The sorted (or top-k) values, differentiable (a gather of the input). */
  values: Tensor;
  /** int32 positions along `dim` in the input. */
  indices: Tensor;
}

/** Options of `sort`. */
export interface SortOptions {
  /** Largest first; default false. */
  descending?: boolean;
  /** Accepted for PyTorch-shaped code: skipgrad's sort is always stable. */
  stable?: boolean;
}

/** Options of `topk`. */
export interface TopkOptions {
  /** The k largest (default) or the k smallest. */
  largest?: boolean;
  /** Return them in order (default true); skipgrad always does. */
  sorted?: boolean;
}

/** Ascending with NaN last (NaN counts as the largest value). */
function ascending(a: number, b: number): number {
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The int32 indices that order each line of x along `axis`, keeping the first `k` of each. */
function order(x: Tensor, axis: number, descending: boolean, k: number): Tensor {
  const shape = x.ndim === 0 ? [1] : x.shape;
  const outer = sizeOf(shape.slice(0, axis));
  const len = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const out = new Int32Array(outer * k * inner);
  const idx = Array.from({ length: len }, (_, i) => i);
  const line = new Float64Array(len);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      for (let j = 0; j < len; j++) {
        line[j] = x.data[base + j * inner];
        idx[j] = j;
      }
      // Array.prototype.sort is stable, so ties stay in index order.
      idx.sort(descending ? (a, b) => ascending(line[b], line[a]) : (a, b) => ascending(line[a], line[b]));
      for (let j = 0; j < k; j++) out[(o * k + j) * inner + i] = idx[j];
    }
  }
  const outShape = x.ndim === 0 ? [] : x.shape.slice();
  if (x.ndim > 0) outShape[axis] = k;
  return new Tensor(out, outShape);
}

/** Sorts along `dim` (default -1): {values, indices}; stable; NaN sorts as the largest value. */
export function sort(x: Tensor, dim = -1, options: SortOptions = {}): SortResult {
  const axis = dimOf('sort', dim, x.shape);
  const len = x.ndim === 0 ? 1 : x.shape[axis];
  const indices = order(x, axis, options.descending ?? false, len);
  return { values: gather(x, axis, indices), indices };
}

/** The k largest (or smallest) entries along `dim` (default -1), in order: {values, indices}. */
export function topk(x: Tensor, k: number, dim = -1, options: TopkOptions = {}): SortResult {
  const axis = dimOf('topk', dim, x.shape);
  const len = x.ndim === 0 ? 1 : x.shape[axis];
  if (!Number.isInteger(k) || k < 0 || k > len) {
    throw new Error(`topk: k ${k} is out of range for dim ${dim} of size ${len} in shape ${fmt(x.shape)}`);
  }
  const indices = order(x, axis, options.largest ?? true, k);
  return { values: gather(x, axis, indices), indices };
}
