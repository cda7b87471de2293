// fit's gradflowEvery: the gradient flow through every residual block, recorded during training,
// in the result and in the run folder; on resume it continues at the next step.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

const sink = { write: () => true };

async function setup() {
  sg.manualSeed(0);
  const train = await sg.FashionMNIST.load();
  const loader = new sg.DataLoader(new sg.data.Subset(train, Array.from({ length: 48 }, (_, i) => i)), { batchSize: 8, shuffle: true, seed: 0 });
  const model = sg.models.resnet18({ baseChannels: 2 });
  const optimizer = new sg.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  return { model, optimizer, train: loader };
}

describe('fit({gradflowEvery})', () => {
  it('records steps 1 and every N-th, each block with its branch and shortcut norms', async () => {
    const { model, optimizer, train } = await setup();
    const r = await sg.fit(model, { train, optimizer, epochs: 1, gradflowEvery: 2, progress: sink, log: sink });
    expect(r.gradflow!.map((g) => g.step)).toEqual([1, 2, 4, 6]);
    const first = r.gradflow![0];
    expect(first.blocks.map((b) => b.path)).toEqual(['1.0', '1.1', '2.0', '2.1', '3.0', '3.1', '4.0', '4.1']);
    for (const b of first.blocks) {
      expect(b.output).toBeGreaterThan(0);
      expect(b.branch).toBeGreaterThan(0);
      expect(b.shortcut).toBeGreaterThan(0);
    }
    expect(first.params.length).toBe(model.parameters().length);
  });

  it('writes gradflow.csv and gradflow.svg into the run folder and continues after resume', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'skipgrad-fitflow-')), 'run');
    let s = await setup();
    const stopAt3 = { onBatchEnd: (st: { step: number }) => (st.step === 3 ? ('stop' as const) : undefined) };
    await sg.fit(s.model, { train: s.train, optimizer: s.optimizer, epochs: 1, gradflowEvery: 2, outDir: out, callbacks: [stopAt3], progress: sink, log: sink });
    s = await setup();
    const r = await sg.fit(s.model, { train: s.train, optimizer: s.optimizer, epochs: 1, gradflowEvery: 2, outDir: out, resume: true, progress: sink, log: sink });
    expect(r.gradflow!.map((g) => g.step)).toEqual([4, 6]);
    const csv = readFileSync(join(out, 'gradflow.csv'), 'utf8').trim().split('\n');
    const steps = [...new Set(csv.slice(1).map((l) => Number(l.split(',')[0])))];
    expect(steps).toEqual([1, 2, 4, 6]);
    expect(existsSync(join(out, 'gradflow.svg'))).toBe(true);
  });

  it('refuses a gradflowEvery that is not a positive integer, by name', async () => {
    const { model, optimizer, train } = await setup();
    await expect(sg.fit(model, { train, optimizer, epochs: 1, gradflowEvery: 0, progress: sink, log: sink })).rejects.toThrow('fit: gradflowEvery must be an integer >= 1, got 0');
  });
});
