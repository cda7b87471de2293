// The extending examples run in the suite at small sizes: a custom op (Mish), a custom block
// (bottleneck ResNet-50-style net, trained a few steps) and the gradient-flow experiment.
// docs/extending.md runs on its own in test/docs-blocks.test.ts.

import { describe, expect, it } from 'vitest';
import { manualSeed, randn, tensor } from '../src/index.js';
import { hypot, main as customOp, mish } from '../examples/custom-op.js';
import { Bottleneck, FrozenBatchNorm2d, main as customBlock, resnet50Style } from '../examples/custom-block.js';
import { main as gradientFlow } from '../examples/gradient-flow.js';

describe('examples/custom-op', () => {
  it("computes PyTorch's F.mish and its gradient, and passes gradcheck", () => {
    expect(customOp()).toEqual([
      // torch.nn.functional.mish (torch 1.13) on the same float64 input, and its autograd gradient in float32
      'mish([-3.000000, -1.000000, 0.000000, 1.000000, 3.000000]) = [-0.145647, -0.303401, 0.000000, 0.865098, 2.986535]',
      expect.stringMatching(/^max \|mish - x·tanh\(log\(1 \+ eˣ\)\)\| = \d\.\de-1[5-7]$/),
      'gradcheck mish on a random 3×4 float64 tensor: ok',
      'gradcheck Mish layer inside mish(t)·t: ok',
      'd mish/dx at [1, 2] (float32): [1.049036, 1.069318]',
      'hypot([3.000000, -1.000000, 0.500000], [4.000000, 2.000000, -2.000000]) = [5.000000, 2.236068, 2.061553]; gradcheck: ok',
    ]);
  });

  it('records no graph for an input without grad, keeps the dtype, rejects int32', () => {
    const x = tensor([1, 2]);
    expect(mish(x).requiresGrad).toBe(false);
    expect(mish(tensor([1], { dtype: 'float64' })).dtype).toBe('float64');
    expect(() => mish(tensor([1], { dtype: 'int32' }))).toThrow('mish: expects a float tensor, got int32 of shape [1]');
    expect(() => hypot(tensor([1, 2]), tensor([1]))).toThrow('hypot: shapes [2] and [1] differ');
    // Only b needs a gradient: a's stays null.
    const a = tensor([3]);
    const b = tensor([4], { requiresGrad: true });
    hypot(a, b).backward();
    expect([a.grad, Array.from(b.grad!.data)]).toEqual([null, [0.800000011920929]]); // 4/5 in float32
  });
});

describe('examples/custom-block', () => {
  it("builds torchvision's bottleneck layout and trains a small ResNet-50-style net", async () => {
    const lines = await customBlock();
    // 96,394 parameters: the same net written with torch.nn (stem of the seed, torchvision Bottleneck) counts the same.
    expect(lines[0]).toBe('ResNet-50-style net of bottlenecks, stages [3, 4, 6, 3], base width 4: 96,394 parameters');
    expect(lines[1]).toBe(
      'stage 2, block 0 weights: 2.0.conv1.weight, 2.0.bn1.weight, 2.0.conv2.weight, 2.0.bn2.weight, 2.0.conv3.weight, ' +
        '2.0.bn3.weight, 2.0.downsample.0.weight, 2.0.downsample.1.weight',
    );
    const losses = lines[2].replace(/^8 SGD steps on 64 images, batch 16: loss /, '').split(' ').map(Number);
    expect(losses).toHaveLength(8);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[7]).toBeLessThan(losses[0]);
    // 53 BatchNorms × 4 buffers; 162 − 106 BatchNorm parameters. Float32 rounding of x·scale + shift vs BatchNorm's formula.
    expect(lines[3]).toMatch(/^frozen BatchNorm: 212 buffers, 56 parameters left; eval logits changed by \d\.\de-[6-9] \(relative\)$/);
  });

  it('a bottleneck expands channels 4×, downsamples with stride, and starts as its shortcut', () => {
    manualSeed(0);
    const net = resnet50Style({ base: 2, stages: [1, 1] });
    const blk = (net.at(2) as unknown as { at(i: number): Bottleneck }).at(0);
    expect(blk.conv3.outChannels).toBe(16);
    expect(blk.downsample).not.toBeNull();
    const x = randn([2, 8, 4, 4]);
    expect(blk.call(x).shape).toEqual([2, 16, 2, 2]);
    // With bn3's weight 0 (zero_init_residual) and an identity shortcut, the block is relu(0 + x).
    const same = new Bottleneck(8, 2);
    same.bn3.weight!.data.fill(0);
    const y = same.call(x.abs());
    expect(Array.from(y.data)).toEqual(Array.from(x.abs().data));
  });

  it('FrozenBatchNorm2d keeps its state in buffers under BatchNorm2d’s names', () => {
    const f = new FrozenBatchNorm2d(3);
    expect(f.parameters()).toHaveLength(0);
    expect(Object.keys(f.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var']);
  });
});

describe('examples/gradient-flow', () => {
  it('prints the table for ResNet-18 vs plain-18 at init and after training', async () => {
    const lines = await gradientFlow();
    expect(lines[0]).toBe("gradient norm at each block's output, ResNet-18 vs plain-18 (18 layers, width 4, batch 8)");
    expect(lines[1].split(/\s{2,}/)).toEqual(['block', 'path', 'ResNet init', 'plain init', 'ResNet 2 steps', 'plain 2 steps']);
    const rows = lines.slice(2, 10).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[1])).toEqual(['1.0', '1.1', '2.0', '2.1', '3.0', '3.1', '4.0', '4.1']);
    for (const r of rows) for (const v of r.slice(2)) expect(Number(v)).toBeGreaterThan(0);
    expect(lines[10]).toMatch(/^first\/last block ratio: ResNet /);
    expect(lines[11]).toMatch(/^ResNet 1\.0\.conv1\.weight: weight norm \d+\.\d\d → \d+\.\d\d, grad\/weight /);
    expect(lines[12]).toMatch(/^plain 1\.0\.conv1\.weight: weight norm /);
    expect(lines[13]).toMatch(/^probe loss: ResNet \d\.\d{3} → \d\.\d{3}, plain \d\.\d{3} → \d\.\d{3}$/);
  });
});

