// The nn modules of issue 11's layers against PyTorch (fixture mod_* cases of
// scripts/fixtures/gen_layers.py): state-dict keys and shapes, one train-mode call with every
// gradient, the state after it, and an eval-mode call; then reprs, default init, train/eval
// behaviour, empty batches and error messages.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import { nn, type Tensor } from '../src/index.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decode, expectClose, loadFixture } from './helpers/fixtures.js';

const fixture = loadFixture('layers');
const meta: Record<string, { keys: string[]; shapes: number[][] }> = JSON.parse(
  readFileSync(fileURLToPath(new URL('./fixtures/layers.json', import.meta.url)), 'utf8'),
).meta.modules;

/** The same module as each mod_* case builds in PyTorch. */
const MODULES: Record<string, () => sg.nn.Module> = {
  layer_norm: () => new nn.LayerNorm(5),
  layer_norm_2d_no_affine: () => new nn.LayerNorm([3, 4], { eps: 1e-3, elementwiseAffine: false }),
  group_norm: () => new nn.GroupNorm(2, 4),
  group_norm_no_affine: () => new nn.GroupNorm(3, 6, { affine: false }),
  instance_norm: () => new nn.InstanceNorm2d(3),
  instance_norm_tracked: () => new nn.InstanceNorm2d(3, { momentum: 0.2, affine: true, trackRunningStats: true }),
  instance_norm_unbatched: () => new nn.InstanceNorm2d(2, { affine: true }),
  embedding: () => new nn.Embedding(10, 4, { paddingIdx: 2 }),
  conv1d: () => new nn.Conv1d(4, 6, 3, { stride: 2, padding: 1, groups: 2 }),
  conv1d_same: () => new nn.Conv1d(3, 2, 4, { padding: 'same', dilation: 2, bias: false }),
  conv_transpose2d: () => new nn.ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
  upsample_bilinear_ac: () => new nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true }),
  upsample_nearest_size: () => new nn.Upsample({ size: [5, 3] }),
  seq_cnn: () =>
    new nn.Sequential(
      new nn.Conv2d(2, 4, 3, { padding: 1 }), new nn.GroupNorm(2, 4), new nn.ConvTranspose2d(4, 3, 2, { stride: 2 }),
      new nn.InstanceNorm2d(3, { affine: true, trackRunningStats: true }), new nn.Upsample({ scaleFactor: 0.5 }),
    ),
  seq_text: () => new nn.Sequential(new nn.Embedding(7, 5), new nn.LayerNorm(5), new nn.Linear(5, 3)),
};

const prefixed = (c: Record<string, sg.Tensor | unknown>, p: string) =>
  Object.fromEntries(Object.keys(c).filter((k) => k.startsWith(p)).map((k) => [k.slice(p.length), k]));

