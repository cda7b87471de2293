// The autograd layer's public surface.
import './tensor_methods.js';

export { Tensor, type NestedArray, type GradHook, type RemovableHandle } from './tensor.js';
export { defineOp, Context, type Op, type OpDefinition } from './function.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './grad_mode.js';
export { Generator, defaultGenerator, manualSeed, type GeneratorState } from './random.js';
export { tensor, zeros, ones, full, zerosLike, onesLike, arange, rand, randn, randint, type TensorOptions } from './creation.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.js';
export { reduceToShape, type BackwardOptions } from './engine.js';
export { detectAnomaly, AnomalyError, pushModulePath, popModulePath, currentModulePath } from './anomaly.js';
export * from './ops/arithmetic.js';
export * from './ops/unary.js';
export { sum, mean, max, min, argmax, variance, variance as var_, type Dims, type ReduceOptions, type VarOptions } from './ops/reduce.js';
export * from './ops/movement.js';
export { matmul } from './ops/matmul.js';
export * from './ops/softmax.js';
export * from './ops/loss.js';
export { type TensorLike } from './ops/helpers.js';
export { conv2d, type Conv2dOptions } from './ops/conv2d.js';
export { maxPool2d } from './ops/max_pool2d.js';
export { avgPool2d } from './ops/avg_pool2d.js';
export { adaptiveAvgPool2d } from './ops/adaptive_avg_pool2d.js';
export type { MaxPool2dOptions, AvgPool2dOptions } from './ops/pool_common.js';
export { batchNorm, type BatchNormOptions } from './ops/batch_norm.js';
export { linear } from './ops/linear.js';
export { dropout } from './ops/dropout.js';
// Issue 11's tensor ops (comparisons, indexing, scatter, pad, scans, sort).
export { eq, ne, gt, ge, lt, le, isnan, isinf, isfinite, any, all, maximum, minimum, maskedFill } from './ops/compare.js';
export { argmin, std } from './ops/reduce.js';
export { select, narrow, indexSelect, index, maskedSelect, maskedIndex, oneHot } from './ops/indexing.js';
export { scatter, scatterAdd } from './ops/scatter.js';
export { pad, type PadMode, type PadOptions } from './ops/pad.js';
export { cumsum, prod, logsumexp } from './ops/scan.js';
export { flip, repeat, tril, triu, split, chunk } from './ops/reshape_ops.js';
export { sort, topk, type SortResult, type SortOptions, type TopkOptions } from './ops/sort.js';
export { layerNorm, type LayerNormOptions } from './ops/layer_norm.js';
export { groupNorm, instanceNorm, type GroupNormOptions, type InstanceNormOptions } from './ops/group_norm.js';
export { embedding, type EmbeddingOptions } from './ops/embedding.js';
export { conv1d, type Conv1dOptions } from './ops/conv1d.js';
export { convTranspose2d, type ConvTranspose2dOptions } from './ops/conv_transpose2d.js';
export { interpolate, type InterpolateOptions, type InterpolateMode } from './ops/interpolate.js';
export { dropout2d } from './ops/dropout2d.js';
// Issue 11 (nn branch): more pointwise math, the activation functions and the elementwise losses.
export * from './ops/unary_math.js';
export * from './ops/activations.js';
export * from './ops/loss_elementwise.js';
// Types the exports above refer to in their signatures, so the API reference includes them.
export type { Node, Edge, BackwardFn } from './node.js';
export type { Pair } from './ops/conv2d.js';
export type { GradcheckFailure } from './gradcheck.js';
export type { RandomOptions } from './creation.js';
export type { Shape } from '../kernels/shape.js';
export type { FloatArray } from '../kernels/dtype.js';
export type { Single } from './ops/conv1d.js';
