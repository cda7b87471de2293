// flip, repeat, tril/triu, split and chunk. flip is an indexMapOp; the others are composed from
// ops that carry their own gradients (reshape/expand, where, slice).

import { allocate } from '../../kernels/dtype.js';
import { fmt } from '../../kernels/shape.js';
import { Tensor } from '../tensor.js';
import { where } from './arithmetic.js';
import { dimOf } from './helpers.js';
import { indexMapOp, mapByDim } from './index_map.js';
import { expand, reshape, slice } from './movement.js';

const flipOp = indexMapOp('flip');

/** Reverses the order of elements along each of `dims`. */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const list = typeof dims === 'number' ? [dims] : dims;
  const norm = list.map((d) => dimOf('flip', d, x.shape));
  if (new Set(norm).size !== norm.length) throw new Error(`flip: repeated dim in [${list.join(',')}]`);
  const flipped = new Set(x.ndim === 0 ? [] : norm);
  const map = mapByDim(x.shape, x.shape, (d, i) => (flipped.has(d) ? x.shape[d] - 1 - i : i));
  return flipOp(x, map, x.shape, 0);
}

/**
 * Tiles x `repeats[d]` times along each dim, as torch.Tensor.repeat (repeats may have more dims
 * than x: x is then viewed with leading 1s). Composed: view as [1, s0, 1, s1, ...], expand to
 * [r0, s0, r1, s1, ...], reshape to [r0*s0, r1*s1, ...].
 */
export function repeat(x: Tensor, repeats: readonly number[]): Tensor {
  if (repeats.length < x.ndim) {
    throw new Error(`repeat: ${repeats.length} repeats for a tensor of shape ${fmt(x.shape)}: give at least one per dim`);
  }
  if (repeats.some((r) => !Number.isInteger(r) || r < 0)) throw new Error(`repeat: repeats [${repeats.join(',')}] must be non-negative integers`);
  const shape = [...new Array<number>(repeats.length - x.ndim).fill(1), ...x.shape];
  const split = shape.flatMap((s) => [1, s]);
  const big = shape.flatMap((s, i) => [repeats[i], s]);
  return reshape(expand(reshape(x, split), big), shape.map((s, i) => s * repeats[i]));
}

function triangle(op: 'tril' | 'triu', x: Tensor, diagonal: number): Tensor {
  if (x.ndim < 2) throw new Error(`${op}: input must have at least 2 dims, got ${fmt(x.shape)}`);
  if (!Number.isInteger(diagonal)) throw new Error(`${op}: diagonal must be an integer, got ${diagonal}`);
  const [r, c] = x.shape.slice(-2);
  const mask = new Int32Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) mask[i * c + j] = (op === 'tril' ? j - i <= diagonal : j - i >= diagonal) ? 1 : 0;
  }
  // where, not a multiply: a NaN or Inf above the diagonal must still give 0.
  return where(new Tensor(mask, [r, c]), x, new Tensor(allocate(x.dtype, 1), []));
}

/** The lower triangle of the last two dims (j - i <= diagonal), zeros elsewhere. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle('tril', x, diagonal);
}

/** The upper triangle of the last two dims (j - i >= diagonal), zeros elsewhere. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle('triu', x, diagonal);
}

/**
 * Splits along `dim` into pieces of `splitSize` (the last may be smaller) or of the listed
 * sizes (which must add up to the dim's size), as torch.split. Returns an array of tensors.
 */
export function split(x: Tensor, splitSize: number | readonly number[], dim = 0): Tensor[] {
  if (x.ndim === 0) throw new Error('split: cannot split a 0-d tensor');
  const d = dimOf('split', dim, x.shape);
  const n = x.shape[d];
  let sizes: number[];
  if (typeof splitSize === 'number') {
    if (!Number.isInteger(splitSize) || splitSize < 0 || (splitSize === 0 && n > 0)) {
      throw new Error(`split: splitSize must be a positive integer, got ${splitSize} for dim ${dim} of size ${n}`);
    }
    sizes = [];
    for (let at = 0; at < n || sizes.length === 0; at += splitSize) sizes.push(Math.min(splitSize, n - at));
  } else {
    sizes = splitSize.slice();
    const total = sizes.reduce((a, b) => a + b, 0);
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== n) {
      throw new Error(`split: sizes [${sizes.join(',')}] must be non-negative integers adding up to ${n} (dim ${dim} of ${fmt(x.shape)})`);
    }
  }
  let at = 0;
  return sizes.map((s) => {
    const part = slice(x, d, at, at + s);
    at += s;
    return part;
  });
}

/** Splits along `dim` into `chunks` pieces of ceil(size / chunks) (fewer if that covers the dim), as torch.chunk. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks < 1) throw new Error(`chunk: chunks must be a positive integer, got ${chunks}`);
  if (x.ndim === 0) throw new Error('chunk: cannot chunk a 0-d tensor');
  const d = dimOf('chunk', dim, x.shape);
  const n = x.shape[d];
  if (n === 0) return Array.from({ length: chunks }, () => slice(x, d, 0, 0)); // PyTorch gives `chunks` empty pieces
  return split(x, Math.max(1, Math.ceil(n / chunks)), dim);
}