describe('layer modules: PyTorch parity (state dict, train call with gradients, eval call)', () => {
  const names = Object.keys(fixture).filter((k) => k.startsWith('mod_')).map((k) => k.slice(4));

  it('the fixture and the module table name the same modules', () => {
    expect(Object.keys(MODULES).sort()).toEqual(names.sort());
  });

  it.each(names)('%s', (name) => {
    const c = fixture[`mod_${name}`];
    const m = MODULES[name]();
    const sd = m.stateDict();
    expect(Object.keys(sd), 'state-dict keys in PyTorch order').toEqual(meta[name].keys);
    expect(Object.values(sd).map((t) => t.shape), 'state-dict shapes').toEqual(meta[name].shapes);
    const load: Record<string, Tensor> = {};
    for (const [key, f] of Object.entries(prefixed(c, 'sd.'))) load[key] = decode(c[f]);
    m.loadStateDict(load);

    m.train();
    const x = decode(c.x, 'grad_x' in c);
    const out = m.call(x) as Tensor;
    expectClose(out, c.out, `${name} train output`, 1e-5, 1e-5);
    out.backward(decode(c.g));
    if ('grad_x' in c) expectClose(x.grad, c.grad_x, `${name} grad of the input`, 1e-5, 1e-5);
    const params = Object.fromEntries(m.namedParameters());
    const grads = prefixed(c, 'grad.');
    expect(Object.keys(params).sort()).toEqual(Object.keys(grads).sort());
    for (const [key, f] of Object.entries(grads)) expectClose(params[key].grad, c[f], `${name} grad of ${key}`, 1e-5, 1e-5);
    const after = m.stateDict();
    for (const [key, f] of Object.entries(prefixed(c, 'sd_after.'))) expectClose(after[key], c[f], `${name} ${key} after the train call`);

    m.eval();
    const y = sg.noGrad(() => m.call(decode(c.eval_x)) as Tensor);
    expectClose(y, c.eval_out, `${name} eval output`, 1e-5, 1e-5);
  });

  it('ConvTranspose2d forward(x, outputSize) picks the output padding as PyTorch', () => {
    const c = fixture.ct_output_size;
    const m = new nn.ConvTranspose2d(2, 3, 3, { stride: 3, padding: 1 });
    m.loadStateDict({ weight: decode(c['sd.weight']), bias: decode(c['sd.bias']) });
    expectClose(m.forward(decode(c.x), [8, 9]), c.out, 'output_size [8, 9]', 1e-5, 1e-5);
    expect(m.outputPaddingFor(decode(c.x), [1, 3, 8, 9])).toEqual([1, 2]);
    expect(() => m.forward(decode(c.x), [10, 9])).toThrow(
      'ConvTranspose2d: requested an output size of [10,9], but valid sizes range from [7] to [9] in dim 0 (for an input of [1,2,3,3])',
    );
  });
});

describe('layer modules: reprs as PyTorch prints them', () => {
  it.each([
    [new nn.LayerNorm(4), 'LayerNorm((4,), eps=1e-05, elementwise_affine=True)'],
    [new nn.LayerNorm([3, 4], { elementwiseAffine: false }), 'LayerNorm((3, 4), eps=1e-05, elementwise_affine=False)'],
    [new nn.GroupNorm(2, 4), 'GroupNorm(2, 4, eps=1e-05, affine=True)'],
    [new nn.InstanceNorm2d(3), 'InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)'],
    [new nn.InstanceNorm2d(3, { affine: true, trackRunningStats: true }), 'InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)'],
    [new nn.Embedding(10, 3, { paddingIdx: 0 }), 'Embedding(10, 3, padding_idx=0)'],
    [new nn.Embedding(10, 3, { maxNorm: 1, normType: 1, scaleGradByFreq: true }), 'Embedding(10, 3, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)'],
    [new nn.Conv1d(2, 4, 3), 'Conv1d(2, 4, kernel_size=(3,), stride=(1,))'],
    [new nn.Conv1d(2, 4, 3, { padding: 'same', dilation: 2, groups: 2, bias: false }), 'Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same, dilation=(2,), groups=2, bias=False)'],
    [new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }), 'ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))'],
    [new nn.Dropout2d(0.3), 'Dropout2d(p=0.3, inplace=False)'],
    [new nn.Upsample({ scaleFactor: 2 }), 'Upsample(scale_factor=2.0, mode=nearest)'],
    [new nn.Upsample({ size: [3, 4], mode: 'bilinear' }), 'Upsample(size=(3, 4), mode=bilinear)'],
    [new nn.Upsample({ scaleFactor: [1.5, 2], mode: 'bilinear', alignCorners: true }), 'Upsample(scale_factor=(1.5, 2.0), mode=bilinear)'],
  ] as [sg.nn.Module, string][])('%s', (m, repr) => {
    expect(String(m)).toBe(repr);
  });
});

