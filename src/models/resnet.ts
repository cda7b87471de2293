// The seed's ResNet (Dive into Deep Learning, ch. 8.6), line for line: the residual block, the
// stage builder and ResNet-18. Child property order matches the seed's attribute order, so
// state-dict keys are PyTorch's (conv1, conv2, conv3, bn1, bn2).

import { add } from '../autograd/ops/arithmetic.js';
import { relu } from '../autograd/ops/unary.js';
import type { Tensor } from '../autograd/tensor.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { BatchNorm2d } from '../nn/layers/batchnorm.js';
import { Flatten, ReLU } from '../nn/layers/activation.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/layers/pooling.js';
import { Linear } from '../nn/layers/linear.js';

export interface ResidualOptions {
  /** Project the shortcut with a 1×1 convolution (needed when channels or size change). */
  use1x1conv?: boolean;
  strides?: number;
}

export class Residual extends Module {
  conv1: Conv2d;
  conv2: Conv2d;
  conv3: Conv2d | null;
  bn1: BatchNorm2d;
  bn2: BatchNorm2d;

  constructor(inputChannels: number, numChannels: number, { use1x1conv = false, strides = 1 }: ResidualOptions = {}) {
    super();
    this.conv1 = new Conv2d(inputChannels, numChannels, 3, { padding: 1, stride: strides });
    this.conv2 = new Conv2d(numChannels, numChannels, 3, { padding: 1 });
    this.conv3 = use1x1conv ? new Conv2d(inputChannels, numChannels, 1, { stride: strides }) : null;
    this.bn1 = new BatchNorm2d(numChannels);
    this.bn2 = new BatchNorm2d(numChannels);
  }

  forward(X: Tensor): Tensor {
    let Y = relu(this.bn1.call(this.conv1.call(X)));
    Y = this.bn2.call(this.conv2.call(Y));
    if (this.conv3) X = this.conv3.call(X);
    return relu(add(Y, X));
  }
}

/** The seed's resnet_block: numResiduals blocks; the first halves the size and changes channels unless firstBlock. */
export function resnetBlock(inputChannels: number, numChannels: number, numResiduals: number, firstBlock = false): Residual[] {
  const blk: Residual[] = [];
  for (let i = 0; i < numResiduals; i++) {
    if (i === 0 && !firstBlock) blk.push(new Residual(inputChannels, numChannels, { use1x1conv: true, strides: 2 }));
    else blk.push(new Residual(numChannels, numChannels));
  }
  return blk;
}

export interface ResNet18Options {
  inChannels?: number;
  numClasses?: number;
  /** Channels of the first stage; the stages have base, 2·base, 4·base, 8·base (64 in the seed). */
  baseChannels?: number;
}

/** The seed's net: Sequential(b1, b2, b3, b4, b5, AdaptiveAvgPool2d((1,1)), Flatten(), Linear(8·base, numClasses)). */
export function resnet18({ inChannels = 1, numClasses = 10, baseChannels = 64 }: ResNet18Options = {}): Sequential {
  const c = baseChannels;
  const b1 = new Sequential(
    new Conv2d(inChannels, c, 7, { stride: 2, padding: 3 }),
    new BatchNorm2d(c),
    new ReLU(),
    new MaxPool2d(3, { stride: 2, padding: 1 }),
  );
  const b2 = new Sequential(...resnetBlock(c, c, 2, true));
  const b3 = new Sequential(...resnetBlock(c, 2 * c, 2));
  const b4 = new Sequential(...resnetBlock(2 * c, 4 * c, 2));
  const b5 = new Sequential(...resnetBlock(4 * c, 8 * c, 2));
  return new Sequential(b1, b2, b3, b4, b5, new AdaptiveAvgPool2d([1, 1]), new Flatten(), new Linear(8 * c, numClasses));
}
