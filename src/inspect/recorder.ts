// Gradient flow during training: every N steps, the same per-block norms as inspectGradients
// (output, branch, shortcut, input and its two parts) and every parameter's grad/weight ratio,
// measured on the training step's own backward and appended to a CSV in the run folder.
//
// Callback-shaped so any loop can drive it: call afterBackward(step) right after loss.backward()
// (before optimizer.step, so the ratio uses the weights the gradient was computed at). The hooks
// are installed only for the forward/backward of a step that will be recorded and removed once it
// is, so the other steps run exactly as without a recorder.

import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { RemovableHandle } from '../autograd/tensor.js';
import { Residual } from '../models/resnet.js';
import type { Module } from '../nn/module.js';
import { blockReport, paramReport, probeBlock, type BlockGradients, type ParameterGradients, type Probe } from './gradients.js';

/** Options of {@link GradflowRecorder}: how often to record and where the CSV goes. */
export interface GradflowRecorderOptions {
  /** Record steps 1, every, 2·every, … (step numbers are 1-based global optimizer steps). */
  every: number;
  /** Appends rows here (header written when the file is new); omit to keep records in memory only. */
  csvPath?: string;
  /** The first step this recorder will see (default 1): its hooks go in for it when it is recorded.
   * Whatever the first afterBackward(step) is, CSV rows from `step` on are dropped then, so a
   * resumed run does not repeat the steps it redoes. */
  firstStep?: number;
  /** Keep every record in `records` (default true; false keeps only the latest). */
  keep?: boolean;
}

/** One recorded step: every residual block's and parameter's gradient norms. */
export interface GradflowRecord {
  step: number;
  blocks: BlockGradients[];
  params: ParameterGradients[];
}

/** The header of the training-time gradient-flow CSV (a `block` row per residual block, a `param` row per parameter). */
export const GRADFLOW_TRAIN_CSV_COLUMNS = [
  'step', 'kind', 'depth', 'name', 'output', 'branch', 'shortcut', 'input', 'input_via_branch', 'input_via_shortcut',
  'grad_norm', 'weight_norm', 'ratio',
] as const;

const cell = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(Number(v.toPrecision(6))));

/** The CSV lines of one record: one `block` row per residual block, one `param` row per parameter. */
export function gradflowRecordLines(r: GradflowRecord): string[] {
  const blocks = r.blocks.map((b) =>
    [r.step, 'block', b.depth, b.path, cell(b.output), cell(b.branch), cell(b.shortcut), cell(b.input), cell(b.inputViaBranch), cell(b.inputViaShortcut), '', '', ''].join(','),
  );
  const params = r.params.map((p, i) => [r.step, 'param', i + 1, p.name, '', '', '', '', '', '', cell(p.gradNorm), cell(p.weightNorm), cell(p.ratio)].join(','));
  return [...blocks, ...params];
}

/**
 * Records the gradient-flow report (the per-block norms of {@link inspectGradients} and every parameter's grad/weight
 * ratio) every `every` steps during training, appending to a CSV: call `afterBackward(step)` right after `loss.backward()`.
 */
export class GradflowRecorder {
  readonly every: number;
  readonly csvPath: string | undefined;
  readonly records: GradflowRecord[] = [];
  #model: Module;
  #keep: boolean;
  #handles: RemovableHandle[] = [];
  #probes: Probe[] = [];
  #armedFor: number | null = null;
  #closed = false;
  #seenFirst = false;

  constructor(model: Module, options: GradflowRecorderOptions) {
    const { every, csvPath, firstStep = 1, keep = true } = options;
    if (!Number.isInteger(every) || every < 1) throw new Error(`GradflowRecorder: every must be an integer >= 1, got ${every}`);
    if (!Number.isInteger(firstStep) || firstStep < 1) throw new Error(`GradflowRecorder: firstStep must be an integer >= 1, got ${firstStep}`);
    if (!model.modules().some((m) => m instanceof Residual)) throw new Error('GradflowRecorder: the model has no residual blocks (models.Residual) to measure');
    this.#model = model;
    this.every = every;
    this.csvPath = csvPath;
    this.#keep = keep;
    if (csvPath) this.#prepareCsv(csvPath, Infinity);
    if (this.isRecordedStep(firstStep)) this.#arm(firstStep);
  }

  /** Whether step `step` is one this recorder measures. */
  isRecordedStep(step: number): boolean {
    return step === 1 || step % this.every === 0;
  }

  /** Call right after the backward of global step `step` (1-based). Returns the record when it measured this step. */
  afterBackward(step: number): GradflowRecord | null {
    if (this.#closed) return null;
    if (!this.#seenFirst && this.csvPath) this.#prepareCsv(this.csvPath, step);
    this.#seenFirst = true;
    let record: GradflowRecord | null = null;
    if (this.#armedFor === step && this.#probes.length > 0) {
      record = { step, blocks: this.#probes.map(blockReport), params: paramReport(this.#model, []) };
      if (this.#keep) this.records.push(record);
      else this.records.splice(0, this.records.length, record);
      if (this.csvPath) appendFileSync(this.csvPath, gradflowRecordLines(record).join('\n') + '\n');
    }
    this.#disarm();
    // There is no callback before a forward: install the hooks now when the next step is recorded.
    if (this.isRecordedStep(step + 1)) this.#arm(step + 1);
    return record;
  }

  /** Removes the hooks; the recorder measures nothing after this. */
  close(): void {
    this.#disarm();
    this.#closed = true;
  }

  #arm(step: number): void {
    this.#armedFor = step;
    const probes = this.#probes;
    // Each forward (an evaluation pass in between included) starts the per-block probes afresh.
    this.#handles.push(
      this.#model.registerForwardPreHook(() => {
        for (const p of probes) p.calls = 0;
        probes.length = 0;
      }),
    );
    for (const [path, m] of this.#model.namedModules()) if (m instanceof Residual) this.#handles.push(...probeBlock(path, m, probes));
  }

  #disarm(): void {
    for (const h of this.#handles) h.remove();
    this.#handles = [];
    for (const p of this.#probes) p.calls = 0;
    this.#probes.length = 0;
    this.#armedFor = null;
  }

  #prepareCsv(path: string, firstStep: number): void {
    const header = GRADFLOW_TRAIN_CSV_COLUMNS.join(',');
    if (!existsSync(path)) {
      writeFileSync(path, header + '\n');
      return;
    }
    const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
    if (lines[0] !== header) throw new Error(`GradflowRecorder: ${path} exists but is not a gradflow CSV (header '${lines[0]?.slice(0, 60) ?? ''}')`);
    const kept = lines.filter((l, i) => i === 0 || Number(l.slice(0, l.indexOf(','))) < firstStep);
    if (kept.length !== lines.length) writeFileSync(path, kept.join('\n') + '\n');
  }
}