describe('layer modules: default init (PyTorch reset_parameters)', () => {
  it('norm layers start at weight 1 and bias 0; LayerNorm bias false has a weight only', () => {
    for (const m of [new nn.LayerNorm([2, 3]), new nn.GroupNorm(2, 4), new nn.InstanceNorm2d(3, { affine: true })]) {
      expect(Array.from((m as nn.LayerNorm).weight!.data).every((v) => v === 1)).toBe(true);
      expect(Array.from((m as nn.LayerNorm).bias!.data).every((v) => v === 0)).toBe(true);
    }
    const ln = new nn.LayerNorm(4, { bias: false });
    expect(Object.keys(ln.stateDict())).toEqual(['weight']);
    expect(new nn.LayerNorm(4, { elementwiseAffine: false }).parameters()).toEqual([]);
  });

  it('Embedding is N(0, 1) with the padding row zeroed', () => {
    sg.manualSeed(0);
    const e = new nn.Embedding(2000, 10, { paddingIdx: -3 });
    expect(e.paddingIdx).toBe(1997);
    const w = e.weight.data;
    expect(Array.from(w.subarray(1997 * 10, 1998 * 10))).toEqual(Array(10).fill(0));
    let s = 0;
    let q = 0;
    for (const v of w) (s += v), (q += v * v);
    const n = w.length - 10;
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(q / n - 1)).toBeLessThan(0.03);
  });

  it('Conv1d and ConvTranspose2d draw U(±1/√fan_in) with fan_in = weight.shape[1] * kernel size', () => {
    sg.manualSeed(1);
    const cases: [sg.nn.Module & { weight: Tensor; bias: Tensor | null }, number][] = [
      [new nn.Conv1d(8, 16, 5, { groups: 2 }), 4 * 5],
      [new nn.ConvTranspose2d(12, 15, [3, 2], { groups: 3 }), 5 * 3 * 2],
    ];
    for (const [m, fanIn] of cases) {
      const bound = 1 / Math.sqrt(fanIn);
      for (const t of [m.weight, m.bias!]) {
        const a = Array.from(t.data).map(Math.abs);
        expect(Math.max(...a)).toBeLessThanOrEqual(bound);
        expect(Math.max(...a)).toBeGreaterThan(0.8 * bound);
      }
    }
  });
});

