// The seed's ResNet (Dive into Deep Learning, ch. 8.6), line for line: the residual block, the
// stage builder and ResNet-18; plus ResNet-34 and deeper variants built from the same block, and
// `skip: false` "plain" twins (same layers and parameter names, shortcuts removed) for comparing
// gradient flow. Child property order matches the seed's attribute order, so state-dict keys are
// PyTorch's (conv1, conv2, conv3, bn1, bn2).

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

/** Options of `Residual`, as the seed's (D2L's) `Residual(..., use_1x1conv, strides)`. */
export interface ResidualOptions {
  /** Project the shortcut with a 1×1 convolution (needed when channels or size change). */
  use1x1conv?: boolean;
  /** Stride of conv1 and of the 1×1 shortcut (default 1; 2 halves the height and width). */
  strides?: number;
  /**
   * Add the shortcut (default true). false builds the "plain" block relu(bn2(conv2(…))): the same
   * layers and parameter names (conv3 too, left unused), so plain and residual nets are comparable.
   */
  skip?: boolean;
}

/**
 * D2L's residual block (ch. 8.6), line for line: relu(bn2(conv2(relu(bn1(conv1(X))))) + shortcut),
 * where the shortcut is X or conv3(X) with `use1x1conv`. Both convs are 3×3 with padding 1.
 * `skip: false` builds the plain twin with the same parameters and no shortcut.
 */
export class Residual extends Module {
  conv1: Conv2d;
  conv2: Conv2d;
  conv3: Conv2d | null;
  bn1: BatchNorm2d;
  bn2: BatchNorm2d;
  /** Whether forward adds the shortcut (a plain boolean, so not part of the state dict). */
  readonly skip: boolean;

  constructor(inputChannels: number, numChannels: number, { use1x1conv = false, strides = 1, skip = true }: ResidualOptions = {}) {
    super();
    this.skip = skip;
    this.conv1 = new Conv2d(inputChannels, numChannels, 3, { padding: 1, stride: strides });
    this.conv2 = new Conv2d(numChannels, numChannels, 3, { padding: 1 });
    this.conv3 = use1x1conv ? new Conv2d(inputChannels, numChannels, 1, { stride: strides }) : null;
    this.bn1 = new BatchNorm2d(numChannels);
    this.bn2 = new BatchNorm2d(numChannels);
  }

  /** X [N, inputChannels, H, W] to [N, numChannels, ⌈H/strides⌉, ⌈W/strides⌉]. */
  forward(X: Tensor): Tensor {
    let Y = relu(this.bn1.call(this.conv1.call(X)));
    Y = this.bn2.call(this.conv2.call(Y));
    if (!this.skip) return relu(Y);
    if (this.conv3) X = this.conv3.call(X);
    return relu(add(Y, X));
  }
}

/** The seed's resnet_block: numResiduals blocks; the first halves the size and changes channels unless firstBlock. */
export function resnetBlock(
  inputChannels: number,
  numChannels: number,
  numResiduals: number,
  firstBlock = false,
  { skip = true }: { skip?: boolean } = {},
): Residual[] {
  const blk: Residual[] = [];
  for (let i = 0; i < numResiduals; i++) {
    if (i === 0 && !firstBlock) blk.push(new Residual(inputChannels, numChannels, { use1x1conv: true, strides: 2, skip }));
    else blk.push(new Residual(numChannels, numChannels, { skip }));
  }
  return blk;
}

/** Options of `resnet18` and `resnet34` (and, with `stages`, `resnet`). */
export interface ResNet18Options {
  /** Input channels (default 1, Fashion-MNIST's grayscale). */
  inChannels?: number;
  /** Output logits (default 10). */
  numClasses?: number;
  /** Channels of the first stage; stage i has base·2^i channels (64 in the seed). */
  baseChannels?: number;
  /** false: the plain twin, every shortcut removed (same parameter names). */
  skip?: boolean;
  /** Repeat every stage's blocks K times (K=3 turns ResNet-18's 2,2,2,2 into 6,6,6,6). */
  depthMultiplier?: number;
}

/** Options of `resnet`: ResNet-18's plus the blocks per stage. */
export interface ResNetOptions extends ResNet18Options {
  /** Residual blocks per stage after the stem: [2, 2, 2, 2] is ResNet-18, [3, 4, 6, 3] ResNet-34. */
  stages?: readonly number[];
}

/**
 * The seed's net with any stage sizes: Sequential(b1, b2, …, AdaptiveAvgPool2d((1,1)), Flatten(),
 * Linear). b1 is the 7×7 stem; the first stage keeps the size, later ones halve it and double
 * the channels. Keys follow the seed: `3.5.conv1.weight` is stage b4's sixth block.
 */
export function resnet({
  inChannels = 1, numClasses = 10, baseChannels = 64, skip = true, depthMultiplier = 1, stages = [2, 2, 2, 2],
}: ResNetOptions = {}): Sequential {
  if (!stages.length || !stages.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error(`resnet: stages must be a non-empty list of positive integers, got [${stages.join(', ')}]`);
  }
  if (!Number.isInteger(depthMultiplier) || depthMultiplier < 1) {
    throw new Error(`resnet: depthMultiplier must be a positive integer, got ${depthMultiplier}`);
  }
  const c = baseChannels;
  const b1 = new Sequential(
    new Conv2d(inChannels, c, 7, { stride: 2, padding: 3 }),
    new BatchNorm2d(c),
    new ReLU(),
    new MaxPool2d(3, { stride: 2, padding: 1 }),
  );
  const body = stages.map((n, i) => {
    const inC = i === 0 ? c : c * 2 ** (i - 1);
    return new Sequential(...resnetBlock(inC, c * 2 ** i, n * depthMultiplier, i === 0, { skip }));
  });
  const last = c * 2 ** (stages.length - 1);
  return new Sequential(b1, ...body, new AdaptiveAvgPool2d([1, 1]), new Flatten(), new Linear(last, numClasses));
}

/** The seed's ResNet-18: Sequential(b1, b2, b3, b4, b5, AdaptiveAvgPool2d((1,1)), Flatten(), Linear(8·base, numClasses)). */
export function resnet18(options: ResNet18Options = {}): Sequential {
  return resnet({ ...options, stages: [2, 2, 2, 2] });
}

/** ResNet-34 from the seed's Residual: stages of 3, 4, 6 and 3 blocks (34 weighted layers). */
export function resnet34(options: ResNet18Options = {}): Sequential {
  return resnet({ ...options, stages: [3, 4, 6, 3] });
}
