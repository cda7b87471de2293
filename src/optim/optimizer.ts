// The Optimizer base, with PyTorch's semantics: parameter groups carrying their own
// hyper-parameters, per-parameter state, zeroGrad (set to null), stateDict / loadStateDict.
// Subclasses implement `update` for one parameter; the base walks the groups and skips params
// whose grad is null.

import { Tensor } from '../autograd/tensor.js';
import { enableGrad, noGrad } from '../autograd/grad_mode.js';
import { allocate, type FloatArray, type TypedArray } from '../kernels/dtype.js';
import { fmt } from '../kernels/shape.js';

/** Hyper-parameters every group has; `momentum`/`betas` are what OneCycleLR cycles. */
export interface HyperParams {
  lr: number;
  momentum?: number;
  betas?: [number, number];
}

/** Fields that schedulers keep on a group (PyTorch's initial_lr, max_lr, …). */
export interface SchedulerFields {
  initialLr?: number;
  maxLr?: number;
  minLr?: number;
  maxMomentum?: number;
  baseMomentum?: number;
}

/**
 * A parameter group as the optimizer holds it (`optimizer.paramGroups[i]`): its parameters, every
 * hyper-parameter (its own or the optimizer's default), and the fields schedulers keep. Schedulers
 * write `lr` here; changing it by hand works too, as in PyTorch.
 */
export type ParamGroup<H extends HyperParams = HyperParams> = H & SchedulerFields & { params: Tensor[] };

/** A group as given to the constructor or addParamGroup: its params plus per-group overrides. */
export type ParamGroupSpec<H extends HyperParams = HyperParams> = Partial<H> & SchedulerFields & { params: Iterable<Tensor> };

/**
 * What an optimizer takes: the parameters themselves (e.g. `model.parameters()`), or parameter
 * groups, each with its own hyper-parameter overrides.
 */
export type Params<H extends HyperParams = HyperParams> = Iterable<Tensor> | Iterable<ParamGroupSpec<H>>;

/** Per-parameter state: buffers in the parameter's dtype, and counters. */
export type ParamState = Record<string, FloatArray | number>;

/**
 * How a per-parameter state entry is checked on load: a 'buffer' of the parameter's size and dtype,
 * or a 'count' (a non-negative integer, e.g. Adam's step).
 */
export type StateKind = 'buffer' | 'count';

/**
 * JSON-serialisable optimizer state. Buffers are typed arrays of the parameter's dtype that
 * JSON.stringify writes as plain arrays (float32 and float64 values survive the trip exactly);
 * loadStateDict takes either form.
 */
export interface OptimizerStateDict {
  state: Record<string, Record<string, number | number[] | TypedArray>>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

/**
 * The optimizer base, as `torch.optim.Optimizer`: parameter groups with their own
 * hyper-parameters, per-parameter state, `step`, `zeroGrad` and `stateDict`/`loadStateDict`.
 * Subclasses implement the update of one parameter; `step` skips parameters whose grad is null.
 */
export abstract class Optimizer<H extends HyperParams = HyperParams> {
  /** The optimizer's name, used in every error message. */
  readonly name: string;
  /** The hyper-parameters a group gets when it does not give its own. */
  readonly defaults: Partial<H>;
  /** The hyper-parameter names this optimizer reads: any other option is refused by name, as torch's keyword check does. */
  private readonly known: Set<string>;
  /** The parameter groups, in the order given. */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state (momentum buffers, step counts), created on a parameter's first update. */
  readonly state = new Map<Tensor, ParamState>();
  /** Which state keys this optimizer keeps, checked by loadStateDict. */
  protected abstract readonly stateKinds: Readonly<Record<string, StateKind>>;

  /** `builtin` are the optimizer's own defaults; `options` (undefined entries ignored) override them. */
  constructor(name: string, params: Params<H>, builtin: Partial<H>, options: Partial<H>) {
    this.name = name;
    this.known = new Set(['lr', ...Object.keys(builtin)]);
    if (options !== null && typeof options === 'object') this.refuseUnknown(options, 'options');
    this.defaults = { ...builtin, ...definedOnly(options) } as Partial<H>;
    if (params == null || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`${name}: params must be an array of Tensors or of parameter groups, got ${describe(params)}`);
    }
    const list = Array.from(params as Iterable<Tensor | ParamGroupSpec<H>>);
    if (list.length === 0) throw new Error(`${name}: got an empty parameter list`);
    const specs = list[0] instanceof Tensor ? [{ params: list as Tensor[] } as unknown as ParamGroupSpec<H>] : (list as ParamGroupSpec<H>[]);
    for (const spec of specs) this.addParamGroup(spec);
  }

