// Shape and movement ops. Storage is always contiguous: reshape shares it, the others copy.

import { allocate } from '../../kernels/dtype.js';
import { mapBinary } from '../../kernels/elementwise.js';
import { fmt, normDim, shapeEq, sizeOf, stridesOf, type Shape } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';

function inferShape(op: string, from: Shape, to: Shape): number[] {
  const total = sizeOf(from);
  const out = to.slice();
  const free = out.indexOf(-1);
  if (free !== out.lastIndexOf(-1)) throw new Error(`${op}: only one dimension can be -1, got ${fmt(to)}`);
  if (free >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== free));
    if (known === 0 || total % known !== 0) throw new Error(`${op}: shape ${fmt(to)} is invalid for input of shape ${fmt(from)}`);
    out[free] = total / known;
  }
  if (out.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(out) !== total) {
    throw new Error(`${op}: shape ${fmt(to)} is invalid for input of shape ${fmt(from)} (${total} elements)`);
  }
  return out;
}

const reshapeOp = defineOp({
  name: 'reshape',
  forward(ctx, x: Tensor, shape: Shape) {
    ctx.state.inShape = x.shape;
    return new Tensor(x.data, inferShape('reshape', x.shape, shape));
  },
  backward: (ctx, g) => [reshape(g, ctx.state.inShape), null],
});

/** A view with a new shape (one dim may be -1); shares storage with the input. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  // Always a new tensor, even for the same shape, as torch: a hook or retainGrad on the result
  // must not land on the input.
  return reshapeOp(x, shape);
}

/**
 * Merges dims `startDim..endDim` (inclusive, default 0..-1: all) into one, as `torch.flatten`; a 0-d
 * tensor becomes shape [1]. Shares storage.
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  const s = normDim('flatten', startDim, Math.max(x.ndim, 1)); // a 0-d tensor takes dims 0 / -1 (PyTorch)
  const e = normDim('flatten', endDim, Math.max(x.ndim, 1));
  if (x.ndim === 0) return reshape(x, [1]);
  if (s > e) throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Inserts a size-1 dim at position `dim` (in -(ndim+1)..ndim), as `torch.unsqueeze`. Shares storage. */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim('unsqueeze', dim, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/** Removes size-1 dims (all of them, or just `dim`, which is left alone if its size is not 1). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normDim('squeeze', dim, Math.max(x.ndim, 1)); // a 0-d tensor takes dim 0 / -1 (PyTorch)
  if (x.ndim === 0 || x.shape[d] !== 1) return reshape(x, x.shape); // a new view, as torch
  return reshape(x, [...x.shape.slice(0, d), ...x.shape.slice(d + 1)]);
}

function permuteRaw(x: Tensor, dims: readonly number[]): Tensor {
  const shape = dims.map((d) => x.shape[d]);
  const inStrides = stridesOf(x.shape);
  const srcStrides = dims.map((d) => inStrides[d]);
  const out = allocate(x.dtype, x.size);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = x.data[src];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += srcStrides[d];
      if (idx[d] < shape[d]) break;
      src -= srcStrides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return new Tensor(out, shape);
}

const permuteOp = defineOp({
  name: 'permute',
  forward(ctx, x: Tensor, dims: readonly number[]) {
    ctx.state.dims = dims;
    return permuteRaw(x, dims);
  },
  backward(ctx, g) {
    const dims: number[] = ctx.state.dims;
    const inverse = new Array<number>(dims.length);
    dims.forEach((d, i) => (inverse[d] = i));
    return [permuteRaw(g, inverse), null];
  },
});

/**
 * Reorders the dims: output dim i is input dim `dims[i]` (every dim once, negative allowed), as
 * `torch.permute`. The result is a copy, since storage is always contiguous.
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) throw new Error(`permute: ${fmt(dims)} has ${dims.length} dims, the tensor has ${x.ndim}`);
  const norm = dims.map((d) => normDim('permute', d, x.ndim));
  if (new Set(norm).size !== norm.length) throw new Error(`permute: repeated dim in ${fmt(dims)}`);
  if (norm.every((d, i) => d === i)) return x;
  return permuteOp(x, norm);
}

/**
 * Swaps dims `dim0` and `dim1` (default 0 and 1), as `torch.transpose`; a copy. A 0-d tensor
 * accepts dims 0 and -1 and is returned as is.
 */
export function transpose(x: Tensor, dim0 = 0, dim1 = 1): Tensor {
  const a = normDim('transpose', dim0, Math.max(x.ndim, 1));
  const b = normDim('transpose', dim1, Math.max(x.ndim, 1));
  if (x.ndim === 0) return x; // PyTorch accepts dims 0 / -1 of a 0-d tensor
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

function expandRaw(x: Tensor, shape: Shape): Tensor {
  const out = allocate(x.dtype, sizeOf(shape));
  const zero = allocate(x.dtype, 1);
  mapBinary(x.data, x.shape, zero, [], out, shape, (v) => v);
  return new Tensor(out, shape);
}

const expandOp = defineOp({
  name: 'expand',
  forward: (_ctx, x: Tensor, shape: Shape) => expandRaw(x, shape),
  // The engine sums the gradient back over the broadcast dims.
  backward: (_ctx, g) => [g, null],
});

/** Broadcasts to `shape` (-1 keeps a dim); the result is a copy, since storage is contiguous. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new Error(`expand: cannot expand shape ${fmt(x.shape)} to fewer dims ${fmt(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  if (target.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`expand: invalid shape ${fmt(shape)} for input ${fmt(x.shape)} (-1 only keeps an existing dim)`);
  }
  x.shape.forEach((d, i) => {
    if (d !== 1 && d !== target[lead + i]) {
      throw new Error(`expand: shape ${fmt(x.shape)} cannot be expanded to ${fmt(shape)} (dim ${lead + i}: ${d} vs ${target[lead + i]})`);
    }
  });
  if (shapeEq(target, x.shape)) return x;
  return expandOp(x, target);
}

/** Copies `x` viewed as [outer, len, inner] along `dim` from [start, start+step*count) into `out`. */
function copyAlong(
  src: Tensor, dim: number, start: number, step: number, count: number,
  dst: Tensor, dstStart: number, reverse: boolean,
): void {
  const outer = sizeOf(src.shape.slice(0, dim));
  const inner = sizeOf(src.shape.slice(dim + 1));
  const srcLen = src.shape[dim];
  const dstLen = dst.shape[dim];
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < count; k++) {
      const s = (o * srcLen + start + k * step) * inner;
      const d = (o * dstLen + dstStart + k) * inner;
      if (reverse) for (let i = 0; i < inner; i++) src.data[s + i] += dst.data[d + i];
      else dst.data.set(src.data.subarray(s, s + inner), d);
    }
  }
}

