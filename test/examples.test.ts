// The two seed demos under examples/ print exactly the shapes the seed's notes show.

import { describe, expect, it } from 'vitest';
import { main as residualShapes } from '../examples/residual-shapes.js';
import { main as resnet18Shapes } from '../examples/resnet18-shapes.js';

describe('examples', () => {
  it('residual-shapes', () => {
    expect(residualShapes()).toEqual([
      'Residual(3, 3) on [4, 3, 6, 6]: [4, 3, 6, 6]',
      'Residual(3, 6, {use1x1conv: true, strides: 2}) on [4, 3, 6, 6]: [4, 6, 3, 3]',
    ]);
  });

  it('resnet18-shapes (full width, 224×224)', () => {
    expect(resnet18Shapes()).toEqual([
      'Sequential output shape:\t [1, 64, 56, 56]',
      'Sequential output shape:\t [1, 64, 56, 56]',
      'Sequential output shape:\t [1, 128, 28, 28]',
      'Sequential output shape:\t [1, 256, 14, 14]',
      'Sequential output shape:\t [1, 512, 7, 7]',
      'AdaptiveAvgPool2d output shape:\t [1, 512, 1, 1]',
      'Flatten output shape:\t [1, 512]',
      'Linear output shape:\t [1, 10]',
      'Total params: 11178378', // PyTorch's count for the seed's net (scripts/fixtures/gen_resnet.py, meta.json)
      'Trainable params: 11178378',
    ]);
  });
});