  /** Adds a group; hyper-parameters it does not give come from the defaults. */
  addParamGroup(spec: ParamGroupSpec<H>): void {
    const gi = this.paramGroups.length;
    if (spec instanceof Tensor || spec == null || typeof spec !== 'object' || !('params' in spec)) {
      throw new TypeError(`${this.name}: parameter group ${gi} must be an object {params, …}, got ${describe(spec)}`);
    }
    const raw = spec.params as unknown;
    const params = raw instanceof Tensor ? [raw] : Array.from(raw as Iterable<unknown>);
    const seen = new Set<Tensor>();
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) {
        throw new TypeError(`${this.name}: can only optimize Tensors, parameter ${i} of group ${gi} is ${describe(p)}`);
      }
      const where = `parameter ${i} of group ${gi}, shape ${fmt(p.shape)}`;
      if (!p.isLeaf) throw new Error(`${this.name}: can't optimize a non-leaf tensor (${where}); optimize the leaf it was computed from`);
      if (p.dtype === 'int32') throw new Error(`${this.name}: can only optimize float tensors (${where} is int32)`);
      if (seen.has(p)) throw new Error(`${this.name}: ${where} appears twice in its group`);
      seen.add(p);
      const other = this.paramGroups.findIndex((g) => g.params.includes(p));
      if (other >= 0) throw new Error(`${this.name}: ${where} is already in group ${other}; a parameter may be in one group only`);
    });
    const group = { ...this.defaults, ...definedOnly(spec), params: params as Tensor[] } as ParamGroup<H>;
    if (Array.isArray(group.betas)) group.betas = [group.betas[0], group.betas[1]];
    if (group.lr !== undefined && typeof group.lr !== 'number') {
      throw new TypeError(`${this.name}: parameter group ${gi}: lr must be a number, got ${describe(group.lr)}`);
    }
    if (typeof group.lr !== 'number') {
      throw new Error(`${this.name}: parameter group ${gi} didn't specify a value of the required hyper-parameter lr`);
    }
    this.validateGroup(group, gi);
    this.paramGroups.push(group);
  }

  // Only the constructor's options: a parameter group may carry extra keys (e.g. a name), as in torch.
  private refuseUnknown(o: object, where: string): void {
    const bad = Object.keys(o).filter((k) => !this.known.has(k));
    if (bad.length) {
      throw new TypeError(`${this.name}: unknown option(s) ${bad.map((k) => `'${k}'`).join(', ')} in ${where} (known: ${[...this.known].join(', ')})`);
    }
  }

  /** Checks a group's hyper-parameters; throws naming the optimizer and the value. */
  protected abstract validateGroup(group: ParamGroup<H>, index: number): void;

  /** Updates `param.data` in place from `grad`; `state` is this parameter's (initially empty) state. */
  protected abstract update(param: Tensor, grad: TypedArray, group: ParamGroup<H>, state: ParamState): void;

  /** One optimisation step. `closure`, if given, re-evaluates the loss (with grad on) and its value is returned. */
  step(closure?: () => Tensor | number): number | undefined {
    let loss: number | undefined;
    if (closure) {
      const out = enableGrad(closure);
      loss = typeof out === 'number' ? out : out.item();
    }
    noGrad(() => {
      this.paramGroups.forEach((group, gi) => {
        group.params.forEach((p, i) => {
          const g = p.grad;
          if (g === null) return;
          if (g.size !== p.size) {
            throw new Error(`${this.name}.step: the grad of parameter ${i} of group ${gi} has shape ${fmt(g.shape)}, the parameter has shape ${fmt(p.shape)}`);
          }
          let state = this.state.get(p);
          if (!state) this.state.set(p, (state = {}));
          this.update(p, g.data, group, state);
        });
      });
    });
    return loss;
  }

  /** Clears gradients: to null (PyTorch 2's default), or to zeros in place with setToNone = false. */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (setToNone) p.grad = null;
        else p.grad?.data.fill(0);
      }
    }
  }

  /** The state and hyper-parameters, parameters named by their index across all groups. */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict['state'] = {};
    let next = 0;
    const paramGroups = this.paramGroups.map((group) => {
      const { params, ...hyper } = group;
      const indices = params.map((p) => {
        const s = this.state.get(p);
        if (s && Object.keys(s).length) state[next] = copyState(s);
        return next++;
      });
      return { ...structuredClone(hyper), params: indices };
    });
    return { state, paramGroups };
  }

  /**
   * Restores a stateDict onto this optimizer's parameters (matched by position, as PyTorch does).
   * Everything is validated before anything changes.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const who = `${this.name}.loadStateDict`;
    if (sd == null || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || sd.state == null || typeof sd.state !== 'object') {
      throw new TypeError(`${who}: expected {state, paramGroups}, got ${describe(sd)}`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${who}: the state dict has ${sd.paramGroups.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    }
    const byIndex = new Map<number, Tensor>();
    const groups = sd.paramGroups.map((saved, gi) => {
      const mine = this.paramGroups[gi];
      if (!Array.isArray(saved.params) || saved.params.length !== mine.params.length) {
        const n = Array.isArray(saved.params) ? saved.params.length : describe(saved.params);
        throw new Error(`${who}: parameter group ${gi} holds ${n} parameters in the state dict and ${mine.params.length} in the optimizer`);
      }
      saved.params.forEach((idx, j) => byIndex.set(idx, mine.params[j]));
      const { params: _ignored, ...hyper } = saved;
      const group = { ...this.defaults, ...structuredClone(hyper), params: mine.params } as ParamGroup<H>;
      if (typeof group.lr !== 'number') throw new Error(`${who}: parameter group ${gi} has no lr`);
      this.validateGroup(group, gi);
      return group;
    });
    const state = new Map<Tensor, ParamState>();
    for (const [key, saved] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(key));
      if (!p) throw new Error(`${who}: the state dict has state for parameter ${key}, which no parameter group lists`);
      state.set(p, this.parseState(saved, p, `${who}: parameter ${key}`));
    }
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
    this.state.clear();
    for (const [p, s] of state) this.state.set(p, s);
  }

  private parseState(saved: Record<string, unknown>, p: Tensor, where: string): ParamState {
    if (saved == null || typeof saved !== 'object') throw new TypeError(`${where}: state must be an object, got ${describe(saved)}`);
    const out: ParamState = {};
    for (const [k, v] of Object.entries(saved)) {
      const kind = this.stateKinds[k];
      if (!kind) throw new Error(`${where}: unknown state '${k}' (${this.name} keeps ${Object.keys(this.stateKinds).join(', ')})`);
      if (kind === 'count') {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${where}: ${k} must be a number, got ${describe(v)}`);
        out[k] = v;
      } else {
        if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw new TypeError(`${where}: ${k} must be an array, got ${describe(v)}`);
        const arr = v as ArrayLike<number>;
        if (arr.length !== p.size) {
          throw new Error(`${where}: ${k} has ${arr.length} elements, the parameter has shape ${fmt(p.shape)} (${p.size} elements)`);
        }
        const buf = allocate(p.dtype, p.size) as FloatArray;
        buf.set(arr);
        out[k] = buf;
      }
    }
    return out;
  }
}

/** A zero-filled buffer of the parameter's dtype, created in `state` on first use. */
export function stateBuffer(state: ParamState, key: string, p: Tensor): FloatArray {
  let b = state[key];
  if (b === undefined) state[key] = b = allocate(p.dtype, p.size) as FloatArray;
  return b as FloatArray;
}

