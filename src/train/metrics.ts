// The run's metrics: kept in memory (and in checkpoints), written as CSV with fast-csv and as
// D2L's training-curve figure in SVG after every epoch.

import { rename, rm, writeFile } from 'node:fs/promises';
import { writeToPath } from 'fast-csv';
import { lineChart } from '../plot/svg.js';

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

/** D2L's figure: train loss, train acc and test acc against epochs. */
export function trainingCurvesSvg(rows: readonly MetricRow[], title = 'training'): string {
  const tests = rows.filter((r) => r.testAcc !== null);
  return lineChart(
    [
      { name: 'train loss', points: rows.map((r) => [r.epoch, r.loss] as const) },
      { name: 'train acc', points: rows.map((r) => [r.epoch, r.trainAcc] as const), dashed: true },
      { name: 'test acc', points: tests.map((r) => [r.epoch, r.testAcc as number] as const) },
    ],
    { title, xLabel: 'epoch', yMin: 0, xMin: 0 },
  );
}

export async function writeTrainingPlot(path: string, rows: readonly MetricRow[], title?: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, trainingCurvesSvg(rows, title));
  await rename(tmp, path);
}
