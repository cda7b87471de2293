// Optimizer and scheduler state between skipgrad's stateDict() and PyTorch's state_dict() layout
// (torch 1.13): snake_case names, per-parameter tensors keyed by the parameter's index, Adam's
// `step` as a 0-d float tensor, the schedulers' private fields (_step_count, _last_lr, …).
// Tensors travel in a safetensors file as `state.<index>.<name>`; everything else is JSON.

import type { RawTensor } from '../io/safetensors.js';

/** The PyTorch optimizer classes an export can recreate. */
export type TorchOptimizerClass = 'SGD' | 'Adam' | 'AdamW';
/** The PyTorch LR scheduler classes an export can recreate. */
export type TorchSchedulerClass = 'OneCycleLR' | 'CosineAnnealingLR' | 'StepLR';

/** A PyTorch optimizer as JSON: its class and `state_dict()['param_groups']`. */
export interface TorchOptimizerJson {
  class: TorchOptimizerClass;
  /** optimizer.state_dict()['param_groups'] (params are indices). */
  param_groups: Array<Record<string, unknown> & { params: number[] }>;
}

/** A PyTorch LR scheduler as JSON: its class, when it steps, and its `state_dict()`. */
export interface TorchSchedulerJson {
  class: TorchSchedulerClass;
  /** 'step': stepped after every batch; 'epoch': after every epoch. */
  interval: 'step' | 'epoch';
  /** scheduler.state_dict(), minus what the constructor rebuilds (OneCycleLR's anneal_func). */
  state: Record<string, unknown>;
  /** Constructor arguments that the state does not hold. */
  args: Record<string, unknown>;
}

interface SkipgradOptimizerState {
  state: Record<string, Record<string, number | ArrayLike<number>>>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Group fields torch has and skipgrad does not: implementation switches, not hyper-parameters. */
const TORCH_ONLY_GROUP_KEYS = new Set(['foreach', 'capturable', 'differentiable', 'fused']);

const OPTIMIZER_KEYS: Record<TorchOptimizerClass, readonly string[]> = {
  SGD: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'],
  Adam: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'],
  AdamW: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'],
};
const SCHEDULER_GROUP_KEYS = ['initialLr', 'maxLr', 'minLr', 'maxMomentum', 'baseMomentum'];

function float32(a: ArrayLike<number>): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** skipgrad optimizer.stateDict() → torch's param_groups JSON plus `state.<i>.<name>` tensors. */
export function optimizerToTorch(
  cls: TorchOptimizerClass,
  sd: SkipgradOptimizerState,
  shapes: number[][],
): { json: TorchOptimizerJson; tensors: Record<string, RawTensor> } {
  const known = new Set([...OPTIMIZER_KEYS[cls], ...SCHEDULER_GROUP_KEYS]);
  const paramGroups = sd.paramGroups.map((g, gi) => {
    const out: Record<string, unknown> & { params: number[] } = { params: g.params.slice() };
    for (const [k, v] of Object.entries(g)) {
      if (k === 'params') continue;
      if (!known.has(k)) throw new Error(`export: ${cls} parameter group ${gi} has '${k}', which has no PyTorch counterpart here`);
      out[snake(k)] = Array.isArray(v) ? v.slice() : v;
    }
    return out;
  });
  const tensors: Record<string, RawTensor> = {};
  for (const [idx, s] of Object.entries(sd.state)) {
    const shape = shapes[Number(idx)];
    if (!shape) throw new Error(`export: optimizer state for parameter ${idx}, which the model does not have`);
    for (const [k, v] of Object.entries(s)) {
      const name = `state.${idx}.${snake(k)}`;
      // torch 1.13 keeps Adam's step as a float32 0-d tensor.
      if (typeof v === 'number') tensors[name] = { dtype: 'F32', shape: [], data: Float32Array.of(v) };
      else tensors[name] = { dtype: 'F32', shape: shape.slice(), data: float32(v) };
    }
  }
  return { json: { class: cls, param_groups: paramGroups }, tensors };
}

/** The way back: torch layout → a skipgrad optimizer stateDict (buffers as Float32Array). */
export function optimizerFromTorch(json: TorchOptimizerJson, tensors: Record<string, RawTensor>, file: string): SkipgradOptimizerState {
  const cls = json.class;
  if (!(cls in OPTIMIZER_KEYS)) throw new Error(`${file}: optimizer class '${String(cls)}' is not one skipgrad has (SGD, Adam, AdamW)`);
  const known = new Set([...OPTIMIZER_KEYS[cls], ...SCHEDULER_GROUP_KEYS]);
  const paramGroups = json.param_groups.map((g, gi) => {
    const out: Record<string, unknown> & { params: number[] } = { params: g.params.slice() };
    for (const [k, v] of Object.entries(g)) {
      if (k === 'params' || TORCH_ONLY_GROUP_KEYS.has(k)) continue;
      const key = camel(k);
      if (!known.has(key)) throw new Error(`${file}: ${cls} parameter group ${gi} has '${k}', which skipgrad's ${cls} does not have`);
      out[key] = Array.isArray(v) ? v.slice() : v;
    }
    return out;
  });
  const state: SkipgradOptimizerState['state'] = {};
  for (const [name, raw] of Object.entries(tensors)) {
    const m = /^state\.(\d+)\.([a-z_]+)$/.exec(name);
    if (!m) throw new Error(`${file}: unexpected tensor '${name}' (expected state.<index>.<name>)`);
    const [, idx, k] = m;
    const data = raw.data;
    if (!(data instanceof Float32Array || data instanceof Float64Array)) throw new Error(`${file}: tensor '${name}' is ${raw.dtype}, expected a float tensor`);
    (state[idx] ??= {})[camel(k)] = k === 'step' ? data[0] : Float32Array.from(data);
  }
  return { state, paramGroups };
}

/** Renamed fields between skipgrad's LRScheduler (left) and torch's _LRScheduler.__dict__ (right). */
const SCHEDULER_RENAMES: Record<string, string> = {
  stepCount: '_step_count', lastLr: '_last_lr', phases: '_schedule_phases', tMax: 'T_max',
};
/** Set by torch's constructor and not stored by skipgrad (torch's get_lr bookkeeping). */
const TORCH_ONLY_SCHEDULER_KEYS = new Set(['verbose', '_get_lr_called_within_step', 'anneal_func', '_anneal_func']);

function phaseToTorch(p: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) o[snake(k)] = typeof v === 'string' ? snake(v) : v;
  return o;
}

