// What the dashboard knows about a run folder, read from the files `train` and `evaluate` write:
// metrics.csv, gradflow.csv (train --gradflow-every), config.json, confusion.csv and the pictures.
// Files are read whole on each change; a half-appended last CSV line is skipped, not an error.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { GRADFLOW_TRAIN_CSV_COLUMNS } from '../inspect/recorder.js';
import { METRIC_COLUMNS } from '../train/metrics.js';
import type { MetricRow } from '../train/metrics.js';

/** The only files the dashboard serves from a run folder. */
export const RUN_FILES = [
  'metrics.csv', 'gradflow.csv', 'config.json', 'confusion.csv', 'confusion.svg', 'misclassified.svg', 'misclassified.png', 'curves.svg', 'gradflow.svg',
] as const;

/** One row of a run's metrics.csv: the training loop's own row type. */
export type MetricPoint = MetricRow;

/** A run's training-time gradient flow (gradflow.csv) arranged by block and step for the charts. */
export interface GradflowData {
  steps: number[];
  blocks: string[];
  /** [block][step] norms; null where a value is missing (e.g. a plain block's shortcut). */
  output: (number | null)[][];
  branch: (number | null)[][];
  shortcut: (number | null)[][];
  inputViaBranch: (number | null)[][];
  inputViaShortcut: (number | null)[][];
  params: string[];
  /** [param][step] grad/weight ratios. */
  ratio: (number | null)[][];
}

/** Everything the dashboard shows of one run folder, as served in JSON. */
export interface RunData {
  id: number;
  name: string;
  dir: string;
  /** Changes whenever one of the run's files does. */
  version: string;
  config: Record<string, unknown> | null;
  metrics: MetricPoint[];
  gradflow: GradflowData | null;
  confusion: { classes: string[]; counts: number[][] } | null;
  /** Which of RUN_FILES exist. */
  files: string[];
}

const num = (s: string | undefined): number | null => (s === undefined || s === '' ? null : Number.isFinite(Number(s)) ? Number(s) : null);

function csvLines(path: string): string[][] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map(splitCsvLine);
}

/** One CSV line into cells (quotes as RFC 4180 writes them). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') out.push(cur), (cur = '');
    else cur += ch;
  }
  out.push(cur.replace(/\r$/, ''));
  return out;
}

/** Reads a metrics.csv; [] if the file is missing or not one (a half-written last line is skipped). */
export function readMetrics(path: string): MetricPoint[] {
  const [head, ...rows] = csvLines(path);
  if (!head || head.join(',') !== METRIC_COLUMNS.join(',')) return [];
  return rows
    .filter((r) => r.length === METRIC_COLUMNS.length)
    .map((r) => ({
      epoch: num(r[0]) ?? NaN, step: num(r[1]) ?? NaN, lr: num(r[2]) ?? NaN, loss: num(r[3]) ?? NaN, trainAcc: num(r[4]) ?? NaN,
      testAcc: num(r[5]), examplesPerSec: num(r[6]) ?? NaN, seconds: num(r[7]) ?? NaN,
    }));
}

/** Reads a training-time gradflow.csv; null if the file is missing or not one. */
export function readGradflow(path: string): GradflowData | null {
  const [head, ...rows] = csvLines(path);
  if (!head || head.join(',') !== GRADFLOW_TRAIN_CSV_COLUMNS.join(',')) return null;
  const steps: number[] = [];
  const stepIndex = new Map<number, number>();
  const blocks = new Map<string, number>();
  const params = new Map<string, number>();
  const good = rows.filter((r) => r.length === GRADFLOW_TRAIN_CSV_COLUMNS.length && num(r[0]) !== null);
  for (const r of good) {
    const s = num(r[0])!;
    if (!stepIndex.has(s)) stepIndex.set(s, steps.push(s) - 1);
    const names = r[1] === 'block' ? blocks : params;
    if (!names.has(r[3])) names.set(r[3], names.size);
  }
  const grid = (n: number) => Array.from({ length: n }, () => new Array<number | null>(steps.length).fill(null));
  const g: GradflowData = {
    steps, blocks: [...blocks.keys()], params: [...params.keys()],
    output: grid(blocks.size), branch: grid(blocks.size), shortcut: grid(blocks.size), inputViaBranch: grid(blocks.size),
    inputViaShortcut: grid(blocks.size), ratio: grid(params.size),
  };
  for (const r of good) {
    const s = stepIndex.get(num(r[0])!)!;
    if (r[1] === 'block') {
      const b = blocks.get(r[3])!;
      g.output[b][s] = num(r[4]);
      g.branch[b][s] = num(r[5]);
      g.shortcut[b][s] = num(r[6]);
      g.inputViaBranch[b][s] = num(r[8]);
      g.inputViaShortcut[b][s] = num(r[9]);
    } else if (r[1] === 'param') {
      g.ratio[params.get(r[3])!][s] = num(r[12]);
    }
  }
  return g;
}

function readConfusion(path: string): RunData['confusion'] {
  const [head, ...rows] = csvLines(path);
  if (!head || rows.length !== head.length - 1) return null;
  return { classes: head.slice(1), counts: rows.map((r) => r.slice(1).map((v) => num(v) ?? 0)) };
}

function version(dir: string): string {
  return RUN_FILES.map((f) => {
    try {
      const st = statSync(join(dir, f));
      return `${st.mtimeMs}:${st.size}`;
    } catch {
      return '-';
    }
  }).join('|');
}

/** A run folder as the dashboard sees it; cached by the files' mtimes and sizes. */
export class RunFolder {
  readonly dir: string;
  readonly name: string;
  #cache: RunData | null = null;

  constructor(readonly id: number, dir: string, name?: string) {
    this.dir = resolve(dir);
    this.name = name ?? basename(this.dir);
  }

  /** A string that changes whenever one of the run's files does (from their mtimes and sizes). */
  version(): string {
    return version(this.dir);
  }

  /** The run's data, re-read only when {@link RunFolder.version} changed. */
  read(): RunData {
    const v = this.version();
    if (this.#cache?.version === v) return this.#cache;
    let config: Record<string, unknown> | null = null;
    try {
      config = JSON.parse(readFileSync(join(this.dir, 'config.json'), 'utf8'));
    } catch {
      config = null;
    }
    this.#cache = {
      id: this.id, name: this.name, dir: this.dir, version: v, config,
      metrics: readMetrics(join(this.dir, 'metrics.csv')),
      gradflow: readGradflow(join(this.dir, 'gradflow.csv')),
      confusion: readConfusion(join(this.dir, 'confusion.csv')),
      files: RUN_FILES.filter((f) => existsSync(join(this.dir, f))),
    };
    return this.#cache;
  }
}
