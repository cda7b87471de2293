/**
 * skipgrad.models: the seed's ResNet (D2L ch. 8.6) — the residual block, ResNet-18/34 and deeper
 * or "plain" (shortcut-free) variants — and `summary`, the table of a model's layer shapes.
 *
 * @module
 */

export {
  Residual, resnetBlock, resnet, resnet18, resnet34, type ResidualOptions, type ResNet18Options, type ResNetOptions,
} from './resnet.js';
export { summary } from './summary.js';
