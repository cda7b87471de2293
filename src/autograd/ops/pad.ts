// F.pad: constant, reflect, replicate and circular padding, any number of trailing dims, asymmetric.
// `pad` lists (left, right) pairs starting from the LAST dim, as PyTorch's F.pad does:
// [1, 2] pads the last dim by 1 before and 2 after; [1, 2, 3, 4] also pads dim -2 by 3 and 4.
// Padding may be negative (it crops first), except circular (PyTorch's result there is ill-defined). Built on indexMapOp, so the gradient of a
// reflected or replicated border element adds up at its source.

import { fmt } from '../../kernels/shape.js';
import { Tensor } from '../tensor.js';
import { indexMapOp, mapByDim } from './index_map.js';

/**
 * How `pad` fills the border: a constant, the mirror image without the edge ('reflect'), the
 * edge value repeated ('replicate'), or the other end wrapped around ('circular'), as F.pad's modes.
 */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** Options of `pad`. */
export interface PadOptions {
  /** Default 'constant'. */
  mode?: PadMode;
  /** The fill of constant padding; default 0. */
  value?: number;
}

const padOp = indexMapOp('pad');

/**
 * Pads (or, with negative padding, crops) the trailing dims, as `F.pad`: `padding` lists
 * (before, after) pairs starting from the last dim, so [1, 2, 3, 4] pads dim -1 by 1 and 2 and dim
 * -2 by 3 and 4. Reflect padding must be smaller than the dim, circular at most its size; the
 * gradients of reflected, replicated or wrapped border elements add up at their source.
 */
export function pad(x: Tensor, padding: readonly number[], options: PadOptions = {}): Tensor {
  const mode = options.mode ?? 'constant';
  const value = options.value ?? 0;
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'replicate' && mode !== 'circular') {
    throw new Error(`pad: unknown mode '${String(mode)}' (use constant, reflect, replicate or circular)`);
  }
  if (options.value !== undefined && mode !== 'constant') {
    throw new Error(`pad: value only applies to constant padding, not ${mode}`);
  }
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim || padding.some((p) => !Number.isInteger(p))) {
    throw new Error(`pad: padding [${padding.join(',')}] must be integer (left, right) pairs for at most ${x.ndim} dims of ${fmt(x.shape)}`);
  }
  const rank = x.ndim;
  const left = new Array<number>(rank).fill(0);
  const right = new Array<number>(rank).fill(0);
  for (let k = 0; k < padding.length / 2; k++) {
    left[rank - 1 - k] = padding[2 * k];
    right[rank - 1 - k] = padding[2 * k + 1];
  }
  const outShape = x.shape.map((n, d) => n + left[d] + right[d]);
  for (let d = 0; d < rank; d++) {
    const n = x.shape[d];
    const l = left[d];
    const r = right[d];
    if (outShape[d] < 0) {
      throw new Error(`pad: padding (${l}, ${r}) of dim ${d} leaves a negative size for input ${fmt(x.shape)}`);
    }
    if (mode === 'constant' || (l === 0 && r === 0)) continue;
    if (outShape[d] === 0 && n > 0) {
      throw new Error(`pad: ${mode} padding (${l}, ${r}) of dim ${d} leaves nothing of its size ${n} in ${fmt(x.shape)}`);
    }
    if (mode === 'circular' && (l < 0 || r < 0)) throw new Error(`pad: negative padding (${l}, ${r}) is not supported in circular mode`);
    if (mode === 'circular' && (l > n || r > n)) {
      throw new Error(`pad: circular padding (${l}, ${r}) of dim ${d} wraps around more than once: at most its size ${n} in ${fmt(x.shape)}`);
    }
    if (mode === 'reflect' && (l >= n || r >= n)) {
      throw new Error(`pad: reflect padding (${l}, ${r}) of dim ${d} must be less than its size ${n} in ${fmt(x.shape)}`);
    }
    if ((mode === 'replicate' || mode === 'circular') && n === 0) {
      throw new Error(`pad: ${mode} padding of dim ${d} needs a non-empty dim in ${fmt(x.shape)}`);
    }
  }
  const source = (d: number, i: number): number => {
    const n = x.shape[d];
    const j = i - left[d];
    if (j >= 0 && j < n) return j;
    if (mode === 'constant') return -1;
    if (mode === 'replicate') return j < 0 ? 0 : n - 1;
    if (mode === 'circular') return j < 0 ? j + n : j - n;
    return j < 0 ? -j : 2 * (n - 1) - j;
  };
  const map = mapByDim(x.shape, outShape, source);
  const fill = x.dtype === 'int32' ? Math.trunc(value) : value;
  return padOp(x, map, outShape, fill);
}