/** Throws `${who}: invalid ${what} ${value} (must be >= 0)` unless value >= 0 (NaN fails). */
export function checkNonNegative(who: string, what: string, value: unknown): void {
  if (!(typeof value === 'number' && value >= 0)) throw new Error(`${who}: invalid ${what} ${String(value)} (must be >= 0)`);
}

function copyState(s: ParamState): Record<string, number | TypedArray> {
  const out: Record<string, number | TypedArray> = {};
  for (const [k, v] of Object.entries(s)) out[k] = typeof v === 'number' ? v : jsonFriendly(v.slice());
  return out;
}

/** Typed arrays stringify as {"0":…}; give this copy a toJSON that writes a plain array instead. */
function jsonFriendly<T extends TypedArray>(a: T): T {
  Object.defineProperty(a, 'toJSON', { value: () => Array.from(a), enumerable: false });
  return a;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'params') (out as Record<string, unknown>)[k] = v;
  return out;
}

export function describe(x: unknown): string {
  if (x instanceof Tensor) return `a tensor of shape ${fmt(x.shape)}`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (x === null) return 'null';
  if (typeof x !== 'object') return `${typeof x} ${String(x)}`;
  const ctor = (x as object).constructor;
  return ctor && ctor !== Object ? `a ${ctor.name}` : 'an object';
}