describe('layer modules: train and eval behaviour', () => {
  it('Dropout2d zeroes whole channels with probability p, scales the rest by 1/(1-p), and is the identity in eval', () => {
    sg.manualSeed(5);
    const d = new nn.Dropout2d(0.25);
    const x = sg.rand([40, 50, 2, 3]).add(1);
    const y = d.call(x) as Tensor;
    const scale = Math.fround(1 / 0.75);
    let dropped = 0;
    let wrong = 0;
    for (let plane = 0; plane < 40 * 50; plane++) {
      const ys = Array.from(y.data.subarray(plane * 6, plane * 6 + 6));
      if (ys.every((v) => v === 0)) dropped++;
      else wrong += ys.filter((v, k) => v !== Math.fround(x.data[plane * 6 + k] * scale)).length;
    }
    expect(wrong).toBe(0);
    expect(Math.abs(dropped / 2000 - 0.25)).toBeLessThan(0.03);
    d.eval();
    expect(d.call(x)).toBe(x);
    // the same seed gives the same channels (the project's Generator)
    d.train();
    sg.manualSeed(9);
    const a = Array.from((d.call(x) as Tensor).data);
    sg.manualSeed(9);
    expect(Array.from((d.call(x) as Tensor).data)).toEqual(a);
    expect(a).not.toEqual(Array.from(y.data));
  });

  it('Dropout2d gradient is the same channel mask; p = 1 gives zeros, p = 0 the input', () => {
    sg.manualSeed(6);
    const x = sg.randn([2, 3, 2, 2], { requiresGrad: true });
    const y = sg.dropout2d(x, 0.5);
    y.sum().backward();
    for (let i = 0; i < x.size; i++) expect(x.grad!.data[i]).toBe(y.data[i] === 0 ? 0 : 2);
    expect(Array.from(sg.dropout2d(x, 1).data).every((v) => v === 0)).toBe(true);
    expect(sg.dropout2d(x, 0)).toBe(x);
  });

  it('dropout2d reads a 3-D input as [N, C, L], as PyTorch 1.13 to 2.x do: one draw per (n, c) row', () => {
    sg.manualSeed(8);
    const x = sg.ones([30, 20, 5]);
    const y = sg.dropout2d(x, 0.5);
    let dropped = 0;
    for (let r = 0; r < 600; r++) {
      const row = new Set(y.data.subarray(r * 5, r * 5 + 5));
      expect(row.size).toBe(1);
      if (row.has(0)) dropped++;
      else expect(row.has(2)).toBe(true);
    }
    expect(Math.abs(dropped / 600 - 0.5)).toBeLessThan(0.07);
  });

  it('a NaN in one row of layerNorm / groupNorm input spoils that row (or group) only, as in PyTorch', () => {
    const x = sg.randn([3, 4]);
    x.data[5] = NaN;
    const ln = Array.from(sg.layerNorm(x, 4).data);
    expect(ln.map(Number.isNaN)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0].map(Boolean));
    const gn = Array.from(sg.groupNorm(x, 2).data);
    expect(gn.map(Number.isNaN)).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0].map(Boolean));
  });

  it('InstanceNorm2d without tracked statistics uses instance statistics in eval too and holds no buffers', () => {
    const m = new nn.InstanceNorm2d(2);
    expect(Object.keys(m.stateDict())).toEqual([]);
    const x = sg.randn([2, 2, 3, 3]);
    const train = Array.from((m.call(x) as Tensor).data);
    m.eval();
    expect(Array.from((m.call(x) as Tensor).data)).toEqual(train);
  });

  it('InstanceNorm2d with tracked statistics never advances num_batches_tracked (as PyTorch)', () => {
    const m = new nn.InstanceNorm2d(2, { trackRunningStats: true });
    m.call(sg.randn([2, 2, 3, 3]));
    m.call(sg.randn([2, 2, 3, 3]));
    expect(m.num_batches_tracked!.item()).toBe(0);
    expect(m.running_mean!.data.some((v) => v !== 0)).toBe(true);
  });

  it('Embedding.fromPretrained shares the tensor and freezes it unless told otherwise', () => {
    const w = sg.randn([4, 3]);
    const e = nn.Embedding.fromPretrained(w, { paddingIdx: 0 });
    expect(e.weight.data).toBe(w.data);
    expect(e.weight.requiresGrad).toBe(false);
    expect(e.parameters().length).toBe(1);
    expect(nn.Embedding.fromPretrained(w, { freeze: false }).weight.requiresGrad).toBe(true);
  });
});

