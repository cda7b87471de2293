// Reductions over one set of axes. A tensor is viewed as [outer, reduced, inner] per reduced axis.

import { allocate, dtypeOf, type TypedArray } from './dtype.js';
import type { Shape } from './shape.js';
import { sizeOf } from './shape.js';

/**
 * Sums `x` (shape `shape`) over `axes` (sorted, unique), giving the shape with those axes set to 1.
 * Reduces one axis at a time; float sums are accumulated in float64 (JS numbers).
 */
export function sumAxes(x: TypedArray, shape: Shape, axes: readonly number[]): TypedArray {
  let cur = x;
  const curShape = shape.slice();
  for (const axis of axes) {
    const outer = sizeOf(curShape.slice(0, axis));
    const len = curShape[axis];
    const inner = sizeOf(curShape.slice(axis + 1));
    const out = allocate(dtypeOf(cur), outer * inner);
    if (inner === 1) {
      for (let o = 0; o < outer; o++) {
        let s = 0;
        const base = o * len;
        for (let k = 0; k < len; k++) s += cur[base + k];
        out[o] = s;
      }
    } else {
      const acc = new Float64Array(inner);
      for (let o = 0; o < outer; o++) {
        acc.fill(0);
        for (let k = 0; k < len; k++) {
          const base = (o * len + k) * inner;
          for (let i = 0; i < inner; i++) acc[i] += cur[base + i];
        }
        out.set(acc, o * inner);
      }
    }
    cur = out;
    curShape[axis] = 1;
  }
  return cur === x ? x.slice() : cur;
}

/**
 * Max (or min) over a single axis; returns the values and the index of the first extremum
 * along the axis (PyTorch picks one; we pick the first, and propagate NaN as the extremum).
 */
export function extremumAxis(
  x: TypedArray,
  shape: Shape,
  axis: number,
  wantMax: boolean,
): { values: TypedArray; indices: Int32Array } {
  const outer = sizeOf(shape.slice(0, axis));
  const len = shape[axis];
  const inner = sizeOf(shape.slice(axis + 1));
  const values = allocate(dtypeOf(x), outer * inner);
  const indices = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let best = x[base];
      let bi = 0;
      for (let k = 1; k < len && best === best; k++) {
        const v = x[base + k * inner];
        if (v !== v || (wantMax ? v > best : v < best)) {
          best = v;
          bi = k;
        }
      }
      values[o * inner + i] = best;
      indices[o * inner + i] = bi;
    }
  }
  return { values, indices };
}
