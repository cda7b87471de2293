// saveTrainingCheckpoint / loadTrainingCheckpoint: model + optimizer + scheduler + generator +
// position, for a loop of your own. Restored, the loop continues bit for bit.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

function setup() {
  const model = new sg.nn.Sequential(new sg.nn.Linear(6, 8), new sg.nn.ReLU(), new sg.nn.Dropout(0.3), new sg.nn.Linear(8, 3));
  const optimizer = new sg.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const scheduler = new sg.optim.OneCycleLR(optimizer as never, { maxLr: 0.1, totalSteps: 6 });
  return { model, optimizer, scheduler };
}

function step(o: ReturnType<typeof setup>, i: number): void {
  const g = new sg.Generator(100 + i); // the data: the same batches whatever the global generator does
  const x = sg.randn([4, 6], { generator: g });
  const y = sg.randint(0, 3, [4], { generator: g, dtype: 'int32' });
  o.optimizer.zeroGrad();
  sg.crossEntropy(o.model.call(x), y).backward(); // dropout draws from the default generator
  o.optimizer.step();
  o.scheduler.step();
}

const bits = (m: sg.nn.Module) => Object.values(m.stateDict()).map((t) => Array.from(t.data as Float32Array));

describe('saveTrainingCheckpoint / loadTrainingCheckpoint', () => {
  it('continues a loop bit for bit: weights, momentum, schedule and dropout masks', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'skipgrad-tckpt-')), 'ckpt.safetensors');
    sg.manualSeed(7);
    const a = setup();
    for (let i = 0; i < 3; i++) step(a, i);
    await sg.saveTrainingCheckpoint(path, { ...a, position: { step: 3 } });
    for (let i = 3; i < 6; i++) step(a, i);

    sg.manualSeed(123); // another init and generator state: the load must restore both
    const b = setup();
    const { position } = await sg.loadTrainingCheckpoint(path, b);
    expect(position).toEqual({ step: 3 });
    for (let i = 3; i < 6; i++) step(b, i);
    expect(bits(b.model)).toEqual(bits(a.model));
    expect(b.optimizer.paramGroups[0].lr).toBe(a.optimizer.paramGroups[0].lr);
  });

  it('says what is missing instead of loading half', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'skipgrad-tckpt-')), 'model-only.safetensors');
    const a = setup();
    await sg.saveTrainingCheckpoint(path, { model: a.model });
    await expect(sg.loadTrainingCheckpoint(path, setup())).rejects.toThrow(`${path}: holds no optimizer state to load`);
    const plain = join(mkdtempSync(join(tmpdir(), 'skipgrad-tckpt-')), 'plain.safetensors');
    await sg.saveCheckpoint(plain, { model: a.model.stateDict(), state: { note: 1 } });
    await expect(sg.loadTrainingCheckpoint(plain, { model: setup().model })).rejects.toThrow('not a training checkpoint');
    await expect(sg.saveTrainingCheckpoint(plain, {} as never)).rejects.toThrow('saveTrainingCheckpoint: objects.model must be an nn.Module');
  });
});
