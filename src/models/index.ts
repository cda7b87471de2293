// skipgrad.models: the seed's ResNet and the summary of a model's layer shapes.

export {
  Residual, resnetBlock, resnet, resnet18, resnet34, type ResidualOptions, type ResNet18Options, type ResNetOptions,
} from './resnet.js';
export { summary } from './summary.js';
