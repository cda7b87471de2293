// Broadcasting arithmetic: add, sub, mul, div, neg, pow, where. Gradients are returned in the
// broadcast output shape; the engine reduces them to each operand's shape in one place.

import { allocate, allocateUninit, promote, type DType } from '../../kernels/dtype.js';
import { arith, mapTernary, type ArithOp } from '../../kernels/elementwise.js';
import { broadcastShapes, fmt, sizeOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { asTensor, binaryRaw, floatDType, unaryRaw, type TensorLike } from './helpers.js';

/** binaryRaw for the four arithmetic ops, through their dispatching kernel (SIMD for float32). */
function arithRaw(op: ArithOp, a: Tensor, b: Tensor, dtype?: DType): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = allocateUninit(dtype ?? promote(a.dtype, b.dtype), sizeOf(shape)); // every element written
  arith(op, a.data, a.shape, b.data, b.shape, out, shape);
  return new Tensor(out, shape);
}

const addOp = defineOp({
  name: 'add',
  forward: (_ctx, a: Tensor, b: Tensor) => arithRaw('add', a, b),
  backward: (ctx, g) => [ctx.needsInputGrad[0] ? g : null, ctx.needsInputGrad[1] ? g : null],
});

const subOp = defineOp({
  name: 'sub',
  forward: (_ctx, a: Tensor, b: Tensor) => arithRaw('sub', a, b),
  backward: (ctx, g) => [ctx.needsInputGrad[0] ? g : null, ctx.needsInputGrad[1] ? neg(g) : null],
});

const mulOp = defineOp({
  name: 'mul',
  forward(ctx, a: Tensor, b: Tensor) {
    ctx.saveForBackward(a, b);
    return arithRaw('mul', a, b);
  },
  backward(ctx, g) {
    const [a, b] = ctx.savedTensors;
    return [ctx.needsInputGrad[0] ? mul(g, b) : null, ctx.needsInputGrad[1] ? mul(g, a) : null];
  },
});

const divOp = defineOp({
  name: 'div',
  forward(ctx, a: Tensor, b: Tensor) {
    ctx.saveForBackward(a, b);
    // True division: int32 / int32 gives float32, as in PyTorch.
    const dtype = a.dtype === 'int32' && b.dtype === 'int32' ? 'float32' : undefined;
    return arithRaw('div', a, b, dtype);
  },
  backward(ctx, g) {
    const [a, b] = ctx.savedTensors;
    const ga = ctx.needsInputGrad[0] ? div(g, b) : null;
    // d(a/b)/db = -a / b^2, as PyTorch forms it: -g·((a/b)/b), since b·b under- or overflows
    // float32 long before a/b/b does (a = 0, b = 1e-30 gives -0, not NaN).
    const gb = ctx.needsInputGrad[1] ? neg(mul(g, div(div(a, b), b))) : null;
    return [ga, gb];
  },
});

const negOp = defineOp({
  name: 'neg',
  forward: (_ctx, a: Tensor) => unaryRaw(a, (x) => -x),
  backward: (_ctx, g) => [neg(g)],
});

/**
 * pow with C's (and PyTorch's) rules where JavaScript's differ: 1 ** y is 1 for every y, NaN
 * included, and (-1) ** ±Infinity is 1 (Math.pow gives NaN for both).
 */
const cPow = (x: number, y: number): number => (x === 1 || (x === -1 && (y === Infinity || y === -Infinity)) ? 1 : Math.pow(x, y));

/**
 * x ** e for a number exponent, as PyTorch's tensor ** scalar: 0.5 and -0.5 are sqrt and rsqrt
 * there (so (-Infinity) ** 0.5 is NaN, (-0) ** 0.5 is -0 and (-0) ** -0.5 is -Infinity).
 */
const scalarPow = (x: number, e: number): number => (e === 0.5 ? Math.sqrt(x) : e === -0.5 ? 1 / Math.sqrt(x) : cPow(x, e));