describe('layer modules: in Sequential and summary', () => {
  it('a CNN with the new layers trains one step and summary lists every layer', () => {
    sg.manualSeed(7);
    const net = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.GroupNorm(2, 4), new nn.ReLU(), new nn.Dropout2d(0.2),
      new nn.ConvTranspose2d(4, 4, 2, { stride: 2 }), new nn.InstanceNorm2d(4, { affine: true }),
      new nn.Upsample({ scaleFactor: 0.5, mode: 'bilinear' }), new nn.Flatten(), new nn.LayerNorm(4 * 6 * 6), new nn.Linear(144, 3),
    );
    const opt = new sg.SGD(net.parameters(), { lr: 0.1 });
    const x = sg.randn([5, 1, 6, 6]);
    const t = sg.tensor([0, 1, 2, 1, 0], { dtype: 'int32' });
    const loss0 = sg.crossEntropy(net.call(x) as Tensor, t);
    loss0.backward();
    for (const p of net.parameters()) expect(p.grad, 'every parameter gets a gradient').not.toBeNull();
    opt.step();
    expect(sg.models.summary(net, [1, 1, 6, 6])).toEqual([
      'Conv2d output shape:\t [1, 4, 6, 6]', 'GroupNorm output shape:\t [1, 4, 6, 6]', 'ReLU output shape:\t [1, 4, 6, 6]',
      'Dropout2d output shape:\t [1, 4, 6, 6]', 'ConvTranspose2d output shape:\t [1, 4, 12, 12]',
      'InstanceNorm2d output shape:\t [1, 4, 12, 12]', 'Upsample output shape:\t [1, 4, 6, 6]', 'Flatten output shape:\t [1, 144]',
      'LayerNorm output shape:\t [1, 144]', 'Linear output shape:\t [1, 3]',
      `Total params: ${40 + 8 + 68 + 8 + 288 + 435}`, `Trainable params: ${40 + 8 + 68 + 8 + 288 + 435}`,
    ]);
  });

  it("docs/layers.md's example runs with the shapes it states", () => {
    const decoder = new nn.Sequential(
      new nn.ConvTranspose2d(16, 8, 4, { stride: 2, padding: 1 }), new nn.GroupNorm(4, 8),
      new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }), new nn.Conv2d(8, 1, 3, { padding: 1 }),
    );
    expect((decoder.call(sg.randn([2, 16, 7, 7])) as Tensor).shape).toEqual([2, 1, 28, 28]);
    const text = new nn.Sequential(new nn.Embedding(1000, 64, { paddingIdx: 0 }), new nn.LayerNorm(64));
    expect((text.call(sg.tensor([[5, 9, 0]], { dtype: 'int32' })) as Tensor).shape).toEqual([1, 3, 64]);
  });

  it('a text model: Embedding, LayerNorm, Conv1d over the sequence', () => {
    const net = new nn.Sequential(new nn.Embedding(11, 6, { paddingIdx: 0 }), new nn.LayerNorm(6));
    const conv = new nn.Conv1d(6, 2, 3, { padding: 'same' });
    const h = net.call(sg.tensor([[1, 5, 0, 0], [3, 3, 2, 10]], { dtype: 'int32' })) as Tensor;
    const y = conv.call(h.transpose(1, 2));
    expect(y.shape).toEqual([2, 2, 4]);
    y.sum().backward();
    const emb = net.at(0) as nn.Embedding;
    expect(Array.from(emb.weight.grad!.data.subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('layer modules: empty batches', () => {
  it.each([
    ['LayerNorm', () => new nn.LayerNorm(3), [0, 3], [0, 3]],
    ['GroupNorm', () => new nn.GroupNorm(2, 4), [0, 4, 3], [0, 4, 3]],
    ['InstanceNorm2d', () => new nn.InstanceNorm2d(2, { affine: true, trackRunningStats: true }), [0, 2, 3, 3], [0, 2, 3, 3]],
    ['Conv1d', () => new nn.Conv1d(2, 3, 3), [0, 2, 4], [0, 3, 2]],
    ['ConvTranspose2d', () => new nn.ConvTranspose2d(2, 3, 3), [0, 2, 4, 4], [0, 3, 6, 6]],
    ['Upsample', () => new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }), [0, 1, 2, 2], [0, 1, 4, 4]],
    ['Dropout2d', () => new nn.Dropout2d(0.5), [0, 2, 2, 2], [0, 2, 2, 2]],
  ] as [string, () => sg.nn.Module, number[], number[]][])('%s', (_n, make, inShape, outShape) => {
    const m = make();
    const before = Object.values(m.stateDict()).map((t) => Array.from(t.data));
    const x = sg.zeros(inShape, { requiresGrad: true });
    const y = m.call(x) as Tensor;
    expect(y.shape).toEqual(outShape);
    y.sum().backward();
    expect(x.grad!.shape).toEqual(inShape);
    for (const p of m.parameters()) expect(Array.from(p.grad!.data).every((v) => v === 0)).toBe(true);
    // nothing to average: running statistics stay (PyTorch 1.13 raises for InstanceNorm2d here)
    expect(Object.values(m.stateDict()).map((t) => Array.from(t.data))).toEqual(before);
  });

  it('Embedding of an empty index tensor', () => {
    const e = new nn.Embedding(5, 3);
    const y = e.call(sg.zeros([2, 0], { dtype: 'int32' })) as Tensor;
    expect(y.shape).toEqual([2, 0, 3]);
    y.sum().backward();
    expect(Array.from(e.weight.grad!.data).every((v) => v === 0)).toBe(true);
  });
});

describe('layer modules: errors name the layer and the shapes', () => {
  const x4 = sg.zeros([2, 3, 4, 4]);
  it.each([
    [() => new nn.LayerNorm(5).call(x4), 'LayerNorm((5,)): expected input of shape [*, 5], got [2,3,4,4]'],
    [() => new nn.GroupNorm(2, 4).call(x4), 'GroupNorm(2, 4): expected input [N, 4, ...], got [2,3,4,4]'],
    [() => new nn.GroupNorm(2, 5), 'GroupNorm: numChannels 5 must be divisible by numGroups 2'],
    [() => new nn.InstanceNorm2d(3).call(sg.randn([3, 4, 4])), null],
    [() => new nn.InstanceNorm2d(3).call(sg.zeros([2, 3])), 'InstanceNorm2d: expected 3D or 4D input [C, H, W] or [N, C, H, W], got 2D input of shape [2,3]'],
    [() => new nn.InstanceNorm2d(4).call(x4), "InstanceNorm2d(4): expected input's size at dim 1 to match numFeatures 4, got [2,3,4,4]"],
    [() => new nn.InstanceNorm2d(3).call(sg.zeros([2, 3, 1, 1])), 'instanceNorm: expected more than 1 spatial element when training, got input of shape [2,3,1,1]'],
    [() => new nn.InstanceNorm2d(3, { momentum: null as unknown as number }), 'InstanceNorm2d: momentum must be a number (PyTorch\'s instance norm has no cumulative average), got null'],
    [() => new nn.Embedding(5, 3).call(sg.tensor([[1, 5]], { dtype: 'int32' })), 'embedding: index 5 (at flat position 1 of indices [1,2]) is out of range for weight [5,3]'],
    [() => new nn.Embedding(5, 3).call(sg.tensor([1.0])), 'Embedding(5, 3): indices [1] must be int32, got float32'],
    [() => new nn.Embedding(5, 3, { sparse: true }), 'Embedding: sparse gradients (sparse: true) are not supported in Embedding(5, 3)'],
    [() => new nn.Embedding(5, 3, { paddingIdx: 5 }), 'Embedding: paddingIdx 5 must be an integer within [-5, 5) for 5 embeddings'],
    [() => new nn.Conv1d(3, 4, 3).call(x4), 'Conv1d(3, 4): expected input [N, 3, L] or [3, L], got [2,3,4,4]'],
    [() => new nn.Conv1d(2, 4, 3).call(sg.zeros([2, 3, 8])), 'Conv1d(2, 4): expected input [N, 2, L] or [2, L], got [2,3,8]'],
    [() => new nn.Conv1d(3, 4, 5).call(sg.zeros([1, 3, 4])), 'conv1d: kernel size 5 (dilated to 5) is larger than the padded input length 4 (input [1,3,4], weight [4,3,5])'],
    [() => new nn.Conv1d(3, 4, 3, { paddingMode: 'reflect' as 'zeros' }), "Conv1d: paddingMode 'reflect' is not supported (only 'zeros') in Conv1d(3, 4, kernelSize=3, groups=1)"],
    [() => new nn.ConvTranspose2d(2, 4, 3).call(x4), 'ConvTranspose2d(2, 4): expected input [N, 2, H, W] or [2, H, W], got [2,3,4,4]'],
    [() => new nn.ConvTranspose2d(3, 4, 3, { outputPadding: 1 }).call(x4), 'convTranspose2d: outputPadding [1,1] must be smaller than either stride [1,1] or dilation [1,1] (input [2,3,4,4], weight [3,4,3,3])'],
    [() => new nn.ConvTranspose2d(3, 4, 1, { padding: 1 }).call(sg.zeros([1, 3, 1, 1])), 'convTranspose2d: input 1x1 gives an output of -1x-1, which is too small (input [1,3,1,1], weight [3,4,1,1], padding [1,1])'],
    [() => new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }).call(sg.zeros([1, 2, 3])), 'interpolate: got 3-D input [1,2,3], but bilinear mode needs 4-D input'],
    [() => new nn.Upsample({ scaleFactor: 2, alignCorners: true }).call(x4), 'interpolate: alignCorners can only be set with the interpolating modes linear | bilinear | trilinear, got mode nearest'],
    [() => new nn.Upsample({ scaleFactor: 2, mode: 'bicubic' as 'bilinear' }).call(x4), "interpolate: mode 'bicubic' is not supported (use nearest, nearest-exact, linear, bilinear or trilinear)"],
    [() => new nn.Upsample({ size: 2, scaleFactor: 2 }), 'Upsample: exactly one of size or scaleFactor must be given'],
    [() => new nn.Upsample({ scaleFactor: 0.1 }).call(x4), 'interpolate: input and output sizes should be greater than 0, got input [2,3,4,4] and output size [0,0]'],
    [() => new nn.Dropout2d(0.5).call(sg.zeros([2, 3])), 'dropout2d: expected a 4-D input [N, C, H, W] (or 3-D [N, C, L]), got [2,3]; use dropout for other ranks'],
    [() => new nn.Dropout2d(1.5), 'Dropout2d: probability has to be between 0 and 1, but got 1.5'],
  ] as [() => unknown, string | null][])('%#: %s', (f, message) => {
    if (message === null) expect(f).not.toThrow();
    else expect(f).toThrow(message);
  });

  it('the functional ops check their parameters too', () => {
    const x = sg.zeros([2, 4, 3]);
    expect(() => sg.layerNorm(x, [3], sg.ones([4]))).toThrow('layerNorm: weight [4] must be [3] for input [2,4,3]');
    expect(() => sg.groupNorm(x, 3)).toThrow('groupNorm: expected the number of channels of input [2,4,3] to be divisible by numGroups 3');
    expect(() => sg.groupNorm(x, 2, sg.ones([4], { dtype: 'float64' }))).toThrow('groupNorm: weight [4] is float64 but input [2,4,3] is float32');
    expect(() => sg.instanceNorm(x, null, null, null, null, { useInputStats: false })).toThrow('instanceNorm: useInputStats false needs runningMean and runningVar (input [2,4,3])');
    expect(() => sg.embedding(sg.tensor([0], { dtype: 'int32' }), sg.ones([3]))).toThrow('embedding: weight must be 2-D [numEmbeddings, embeddingDim], got [3]');
    expect(() => sg.conv1d(x, sg.ones([2, 3, 1]))).toThrow('conv1d: input [2,4,3] has 4 channels but weight [2,3,1] with groups 1 expects 3');
    expect(() => sg.convTranspose2d(sg.zeros([1, 2, 3, 3]), sg.ones([2, 1, 2, 2]), sg.ones([2]))).toThrow(
      'convTranspose2d: bias [2] must be [1], one value per output channel of weight [2,1,2,2] with groups 1',
    );
    expect(() => sg.interpolate(x, {})).toThrow('interpolate: exactly one of size or scaleFactor must be given (input [2,4,3])');
    expect(() => sg.interpolate(x, { size: [2, 2] })).toThrow('interpolate: size must be a number or an array of 1 (one per spatial dim), got [2,2]');
  });
});
