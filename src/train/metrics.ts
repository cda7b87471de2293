// The run's metrics: kept in memory (and in checkpoints), written as CSV with fast-csv and as
// D2L's training-curve figure in SVG (drawn by src/plot/curves.ts) after every epoch.

import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeToPath } from 'fast-csv';
import { curvesTitleFromConfig, trainingCurvesSvg as curvesSvg } from '../plot/curves.js';

/** One logged point; test accuracy only exists at the end of an epoch. */
export interface MetricRow {
  /** Fractional epoch (2.2 = a fifth into the third epoch), as D2L's Animator plots it. */
  epoch: number;
  step: number;
  lr: number;
  loss: number;
  trainAcc: number;
  testAcc: number | null;
  examplesPerSec: number;
  seconds: number;
}

export const METRIC_COLUMNS = ['epoch', 'step', 'lr', 'loss', 'train_acc', 'test_acc', 'examples_per_sec', 'seconds'] as const;

function round(x: number, digits = 6): number {
  return Number(x.toPrecision(digits));
}

/** Writes all rows to `path` atomically (temp file + rename). */
export async function writeMetricsCsv(path: string, rows: readonly MetricRow[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const records = rows.map((r) => [
    round(r.epoch, 4), r.step, round(r.lr), round(r.loss), round(r.trainAcc), r.testAcc === null ? '' : round(r.testAcc),
    round(r.examplesPerSec, 5), round(r.seconds, 5),
  ]);
  try {
    await new Promise<void>((resolve, reject) => {
      writeToPath(tmp, [METRIC_COLUMNS as unknown as string[], ...records])
        .on('error', reject)
        .on('finish', () => resolve());
    });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** D2L's figure (src/plot/curves.ts): loss, accuracies and learning rate against epochs. */
export function trainingCurvesSvg(rows: readonly MetricRow[], title?: string): string {
  return curvesSvg(rows, { title });
}

/**
 * Writes the figure atomically. Without a title it names the run from config.json beside `path`
 * (written by the CLI), so the figure says which model on which data it shows.
 */
export async function writeTrainingPlot(path: string, rows: readonly MetricRow[], title?: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  if (title === undefined) {
    try {
      title = curvesTitleFromConfig(JSON.parse(await readFile(join(dirname(path), 'config.json'), 'utf8')));
    } catch {
      title = undefined; // no (readable) config: the generic title
    }
  }
  await writeFile(tmp, trainingCurvesSvg(rows, title));
  await rename(tmp, path);
}
