import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed, models, SGD, optim, loadSafetensors, saveSafetensors, tensor, crossEntropy } from '../src/index.js';
import { DataLoader, FashionMNIST, Subset } from '../src/data/index.js';
import { fit, evaluate, loadCheckpoint, saveCheckpoint, type FitOptions } from '../src/index.js';

const sink = { write: () => true };

/** `seed` is the run's (data order); `initSeed` is where the global RNG starts (model init). */
async function setup(seed = 0, initSeed = seed) {
  manualSeed(initSeed);
  const train = await FashionMNIST.load();
  const test = await FashionMNIST.load({ train: false });
  // 96 training images: 3 batches of 32 per epoch.
  const trainLoader = new DataLoader(new Subset(train, Array.from({ length: 96 }, (_, i) => i * 50)), { batchSize: 32, shuffle: true, seed });
  const testLoader = new DataLoader(new Subset(test, Array.from({ length: 64 }, (_, i) => i * 15)), { batchSize: 64 });
  const model = models.resnet18({ baseChannels: 4 });
  const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const scheduler = new optim.StepLR(optimizer as never, { stepSize: 1, gamma: 0.5 });
  return { model, optimizer, scheduler, trainLoader, testLoader };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** fit on a setup's model, loaders, optimizer and scheduler. */
function fitS(s: Setup, options: Omit<FitOptions, 'train' | 'optimizer'>) {
  return fit(s.model, { train: s.trainLoader, test: s.testLoader, optimizer: s.optimizer, scheduler: s.scheduler, ...options });
}

/** Every state-dict value as raw bytes, so bit-identity is compared exactly (and quickly). */
function weightsOf(model: { stateDict(): Record<string, { data: ArrayBufferView }> }): Buffer {
  return Buffer.concat(Object.values(model.stateDict()).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
}

describe('fit', () => {
  it('lowers the loss and writes every file of the run folder', async () => {
    const s = await setup();
    const out = mkdtempSync(join(tmpdir(), 'skipgrad-fit-'));
    const lines: string[] = [];
    const result = await fitS(s, { epochs: 3, outDir: out, progress: sink, log: sink, config: { note: 'test' },
      lossFn: undefined });
    expect(result.interrupted).toBe(false);
    expect(result.epochsDone).toBe(3);
    const epochEnds = result.history.filter((r) => r.testAcc !== null);
    expect(epochEnds.length).toBe(3);
    expect(epochEnds[2].loss).toBeLessThan(epochEnds[0].loss);
    for (const f of ['metrics.csv', 'curves.svg', 'checkpoint.safetensors', 'model.safetensors']) expect(existsSync(join(out, f)), f).toBe(true);
    const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('epoch,step,lr,loss,train_acc,test_acc,examples_per_sec,seconds');
    expect(csv.length - 1).toBe(result.history.length);
    expect(csv.at(-1)!.split(',')[0]).toBe('3');
    expect(csv.at(-1)!.split(',')[1]).toBe('9');
    const svg = readFileSync(join(out, 'curves.svg'), 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('test acc');
    // The final model is the model's state dict with PyTorch's keys.
    const saved = await loadSafetensors(join(out, 'model.safetensors'));
    expect(Object.keys(saved)).toEqual(Object.keys(s.model.stateDict()));
    expect(Array.from(saved['7.weight'].data)).toEqual(Array.from(s.model.stateDict()['7.weight'].data));
    void lines;
  });

  it('a run interrupted mid-epoch and resumed ends bit-identical to an uninterrupted one', async () => {
    const a = await setup(3);
    await fitS(a, { epochs: 2, progress: sink, log: sink });
    const reference = weightsOf(a.model);

    const out = mkdtempSync(join(tmpdir(), 'skipgrad-resume-'));
    const b = await setup(3);
    const controller = new AbortController();
    const first = await fitS(b, {
      epochs: 2, outDir: out, progress: sink, log: sink, signal: controller.signal,
      callbacks: [{ onBatchEnd: ({ step }) => { if (step === 4) controller.abort(); } }], // the 2nd batch of epoch 2
    });
    expect(first.interrupted).toBe(true);
    expect(first.epochsDone).toBe(1);
    const ckpt = await loadCheckpoint(join(out, 'checkpoint.safetensors'));
    expect((ckpt.state as { position: { epoch: number; batch: number } }).position).toMatchObject({ epoch: 1, batch: 1 });

    // A fresh process would rebuild everything from scratch with a different RNG state.
    const c = await setup(3, 99);
    const resumed = await fitS(c, { epochs: 2, outDir: out, resume: true, progress: sink, log: sink });
    expect(resumed.interrupted).toBe(false);
    expect(weightsOf(c.model).equals(reference)).toBe(true);
    expect(resumed.history.filter((r) => r.testAcc !== null).length).toBe(2);
  });

  it('resuming at an epoch boundary with more epochs continues the same run', async () => {
    const a = await setup(5);
    await fitS(a, { epochs: 2, progress: sink, log: sink });
    const out = mkdtempSync(join(tmpdir(), 'skipgrad-extend-'));
    const b = await setup(5);
    await fitS(b, { epochs: 1, outDir: out, progress: sink, log: sink });
    const c = await setup(5, 42);
    await fitS(c, { epochs: 2, outDir: out, resume: true, progress: sink, log: sink });
    expect(weightsOf(c.model).equals(weightsOf(a.model))).toBe(true);
  });

  it('evaluate runs in eval mode and restores the previous mode', async () => {
    const s = await setup();
    s.model.train();
    const r = evaluate(s.model, s.testLoader);
    expect(r.count).toBe(64);
    expect(r.accuracy).toBeGreaterThanOrEqual(0);
    expect(s.model.training).toBe(true);
    // Eval mode does not touch BN running statistics.
    const before = Array.from(s.model.stateDict()['0.1.running_mean'].data);
    evaluate(s.model, s.testLoader);
    expect(Array.from(s.model.stateDict()['0.1.running_mean'].data)).toEqual(before);
  });

  it('rejects a non-positive epoch count', async () => {
    const s = await setup();
    await expect(fitS(s, { epochs: 0, progress: sink, log: sink })).rejects.toThrow('fit: epochs must be a positive integer, got 0');
  });
});

describe('fit and checkpoint errors', () => {
  it('stops with a clear error when the loss stops being finite', async () => {
    const s = await setup();
    const lossFn = (logits: Parameters<typeof crossEntropy>[0], y: Parameters<typeof crossEntropy>[1]) => crossEntropy(logits, y).mul(NaN);
    await expect(fitS(s, { epochs: 1, lossFn, progress: sink, log: sink })).rejects.toThrow(
      'fit: the loss became NaN at epoch 1, batch 1; try a lower learning rate or --detect-anomaly',
    );
  });

  it('refuses a safetensors file that is not a checkpoint, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-ckpt-'));
    const path = join(dir, 'weights.safetensors');
    await saveSafetensors(path, { w: tensor([1, 2]) });
    await expect(loadCheckpoint(path)).rejects.toThrow(`${path}: not a skipgrad checkpoint (no 'skipgrad.checkpoint' metadata)`);
  });

  it('round-trips typed arrays, tensors and non-finite numbers in the training state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-ckpt-'));
    const path = join(dir, 'c.safetensors');
    const state = { buf: Float32Array.from([1.5, -2]), ids: Int32Array.from([3]), t: tensor([[1, 2]]), best: -Infinity, name: 'x', list: [1, null] };
    await saveCheckpoint(path, { model: { '0.weight': tensor([0.25]) }, state });
    const back = await loadCheckpoint(path);
    const st = back.state as typeof state;
    expect(Array.from(back.model['0.weight'].data)).toEqual([0.25]);
    expect(st.buf).toBeInstanceOf(Float32Array);
    expect(Array.from(st.buf)).toEqual([1.5, -2]);
    expect(Array.from(st.ids)).toEqual([3]);
    expect(st.t.shape).toEqual([1, 2]);
    expect(st.best).toBe(-Infinity);
    expect([st.name, st.list]).toEqual(['x', [1, null]]);
  });
});
