// gradflow.svg of a training run: ‖∂L/∂block output‖ per block at up to five of the steps in its
// gradflow.csv (the first, the last and evenly between), from light (early) to dark (late).

import { readFileSync } from 'node:fs';
import { gradflowChartSvg } from '../plot/gradflow.js';
import { GRADFLOW_TRAIN_CSV_COLUMNS } from './recorder.js';

const SHADES = ['#9ecae1', '#6baed6', '#3182bd', '#08519c', '#08306b'];

/** The SVG for the block rows of a gradflow.csv written by GradflowRecorder; null when it holds none. */
export function gradflowTrainingSvg(csvPath: string, title?: string): string | null {
  const lines = readFileSync(csvPath, 'utf8').split('\n');
  if (lines[0] !== GRADFLOW_TRAIN_CSV_COLUMNS.join(',')) throw new Error(`gradflowTrainingSvg: ${csvPath} is not a gradflow CSV`);
  const byStep = new Map<number, Map<string, number>>();
  const paths: string[] = [];
  for (const line of lines.slice(1)) {
    const c = line.split(',');
    if (c.length !== GRADFLOW_TRAIN_CSV_COLUMNS.length || c[1] !== 'block') continue;
    const step = Number(c[0]);
    if (!byStep.has(step)) byStep.set(step, new Map());
    if (!paths.includes(c[3])) paths.push(c[3]);
    byStep.get(step)!.set(c[3], c[4] === '' ? NaN : Number(c[4]));
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  if (!steps.length) return null;
  const k = Math.min(SHADES.length, steps.length);
  const picked = [...new Set(Array.from({ length: k }, (_, i) => steps[Math.round((i * (steps.length - 1)) / Math.max(1, k - 1))]))];
  const blocks = paths.map((path, i) => ({ depth: i + 1, path }));
  const series = picked.map((step, i) => ({
    name: `step ${step}`,
    color: SHADES[picked.length === 1 ? SHADES.length - 1 : Math.round((i * (SHADES.length - 1)) / (picked.length - 1))],
    points: blocks.map((b) => [b.depth, byStep.get(step)!.get(b.path) ?? NaN] as const),
  }));
  return gradflowChartSvg(blocks, series, { title: title ?? `Gradient at each block's output during training (steps ${steps[0]}–${steps.at(-1)})` });
}