function phaseFromTorch(p: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) o[camel(k)] = typeof v === 'string' ? camel(v) : v;
  return o;
}

/** skipgrad scheduler.stateDict() → torch's state_dict() plus what its constructor needs. */
export function schedulerToTorch(cls: TorchSchedulerClass, interval: 'step' | 'epoch', sd: Record<string, unknown>): TorchSchedulerJson {
  const state: Record<string, unknown> = { verbose: false, _get_lr_called_within_step: false };
  const args: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(sd)) {
    if (k === 'annealStrategy') {
      args.anneal_strategy = v; // torch keeps it as a bound method, anneal_func, rebuilt by its constructor
      continue;
    }
    const key = SCHEDULER_RENAMES[k] ?? snake(k);
    state[key] = k === 'phases' ? (v as Record<string, unknown>[]).map(phaseToTorch) : structuredClone(v);
  }
  return { class: cls, interval, state, args };
}

export function schedulerFromTorch(json: TorchSchedulerJson, file: string): Record<string, unknown> {
  if (!['OneCycleLR', 'CosineAnnealingLR', 'StepLR'].includes(json.class)) {
    throw new Error(`${file}: scheduler class '${json.class}' is not one skipgrad trains with (OneCycleLR, CosineAnnealingLR, StepLR)`);
  }
  const back = Object.fromEntries(Object.entries(SCHEDULER_RENAMES).map(([a, b]) => [b, a]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json.state)) {
    if (TORCH_ONLY_SCHEDULER_KEYS.has(k)) continue;
    const key = back[k] ?? camel(k);
    out[key] = key === 'phases' ? (v as Record<string, unknown>[]).map(phaseFromTorch) : structuredClone(v);
  }
  if (json.class === 'OneCycleLR') out.annealStrategy = json.args.anneal_strategy ?? 'cos';
  return out;
}
