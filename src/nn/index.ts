/**
 * skipgrad.nn: modules, layers and initializers, PyTorch's torch.nn with camelCase names.
 *
 * @module
 */

export { Module, type ForwardHook, type ForwardPreHook, type FullBackwardHook, type LoadStateDictResult } from './module.js';
export { Parameter } from './parameter.js';
export { Sequential } from './container.js';
export { Conv2d, type Conv2dLayerOptions } from './layers/conv.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { BatchNorm1d, BatchNorm2d, type BatchNormLayerOptions } from './layers/batchnorm.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, type MaxPool2dLayerOptions, type AvgPool2dLayerOptions } from './layers/pooling.js';
export { ReLU, Identity, Flatten, Dropout } from './layers/activation.js';
export * as init from './init.js';
export { LayerNorm, GroupNorm, InstanceNorm2d, type LayerNormLayerOptions, type GroupNormLayerOptions, type InstanceNormLayerOptions } from './layers/norm.js';
export { Embedding, type EmbeddingLayerOptions, type FromPretrainedOptions } from './layers/embedding.js';
export { Conv1d, type Conv1dLayerOptions } from './layers/conv1d.js';
export { ConvTranspose2d, type ConvTranspose2dLayerOptions } from './layers/conv_transpose.js';
export { Upsample, type UpsampleOptions } from './layers/upsample.js';
export { Dropout2d } from './layers/dropout2d.js';
// Issue 11 (nn branch): functional namespace, containers, activation and loss modules.
export * as functional from './functional.js';
export { ModuleList, ModuleDict, ParameterList } from './container.js';
export { GELU, SiLU, LeakyReLU, ELU, Softplus, Hardtanh, ReLU6, Hardswish, Mish, LogSigmoid } from './layers/nonlinearities.js';
export {
  CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss,
} from './layers/loss.js';
export type { FloatDType } from './layers/norm.js';
