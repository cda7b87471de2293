// Method-style access to the ops (x.add(y).relu().sum()), attached to Tensor's prototype here so
// tensor.ts does not depend on the ops that depend on it.

import type { Shape } from '../kernels/shape.js';
import { Tensor } from './tensor.js';
import * as A from './ops/arithmetic.js';
import * as U from './ops/unary.js';
import * as R from './ops/reduce.js';
import * as M from './ops/movement.js';
import * as S from './ops/softmax.js';
import { matmul } from './ops/matmul.js';
import type { TensorLike } from './ops/helpers.js';
import * as C from './ops/compare.js';
import * as I from './ops/indexing.js';
import * as Sc from './ops/scatter.js';
import * as Sn from './ops/scan.js';
import * as Ro from './ops/reshape_ops.js';
import * as So from './ops/sort.js';
import * as UM from './ops/unary_math.js';

declare module './tensor.js' {
  interface Tensor {
    /** Elementwise `this + other` with broadcasting, as `torch.add`; see {@link skipgrad!add | sg.add}. */
    add(other: TensorLike): Tensor;
    /** Elementwise `this - other` with broadcasting, as `torch.sub`; see {@link skipgrad!sub | sg.sub}. */
    sub(other: TensorLike): Tensor;
    /** Elementwise `this * other` with broadcasting, as `torch.mul`; see {@link skipgrad!mul | sg.mul}. */
    mul(other: TensorLike): Tensor;
    /**
     * Elementwise true division `this / other` with broadcasting (int32 / int32 gives float32), as `torch.div`.
     */
    div(other: TensorLike): Tensor;
    /** Elementwise `this ** exponent` with broadcasting, as `torch.pow`; see {@link skipgrad!pow | sg.pow}. */
    pow(exponent: TensorLike): Tensor;
    /** Elementwise `-this`, as `torch.neg`. */
    neg(): Tensor;
    /** Elementwise e^x, as `torch.exp`. */
    exp(): Tensor;
    /** Elementwise natural log (NaN below 0, -Inf at 0), as `torch.log`. */
    log(): Tensor;
    /** Elementwise square root (NaN below 0), as `torch.sqrt`. */
    sqrt(): Tensor;
    /** Elementwise |x|, as `torch.abs`; int32 stays int32. */
    abs(): Tensor;
    /** Elementwise max(x, 0), as `torch.relu`; NaN passes through. */
    relu(): Tensor;
    /** Elementwise 1 / (1 + e^-x), as `torch.sigmoid`. */
    sigmoid(): Tensor;
    /** Elementwise hyperbolic tangent, as `torch.tanh`. */
    tanh(): Tensor;
    /**
     * Clamps every element into [min, max] (either bound may be null or omitted), as `torch.clamp`;
     * the gradient passes where min <= x <= max.
     */
    clamp(min?: number | null, max?: number | null): Tensor;
    /**
     * Sum over all elements, or over `dim` (a dim or a list; negative counts from the end), as
     * `torch.sum`. The sum of an empty tensor is 0. See {@link skipgrad!sum | sg.sum}.
     */
    sum(dim?: R.Dims, options?: R.ReduceOptions): Tensor;
    /**
     * Mean over all elements or over `dim`, as `torch.mean`; the mean of nothing is NaN.
     * See {@link skipgrad!mean | sg.mean}.
     */
    mean(dim?: R.Dims, options?: R.ReduceOptions): Tensor;
    /**
     * Maximum over all elements, or over one `dim` (values only; use `argmax` for indices). NaN propagates.
     */
    max(dim?: number, options?: R.ReduceOptions): Tensor;
    /**
     * Minimum over all elements, or over one `dim` (values only; use `argmin` for indices). NaN propagates.
     */
    min(dim?: number, options?: R.ReduceOptions): Tensor;
    /**
     * Index of the first maximum along `dim` (of the flattened tensor when omitted), int32, as `torch.argmax`.
     */
    argmax(dim?: number, options?: R.ReduceOptions): Tensor;
    /**
     * Variance over `dim` (all elements when omitted), unbiased by default, as `torch.var`;
     * see {@link skipgrad!variance | sg.variance}.
     */
    var(dim?: R.Dims, options?: R.VarOptions): Tensor;
    /** Matrix product with `torch.matmul`'s rules for 1-D, 2-D and batched (broadcast) operands. */
    matmul(other: Tensor): Tensor;
    /** The same elements with a new shape (one dim may be -1), sharing storage, as `torch.reshape`. */
    reshape(shape: Shape): Tensor;
    /** Same as `reshape` (storage is always contiguous, so every reshape is a view), as `Tensor.view`. */
    view(shape: Shape): Tensor;
    /**
     * Merges dims `startDim..endDim` (default all, 0..-1) into one, as `torch.flatten`; a 0-d tensor becomes [1].
     */
    flatten(startDim?: number, endDim?: number): Tensor;
    /** Reorders the dims (`dims` lists every dim once, negative allowed), as `torch.permute`; a copy. */
    permute(dims: readonly number[]): Tensor;
    /** Swaps two dims (default 0 and 1), as `torch.transpose`; a copy. */
    transpose(dim0?: number, dim1?: number): Tensor;
    /**
     * Removes size-1 dims: all of them, or just `dim` (left alone if its size is not 1), as `torch.squeeze`.
     */
    squeeze(dim?: number): Tensor;
    /** Inserts a size-1 dim at `dim` (in -(ndim+1)..ndim), as `torch.unsqueeze`. */
    unsqueeze(dim: number): Tensor;
    /**
     * Broadcasts to `shape` (-1 keeps a dim; new leading dims allowed), as `Tensor.expand`; a copy, and
     * the gradient sums back over the broadcast dims.
     */
    expand(shape: Shape): Tensor;
    /**
     * Elements `start..end` (exclusive) with `step` along `dim`, as Python's `x[..., start:end:step]`;
     * negative indices count from the end.
     */
    slice(dim: number, start?: number, end?: number, step?: number): Tensor;
    /** The tensor itself: storage is always contiguous (kept for PyTorch-shaped code). */
    contiguous(): Tensor;
    /** Softmax along `dim` (default -1), computed stably, as `torch.softmax`. */
    softmax(dim?: number): Tensor;
    /** log(softmax(x)) along `dim` (default -1), computed stably, as `torch.log_softmax`. */
    logSoftmax(dim?: number): Tensor;
    /** Values along `dim` at the int32 `index` positions (output shaped like `index`), as `torch.gather`. */
    gather(dim: number, index: Tensor): Tensor;
    /** A copy with its own storage that stays in the graph (the gradient flows back), as `Tensor.clone`. */
    clone(): Tensor;
    // Issue 11's tensor ops.
    /** Elementwise `this == other` with broadcasting: int32 0/1 (no bool dtype); NaN equals nothing. */
    eq(other: TensorLike): Tensor;
    /** Elementwise `this != other` with broadcasting: int32 0/1. */
    ne(other: TensorLike): Tensor;
    /** Elementwise `this > other` with broadcasting: int32 0/1. */
    gt(other: TensorLike): Tensor;
    /** Elementwise `this >= other` with broadcasting: int32 0/1. */
    ge(other: TensorLike): Tensor;
    /** Elementwise `this < other` with broadcasting: int32 0/1. */
    lt(other: TensorLike): Tensor;
    /** Elementwise `this <= other` with broadcasting: int32 0/1. */
    le(other: TensorLike): Tensor;
    /** 1 where the element is NaN; int32 0/1, as `torch.isnan`. */
    isnan(): Tensor;
    /** 1 where the element is +Inf or -Inf; int32 0/1, as `torch.isinf`. */
    isinf(): Tensor;
    /** 1 where the element is neither NaN nor ±Inf; int32 0/1, as `torch.isfinite`. */
    isfinite(): Tensor;
    /** 1 where any element over `dim` (all when omitted) is nonzero; int32 0/1. `any` of nothing is 0. */
    any(dim?: R.Dims, options?: R.ReduceOptions): Tensor;
    /** 1 where every element over `dim` (all when omitted) is nonzero; int32 0/1. `all` of nothing is 1. */
    all(dim?: R.Dims, options?: R.ReduceOptions): Tensor;
    /** Elementwise max with broadcasting; NaN propagates, as `torch.maximum`. */
    maximum(other: TensorLike): Tensor;
    /** Elementwise min with broadcasting; NaN propagates, as `torch.minimum`. */
    minimum(other: TensorLike): Tensor;
    /**
     * A copy with `value` where the int32 0/1 `mask` (broadcast to this shape) is 1, as `Tensor.masked_fill`.
     */
    maskedFill(mask: Tensor, value: TensorLike): Tensor;
    /**
     * Index of the first minimum along `dim` (of the flattened tensor when omitted), int32, as `torch.argmin`.
     */
    argmin(dim?: number, options?: R.ReduceOptions): Tensor;
    /** Standard deviation over `dim` (all elements when omitted), unbiased by default, as `torch.std`. */
    std(dim?: R.Dims, options?: R.VarOptions): Tensor;
    /** The slice at position `index` of `dim`, with that dim removed, as `torch.select`. */
    select(dim: number, index: number): Tensor;
    /** `length` elements of `dim` from `start` (negative counts from the end), as `torch.narrow`. */
    narrow(dim: number, start: number, length: number): Tensor;
    /** The entries at the int32 `index` (1-D or 0-d) along `dim`, as `torch.index_select`. */
    indexSelect(dim: number, index: Tensor): Tensor;
    /**
     * Integer-tensor indexing of the leading dims, as `x[i0, i1, ...]` in PyTorch;
     * see {@link skipgrad!index | sg.index}.
     */
    index(indices: Tensor | readonly Tensor[]): Tensor;
    /**
     * The elements where the int32 0/1 `mask` (broadcast) is 1, as a 1-D tensor, as `torch.masked_select`.
     */
    maskedSelect(mask: Tensor): Tensor;
    /** `x[mask]` for an int32 0/1 mask shaped like the leading dims: the selected sub-tensors stacked. */
    maskedIndex(mask: Tensor): Tensor;
    /**
     * A copy with `src` written at `index` along `dim`, as `torch.scatter` (out of place);
     * see {@link skipgrad!scatter | sg.scatter}.
     */
    scatter(dim: number, index: Tensor, src: TensorLike): Tensor;
    /** A copy with `src` added at `index` along `dim` (duplicates accumulate), as `torch.scatter_add`. */
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    /** Running sum along `dim`, as `torch.cumsum` (int32 stays int32). */
    cumsum(dim: number): Tensor;
    /** Product of all elements or along one `dim`, as `torch.prod`; the empty product is 1. */
    prod(dim?: number, options?: R.ReduceOptions): Tensor;
    /** log(sum(exp(x))) over `dim` (required), computed stably, as `torch.logsumexp`. */
    logsumexp(dim: R.Dims, options?: R.ReduceOptions): Tensor;
    /** Reverses the order of elements along each of `dims`, as `torch.flip`. */
    flip(dims: number | readonly number[]): Tensor;
    /** Tiles the tensor `repeats[d]` times along each dim, as `Tensor.repeat`. */
    repeat(repeats: readonly number[]): Tensor;
    /**
     * The lower triangle of the last two dims (j - i <= diagonal, default 0), zeros elsewhere, as `torch.tril`.
     */
    tril(diagonal?: number): Tensor;
    /**
     * The upper triangle of the last two dims (j - i >= diagonal, default 0), zeros elsewhere, as `torch.triu`.
     */
    triu(diagonal?: number): Tensor;
    /** Splits along `dim` (default 0) into pieces of `splitSize` or of the listed sizes, as `torch.split`. */
    split(splitSize: number | readonly number[], dim?: number): Tensor[];
    /**
     * Splits along `dim` (default 0) into at most `chunks` equal pieces (the last may be smaller), as `torch.chunk`.
     */
    chunk(chunks: number, dim?: number): Tensor[];
    /**
     * Sorts along `dim` (default -1), stably, NaN as the largest value: `{values, indices}`, as `torch.sort`.
     */
    sort(dim?: number, options?: So.SortOptions): So.SortResult;
    /**
     * The `k` largest (or smallest) entries along `dim` (default -1), in order: `{values, indices}`, as `torch.topk`.
     */
    topk(k: number, dim?: number, options?: So.TopkOptions): So.SortResult;
    /** Elementwise sine, as `torch.Tensor.sin`. */
    sin(): Tensor;
    /** Elementwise cosine, as `torch.Tensor.cos`. */
    cos(): Tensor;
    /** Elementwise Gauss error function, as `torch.Tensor.erf`. */
    erf(): Tensor;
    /** Elementwise −1, 0 or 1 (NaN gives 0), as `torch.Tensor.sign`. */
    sign(): Tensor;
    /** Elementwise 1/√x, as `torch.Tensor.rsqrt`. */
    rsqrt(): Tensor;
    /** Elementwise round down, as `torch.Tensor.floor`. */
    floor(): Tensor;
    /** Elementwise round up, as `torch.Tensor.ceil`. */
    ceil(): Tensor;
    /** Elementwise round half to even, optionally to `decimals` places, as `torch.Tensor.round`. */
    round(options?: UM.RoundOptions): Tensor;
    /** Elementwise base-2 log, as `torch.Tensor.log2`. */
    log2(): Tensor;
    /** Elementwise log(1 + x), as `torch.Tensor.log1p`. */
    log1p(): Tensor;
    /** Elementwise eˣ − 1, as `torch.Tensor.expm1`. */
    expm1(): Tensor;
  }
}

