// The training state a checkpoint holds besides the weights, and its validation on resume: every
// field and tensor is checked (type, range, shape, dtype, finite) before any of it is applied,
// and an error names the file and the field.

import type { GeneratorState } from '../autograd/random.js';
import type { Tensor } from '../autograd/tensor.js';
import type { MetricRow } from './metrics.js';

/** Where a run stands, saved in a checkpoint so a resume continues at the exact batch with the same running totals. */
export interface Position {
  epoch: number; // 0-based epoch in progress
  batch: number; // next batch to run within it
  lossSum: number;
  correct: number;
  count: number;
  epochSeconds: number;
  totalSeconds: number;
  totalExamples: number;
  step: number;
}

/** The training state of a checkpoint: position, optimizer, scheduler, RNG, history and config. */
export interface TrainingState {
  position: Position;
  /** The run's planned length when saved (absent in checkpoints of skipgrad 0.1). */
  epochs?: number;
  optimizer: unknown;
  scheduler: unknown;
  rng: GeneratorState;
  history: MetricRow[];
  config: Record<string, unknown>;
}

const MAX_MESSAGE = 300;

/** An error about a checkpoint file: `${file}: ${message}`, kept to a readable length. */
export class CheckpointError extends Error {
  constructor(file: string, message: string) {
    let text = `${file}: ${message}`;
    if (text.length > MAX_MESSAGE) text = text.slice(0, MAX_MESSAGE - 1) + '…';
    super(text);
    this.name = 'CheckpointError';
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

const INT_FIELDS = ['epoch', 'batch', 'step', 'correct', 'count', 'totalExamples'] as const;
const FLOAT_FIELDS = ['lossSum', 'epochSeconds', 'totalSeconds'] as const;
const ROW_FIELDS = ['epoch', 'step', 'lr', 'loss', 'trainAcc', 'examplesPerSec', 'seconds'] as const;

/** Checks `state` against a loader of `batches` batches per epoch; throws a CheckpointError naming the field. */
export function validateTrainingState(state: unknown, file: string, batches: number): TrainingState {
  const bad = (field: string, msg: string) => new CheckpointError(file, `checkpoint field '${field}' ${msg}`);
  if (!isObject(state)) throw new CheckpointError(file, `checkpoint state must be an object, got ${show(state)}`);
  const pos = state.position;
  if (!isObject(pos)) throw bad('position', `must be an object, got ${show(pos)}`);
  for (const k of INT_FIELDS) {
    const v = pos[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(`position.${k}`, `must be an integer >= 0, got ${show(v)}`);
  }
  for (const k of FLOAT_FIELDS) {
    const v = pos[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`position.${k}`, `must be a finite number >= 0, got ${show(v)}`);
  }
  const p = pos as unknown as Position;
  if (p.batch >= batches) throw bad('position.batch', `is ${p.batch}, but an epoch of this data has ${batches} batches`);
  if (p.step !== p.epoch * batches + p.batch) {
    throw bad('position.step', `is ${p.step}, but epoch ${p.epoch} batch ${p.batch} at ${batches} batches per epoch is step ${p.epoch * batches + p.batch} (were the data or batch size changed?)`);
  }
  if (p.correct > p.count) throw bad('position.correct', `(${p.correct}) exceeds position.count (${p.count})`);
  if (p.batch === 0 && p.count !== 0) throw bad('position.count', `is ${p.count} at batch 0 (must be 0)`);
  if (p.totalExamples < p.count) throw bad('position.totalExamples', `(${p.totalExamples}) is less than position.count (${p.count})`);
  if (state.epochs !== undefined && !(typeof state.epochs === 'number' && Number.isInteger(state.epochs) && state.epochs >= 1)) {
    throw bad('epochs', `must be an integer >= 1, got ${show(state.epochs)}`);
  }
  const rng = state.rng;
  if (!isObject(rng) || !Array.isArray(rng.s) || rng.s.length !== 4) throw bad('rng', `must be {s: [4 uint32], spare}, got ${show(rng)}`);
  rng.s.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw bad(`rng.s.${i}`, `must be a uint32, got ${show(v)}`);
  });
  if ((rng.s as number[]).every((v) => v === 0)) throw bad('rng.s', 'is all zeros (not a valid generator state)');
  if (rng.spare !== null && rng.spare !== undefined && !(typeof rng.spare === 'number' && Number.isFinite(rng.spare))) {
    throw bad('rng.spare', `must be a finite number or null, got ${show(rng.spare)}`);
  }
  const history = state.history;
  if (!Array.isArray(history)) throw bad('history', `must be an array, got ${show(history)}`);
  history.forEach((row, i) => {
    if (!isObject(row)) throw bad(`history.${i}`, `must be an object, got ${show(row)}`);
    for (const k of ROW_FIELDS) {
      const v = row[k];
      if (typeof v !== 'number' || Number.isNaN(v) || ((k === 'epoch' || k === 'step' || k === 'loss' || k === 'trainAcc' || k === 'lr') && !Number.isFinite(v))) {
        throw bad(`history.${i}.${k}`, `must be a number, got ${show(v)}`);
      }
    }
    if (row.testAcc !== null && !(typeof row.testAcc === 'number' && Number.isFinite(row.testAcc))) {
      throw bad(`history.${i}.testAcc`, `must be a number or null, got ${show(row.testAcc)}`);
    }
  });
  if (!isObject(state.config)) throw bad('config', `must be an object, got ${show(state.config)}`);
  if (!isObject(state.optimizer)) throw bad('optimizer', `must be an object, got ${show(state.optimizer)}`);
  checkFinite(state.optimizer, 'optimizer', bad);
  if (state.scheduler !== null && state.scheduler !== undefined && !isObject(state.scheduler)) {
    throw bad('scheduler', `must be an object or null, got ${show(state.scheduler)}`);
  }
  return state as unknown as TrainingState;
}

/** Every typed array (optimizer buffer) and number in the optimizer state must be finite. */
function checkFinite(value: unknown, path: string, bad: (f: string, m: string) => Error, depth = 0): void {
  if (depth > 8) throw bad(path, 'is nested too deeply');
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw bad(path, `is ${value} (must be finite)`);
  } else if (ArrayBuffer.isView(value)) {
    const a = value as unknown as ArrayLike<number>;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw bad(path, `holds ${a[i]} at index ${i} (must be finite)`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkFinite(v, `${path}.${i}`, bad, depth + 1));
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) checkFinite(v, `${path}.${k}`, bad, depth + 1);
  }
}

