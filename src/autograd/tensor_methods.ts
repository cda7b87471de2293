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

declare module './tensor.js' {
  interface Tensor {
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    sum(dim?: R.Dims, options?: R.ReduceOptions): Tensor;
    mean(dim?: R.Dims, options?: R.ReduceOptions): Tensor;
    max(dim?: number, options?: R.ReduceOptions): Tensor;
    min(dim?: number, options?: R.ReduceOptions): Tensor;
    argmax(dim?: number, options?: R.ReduceOptions): Tensor;
    var(dim?: R.Dims, options?: R.VarOptions): Tensor;
    matmul(other: Tensor): Tensor;
    reshape(shape: Shape): Tensor;
    view(shape: Shape): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    squeeze(dim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    expand(shape: Shape): Tensor;
    slice(dim: number, start?: number, end?: number, step?: number): Tensor;
    contiguous(): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    clone(): Tensor;
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
