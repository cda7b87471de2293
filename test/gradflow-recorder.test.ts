// GradflowRecorder: the per-block and per-parameter gradient norms of a training step, measured
// on the step's own backward, equal inspectGradients' on the same weights and batch; only the
// steps it records get hooks; gradflow.csv holds them and a resumed run does not repeat steps.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crossEntropy, manualSeed, randint, randn, type Tensor } from '../src/index.js';
import { GRADFLOW_TRAIN_CSV_COLUMNS, GradflowRecorder, inspectGradients } from '../src/inspect/index.js';
import { Residual, resnet } from '../src/models/index.js';
import { Linear, Sequential } from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';
import { readGradflow } from '../src/dashboard/index.js';

function net() {
  manualSeed(5);
  return resnet({ stages: [1, 1], baseChannels: 4 });
}
function batch(seed: number) {
  manualSeed(seed);
  return { x: randn([4, 1, 12, 12]), y: randint(0, 10, [4], { dtype: 'int32' }) };
}

describe('GradflowRecorder', () => {
  it('records what inspectGradients reports for the same weights and batch', () => {
    const model = net();
    const b = batch(1);
    const expected = inspectGradients(model, b);
    const rec = new GradflowRecorder(model, { every: 5 });
    model.zeroGrad();
    crossEntropy(model.call(b.x), b.y).backward();
    const r = rec.afterBackward(1)!;
    expect(r.step).toBe(1);
    expect(r.blocks.map((x) => x.path)).toEqual(['1.0', '2.0']);
    // inspectGradients makes the input require grad; everything from the first block on is the same.
    for (const [i, blk] of r.blocks.entries()) {
      for (const k of ['output', 'branch', 'shortcut', 'input', 'inputViaBranch', 'inputViaShortcut'] as const) {
        expect(blk[k], `${blk.path} ${k}`).toBeCloseTo(expected.blocks[i][k]!, 6);
      }
    }
    expect(r.blocks[1].projection).toBe(true);
    const byName = new Map(expected.params.map((p) => [p.name, p]));
    expect(r.params.length).toBe(expected.params.length);
    for (const p of r.params) expect(p.ratio, p.name).toBeCloseTo(byName.get(p.name)!.ratio!, 6);
    rec.close();
  });

  it('measures steps 1, N, 2N only, with hooks only around those steps', () => {
    const model = net();
    const opt = new SGD(model.parameters(), { lr: 0.05 });
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-gradflow-'));
    const csvPath = join(dir, 'gradflow.csv');
    const rec = new GradflowRecorder(model, { every: 3, csvPath });
    const block = model.modules().find((m) => m instanceof Residual) as Residual;
    const recorded: number[] = [];
    const hooked: number[] = [];
    for (let step = 1; step <= 7; step++) {
      const b = batch(10 + step);
      // A block with full backward hooks wraps its input in a backwardHookInput node: see which steps do.
      let wrapped = false;
      const probe = block.conv1.registerForwardPreHook((_m, args) => void (wrapped = (args[0] as Tensor).gradFn?.name === 'backwardHookInput'));
      opt.zeroGrad();
      crossEntropy(model.call(b.x), b.y).backward();
      probe.remove();
      if (wrapped) hooked.push(step);
      if (rec.afterBackward(step)) recorded.push(step);
      opt.step();
    }
    expect(recorded).toEqual([1, 3, 6]);
    expect(rec.records.map((r) => r.step)).toEqual([1, 3, 6]);
    const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(GRADFLOW_TRAIN_CSV_COLUMNS.join(','));
    const params = model.parameters().length;
    expect(lines.length).toBe(1 + 3 * (2 + params));
    const g = readGradflow(csvPath)!;
    expect(g.steps).toEqual([1, 3, 6]);
    expect(g.blocks).toEqual(['1.0', '2.0']);
    expect(g.output[0][2]).toBeCloseTo(rec.records[2].blocks[0].output!, 5);
    expect(hooked).toEqual([1, 3, 6]);
    rec.close();
  });

  it('a resumed run drops the CSV rows it will redo, and bad options are refused by name', () => {
    const model = net();
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-gradflow-'));
    const csvPath = join(dir, 'gradflow.csv');
    const head = GRADFLOW_TRAIN_CSV_COLUMNS.join(',');
    writeFileSync(csvPath, [head, '1,block,1,1.0,1,1,1,1,1,1,,,', '4,block,1,1.0,2,2,2,2,2,2,,,', '8,block,1,1.0,3,3,3,3,3,3,,,'].join('\n') + '\n');
    const rec = new GradflowRecorder(model, { every: 4, csvPath, firstStep: 5 });
    rec.afterBackward(5);
    expect(readFileSync(csvPath, 'utf8').trim().split('\n').map((l) => l.split(',')[0])).toEqual(['step', '1', '4']);
    rec.close();
    expect(() => new GradflowRecorder(model, { every: 0 })).toThrow('GradflowRecorder: every must be an integer >= 1, got 0');
    expect(() => new GradflowRecorder(new Sequential(new Linear(2, 2)), { every: 1 })).toThrow('GradflowRecorder: the model has no residual blocks');
    writeFileSync(join(dir, 'other.csv'), 'a,b\n');
    expect(() => new GradflowRecorder(model, { every: 1, csvPath: join(dir, 'other.csv') })).toThrow(/is not a gradflow CSV/);
  });
});