const powOp = defineOp({
  name: 'pow',
  forward(ctx, a: Tensor, b: Tensor, scalar: boolean) {
    if (a.dtype === 'int32' && b.dtype === 'int32' && b.data.some((e) => e < 0)) {
      // Integer results of negative powers would silently be 0 (or 1/-1): PyTorch refuses too.
      throw new Error(`pow: integers to negative integer powers are not allowed (int32 ${fmt(a.shape)} ** int32 ${fmt(b.shape)})`);
    }
    const f = scalar ? scalarPow : cPow;
    const out = binaryRaw('pow', a, b, f, a.dtype === 'int32' && b.dtype !== 'int32' ? floatDType(b) : undefined);
    ctx.saveForBackward(a, b);
    ctx.state.f = f;
    return out;
  },
  backward(ctx, g) {
    const [a, b] = ctx.savedTensors;
    const f = ctx.state.f as (x: number, y: number) => number;
    // d/da a^b = b * a^(b-1), and +0 where b == 0 even for a NaN or Inf g (PyTorch's where);
    // float32 derivatives are rounded before g multiplies them, as there (an underflow to 0
    // times an Inf g is NaN).
    let ga: Tensor | null = null;
    if (ctx.needsInputGrad[0]) {
      const r = g.dtype === 'float32' ? Math.fround : (v: number) => v;
      const out = allocateUninit(g.dtype, g.size);
      mapTernary(g.data, g.shape, a.data, a.shape, b.data, b.shape, out, g.shape, (gv, x, y) => (y === 0 ? 0 : gv * r(y * r(f(x, y - 1)))));
      ga = new Tensor(out, g.shape);
    }
    // d/db a^b = a^b * ln a, taken as 0 where a == 0 and b >= 0 (PyTorch's convention).
    const gb = ctx.needsInputGrad[1]
      ? mul(g, binaryRaw('pow', a, b, (x, y) => (x === 0 && y >= 0 ? 0 : cPow(x, y) * Math.log(x))))
      : null;
    return [ga, gb, null];
  },
});

const whereOp = defineOp({
  name: 'where',
  forward(ctx, cond: Tensor, a: Tensor, b: Tensor) {
    const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
    const dtype = a.dtype === b.dtype ? a.dtype : floatDType(a.dtype === 'float64' ? a : b);
    const out = allocate(dtype, sizeOf(shape));
    mapTernary(cond.data, cond.shape, a.data, a.shape, b.data, b.shape, out, shape, (c, x, y) => (c !== 0 ? x : y));
    ctx.saveForBackward(cond);
    return new Tensor(out, shape);
  },
  backward(ctx, g) {
    const [cond] = ctx.savedTensors;
    const ga = ctx.needsInputGrad[1] ? binaryRaw('where', cond, g, (c, x) => (c !== 0 ? x : 0), g.dtype) : null;
    const gb = ctx.needsInputGrad[2] ? binaryRaw('where', cond, g, (c, x) => (c !== 0 ? 0 : x), g.dtype) : null;
    return [null, ga, gb];
  },
});

/**
 * Elementwise `a + b` with broadcasting, as `torch.add`. A number operand becomes a 0-d tensor of
 * the other operand's dtype; mixed dtypes promote (int32 < float32 < float64).
 */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return addOp(asTensor(a, b, 'add'), asTensor(b, a, 'add'));
}
/** Elementwise `a - b` with broadcasting, as `torch.sub`. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return subOp(asTensor(a, b, 'sub'), asTensor(b, a, 'sub'));
}
/** Elementwise `a * b` with broadcasting, as `torch.mul`. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return mulOp(asTensor(a, b, 'mul'), asTensor(b, a, 'mul'));
}
/**
 * Elementwise true division `a / b` with broadcasting, as `torch.div`: int32 / int32 gives float32,
 * and x / 0 gives ±Inf or NaN as in IEEE arithmetic.
 */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return divOp(asTensor(a, b, 'div'), asTensor(b, a, 'div'));
}
/** Elementwise `-a`, as `torch.neg`. */
export function neg(a: Tensor): Tensor {
  return negOp(a);
}
/**
 * Elementwise `a ** b` with broadcasting, as `torch.pow`. An int32 base to a negative int32 power
 * is refused (as PyTorch does); the gradient with respect to `b` is taken as 0 where a == 0 and b >= 0.
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return powOp(asTensor(a, b, 'pow'), asTensor(b, a, 'pow'), typeof b === 'number');
}
/** Elementwise `cond ? a : b` (cond nonzero means true); all three broadcast together. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return whereOp(cond, asTensor(a, b, 'where'), asTensor(b, a, 'where'));
}
