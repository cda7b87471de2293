// nn.Embedding: a lookup table weight [numEmbeddings, embeddingDim] around F.embedding.

import { allocate } from '../../kernels/dtype.js';
import { fmt } from '../../kernels/shape.js';
import { embedding, resolvePaddingIdx } from '../../autograd/ops/embedding.js';
import { Tensor } from '../../autograd/tensor.js';
import { Module, pyFloat } from '../module.js';
import { Parameter } from '../parameter.js';
import { normal } from '../init.js';

/** Options of {@link Embedding}, as `torch.nn.Embedding`'s keyword arguments. */
export interface EmbeddingLayerOptions {
  /** This row (negative counts from the end) starts at zero and gets no gradient. */
  paddingIdx?: number | null;
  /** Looked-up rows whose normType-norm exceeds this are rescaled to it, in place, at each call. */
  maxNorm?: number | null;
  /** The p of the p-norm for maxNorm (default 2). */
  normType?: number;
  /** Divide each row's gradient by how often its index occurs in the batch. */
  scaleGradByFreq?: boolean;
  /** Sparse gradients: not supported (refused). */
  sparse?: boolean;
  /** Use this [numEmbeddings, embeddingDim] tensor as the weight (PyTorch's _weight). */
  weight?: Tensor;
  dtype?: 'float32' | 'float64';
}

/** Options of `Embedding.fromPretrained`, as `torch.nn.Embedding.from_pretrained`'s (the weight is the given tensor). */
export interface FromPretrainedOptions extends Omit<EmbeddingLayerOptions, 'weight' | 'dtype'> {
  /** Keep the weight fixed (requiresGrad false); default true. */
  freeze?: boolean;
}

/** A lookup table of `numEmbeddings` vectors of size `embeddingDim`, indexed by integer tensors, as `torch.nn.Embedding`. */
export class Embedding extends Module {
  weight: Parameter;
  /** As PyTorch stores it: a row number in [0, numEmbeddings), or null. */
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;
  readonly sparse = false;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingLayerOptions = {}) {
    super();
    const what = `Embedding(${numEmbeddings}, ${embeddingDim})`;
    for (const [name, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`Embedding: ${name} must be a non-negative integer, got ${v} in ${what}`);
    }
    if (options.sparse) throw new Error(`Embedding: sparse gradients (sparse: true) are not supported in ${what}`);
    this.paddingIdx = resolvePaddingIdx('Embedding', options.paddingIdx ?? null, numEmbeddings);
    this.maxNorm = options.maxNorm ?? null;
    this.normType = options.normType ?? 2;
    this.scaleGradByFreq = options.scaleGradByFreq ?? false;
    if (options.weight) {
      const w = options.weight;
      if (w.ndim !== 2 || w.shape[0] !== numEmbeddings || w.shape[1] !== embeddingDim) {
        throw new Error(`Embedding: weight ${fmt(w.shape)} does not match [numEmbeddings, embeddingDim] = [${numEmbeddings}, ${embeddingDim}]`);
      }
      this.weight = new Parameter(w);
    } else {
      const dtype = options.dtype ?? 'float32';
      this.weight = new Parameter(new Tensor(allocate(dtype, numEmbeddings * embeddingDim), [numEmbeddings, embeddingDim]));
      this.resetParameters();
    }
  }

  /** An Embedding whose weight is `embeddings` (sharing its storage), frozen unless freeze is false. */
  static fromPretrained(embeddings: Tensor, options: FromPretrainedOptions = {}): Embedding {
    if (embeddings.ndim !== 2) throw new Error(`Embedding.fromPretrained: embeddings must be 2-D, got ${fmt(embeddings.shape)}`);
    const { freeze = true, ...rest } = options;
    const m = new Embedding(embeddings.shape[0], embeddings.shape[1], { ...rest, weight: embeddings });
    m.weight.requiresGrad = !freeze;
    return m;
  }

  /** PyTorch's default: N(0, 1), with the padding row zeroed. */
  resetParameters(): void {
    normal(this.weight);
    if (this.paddingIdx !== null) {
      const D = this.embeddingDim;
      this.weight.data.fill(0, this.paddingIdx * D, this.paddingIdx * D + D);
    }
  }

  /** The rows of the weight at `indices` (any shape), giving [...indices.shape, embeddingDim]. */
  forward(indices: Tensor): Tensor {
    if (indices.dtype !== 'int32') {
      throw new Error(`Embedding(${this.numEmbeddings}, ${this.embeddingDim}): indices ${fmt(indices.shape)} must be int32, got ${indices.dtype}`);
    }
    const { paddingIdx, maxNorm, normType, scaleGradByFreq } = this;
    return embedding(indices, this.weight, { paddingIdx, maxNorm, normType, scaleGradByFreq });
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    if (this.scaleGradByFreq) s += ', scale_grad_by_freq=True';
    return s;
  }
}
