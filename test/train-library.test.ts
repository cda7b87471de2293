// The exported training loop on a model that is not a ResNet: callbacks, metrics, resume and
// schedule extension, checkpoint validation and temp-file cleanup.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

const sink = { write: () => true };

function lines() {
  const out: string[] = [];
  return { out, stream: { write: (s: string) => (out.push(s), true) } };
}

async function setup(opts: { seed?: number; epochs?: number; scheduler?: 'onecycle' | 'cosine' | 'none' } = {}) {
  const { seed = 0, epochs = 2, scheduler = 'onecycle' } = opts;
  sg.manualSeed(seed);
  const train = await sg.FashionMNIST.load();
  const test = await sg.FashionMNIST.load({ train: false });
  const trainLoader = new sg.DataLoader(new sg.data.Subset(train, Array.from({ length: 120 }, (_, i) => i * 40)), { batchSize: 40, shuffle: true, seed });
  const testLoader = new sg.DataLoader(new sg.data.Subset(test, Array.from({ length: 100 }, (_, i) => i * 10)), { batchSize: 50 });
  const model = new sg.nn.Sequential(new sg.nn.Flatten(), new sg.nn.Linear(784, 32), new sg.nn.ReLU(), new sg.nn.Linear(32, 10));
  const optimizer = new sg.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const sched =
    scheduler === 'onecycle'
      ? new sg.optim.OneCycleLR(optimizer as never, { maxLr: 0.1, totalSteps: epochs * trainLoader.length })
      : scheduler === 'cosine'
        ? new sg.optim.CosineAnnealingLR(optimizer as never, { tMax: epochs * trainLoader.length })
        : undefined;
  return { model, optimizer, scheduler: sched, train: trainLoader, test: testLoader, epochs };
}