const P = Tensor.prototype;
P.add = function (o) { return A.add(this, o); };
P.sub = function (o) { return A.sub(this, o); };
P.mul = function (o) { return A.mul(this, o); };
P.div = function (o) { return A.div(this, o); };
P.pow = function (e) { return A.pow(this, e); };
P.neg = function () { return A.neg(this); };
P.exp = function () { return U.exp(this); };
P.log = function () { return U.log(this); };
P.sqrt = function () { return U.sqrt(this); };
P.abs = function () { return U.abs(this); };
P.relu = function () { return U.relu(this); };
P.sigmoid = function () { return U.sigmoid(this); };
P.tanh = function () { return U.tanh(this); };
P.clamp = function (lo, hi) { return U.clamp(this, lo, hi); };
P.sum = function (d, o) { return R.sum(this, d, o); };
P.mean = function (d, o) { return R.mean(this, d, o); };
P.max = function (d, o) { return R.max(this, d, o); };
P.min = function (d, o) { return R.min(this, d, o); };
P.argmax = function (d, o) { return R.argmax(this, d, o); };
P.var = function (d, o) { return R.variance(this, d, o); };
P.matmul = function (o) { return matmul(this, o); };
P.reshape = function (s) { return M.reshape(this, s); };
P.view = function (s) { return M.reshape(this, s); };
P.flatten = function (s, e) { return M.flatten(this, s, e); };
P.permute = function (d) { return M.permute(this, d); };
P.transpose = function (a, b) { return M.transpose(this, a, b); };
P.squeeze = function (d) { return M.squeeze(this, d); };
P.unsqueeze = function (d) { return M.unsqueeze(this, d); };
P.expand = function (s) { return M.expand(this, s); };
P.slice = function (d, s, e, st) { return M.slice(this, d, s, e, st); };
P.contiguous = function () { return M.contiguous(this); };
P.softmax = function (d) { return S.softmax(this, d); };
P.logSoftmax = function (d) { return S.logSoftmax(this, d); };
P.gather = function (d, i) { return S.gather(this, d, i); };
P.clone = function () { return A.mul(this, 1); };
// Issue 11's tensor ops.
P.eq = function (o) { return C.eq(this, o); };
P.ne = function (o) { return C.ne(this, o); };
P.gt = function (o) { return C.gt(this, o); };
P.ge = function (o) { return C.ge(this, o); };
P.lt = function (o) { return C.lt(this, o); };
P.le = function (o) { return C.le(this, o); };
P.isnan = function () { return C.isnan(this); };
P.isinf = function () { return C.isinf(this); };
P.isfinite = function () { return C.isfinite(this); };
P.any = function (d, o) { return C.any(this, d, o); };
P.all = function (d, o) { return C.all(this, d, o); };
P.maximum = function (o) { return C.maximum(this, o); };
P.minimum = function (o) { return C.minimum(this, o); };
P.maskedFill = function (m, v) { return C.maskedFill(this, m, v); };
P.argmin = function (d, o) { return R.argmin(this, d, o); };
P.std = function (d, o) { return R.std(this, d, o); };
P.select = function (d, i) { return I.select(this, d, i); };
P.narrow = function (d, s, l) { return I.narrow(this, d, s, l); };
P.indexSelect = function (d, i) { return I.indexSelect(this, d, i); };
P.index = function (i) { return I.index(this, i); };
P.maskedSelect = function (m) { return I.maskedSelect(this, m); };
P.maskedIndex = function (m) { return I.maskedIndex(this, m); };
P.scatter = function (d, i, s) { return Sc.scatter(this, d, i, s); };
P.scatterAdd = function (d, i, s) { return Sc.scatterAdd(this, d, i, s); };
P.cumsum = function (d) { return Sn.cumsum(this, d); };
P.prod = function (d, o) { return Sn.prod(this, d, o); };
P.logsumexp = function (d, o) { return Sn.logsumexp(this, d, o); };
P.flip = function (d) { return Ro.flip(this, d); };
P.repeat = function (r) { return Ro.repeat(this, r); };
P.tril = function (d) { return Ro.tril(this, d); };
P.triu = function (d) { return Ro.triu(this, d); };
P.split = function (s, d) { return Ro.split(this, s, d); };
P.chunk = function (c, d) { return Ro.chunk(this, c, d); };
P.sort = function (d, o) { return So.sort(this, d, o); };
P.topk = function (k, d, o) { return So.topk(this, k, d, o); };
P.sin = function () { return UM.sin(this); };
P.cos = function () { return UM.cos(this); };
P.erf = function () { return UM.erf(this); };
P.sign = function () { return UM.sign(this); };
P.rsqrt = function () { return UM.rsqrt(this); };
P.floor = function () { return UM.floor(this); };
P.ceil = function () { return UM.ceil(this); };
P.round = function (o) { return UM.round(this, o); };
P.log2 = function () { return UM.log2(this); };
P.log1p = function () { return UM.log1p(this); };
P.expm1 = function () { return UM.expm1(this); };
