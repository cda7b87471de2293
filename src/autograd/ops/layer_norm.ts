// layerNorm as PyTorch's F.layer_norm: normalizes over the trailing dims `normalizedShape`, each
// slice by its own mean and biased variance, then an elementwise weight and bias of that shape.

import { fmt, sizeOf } from '../../kernels/shape.js';
import type { Tensor } from '../tensor.js';
import { checkFloatInput, checkNormParam, rowNormOp } from './row_norm.js';

/** Options of {@link layerNorm}, as `torch.nn.functional.layer_norm`'s. */
export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

const layerNormOp = rowNormOp('layerNorm');

/** normalizedShape as an array of non-negative integers; `op` names the caller in errors. */
export function normalizedShapeOf(op: string, normalizedShape: number | readonly number[]): number[] {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : Array.isArray(normalizedShape) ? [...normalizedShape] : null;
  if (!shape || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: normalizedShape must be a non-negative integer or a non-empty array of them, got ${JSON.stringify(normalizedShape)}`);
  }
  return shape;
}

/**
 * F.layer_norm: x [*, ...normalizedShape]; weight and bias (or null) have shape normalizedShape.
 * y = (x - mean) / sqrt(var + eps) * weight + bias, statistics over the normalized dims.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  options: LayerNormOptions = {},
): Tensor {
  const shape = normalizedShapeOf('layerNorm', normalizedShape);
  const eps = options.eps ?? 1e-5;
  checkFloatInput('layerNorm', x);
  const k = shape.length;
  if (x.ndim < k || shape.some((d, i) => x.shape[x.ndim - k + i] !== d)) {
    throw new Error(`layerNorm: given normalizedShape ${fmt(shape)}, expected input of shape [*, ${shape.join(', ')}], got ${fmt(x.shape)}`);
  }
  checkNormParam('layerNorm', 'weight', weight, shape, x);
  checkNormParam('layerNorm', 'bias', bias, shape, x);
  const D = sizeOf(shape);
  const rows = D === 0 ? 0 : x.size / D;
  return layerNormOp(x, weight, bias, { layout: { rows, D, inner: 1, P: D }, paramShape: shape, eps });
}