const sliceOp = defineOp({
  name: 'slice',
  forward(ctx, x: Tensor, dim: number, start: number, end: number, step: number) {
    const count = Math.max(0, Math.ceil((end - start) / step));
    const shape = x.shape.slice();
    shape[dim] = count;
    const out = new Tensor(allocate(x.dtype, sizeOf(shape)), shape);
    copyAlong(x, dim, start, step, count, out, 0, false);
    Object.assign(ctx.state, { inShape: x.shape, dim, start, step, count });
    return out;
  },
  backward(ctx, g) {
    const { inShape, dim, start, step, count } = ctx.state;
    const gx = new Tensor(allocate(g.dtype, sizeOf(inShape)), inShape);
    copyAlong(gx, dim, start, step, count, g, 0, true);
    return [gx, null, null, null, null];
  },
});

/** Elements start..end (exclusive) with `step` along `dim`, as Python's x[..., start:end:step]. Negative indices count from the end. */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normDim('slice', dim, x.ndim);
  const len = x.shape[d];
  if (!Number.isInteger(step) || step < 1) throw new Error(`slice: step must be a positive integer, got ${step}`);
  const clip = (i: number) => Math.min(len, Math.max(0, i < 0 ? i + len : i));
  const s = clip(start);
  const e = Math.max(s, clip(end ?? len));
  return sliceOp(x, d, s, e, step);
}

const catOp = defineOp({
  name: 'cat',
  forward(ctx, dim: number, ...parts: Tensor[]) {
    const shape = parts[0].shape.slice();
    shape[dim] = parts.reduce((n, t) => n + t.shape[dim], 0);
    const dtype = parts[0].dtype;
    const out = new Tensor(allocate(dtype, sizeOf(shape)), shape);
    let at = 0;
    for (const p of parts) {
      copyAlong(p, dim, 0, 1, p.shape[dim], out, at, false);
      at += p.shape[dim];
    }
    ctx.state.sizes = parts.map((p) => p.shape[dim]);
    ctx.state.dim = dim;
    return out;
  },
  backward(ctx, g) {
    const { sizes, dim } = ctx.state as { sizes: number[]; dim: number };
    let at = 0;
    const grads = sizes.map((n, i) => {
      const part = ctx.needsInputGrad[i + 1] ? sliceRawAlong(g, dim, at, n) : null;
      at += n;
      return part;
    });
    return [null, ...grads];
  },
});

function sliceRawAlong(g: Tensor, dim: number, start: number, count: number): Tensor {
  const shape = g.shape.slice();
  shape[dim] = count;
  const out = new Tensor(allocate(g.dtype, sizeOf(shape)), shape);
  copyAlong(g, dim, start, 1, count, out, 0, false);
  return out;
}

/** Joins tensors along an existing dim; all other dims and the dtype must agree. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('cat: expected a non-empty list of tensors');
  const first = tensors[0];
  const d = normDim('cat', dim, first.ndim);
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((n, i) => i !== d && n !== first.shape[i])) {
      throw new Error(`cat: shapes ${fmt(first.shape)} and ${fmt(t.shape)} differ outside dim ${d}`);
    }
    if (t.dtype !== first.dtype) throw new Error(`cat: dtypes ${first.dtype} and ${t.dtype} differ`);
  }
  return catOp(d, ...tensors);
}

/** Joins tensors of equal shape along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: expected a non-empty list of tensors');
  const first = tensors[0];
  for (const t of tensors) {
    if (!shapeEq(t.shape, first.shape)) throw new Error(`stack: shapes ${fmt(first.shape)} and ${fmt(t.shape)} differ`);
  }
  const d = normDim('stack', dim, first.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** Storage is always contiguous, so this is the identity (kept for PyTorch-shaped code). */
export function contiguous(x: Tensor): Tensor {
  return x;
}
