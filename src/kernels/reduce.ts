// Reductions over one set of axes. A tensor is viewed as [outer, reduced, inner] per reduced axis.
//
// sumAxesReference / extremumAxisReference are the plain loops, the oracle and the reference
// backend's kernels. sumAxes / extremumAxis run the backend in use (backend.ts): the wasm
// backend takes float32 arrays of at least fastEligible elements to WebAssembly SIMD
// (fast/reduce.ts). max/min and sums over an axis with inner > 1 are bit-identical to the
// reference there; a sum over a contiguous axis (inner = 1) adds in another float64 order, so it
// can differ by a float32 ulp (more only under cancellation beyond float64's precision, e.g.
// 1e30 - 1e30 + 1; see reduce_module.ts).

import { allocate, dtypeOf, type TypedArray } from './dtype.js';
import { kernelChains, noKernel, registerKernel } from './backend.js';
import { fastEligible, fastEngine } from './fast/engine.js';
import { extremumAxisWasm, sumAxisWasm } from './fast/reduce.js';
import type { Shape } from './shape.js';
import { sizeOf } from './shape.js';

/** The engine when `x` should take the wasm path (float32, large enough), else null. */
function fastFor(x: TypedArray): ReturnType<typeof fastEngine> {
  if (!(x instanceof Float32Array) || x.length === 0 || !fastEligible(x.length)) return null;
  return fastEngine();
}

/** sumAxesReference's contract. */
export function sumAxes(x: TypedArray, shape: Shape, axes: readonly number[]): TypedArray {
  const chain = kernelChains().sumAxes;
  for (let i = 0; i < chain.length; i++) {
    const r = chain[i](x, shape, axes);
    if (r !== null) return r;
  }
  throw noKernel('sumAxes');
}

/** extremumAxisReference's contract. */
export function extremumAxis(
  x: TypedArray,
  shape: Shape,
  axis: number,
  wantMax: boolean,
): { values: TypedArray; indices: Int32Array } {
  const chain = kernelChains().extremumAxis;
  for (let i = 0; i < chain.length; i++) {
    const r = chain[i](x, shape, axis, wantMax);
    if (r !== null) return r;
  }
  throw noKernel('extremumAxis');
}

/** The wasm backend's sum: one axis at a time, each through wasm while the array is eligible. */
function sumAxesWasm(x: TypedArray, shape: Shape, axes: readonly number[]): TypedArray | null {
  if (!fastFor(x)) return null;
  let cur = x;
  const curShape = shape.slice();
  for (const axis of axes) {
    const eng = fastFor(cur);
    if (eng) {
      const outer = sizeOf(curShape.slice(0, axis));
      cur = sumAxisWasm(eng, cur as Float32Array, outer, curShape[axis], sizeOf(curShape.slice(axis + 1)));
    } else {
      cur = sumAxesReference(cur, curShape, [axis]);
    }
    curShape[axis] = 1;
  }
  return cur === x ? x.slice() : cur;
}

registerKernel('sumAxes', 'wasm', sumAxesWasm);
registerKernel('extremumAxis', 'wasm', (x, shape, axis, wantMax) => {
  const eng = shape[axis] > 0 ? fastFor(x) : null;
  if (!eng) return null;
  return extremumAxisWasm(eng, x as Float32Array, sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1)), wantMax);
});
registerKernel('sumAxes', 'reference', sumAxesReference);
registerKernel('extremumAxis', 'reference', extremumAxisReference);

/**
 * Sums `x` (shape `shape`) over `axes` (sorted, unique), giving the shape with those axes set to 1.
 * Reduces one axis at a time; float sums are accumulated in float64 (JS numbers).
 */
export function sumAxesReference(x: TypedArray, shape: Shape, axes: readonly number[]): TypedArray {
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
export function extremumAxisReference(
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
