/**
 * skipgrad.nn.functional (also the package's `F`): the one home of the functional ops, PyTorch's
 * torch.nn.functional with camelCase names. Everything here is a re-export; the ops live in
 * src/autograd/ops, each a defineOp with its backward beside it (or composed from such ops).
 *
 * @module
 */

export { conv2d, type Conv2dOptions } from '../autograd/ops/conv2d.js';
export { maxPool2d } from '../autograd/ops/max_pool2d.js';
export { avgPool2d } from '../autograd/ops/avg_pool2d.js';
export { adaptiveAvgPool2d } from '../autograd/ops/adaptive_avg_pool2d.js';
export type { MaxPool2dOptions, AvgPool2dOptions } from '../autograd/ops/pool_common.js';
export { batchNorm, type BatchNormOptions } from '../autograd/ops/batch_norm.js';
export { linear } from '../autograd/ops/linear.js';
export { dropout } from '../autograd/ops/dropout.js';
export { relu, sigmoid, tanh } from '../autograd/ops/unary.js';
export { softmax, logSoftmax } from '../autograd/ops/softmax.js';
export {
  gelu, silu, leakyRelu, elu, softplus, hardtanh, relu6, hardswish, mish, logSigmoid, type GeluOptions,
} from '../autograd/ops/activations.js';
export { crossEntropy, nllLoss, mseLoss, type CrossEntropyOptions, type NllOptions, type Reduction } from '../autograd/ops/loss.js';
export {
  l1Loss, smoothL1Loss, huberLoss, binaryCrossEntropy, binaryCrossEntropyWithLogits, klDiv,
  type LossOptions, type SmoothL1Options, type HuberOptions, type BceOptions, type BceWithLogitsOptions, type KlDivOptions,
} from '../autograd/ops/loss_elementwise.js';

// Padding, one-hot and the layers beyond ResNet's (as torch.nn.functional has them).
export { pad, type PadMode, type PadOptions } from '../autograd/ops/pad.js';
export { oneHot } from '../autograd/ops/indexing.js';
export { layerNorm, type LayerNormOptions } from '../autograd/ops/layer_norm.js';
export { groupNorm, instanceNorm, type GroupNormOptions, type InstanceNormOptions } from '../autograd/ops/group_norm.js';
export { embedding, type EmbeddingOptions } from '../autograd/ops/embedding.js';
export { conv1d, type Conv1dOptions } from '../autograd/ops/conv1d.js';
export { convTranspose2d, type ConvTranspose2dOptions } from '../autograd/ops/conv_transpose2d.js';
export { interpolate, type InterpolateOptions, type InterpolateMode } from '../autograd/ops/interpolate.js';
export { dropout2d } from '../autograd/ops/dropout2d.js';
