// interpolate as PyTorch's F.interpolate for the nearest and (bi/tri)linear modes. Both are
// separable: each output index along a spatial axis reads one or two input indices with fixed
// weights, so the op resamples one axis at a time (the last first, as PyTorch's loops nest) and
// backward applies the transposed maps in reverse. The source indices follow PyTorch's CPU
// kernels exactly, including their float32 arithmetic for float32 inputs (UpSample.h).

import { allocate, allocateUninit, isFloat, type FloatArray } from '../../kernels/dtype.js';
import { fmt, sizeOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';

/** The interpolation modes of {@link interpolate}, as PyTorch's `mode` names. */
export type InterpolateMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'trilinear';

/**
 * Options of {@link interpolate}: `size` or `scaleFactor`, the mode (default 'nearest'), as `torch.nn.functional.interpolate`'s.
 */
export interface InterpolateOptions {
  /** Output spatial size: one number for every spatial dim, or one per dim. */
  size?: number | readonly number[];
  /** Multiplier of each spatial dim (output = floor(input * scale)); exactly one of size / scaleFactor. */
  scaleFactor?: number | readonly number[];
  /** Default 'nearest'. */
  mode?: InterpolateMode;
  /** Linear modes only: map corner pixel centres onto each other (default false). */
  alignCorners?: boolean;
  /** Compute the kernels' scale from the output size instead of passing scaleFactor on. */
  recomputeScaleFactor?: boolean;
  /** Not supported (refused when true). */
  antialias?: boolean;
}

/** One axis: output index o reads i0[o] with weight l0[o] and, for linear modes, i1[o] with l1[o]. */
interface AxisMap {
  inSize: number;
  outSize: number;
  i0: Int32Array;
  i1: Int32Array;
  l0: Float64Array;
  l1: Float64Array;
}

const LINEAR_RANK: Record<string, number> = { linear: 3, bilinear: 4, trilinear: 5 };

/** PyTorch's compute_scales_value: 1/scale when a scale factor is passed on, else in/out. */
function scaleValue(round: (v: number) => number, scale: number | null, inSize: number, outSize: number): number {
  return scale !== null && scale > 0 ? round(1 / scale) : round(inSize / outSize);
}

/**
 * PyTorch 1.13's nearest source indices. Its CPU forward has two kernels: a channels-last one,
 * taken when a 4-D / 5-D input has one channel (a contiguous tensor is then also channels-last
 * contiguous), which special-cases out = in and out = 2 * in and always uses a float32 scale;
 * and a generic one, with the scale in the input's dtype. Both then floor a float32 product.
 * (Its backward always uses the channels-last rule, so for some sizes and more than one channel
 * PyTorch's gradient is not the derivative of its forward; ours is the exact adjoint.)
 */
function nearestAxis(inSize: number, outSize: number, scale: number | null, exact: boolean, dtype: 'float32' | 'float64', channelsLast: boolean): AxisMap {
  const i0 = new Int32Array(outSize);
  const round = channelsLast || dtype === 'float32' ? Math.fround : (v: number) => v;
  const s = scaleValue(round, scale, inSize, outSize);
  for (let o = 0; o < outSize; o++) {
    if (channelsLast && !exact && outSize === inSize) i0[o] = o;
    else if (channelsLast && !exact && outSize === 2 * inSize) i0[o] = o >> 1;
    else i0[o] = Math.min(Math.floor(Math.fround(exact ? s * (o + 0.5) : s * o)), inSize - 1);
  }
  return { inSize, outSize, i0, i1: i0, l0: new Float64Array(outSize).fill(1), l1: new Float64Array(outSize) };
}

function linearAxis(inSize: number, outSize: number, scale: number | null, alignCorners: boolean, round: (v: number) => number): AxisMap {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float64Array(outSize);
  const l1 = new Float64Array(outSize);
  const ratio = alignCorners ? (outSize > 1 ? round((inSize - 1) / (outSize - 1)) : 0) : scaleValue(round, scale, inSize, outSize);
  for (let o = 0; o < outSize; o++) {
    if (outSize === inSize) {
      i0[o] = i1[o] = o;
      l0[o] = 1;
      continue;
    }
    let src = alignCorners ? round(ratio * o) : round(ratio * (o + 0.5) - 0.5);
    if (!alignCorners && src < 0) src = 0;
    const a = Math.trunc(src);
    i0[o] = a;
    i1[o] = a + (a < inSize - 1 ? 1 : 0);
    l1[o] = Math.min(Math.max(round(src - a), 0), 1);
    l0[o] = round(1 - l1[o]);
  }
  return { inSize, outSize, i0, i1, l0, l1 };
}

/**
 * Resamples x viewed as [outer, inSize, inner] along the middle axis into [outer, outSize, inner],
 * in x's dtype (as PyTorch, which also rounds between axes); the last spatial axis (inner = 1)
 * goes element by element, the others row by row.
 */
function resample(x: FloatArray, outer: number, inner: number, m: AxisMap, twoTaps: boolean, out: FloatArray): void {
  const { inSize, outSize, i0, i1, l0, l1 } = m;
  for (let a = 0; a < outer; a++) {
    const src = a * inSize;
    const dstRow = a * outSize;
    if (inner === 1) {
      if (twoTaps) for (let o = 0; o < outSize; o++) out[dstRow + o] = l0[o] * x[src + i0[o]] + l1[o] * x[src + i1[o]];
      else for (let o = 0; o < outSize; o++) out[dstRow + o] = x[src + i0[o]];
      continue;
    }
    for (let o = 0; o < outSize; o++) {
      const dst = (dstRow + o) * inner;
      const s0 = (src + i0[o]) * inner;
      if (!twoTaps) {
        for (let k = 0; k < inner; k++) out[dst + k] = x[s0 + k];
        continue;
      }
      const s1 = (src + i1[o]) * inner;
      const w0 = l0[o];
      const w1 = l1[o];
      for (let k = 0; k < inner; k++) out[dst + k] = w0 * x[s0 + k] + w1 * x[s1 + k];
    }
  }
}

/** The transpose of resample: adds each output gradient onto the input indices it read (gx starts zeroed). */
function resampleBack(g: FloatArray, outer: number, inner: number, m: AxisMap, twoTaps: boolean, gx: FloatArray): void {
  const { inSize, outSize, i0, i1, l0, l1 } = m;
  for (let a = 0; a < outer; a++) {
    const dstRow = a * inSize;
    const srcRow = a * outSize;
    if (inner === 1) {
      if (twoTaps) {
        for (let o = 0; o < outSize; o++) {
          const v = g[srcRow + o];
          gx[dstRow + i0[o]] += l0[o] * v;
          gx[dstRow + i1[o]] += l1[o] * v;
        }
      } else for (let o = 0; o < outSize; o++) gx[dstRow + i0[o]] += g[srcRow + o];
      continue;
    }
    for (let o = 0; o < outSize; o++) {
      const src = (srcRow + o) * inner;
      const d0 = (dstRow + i0[o]) * inner;
      if (!twoTaps) {
        for (let k = 0; k < inner; k++) gx[d0 + k] += g[src + k];
        continue;
      }
      const d1 = (dstRow + i1[o]) * inner;
      const w0 = l0[o];
      const w1 = l1[o];
      for (let k = 0; k < inner; k++) {
        gx[d0 + k] += w0 * g[src + k];
        gx[d1 + k] += w1 * g[src + k];
      }
    }
  }
}

interface Plan {
  maps: AxisMap[];
  twoTaps: boolean;
}

/** Runs resample (or its transpose) over every spatial axis. */
function run(data: FloatArray, shape: readonly number[], plan: Plan, backward: boolean, dtype: 'float32' | 'float64'): FloatArray {
  const dims = shape.slice();
  const sp = plan.maps.length;
  let cur = data;
  for (let step = 0; step < sp; step++) {
    const k = backward ? step : sp - 1 - step;
    const axis = 2 + k;
    const m = plan.maps[k];
    const outer = sizeOf(dims.slice(0, axis));
    const inner = sizeOf(dims.slice(axis + 1));
    dims[axis] = backward ? m.inSize : m.outSize;
    // resample writes every element; resampleBack accumulates into zeros
    const out = (backward ? allocate(dtype, sizeOf(dims)) : allocateUninit(dtype, sizeOf(dims))) as FloatArray;
    if (backward) resampleBack(cur, outer, inner, m, plan.twoTaps, out);
    else resample(cur, outer, inner, m, plan.twoTaps, out);
    cur = out;
  }
  return cur;
}

const interpolateOp = defineOp<[Tensor, Plan], { plan: Plan; inShape: readonly number[] }>({
  name: 'interpolate',
  forward(ctx, x, plan) {
    const shape = [...x.shape.slice(0, 2), ...plan.maps.map((m) => m.outSize)];
    const out = sizeOf(shape) === 0 ? allocate(x.dtype, 0) : run(x.data as FloatArray, x.shape, plan, false, x.dtype as 'float32' | 'float64');
    Object.assign(ctx.state, { plan, inShape: x.shape });
    return new Tensor(out as FloatArray, shape);
  },
  backward(ctx, g) {
    const { plan, inShape } = ctx.state;
    const gx = sizeOf(inShape) === 0 || g.size === 0 ? allocate(g.dtype, sizeOf(inShape)) : run(g.data as FloatArray, g.shape, plan, true, g.dtype as 'float32' | 'float64');
    return [new Tensor(gx as FloatArray, inShape), null];
  },
});

function perDim(op: string, what: string, v: number | readonly number[], n: number): number[] {
  const a = typeof v === 'number' ? Array<number>(n).fill(v) : Array.isArray(v) ? [...v] : null;
  if (!a || a.length !== n || !a.every((d) => typeof d === 'number')) {
    throw new Error(`${op}: ${what} must be a number or an array of ${n} (one per spatial dim), got ${JSON.stringify(v)}`);
  }
  return a;
}

/**
 * F.interpolate on x [N, C, ...spatial] (1 to 3 spatial dims). 'nearest' takes input index
 * floor(o * scale) (scale = 1/scaleFactor when one is given, else in/out), 'nearest-exact'
 * floor((o + 0.5) * scale); 'linear' / 'bilinear' / 'trilinear' (3-D / 4-D / 5-D input) blend the
 * two neighbours at o * scale (alignCorners: scale = (in-1)/(out-1)) or (o + 0.5) * scale - 0.5.
 */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  const op = 'interpolate';
  const mode = options.mode ?? 'nearest';
  if (!isFloat(x.dtype)) throw new Error(`${op}: expected a float input, got ${x.dtype} of shape ${fmt(x.shape)}`);
  if (x.ndim < 3 || x.ndim > 5) throw new Error(`${op}: expected a 3-D, 4-D or 5-D input [N, C, ...spatial], got ${fmt(x.shape)}`);
  const linear = mode in LINEAR_RANK;
  if (!linear && mode !== 'nearest' && mode !== 'nearest-exact') {
    throw new Error(`${op}: mode '${String(mode)}' is not supported (use nearest, nearest-exact, linear, bilinear or trilinear)`);
  }
  if (linear && LINEAR_RANK[mode] !== x.ndim) throw new Error(`${op}: got ${x.ndim}-D input ${fmt(x.shape)}, but ${mode} mode needs ${LINEAR_RANK[mode]}-D input`);
  if (!linear && options.alignCorners !== undefined) {
    throw new Error(`${op}: alignCorners can only be set with the interpolating modes linear | bilinear | trilinear, got mode ${mode}`);
  }
  if (options.antialias) throw new Error(`${op}: antialias is not supported`);
  const { size, scaleFactor } = options;
  if ((size === undefined) === (scaleFactor === undefined)) {
    throw new Error(`${op}: exactly one of size or scaleFactor must be given (input ${fmt(x.shape)})`);
  }
  if (options.recomputeScaleFactor && size !== undefined) throw new Error(`${op}: recomputeScaleFactor is not meaningful with an explicit size`);
  const sp = x.ndim - 2;
  const inSizes = x.shape.slice(2);
  let outSizes: number[];
  let scales: (number | null)[];
  if (size !== undefined) {
    outSizes = perDim(op, 'size', size, sp);
    if (!outSizes.every((d) => Number.isInteger(d))) throw new Error(`${op}: size must be integers, got ${JSON.stringify(size)}`);
    scales = outSizes.map(() => null);
  } else {
    const sf = perDim(op, 'scaleFactor', scaleFactor!, sp);
    if (!sf.every((s) => Number.isFinite(s) && s > 0)) throw new Error(`${op}: scaleFactor must be positive, got ${JSON.stringify(scaleFactor)}`);
    outSizes = inSizes.map((d, i) => Math.floor(d * sf[i]));
    scales = options.recomputeScaleFactor ? outSizes.map(() => null) : sf;
  }
  if (!outSizes.every((d) => d > 0) || !inSizes.every((d) => d > 0)) {
    throw new Error(`${op}: input and output sizes should be greater than 0, got input ${fmt(x.shape)} and output size [${outSizes}]`);
  }
  const round = x.dtype === 'float32' ? Math.fround : (v: number) => v;
  const alignCorners = options.alignCorners ?? false;
  const maps = inSizes.map((d, i) =>
    linear ? linearAxis(d, outSizes[i], scales[i], alignCorners, round) : nearestAxis(d, outSizes[i], scales[i], mode === 'nearest-exact', x.dtype as 'float32' | 'float64', x.ndim >= 4 && x.shape[1] === 1),
  );
  return interpolateOp(x, { maps, twoTaps: linear });
}
