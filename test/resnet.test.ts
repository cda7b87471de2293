// The seed's Residual block, resnetBlock and resnet18: structure, PyTorch's state-dict keys and
// reprs (recorded from the seed's PyTorch code in test/fixtures/resnet18-w8/meta.json), shapes
// and summary. Numerical parity with PyTorch is in resnet-parity.test.ts.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manualSeed, rand, tensor } from '../src/index.js';
import { BatchNorm2d, Conv2d, Sequential } from '../src/nn/index.js';
import { Residual, resnet18, resnetBlock, summary } from '../src/models/index.js';

const meta = JSON.parse(readFileSync(new URL('./fixtures/resnet18-w8/meta.json', import.meta.url), 'utf8')) as {
  keys: string[];
  repr: string;
  repr64: string;
  params64: number;
};

const childNames = (m: Residual) => m.namedChildren().map(([n]) => n);

describe('Residual', () => {
  it('keeps the shape, or changes channels and halves the size with a 1×1 shortcut', () => {
    manualSeed(0);
    const X = rand([4, 3, 6, 6]);
    expect(new Residual(3, 3).call(X).shape).toEqual([4, 3, 6, 6]);
    expect(new Residual(3, 6, { use1x1conv: true, strides: 2 }).call(X).shape).toEqual([4, 6, 3, 3]);
  });

  it('has the seed attribute order, conv3 only with use1x1conv', () => {
    expect(childNames(new Residual(3, 3))).toEqual(['conv1', 'conv2', 'bn1', 'bn2']);
    const blk = new Residual(3, 6, { use1x1conv: true, strides: 2 });
    expect(childNames(blk)).toEqual(['conv1', 'conv2', 'conv3', 'bn1', 'bn2']);
    expect(blk.conv1.stride).toEqual([2, 2]);
    expect(blk.conv1.padding).toEqual([1, 1]);
    expect(blk.conv3!.kernelSize).toEqual([1, 1]);
    expect(blk.conv3!.stride).toEqual([2, 2]);
  });

  it('computes relu(bn2(conv2(relu(bn1(conv1 X)))) + X) — identity shortcut, all-zero convs', () => {
    const blk = new Residual(1, 1);
    blk.apply((m) => m instanceof Conv2d && (m.weight.data.fill(0), m.bias!.data.fill(0)));
    blk.bn2.bias!.data.fill(0.5); // BN of a constant map is its bias
    const X = tensor([[[[-1, 2], [3, -4]]]]);
    expect(Array.from(blk.call(X).data)).toEqual([0, 2.5, 3.5, 0]);
  });

  it('gradients flow through both branches to every parameter', () => {
    manualSeed(1);
    const blk = new Residual(2, 4, { use1x1conv: true, strides: 2 });
    blk.call(rand([2, 2, 5, 5])).sum().backward();
    for (const [name, p] of blk.namedParameters()) expect(p.grad, name).not.toBeNull();
  });
});

describe('resnetBlock', () => {
  it('downsamples in the first residual unless it is the first block', () => {
    const first = resnetBlock(64, 64, 2, true);
    expect(first.map((r) => r.conv3)).toEqual([null, null]);
    const later = resnetBlock(64, 128, 3);
    expect(later).toHaveLength(3);
    expect(later[0].conv3).toBeInstanceOf(Conv2d);
    expect(later[0].conv1.inChannels).toBe(64);
    expect(later.slice(1).map((r) => [r.conv1.inChannels, r.conv3])).toEqual([[128, null], [128, null]]);
  });
});

describe('resnet18', () => {
  const net = resnet18();

  it("has exactly the seed's PyTorch state-dict keys, in order", () => {
    const keys = Object.keys(net.stateDict());
    expect(keys).toEqual(meta.keys);
    for (const k of ['0.0.weight', '0.1.running_mean', '1.0.conv1.weight', '2.0.conv3.bias', '4.1.bn2.num_batches_tracked', '7.weight']) {
      expect(keys).toContain(k);
    }
    expect(keys).not.toContain('1.0.conv3.weight'); // the first stage keeps its shape: no projection
  });

  it("prints as the seed's PyTorch model does, and counts PyTorch's parameters", () => {
    expect(String(net)).toBe(meta.repr64);
    expect(String(resnet18({ baseChannels: 8 }))).toBe(meta.repr);
    expect(net.parameters().reduce((n, p) => n + p.size, 0)).toBe(meta.params64);
  });

  it('scales with baseChannels, inChannels and numClasses', () => {
    const small = resnet18({ inChannels: 3, numClasses: 5, baseChannels: 4 });
    expect(small.stateDict()['0.0.weight'].shape).toEqual([4, 3, 7, 7]);
    expect(small.stateDict()['7.weight'].shape).toEqual([5, 32]);
    expect(small.stateDict()['4.1.bn2.running_var'].shape).toEqual([32]);
  });

  it('summary lists each top-level layer and the parameter counts, with no side effects', () => {
    const small = resnet18({ baseChannels: 8 });
    small.at(7).parameters()[1].requiresGrad = false; // freeze the classifier's bias
    const bn = (small.at(0) as Sequential).at(1) as BatchNorm2d;
    expect(summary(small, [2, 1, 64, 64])).toEqual([
      'Sequential output shape:\t [2, 8, 16, 16]',
      'Sequential output shape:\t [2, 8, 16, 16]',
      'Sequential output shape:\t [2, 16, 8, 8]',
      'Sequential output shape:\t [2, 32, 4, 4]',
      'Sequential output shape:\t [2, 64, 2, 2]',
      'AdaptiveAvgPool2d output shape:\t [2, 64, 1, 1]',
      'Flatten output shape:\t [2, 64]',
      'Linear output shape:\t [2, 10]',
      'Total params: 176954', // PyTorch's count for the seed net at base 8
      'Trainable params: 176944',
    ]);
    expect(small.modules().every((m) => m.training)).toBe(true);
    expect(bn.num_batches_tracked!.item()).toBe(0);
    let calls = 0;
    small.at(5).registerForwardHook(() => void calls++);
    summary(small, [1, 1, 32, 32]);
    expect(calls).toBe(1); // one forward per summary
  });
});