function bytes(model: { stateDict(): Record<string, { data: ArrayBufferView }> }): Buffer {
  return Buffer.concat(Object.values(model.stateDict()).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
}

const opts = (s: Awaited<ReturnType<typeof setup>>) => ({
  train: s.train, test: s.test, optimizer: s.optimizer, scheduler: s.scheduler, schedulerInterval: 'step' as const,
  epochs: s.epochs, progress: sink, log: sink,
});

describe('confusionMatrix and perClassAccuracy', () => {
  it('rows are true classes, columns predictions; NaN for a class without samples', () => {
    const cm = sg.confusionMatrix([0, 1, 1, 2, 0], [0, 1, 2, 2, 1], 4);
    expect(cm).toEqual([[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]]);
    const acc = sg.perClassAccuracy(cm);
    expect(acc.slice(0, 3)).toEqual([1, 0.5, 0.5]);
    expect(acc[3]).toBeNaN();
  });
  it('names the bad index and range', () => {
    expect(() => sg.confusionMatrix([0, 3], [0, 1], 3)).toThrow('confusionMatrix: predicted[1] is 3; expected an integer class in [0, 2]');
    expect(() => sg.confusionMatrix([0], [-1], 3)).toThrow('confusionMatrix: labels[0] is -1');
    expect(() => sg.confusionMatrix([0], [0, 1], 3)).toThrow('confusionMatrix: 1 predictions but 2 labels');
    expect(() => sg.perClassAccuracy([[1, 2], [3]])).toThrow('perClassAccuracy: row 1 has 1 columns');
  });
});

describe('evaluate with metrics', () => {
  it('top-k, per-class accuracy and the confusion matrix agree with a direct count', async () => {
    const s = await setup();
    const r = sg.evaluate(s.model, s.test, { metrics: [{ topK: 1 }, { topK: 3 }, 'perClassAccuracy', 'confusionMatrix'] });
    expect(r.count).toBe(100);
    expect(r.topK![1]).toBe(r.accuracy);
    // Recount from the logits.
    let top3 = 0;
    const cm = Array.from({ length: 10 }, () => new Array(10).fill(0));
    for (const { x, y } of s.test.batches(0)) {
      const logits = sg.noGrad(() => s.model.call(x));
      for (let i = 0; i < y.size; i++) {
        const row = Array.from(logits.data.subarray(i * 10, i * 10 + 10));
        const order = row.map((v, k) => [v, k]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((p) => p[1]);
        if (order.slice(0, 3).includes(y.data[i])) top3++;
        cm[y.data[i]][order[0]]++;
      }
    }
    expect(r.topK![3]).toBe(top3 / 100);
    expect(r.confusionMatrix).toEqual(cm);
    expect(r.perClassAccuracy).toEqual(sg.perClassAccuracy(cm));
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(100);
  });
  it('refuses an unknown metric by name', async () => {
    const s = await setup();
    expect(() => sg.evaluate(s.model, s.test, { metrics: ['f1' as never] })).toThrow('evaluate: unknown metric "f1"');
  });
});

describe('fit callbacks', () => {
  it('calls every hook in order, onAfterBackward with gradients present, and stops on request', async () => {
    const s = await setup();
    const events: string[] = [];
    let gradsSeen = 0;
    const r = await sg.fit(s.model, {
      ...opts(s),
      metrics: ['confusionMatrix'],
      callbacks: [{
        onTrainBegin: () => void events.push('trainBegin'),
        onEpochBegin: ({ epoch }) => void events.push(`epochBegin ${epoch}`),
        onAfterBackward: ({ hasGradients, step, model }) => {
          expect(model).toBe(s.model);
          if (hasGradients) gradsSeen++;
          events.push(`afterBackward ${step}`);
        },
        onBatchEnd: ({ step, loss }) => void events.push(`batchEnd ${step} ${Number.isFinite(loss)}`),
        onEpochEnd: ({ epoch, test }) => {
          events.push(`epochEnd ${epoch} ${test!.confusionMatrix!.flat().reduce((a, b) => a + b, 0)}`);
        },
        onTrainEnd: () => void events.push('trainEnd'),
      }, {
        onBatchEnd: ({ step }) => (step === 4 ? 'stop' : undefined),
      }],
    });
    expect(events).toEqual([
      'trainBegin', 'epochBegin 1', 'afterBackward 1', 'batchEnd 1 true', 'afterBackward 2', 'batchEnd 2 true',
      'afterBackward 3', 'batchEnd 3 true', 'epochEnd 1 100', 'epochBegin 2', 'afterBackward 4', 'batchEnd 4 true', 'trainEnd',
    ]);
    expect(gradsSeen).toBe(4);
    expect(r).toMatchObject({ stopped: true, interrupted: false, epochsDone: 1, stopReason: 'stopped by a callback' });
  });

  it('state.stop() at an epoch end ends the run there, with a resumable checkpoint and the model', async () => {
    const s = await setup({ epochs: 3 });
    const out = mkdtempSync(join(tmpdir(), 'skipgrad-stop-'));
    const r = await sg.fit(s.model, { ...opts(s), outDir: out, callbacks: [{ onEpochEnd: ({ epoch, stop }) => (epoch === 2 ? stop('early stopping') : undefined) }] });
    expect(r).toMatchObject({ stopped: true, epochsDone: 2, stopReason: 'early stopping' });
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
    const st = (await sg.loadCheckpoint(join(out, 'checkpoint.safetensors'))).state as sg.TrainingState;
    expect(st.position).toMatchObject({ epoch: 2, batch: 0, step: 6 });
  });

  it('refuses an empty training set with a clear message', async () => {
    const s = await setup();
    const empty = new sg.DataLoader(new sg.TensorDataset(sg.zeros([0, 1, 28, 28]), sg.zeros([0], { dtype: 'int32' })), { batchSize: 8 });
    await expect(sg.fit(s.model, { ...opts(s), train: empty })).rejects.toThrow('fit: the training data is empty (0 batches); nothing to train on');
  });
});

describe('fit resume', () => {
  it.each(['onecycle', 'cosine'] as const)('extending a %s run from 2 to 3 epochs rebuilds the schedule for 3 and continues at its step', async (kind) => {
    // Reference: the lr a 3-epoch schedule has at each step.
    const ref = await setup({ epochs: 3, scheduler: kind });
    const lrs: number[] = [];
    await sg.fit(ref.model, { ...opts(ref), callbacks: [{ onBatchEnd: ({ optimizer }) => void lrs.push(optimizer.paramGroups[0].lr) }] });

    const out = mkdtempSync(join(tmpdir(), `skipgrad-extend-${kind}-`));
    const a = await setup({ epochs: 2, scheduler: kind });
    await sg.fit(a.model, { ...opts(a), outDir: out });
    const b = await setup({ epochs: 3, scheduler: kind, seed: 7 });
    const log = lines();
    const seen: number[] = [];
    const r = await sg.fit(b.model, {
      ...opts(b), log: log.stream, outDir: out, resume: true,
      callbacks: [{ onBatchEnd: ({ optimizer }) => void seen.push(optimizer.paramGroups[0].lr) }],
    });
    const name = kind === 'onecycle' ? 'OneCycleLR' : 'CosineAnnealingLR';
    expect(log.out.join('')).toContain(`extending 2 → 3 epochs: ${name} schedule rebuilt for 3 epochs (9 steps), continuing at step 6`);
    expect(r.epochsDone).toBe(3);
    expect(seen).toHaveLength(3);
    for (let i = 0; i < 3; i++) expect(seen[i]).toBeCloseTo(lrs[6 + i], 12);
    if (kind === 'cosine') expect(seen[2]).toBeLessThan(seen[0]); // still annealing, not climbing back from 0
  });

  it('resuming a finished run with the same epochs says so and trains nothing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'skipgrad-done-'));
    const a = await setup();
    await sg.fit(a.model, { ...opts(a), outDir: out });
    const b = await setup({ seed: 3 });
    const log = lines();
    let steps = 0;
    const r = await sg.fit(b.model, { ...opts(b), log: log.stream, outDir: out, resume: true, callbacks: [{ onBatchEnd: () => void steps++ }] });
    expect(log.out.join('')).toContain('the run already finished its 2 epochs at step 6: nothing to train (give more epochs to extend it)');
    expect(r.alreadyFinished).toBe(true);
    expect(steps).toBe(0);
    expect(bytes(b.model).equals(bytes(a.model))).toBe(true);
  });

  it('a folder without a checkpoint says it starts fresh', async () => {
    const out = mkdtempSync(join(tmpdir(), 'skipgrad-fresh-'));
    const s = await setup({ epochs: 1 });
    const log = lines();
    await sg.fit(s.model, { ...opts(s), log: log.stream, outDir: out, resume: true });
    expect(log.out[0]).toBe(`no checkpoint in ${out}: starting fresh\n`);
  });

  it('removes temp files of killed saves at the next start, keeping other files', async () => {
    const out = mkdtempSync(join(tmpdir(), 'skipgrad-tmp-'));
    const dead = 2 ** 22 + 12345; // above Linux's default pid_max: no such process
    for (const n of [`.checkpoint.safetensors.tmp-${dead}-a1b2c3d4e5f6`, `metrics.csv.tmp-${dead}`, `curves.svg.tmp-${dead}`, 'notes.txt']) {
      writeFileSync(join(out, n), 'x'.repeat(1000));
    }
    const s = await setup({ epochs: 1 });
    const log = lines();
    await sg.fit(s.model, { ...opts(s), log: log.stream, outDir: out, resume: true });
    expect(log.out.join('')).toContain('removed 3 temp file(s) left by an interrupted save');
    expect(readdirSync(out).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(existsSync(join(out, 'notes.txt'))).toBe(true);
  });

  it('refuses a checkpoint beyond the requested epochs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'skipgrad-short-'));
    const a = await setup({ epochs: 3 });
    await sg.fit(a.model, { ...opts(a), outDir: out });
    const b = await setup({ epochs: 2 });
    await expect(sg.fit(b.model, { ...opts(b), outDir: out, resume: true })).rejects.toThrow(
      `${join(out, 'checkpoint.safetensors')}: the checkpoint is at epoch 4, batch 0; epochs 2 would end the run before it`,
    );
  });
});

describe('fit validates the checkpoint it resumes, naming the field, before writing anything', () => {
  type St = { position: Record<string, unknown>; history: unknown; optimizer: { state: Record<string, Record<string, Float32Array>> } };
  it.each([
    ['position.batch = -1', (st: St) => void (st.position.batch = -1), "checkpoint field 'position.batch' must be an integer >= 0, got number -1"],
    ['a string epoch', (st: St) => void (st.position.epoch = '1'), `checkpoint field 'position.epoch' must be an integer >= 0, got the string "1"`],
    ['no position', (st: St) => void delete (st as Partial<St>).position, "checkpoint field 'position' must be an object, got nothing (the field is missing)"],
    ['history not an array', (st: St) => void (st.history = { 0: 1 }), "checkpoint field 'history' must be an array, got an object"],
    ['NaN in a momentum buffer', (st: St) => void (Object.values(st.optimizer.state)[0].momentumBuffer[2] = NaN), "checkpoint field 'optimizer.state.0.momentumBuffer' holds NaN at index 2 (must be finite)"],
    ['Inf in the weights', (_st: St, model: Record<string, sg.Tensor>) => void (model['1.bias'].data[0] = Infinity), "model tensor '1.bias' holds Infinity at index 0 (must be finite)"],
  ])('%s', async (_name, mutate, message) => {
    const out = mkdtempSync(join(tmpdir(), 'skipgrad-badckpt-'));
    const a = await setup();
    const controller = new AbortController();
    await sg.fit(a.model, { ...opts(a), outDir: out, signal: controller.signal, callbacks: [{ onBatchEnd: ({ step }) => void (step === 4 && controller.abort()) }] });
    const file = join(out, 'checkpoint.safetensors');
    const ckpt = await sg.loadCheckpoint(file);
    mutate(ckpt.state as St, ckpt.model);
    await sg.saveCheckpoint(file, ckpt);
    const before = readdirSync(out).sort();
    const b = await setup();
    await expect(sg.fit(b.model, { ...opts(b), outDir: out, resume: true })).rejects.toThrow(`${file}: ${message}`);
    expect(readdirSync(out).sort()).toEqual(before);
  });
});

describe('fit options', () => {
  it('refuses unknown options, the old call shape and resume without a folder, by name', async () => {
    const s = await setup();
    await expect(sg.fit(s.model, { ...opts(s), onStep: () => {} } as never)).rejects.toThrow("fit: unknown option(s) 'onStep' (known: train, test,");
    await expect(sg.fit({ model: s.model, trainLoader: s.train } as never, undefined as never)).rejects.toThrow(
      'fit: the first argument must be a model (an nn.Module): fit(model, {train, optimizer, epochs, …})',
    );
    await expect(sg.fit(s.model, { ...opts(s), resume: true })).rejects.toThrow('fit: resume needs outDir');
  });
});
