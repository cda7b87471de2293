// Comparisons, NaN/Inf tests, any/all, maximum/minimum and maskedFill.
//
// Bool-like results: skipgrad has no bool dtype, so eq/ne/gt/ge/lt/le, isnan/isinf/isfinite and
// any/all return int32 tensors holding 0 and 1 (PyTorch returns bool). Such a tensor is what
// `where`, `maskedFill`, `maskedSelect` and `maskedIndex` take as a mask, and `.sum()` of it
// counts (an int32 sum). These results take no gradient, so they are plain functions rather
// than defineOp calls (a defineOp output of a grad-requiring input would itself require grad).

import { allocate, allocateUninit, castArray, promote } from '../../kernels/dtype.js';
import { mapTernary } from '../../kernels/elementwise.js';
import { broadcastShapes, fmt, shapeEq, sizeOf } from '../../kernels/shape.js';
import { sumAxes } from '../../kernels/reduce.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { where } from './arithmetic.js';
import { asTensor, binaryRaw, checkOperand, unaryRaw, type TensorLike } from './helpers.js';
import { normDims, reducedShape, type Dims, type ReduceOptions } from './reduce.js';

type Cmp = (a: number, b: number) => boolean;

function compare(op: string, a: TensorLike, b: TensorLike, cmp: Cmp): Tensor {
  const ta = asTensor(a, b, op);
  const tb = asTensor(b, a, op);
  return binaryRaw(op, ta, tb, (x, y) => (cmp(x, y) ? 1 : 0), 'int32');
}

/** a == b elementwise (broadcasting); int32 0/1. NaN equals nothing, as in PyTorch. */
export const eq = (a: TensorLike, b: TensorLike): Tensor => compare('eq', a, b, (x, y) => x === y);
/** a != b elementwise; int32 0/1 (NaN != NaN is 1). */
export const ne = (a: TensorLike, b: TensorLike): Tensor => compare('ne', a, b, (x, y) => x !== y);
/** a > b elementwise (broadcasting); int32 0/1. Any comparison with NaN is 0. */
export const gt = (a: TensorLike, b: TensorLike): Tensor => compare('gt', a, b, (x, y) => x > y);
/** a >= b elementwise (broadcasting); int32 0/1. */
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare('ge', a, b, (x, y) => x >= y);
/** a < b elementwise (broadcasting); int32 0/1. */
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare('lt', a, b, (x, y) => x < y);
/** a <= b elementwise (broadcasting); int32 0/1. */
export const le = (a: TensorLike, b: TensorLike): Tensor => compare('le', a, b, (x, y) => x <= y);

