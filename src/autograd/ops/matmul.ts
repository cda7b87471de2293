// Matrix product: 2-D, batched with broadcast batch dims, and 1-D operands as in torch.matmul.

import { allocate, promote, type FloatArray } from '../../kernels/dtype.js';
import { gemm } from '../../kernels/gemm.js';
import { broadcastShapes, broadcastStrides, fmt, sizeOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';
import { reshape, squeeze } from './movement.js';

/**
 * op(a) @ op(b) for a of shape [..., m, k] (or [..., k, m] when transA) and b likewise,
 * batch dims broadcast. Each batch runs one GEMM on contiguous slices.
 */
export function batchedGemm(a: Tensor, b: Tensor, transA: boolean, transB: boolean, op = 'matmul'): Tensor {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kb) {
    throw new Error(`${op}: ${fmt(a.shape)} @ ${fmt(b.shape)}: inner dimensions ${k} and ${kb} differ`);
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(`${op}: batch dims of ${fmt(a.shape)} @ ${fmt(b.shape)}`, aBatch, bBatch);
  const count = sizeOf(batch);
  const dtype = promote(a.dtype, b.dtype) === 'float64' ? 'float64' : 'float32';
  const ad = toFloatArray(a.data, dtype);
  const bd = toFloatArray(b.data, dtype);
  const out = allocate(dtype, count * m * n) as FloatArray;
  const aStr = broadcastStrides(aBatch, batch);
  const bStr = broadcastStrides(bBatch, batch);
  const idx = new Array<number>(batch.length).fill(0);
  for (let t = 0; t < count; t++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < batch.length; d++) {
      ia += idx[d] * aStr[d];
      ib += idx[d] * bStr[d];
    }
    gemm(transA, transB, m, n, k, 1, ad, ia * ar * ac, ac, bd, ib * br * bc, bc, 0, out, t * m * n, n);
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
  return new Tensor(out, [...batch, m, n]);
}

function toFloatArray(data: Tensor['data'], dtype: 'float32' | 'float64'): FloatArray {
  if (dtype === 'float32' && data instanceof Float32Array) return data;
  if (dtype === 'float64' && data instanceof Float64Array) return data;
  return dtype === 'float32' ? Float32Array.from(data) : Float64Array.from(data);
}

const matmulOp = defineOp({
  name: 'matmul',
  forward(ctx, a: Tensor, b: Tensor) {
    ctx.saveForBackward(a, b);
    return batchedGemm(a, b, false, false);
  },
  backward(ctx, g) {
    const [a, b] = ctx.savedTensors;
    // dA = g @ B^T, dB = A^T @ g; broadcast batch dims are summed away by the engine.
    return [
      ctx.needsInputGrad[0] ? batchedGemm(g, b, false, true) : null,
      ctx.needsInputGrad[1] ? batchedGemm(a, g, true, false) : null,
    ];
  },
});

/** Matrix product with torch.matmul's rules for 1-D, 2-D and batched operands. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(`matmul: both operands need at least 1 dim, got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  }
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const k1 = a2.shape[a2.ndim - 1];
  const k2 = b2.shape[b2.ndim - 2];
  if (k1 !== k2) throw new Error(`matmul: ${fmt(a.shape)} @ ${fmt(b.shape)}: inner dimensions ${k1} and ${k2} differ`);
  let out = matmulOp(a2, b2);
  if (b.ndim === 1) out = squeeze(out, -1);
  if (a.ndim === 1) out = squeeze(out, b.ndim === 1 ? -1 : -2);
  return out;
}
