// skipgrad.models: the seed's ResNet and the summary of a model's layer shapes.

export { Residual, resnetBlock, resnet18, type ResidualOptions, type ResNet18Options } from './resnet.js';
export { summary } from './summary.js';