function checkTensor(op: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${describe(x)}`);
}

function describe(x: unknown): string {
  return Array.isArray(x) ? 'an array' : x === null ? 'null' : typeof x;
}

/** 1 where x is NaN; int32. */
export function isnan(x: Tensor): Tensor {
  checkTensor('isnan', x);
  return unaryRaw(x, (v) => (v !== v ? 1 : 0), 'int32');
}
/** 1 where x is +Inf or -Inf; int32. */
export function isinf(x: Tensor): Tensor {
  checkTensor('isinf', x);
  return unaryRaw(x, (v) => (v === Infinity || v === -Infinity ? 1 : 0), 'int32');
}
/** 1 where x is neither NaN nor ±Inf; int32. */
export function isfinite(x: Tensor): Tensor {
  checkTensor('isfinite', x);
  return unaryRaw(x, (v) => (Number.isFinite(v) ? 1 : 0), 'int32');
}

/** Counts nonzero entries (NaN is nonzero) over `axes`, as sumAxes does over values. */
function countNonzero(x: Tensor, axes: number[]): Int32Array {
  const flags = new Int32Array(x.size);
  for (let i = 0; i < x.size; i++) flags[i] = x.data[i] !== 0 ? 1 : 0;
  return sumAxes(flags, x.shape, axes) as Int32Array;
}

/** 1 where any element over `dim` (all when omitted) is nonzero; int32 0/1. any of nothing is 0. */
export function any(x: Tensor, dim?: Dims, options: ReduceOptions = {}): Tensor {
  checkTensor('any', x);
  const axes = normDims('any', dim, x.shape);
  const counts = countNonzero(x, axes);
  for (let i = 0; i < counts.length; i++) counts[i] = counts[i] > 0 ? 1 : 0;
  return new Tensor(counts, reducedShape(x.shape, axes, options.keepdim ?? false));
}

/** 1 where every element over `dim` (all when omitted) is nonzero; int32 0/1. all of nothing is 1. */
export function all(x: Tensor, dim?: Dims, options: ReduceOptions = {}): Tensor {
  checkTensor('all', x);
  const axes = normDims('all', dim, x.shape);
  const n = sizeOf(axes.map((a) => x.shape[a]));
  const counts = countNonzero(x, axes);
  for (let i = 0; i < counts.length; i++) counts[i] = counts[i] === n ? 1 : 0;
  return new Tensor(counts, reducedShape(x.shape, axes, options.keepdim ?? false));
}

// maximum / minimum: NaN propagates; at a tie each side gets half the gradient and where either
// side is NaN both get all of it; the side that lost gets +0 even for a NaN or Inf g (PyTorch
// 1.13's derivatives.yaml: a masked_fill, not a product).
const extremumOp = (name: 'maximum' | 'minimum') => {
  const pick = name === 'maximum' ? Math.max : Math.min;
  // Share of the gradient that goes to `self` given (self, other).
  const share = name === 'maximum'
    ? (s: number, o: number) => (s > o ? 1 : s === o ? 0.5 : s < o ? 0 : 1)
    : (s: number, o: number) => (s < o ? 1 : s === o ? 0.5 : s > o ? 0 : 1);
  return defineOp({
    name,
    forward(ctx, a: Tensor, b: Tensor) {
      ctx.saveForBackward(a, b);
      return binaryRaw(name, a, b, (x, y) => pick(x, y), promote(a.dtype, b.dtype));
    },
    backward(ctx, g) {
      const [a, b] = ctx.savedTensors;
      const grad = (self: Tensor, other: Tensor): Tensor => {
        const out = allocateUninit(g.dtype, g.size);
        mapTernary(g.data, g.shape, self.data, self.shape, other.data, other.shape, out, g.shape,
          (gv, s, o) => {
            const k = share(s, o);
            return k === 0 ? 0 : gv * k;
          });
        return new Tensor(out, g.shape);
      };
      return [ctx.needsInputGrad[0] ? grad(a, b) : null, ctx.needsInputGrad[1] ? grad(b, a) : null];
    },
  });
};
const maximumOp = extremumOp('maximum');
const minimumOp = extremumOp('minimum');

/** Elementwise max of two tensors (or a tensor and a number), broadcasting; NaN propagates. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return maximumOp(asTensor(a, b, 'maximum'), asTensor(b, a, 'maximum'));
}
/** Elementwise min, broadcasting; NaN propagates. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return minimumOp(asTensor(a, b, 'minimum'), asTensor(b, a, 'minimum'));
}

/** Checks a bool-like mask: int32 (the comparisons' 0/1 result); nonzero means true. */
export function checkMask(op: string, mask: unknown): asserts mask is Tensor {
  checkTensor(op, mask);
  if (mask.dtype !== 'int32') {
    throw new Error(`${op}: mask must be a bool-like int32 tensor (as eq/gt/... return), got ${mask.dtype} ${fmt(mask.shape)}`);
  }
}

/**
 * x with `value` where mask is true (mask broadcasts to x's shape); composed from `where`, so the
 * gradient flows to x where the mask is false, and to a tensor `value` (0-d) where it is true.
 */
export function maskedFill(x: Tensor, mask: Tensor, value: TensorLike): Tensor {
  checkTensor('maskedFill', x);
  checkMask('maskedFill', mask);
  checkOperand('maskedFill', value);
  const shape = broadcastShapes('maskedFill', x.shape, mask.shape);
  if (!shapeEq(shape, x.shape)) {
    throw new Error(`maskedFill: mask ${fmt(mask.shape)} must broadcast to the input's shape ${fmt(x.shape)}`);
  }
  let v: Tensor;
  if (value instanceof Tensor) {
    if (value.ndim !== 0) throw new Error(`maskedFill: value must be a number or a 0-d tensor, got shape ${fmt(value.shape)}`);
    v = value;
    // The result keeps x's dtype, as in PyTorch: a constant value is cast; a differentiable one must match.
    if (value.dtype !== x.dtype) {
      if (value.requiresGrad) {
        throw new Error(`maskedFill: a value that requires grad must have the input's dtype ${x.dtype}, got ${value.dtype}`);
      }
      v = new Tensor(castArray(value.data, x.dtype), []);
    }
  } else {
    // The value is cast to x's dtype (truncated for int32), as PyTorch does.
    const data = allocate(x.dtype, 1);
    data[0] = x.dtype === 'int32' ? Math.trunc(value) : value;
    v = new Tensor(data, []);
  }
  return where(mask, v, x);
}
