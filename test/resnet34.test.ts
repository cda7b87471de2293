// resnet34 and the deeper/plain variants: keys, shapes and parameter count against the seed's
// PyTorch code with stages of 3, 4, 6, 3 blocks (scripts/fixtures/gen_resnet34.py).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manualSeed, rand } from '../src/index.js';
import { Residual, resnet, resnet18, resnet34 } from '../src/models/index.js';
import type { Sequential } from '../src/nn/index.js';

const meta = JSON.parse(readFileSync(new URL('./fixtures/resnet34.json', import.meta.url), 'utf8')).meta as {
  keys: [string, number[]][];
  params64: number;
  outputShapes: [string, number[]][];
};

const keyShapes = (net: Sequential) => Object.entries(net.stateDict()).map(([k, t]) => [k, [...t.shape]]);
const count = (net: Sequential) => net.parameters().reduce((n, p) => n + p.size, 0);

describe('resnet34', () => {
  it("has PyTorch's state-dict keys and shapes, in order (stage b4 has six blocks: 3.0 … 3.5)", () => {
    const net = resnet34({ baseChannels: 4 });
    expect(keyShapes(net)).toEqual(meta.keys);
    const keys = Object.keys(net.stateDict());
    expect(keys).toContain('3.5.conv1.weight');
    expect(keys).not.toContain('3.6.conv1.weight');
    expect(keys.filter((k) => k.endsWith('conv3.weight'))).toEqual(['2.0.conv3.weight', '3.0.conv3.weight', '4.0.conv3.weight']);
  });

  it('has the output shape of every top-level child on 28×28 images', () => {
    manualSeed(0);
    const net = resnet34({ baseChannels: 4 });
    let x = rand([2, 1, 28, 28]);
    const got = net.children().map((child) => {
      x = child.call(x);
      return [child.className, [...x.shape]];
    });
    expect(got).toEqual(meta.outputShapes);
  });

  it("has PyTorch's parameter count at the seed's full width", () => {
    expect(count(resnet34())).toBe(meta.params64); // 21,290,250
  });
});

describe('deeper and plain variants', () => {
  it('depthMultiplier repeats every stage; stages sets any layout', () => {
    const deep = Object.keys(resnet18({ baseChannels: 4, depthMultiplier: 3 }).stateDict());
    for (const s of [1, 2, 3, 4]) {
      expect(deep).toContain(`${s}.5.conv1.weight`);
      expect(deep).not.toContain(`${s}.6.conv1.weight`);
    }
    const two = resnet({ baseChannels: 4, stages: [1, 2] });
    expect(two.length).toBe(6); // b1, two stages, pool, flatten, linear
    expect(two.stateDict()['5.weight'].shape).toEqual([10, 8]);
    manualSeed(0);
    expect(two.call(rand([1, 1, 28, 28])).shape).toEqual([1, 10]);
  });

  it('skip: false builds the same parameters (same seed, same values) with the shortcuts removed', () => {
    manualSeed(5);
    const res = resnet34({ baseChannels: 4 });
    manualSeed(5);
    const plain = resnet34({ baseChannels: 4, skip: false });
    const a = res.stateDict();
    const b = plain.stateDict();
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) expect(Array.from(b[k].data), k).toEqual(Array.from(a[k].data));
    expect(plain.modules().filter((m) => m instanceof Residual).every((m) => !(m as Residual).skip)).toBe(true);
    manualSeed(1);
    const x = rand([2, 1, 28, 28]);
    expect(Array.from(plain.call(x).data)).not.toEqual(Array.from(res.call(x).data));
  });

  it('a plain block is relu(bn2(conv2(relu(bn1(conv1 X))))) — no shortcut added', () => {
    const blk = new Residual(1, 1, { skip: false });
    blk.conv1.weight.data.fill(0);
    blk.conv2.weight.data.fill(0);
    blk.bn2.bias!.data.fill(0.5); // BN of a constant map is its bias
    manualSeed(2);
    expect(Array.from(blk.call(rand([1, 1, 2, 2])).data)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('rejects bad stage layouts, naming the values', () => {
    expect(() => resnet({ stages: [] })).toThrow('resnet: stages must be a non-empty list of positive integers, got []');
    expect(() => resnet({ stages: [2, 0] })).toThrow('resnet: stages must be a non-empty list of positive integers, got [2, 0]');
    expect(() => resnet18({ depthMultiplier: 1.5 })).toThrow('resnet: depthMultiplier must be a positive integer, got 1.5');
  });
});
