// Run folders as train writes them (metrics.csv, config.json, gradflow.csv from a real recorder on
// a tiny ResNet), for the dashboard tests.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crossEntropy, manualSeed, randint, randn } from '../../src/index.js';
import { GradflowRecorder } from '../../src/inspect/index.js';
import { resnet } from '../../src/models/index.js';
import { SGD } from '../../src/optim/index.js';
import { type MetricRow, writeMetricsCsv } from '../../src/train/metrics.js';

export function metricRows(epochs: number, perEpoch: number, lr: number): MetricRow[] {
  const out: MetricRow[] = [];
  for (let e = 0; e < epochs; e++) {
    for (let k = 1; k <= perEpoch; k++) {
      const epoch = e + k / perEpoch;
      out.push({
        epoch, step: 7 + Math.round(epoch * 10), lr: lr * (1 - epoch / (epochs + 1)), loss: 2 / (1 + epoch), trainAcc: 0.5 + 0.1 * epoch,
        testAcc: k === perEpoch ? Number((0.45 + 0.1 * (e + 1) + lr).toFixed(4)) : null, examplesPerSec: 100 + k, seconds: epoch * 3,
      });
    }
  }
  return out;
}

/** A run folder with `epochs` epochs of metrics and gradflow records of 4 steps. */
export async function makeRunFolder(root: string, name: string, epochs: number, lr: number): Promise<string> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ width: 4, optimizer: 'sgd', lr, epochs }) + '\n');
  await writeMetricsCsv(join(dir, 'metrics.csv'), metricRows(epochs, 5, lr));
  manualSeed(7);
  const model = resnet({ stages: [1, 1], baseChannels: 4 });
  const opt = new SGD(model.parameters(), { lr });
  const rec = new GradflowRecorder(model, { every: 1, csvPath: join(dir, 'gradflow.csv') });
  for (let step = 1; step <= 4; step++) {
    const x = randn([4, 1, 12, 12]);
    const y = randint(0, 10, [4], { dtype: 'int32' });
    opt.zeroGrad();
    crossEntropy(model.call(x), y).backward();
    rec.afterBackward(step);
    opt.step();
  }
  rec.close();
  return dir;
}

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'skipgrad-dash-'));
}
