// What it takes to rebuild a trained model: saved with every run and in model.safetensors metadata.

import { Module } from '../nn/module.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { xavierUniform } from '../nn/init.js';
import { resnet18 } from '../models/resnet.js';
import { compose, randomCrop, randomHorizontalFlip, resize, type Transform } from '../data/transforms.js';

export interface ModelConfig {
  /** Channels of the first stage (64 is the seed's ResNet-18). */
  width: number;
  /** Images are resized to resize×resize first (D2L trains at 96). */
  resize?: number;
  /** 'xavier' re-initializes conv and linear weights as D2L's train_ch6 does. */
  init: 'default' | 'xavier';
}

export const CONFIG_METADATA_KEY = 'skipgrad.config';

export function buildModel(config: ModelConfig): Module {
  const model = resnet18({ baseChannels: config.width });
  if (config.init === 'xavier') {
    model.apply((m) => {
      if (m instanceof Conv2d || m instanceof Linear) xavierUniform(m.weight);
    });
  }
  return model;
}

export function evalTransform(config: ModelConfig): Transform | undefined {
  return config.resize ? resize(config.resize) : undefined;
}

/** `augment`: random crop (padding 4 at 28×28, scaled with the image) and horizontal flips; `flip` alone: the flips. */
export function trainTransform(config: ModelConfig, augment: boolean, flip = false): Transform | undefined {
  const base = evalTransform(config);
  if (!augment && !flip) return base;
  const size = config.resize ?? 28;
  const aug = augment ? compose(randomCrop(size, Math.round((4 * size) / 28)), randomHorizontalFlip()) : randomHorizontalFlip();
  return base ? compose(base, aug) : aug;
}