/** The saved weights must have exactly the model's keys, shapes and dtypes, and finite values. */
export function validateModelTensors(saved: Record<string, Tensor>, expected: Record<string, Tensor>, file: string): void {
  const missing = Object.keys(expected).filter((k) => !Object.hasOwn(saved, k));
  const extra = Object.keys(saved).filter((k) => !Object.hasOwn(expected, k));
  const list = (keys: string[]) => keys.slice(0, 3).map((k) => `'${k}'`).join(', ') + (keys.length > 3 ? `, … (${keys.length})` : '');
  if (missing.length) throw new CheckpointError(file, `checkpoint lacks model tensor(s) ${list(missing)}`);
  if (extra.length) throw new CheckpointError(file, `checkpoint has model tensor(s) this model does not: ${list(extra)}`);
  for (const [k, want] of Object.entries(expected)) {
    const got = saved[k];
    const field = `model tensor '${k}'`;
    if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
      throw new CheckpointError(file, `${field} has shape [${got.shape.join(', ')}], the model's is [${want.shape.join(', ')}]`);
    }
    if (got.dtype !== want.dtype) throw new CheckpointError(file, `${field} is ${got.dtype}, the model's is ${want.dtype}`);
    const d = got.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i])) throw new CheckpointError(file, `${field} holds ${d[i]} at index ${i} (must be finite)`);
    }
  }
}

/**
 * `saved` must have the structure of `fresh` (the same object built anew): the same keys, array
 * lengths, types and strings, and finite numbers where `fresh` has finite ones. Catches a
 * scheduler or optimizer state that would load but compute NaN (a deleted maxLr, a renamed phase).
 */
export function checkLike(saved: unknown, fresh: unknown, field: string, file: string, depth = 0): void {
  const bad = (msg: string) => new CheckpointError(file, `checkpoint field '${field}' ${msg}`);
  if (depth > 8) return;
  if (typeof fresh === 'number') {
    if (typeof saved !== 'number' || Number.isNaN(saved) || (Number.isFinite(fresh) && !Number.isFinite(saved))) {
      throw bad(`must be ${Number.isFinite(fresh) ? 'a finite number' : 'a number'}, got ${show(saved)}`);
    }
  } else if (typeof fresh === 'string') {
    if (saved !== fresh) throw bad(`must be ${JSON.stringify(fresh)}, got ${show(saved)}`);
  } else if (typeof fresh === 'boolean') {
    if (typeof saved !== 'boolean') throw bad(`must be true or false, got ${show(saved)}`);
  } else if (fresh === null) {
    if (saved !== null && !(typeof saved === 'number' && Number.isFinite(saved))) throw bad(`must be null or a finite number, got ${show(saved)}`);
  } else if (Array.isArray(fresh)) {
    if (!Array.isArray(saved) || saved.length !== fresh.length) throw bad(`must be an array of length ${fresh.length}, got ${show(saved)}`);
    fresh.forEach((f, i) => checkLike(saved[i], f, `${field}.${i}`, file, depth + 1));
  } else if (isObject(fresh)) {
    if (!isObject(saved)) throw bad(`must be an object, got ${show(saved)}`);
    for (const k of Object.keys(fresh)) {
      if (!Object.hasOwn(saved, k)) throw new CheckpointError(file, `checkpoint field '${field}.${k}' is missing`);
      checkLike(saved[k], fresh[k], `${field}.${k}`, file, depth + 1);
    }
    const extra = Object.keys(saved).find((k) => !Object.hasOwn(fresh, k));
    if (extra !== undefined) throw new CheckpointError(file, `checkpoint field '${field}.${extra.slice(0, 40)}' is not part of this state`);
  }
}
