// F (nn.functional) is the one home of the functional ops: each is the same function as the
// package-level op, as torch.nn.functional.x is torch.x for the ops both have.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

const NAMES = [
  'conv2d', 'conv1d', 'convTranspose2d', 'maxPool2d', 'avgPool2d', 'adaptiveAvgPool2d', 'batchNorm', 'layerNorm', 'groupNorm',
  'instanceNorm', 'linear', 'dropout', 'dropout2d', 'embedding', 'interpolate', 'pad', 'oneHot', 'relu', 'sigmoid', 'tanh',
  'softmax', 'logSoftmax', 'gelu', 'silu', 'leakyRelu', 'elu', 'softplus', 'hardtanh', 'relu6', 'hardswish', 'mish',
  'logSigmoid', 'crossEntropy', 'nllLoss', 'mseLoss', 'l1Loss', 'smoothL1Loss', 'huberLoss', 'binaryCrossEntropy',
  'binaryCrossEntropyWithLogits', 'klDiv',
] as const;

describe('F = nn.functional', () => {
  it.each(NAMES)('F.%s is sg.%s', (name) => {
    const f = (sg.F as Record<string, unknown>)[name];
    expect(typeof f).toBe('function');
    expect(f).toBe((sg as Record<string, unknown>)[name]);
  });

  it('is nn.functional', () => {
    expect(sg.nn.functional).toBe(sg.F);
  });

  it('pads and one-hots as torch.nn.functional', () => {
    expect(sg.F.pad(sg.tensor([[1, 2]]), [1, 1]).toArray()).toEqual([[0, 1, 2, 0]]);
    expect(sg.F.oneHot(sg.tensor([2, 0], { dtype: 'int32' }), 3).toArray()).toEqual([[0, 0, 1], [1, 0, 0]]);
  });
});
