// embedding as PyTorch's F.embedding: rows of a weight table picked by int32 indices of any shape.
// The weight gradient adds the output gradient of every position onto its row, so repeated
// indices accumulate; the padding row gets none.

import { allocateUninit, castArray } from '../../kernels/dtype.js';
import { fmt } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';

/** Options of {@link embedding}, as `torch.nn.functional.embedding`'s. */
export interface EmbeddingOptions {
  /** This row (negative counts from the end) gets no gradient. */
  paddingIdx?: number | null;
  /** Rows that are looked up and whose normType-norm exceeds this are rescaled to it, in place. */
  maxNorm?: number | null;
  /** The p of the p-norm for maxNorm (default 2). */
  normType?: number;
  /** Divide each row's gradient by how often its index occurs in the input. */
  scaleGradByFreq?: boolean;
  /** Sparse gradients: not supported (refused). */
  sparse?: boolean;
}

interface EmbeddingConfig {
  paddingIdx: number;
  scaleGradByFreq: boolean;
}

const embeddingOp = defineOp<[Tensor, Tensor, EmbeddingConfig], { indices: Int32Array; rows: number; cfg: EmbeddingConfig }>({
  name: 'embedding',
  forward(ctx, indices, weight, cfg) {
    const [V, D] = weight.shape;
    const idx = indices.data as Int32Array;
    const out = allocateUninit(weight.dtype, idx.length * D);
    for (let k = 0; k < idx.length; k++) out.set(weight.data.subarray(idx[k] * D, idx[k] * D + D), k * D);
    Object.assign(ctx.state, { indices: idx, rows: V, cfg });
    return new Tensor(out, [...indices.shape, D]);
  },
  backward(ctx, g) {
    const { indices, rows, cfg } = ctx.state;
    const D = g.shape[g.ndim - 1];
    const gw = new Float64Array(rows * D);
    let scale: Float64Array | null = null;
    if (cfg.scaleGradByFreq) {
      scale = new Float64Array(rows);
      for (const i of indices) scale[i] += 1;
      for (let r = 0; r < rows; r++) if (scale[r] > 0) scale[r] = 1 / scale[r];
    }
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      if (i === cfg.paddingIdx) continue;
      const s = scale ? scale[i] : 1;
      for (let j = 0; j < D; j++) gw[i * D + j] += g.data[k * D + j] * s;
    }
    return [null, new Tensor(castArray(gw, g.dtype), [rows, D]), null];
  },
});

/** Rescales, in place, each distinct looked-up row whose p-norm exceeds maxNorm (as torch.embedding_renorm_). */
function renorm(weight: Tensor, idx: Int32Array, maxNorm: number, p: number): void {
  const D = weight.shape[1];
  const w = weight.data;
  for (const i of new Set(idx)) {
    let norm = 0;
    for (let j = i * D; j < i * D + D; j++) {
      const a = Math.abs(w[j]);
      norm = p === Infinity ? Math.max(norm, a) : norm + a ** p;
    }
    if (p !== Infinity) norm **= 1 / p;
    if (norm > maxNorm) {
      const scale = maxNorm / (norm + 1e-7);
      for (let j = i * D; j < i * D + D; j++) w[j] *= scale;
    }
  }
}

/**
 * F.embedding: `input` holds int32 indices into the rows of `weight` [numEmbeddings, dim];
 * returns [...input.shape, dim]. See EmbeddingOptions for paddingIdx, maxNorm (which, as in
 * PyTorch, rescales rows of the weight in place before the lookup) and scaleGradByFreq.
 */
export function embedding(input: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  if (input.dtype !== 'int32') throw new Error(`embedding: indices ${fmt(input.shape)} must be int32, got ${input.dtype}`);
  if (weight.ndim !== 2) throw new Error(`embedding: weight must be 2-D [numEmbeddings, embeddingDim], got ${fmt(weight.shape)}`);
  if (weight.dtype === 'int32') throw new Error(`embedding: weight ${fmt(weight.shape)} must be float, got int32`);
  if (options.sparse) throw new Error('embedding: sparse gradients (sparse: true) are not supported');
  const V = weight.shape[0];
  const idx = input.data as Int32Array;
  for (let k = 0; k < idx.length; k++) {
    if (idx[k] < 0 || idx[k] >= V) {
      throw new Error(`embedding: index ${idx[k]} (at flat position ${k} of indices ${fmt(input.shape)}) is out of range for weight ${fmt(weight.shape)}`);
    }
  }
  const paddingIdx = resolvePaddingIdx('embedding', options.paddingIdx ?? null, V);
  const maxNorm = options.maxNorm ?? null;
  if (maxNorm !== null) {
    const p = options.normType ?? 2;
    if (!(maxNorm >= 0)) throw new Error(`embedding: maxNorm must be a non-negative number, got ${maxNorm}`);
    if (!(p > 0)) throw new Error(`embedding: normType must be positive, got ${p}`);
    renorm(weight, idx, maxNorm, p);
  }
  return embeddingOp(input, weight, { paddingIdx: paddingIdx ?? -1, scaleGradByFreq: options.scaleGradByFreq ?? false });
}

/** paddingIdx in [-V, V) as a row number in [0, V), or null; `op` names the caller. */
export function resolvePaddingIdx(op: string, paddingIdx: number | null, V: number): number | null {
  if (paddingIdx === null) return null;
  if (!Number.isInteger(paddingIdx) || paddingIdx >= V || paddingIdx < -V) {
    throw new Error(`${op}: paddingIdx ${paddingIdx} must be an integer within [-${V}, ${V}) for ${V} embeddings`);
  }
  return paddingIdx < 0 ? paddingIdx + V : paddingIdx;
}

