// F.linear: y = x @ weight^T + bias as one op. The forward is a single GEMM with transB (weight is
// read as stored, [out, in], never transposed in memory) onto rows pre-filled with the bias.

import { allocate, isFloat, promote, type FloatArray, type TypedArray } from '../../kernels/dtype.js';
import { gemm } from '../../kernels/gemm.js';
import { fmt, sizeOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';

type FloatDType = 'float32' | 'float64';

function asFloat(data: TypedArray, dtype: FloatDType): FloatArray {
  if (dtype === 'float64') return data instanceof Float64Array ? data : Float64Array.from(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

const linearOp = defineOp<[Tensor, Tensor, Tensor | null], { dtype: FloatDType }>({
  name: 'linear',
  forward(ctx, x, weight, bias) {
    const [N, K] = weight.shape;
    const M = sizeOf(x.shape.slice(0, -1));
    const dtype = promote(promote(x.dtype, weight.dtype), bias?.dtype ?? x.dtype) as FloatDType;
    const out = allocate(dtype, M * N) as FloatArray;
    if (bias) for (let i = 0; i < M; i++) out.set(bias.data, i * N);
    gemm(false, true, M, N, K, 1, asFloat(x.data, dtype), 0, K, asFloat(weight.data, dtype), 0, K, bias ? 1 : 0, out, 0, N);
    ctx.saveForBackward(x, weight);
    ctx.state.dtype = dtype;
    return new Tensor(out, [...x.shape.slice(0, -1), N]);
  },
  backward(ctx, g) {
    const [x, weight] = ctx.savedTensors;
    const { dtype } = ctx.state;
    const [N, K] = weight.shape;
    const M = sizeOf(x.shape.slice(0, -1));
    const gd = asFloat(g.data, dtype);
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (ctx.needsInputGrad[0]) {
      // dx [M, K] = g [M, N] @ W [N, K]
      const out = allocate(dtype, M * K) as FloatArray;
      gemm(false, false, M, K, N, 1, gd, 0, N, asFloat(weight.data, dtype), 0, K, 0, out, 0, K);
      gx = new Tensor(out, x.shape);
    }
    if (ctx.needsInputGrad[1]) {
      // dW [N, K] = g^T [N, M] @ x [M, K]
      const out = allocate(dtype, N * K) as FloatArray;
      gemm(true, false, N, K, M, 1, gd, 0, N, asFloat(x.data, dtype), 0, K, 0, out, 0, K);
      gw = new Tensor(out, weight.shape);
    }
    if (ctx.needsInputGrad[2]) {
      const acc = new Float64Array(N);
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) acc[j] += gd[i * N + j];
      gb = new Tensor(acc, [N]);
    }
    return [gx, gw, gb];
  },
});

/** F.linear: x [..., in], weight [out, in], bias [out] or null; returns [..., out]. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.ndim !== 2) throw new Error(`linear: weight must be [out, in], got ${fmt(weight.shape)}`);
  if (x.ndim < 1) throw new Error(`linear: input must have a feature dim, got ${fmt(x.shape)}`);
  for (const [name, t] of [['input', x], ['weight', weight], ['bias', bias]] as const) {
    if (t && !isFloat(t.dtype)) throw new Error(`linear: ${name} ${fmt(t.shape)} must be float, got ${t.dtype}`);
  }
  const features = x.shape[x.ndim - 1];
  if (features !== weight.shape[1]) {
    throw new Error(`linear: input ${fmt(x.shape)} has ${features} features but weight ${fmt(weight.shape)} expects ${weight.shape[1]}`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(`linear: bias ${fmt(bias.shape)} must be [${weight.shape[0]}] to match weight ${fmt(weight.shape)}`);
  }
  return linearOp(x, weight, bias);
}
