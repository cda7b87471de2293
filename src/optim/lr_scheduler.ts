// The learning-rate scheduler base, as torch 1.13's _LRScheduler: construction records each
// group's initialLr (once, so several schedulers on one optimizer share it) and performs the
// initial step (lastEpoch -1 → 0); step() advances lastEpoch and writes getLr() into the groups.
// Formulas are PyTorch's recursive ("chainable") forms: each reads the group's current lr, so
// schedulers stepping the same optimizer compose multiplicatively.

import { Optimizer, describe, type HyperParams } from './optimizer.js';

/**
 * A scheduler's state from `stateDict()`: its own fields (epoch counters, base lrs and the like,
 * as PyTorch's `__dict__` minus the optimizer), plain and JSON-serialisable.
 */
export type SchedulerStateDict = Record<string, unknown>;

/** Keys that are wiring, not state: never saved or loaded. */
const NOT_STATE = new Set(['optimizer', 'name', 'schedulers']);

/**
 * The learning-rate scheduler base, as torch 1.13's `_LRScheduler`. Construction records each
 * group's `initialLr` and takes the initial step (epoch 0); every `step()` then moves the groups'
 * `lr` to the next epoch's value. The formulas are PyTorch's chainable ones, reading each group's
 * current lr, so several schedulers on one optimizer compose multiplicatively.
 */
export abstract class LRScheduler {
  /** Class name, used in error messages. */
  readonly name: string;
  /** The optimizer whose groups' `lr` this scheduler sets. */
  readonly optimizer: Optimizer<HyperParams>;
  /** Each group's `initialLr`, recorded at construction. */
  baseLrs: number[];
  /** The epoch of the last `step()` (0 after construction). */
  lastEpoch = -1;
  protected stepCount = 0;
  protected lastLr: number[];

  /** Subclasses set their fields, then call initialStep() (their fields don't exist yet in here). */
  constructor(name: string, optimizer: Optimizer<HyperParams>) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${name}: expected an Optimizer, got ${describe(optimizer)}`);
    this.name = name;
    this.optimizer = optimizer;
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Resets the step count and performs the first step (public for SequentialLR, which restarts its first scheduler). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The lrs for the new `lastEpoch`, from the groups' current lrs (chainable form). */
  protected abstract getLr(): number[];

  /** The lrs for `lastEpoch` from baseLrs alone, where the schedule has such a form. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /**
   * Advances one epoch (or step). `epoch` jumps to that epoch using the closed form where there
   * is one — PyTorch deprecates it for users; SequentialLR uses it to restart a scheduler at 0.
   */
  step(epoch?: number): void {
    this.stepCount++;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr() ?? this.getLr();
    }
    this.optimizer.paramGroups.forEach((g, i) => {
      if (i < values.length) g.lr = values[i];
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lrs of the last step, one per group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** Every field except the optimizer (PyTorch's __dict__ minus optimizer); JSON-serialisable. */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    for (const [k, v] of Object.entries(this)) if (!NOT_STATE.has(k)) out[k] = structuredClone(v);
    return out;
  }

  /**
   * Restores a state from `stateDict()` of the same kind of scheduler; unknown keys and values of the
   * wrong type are refused before anything changes.
   */
  loadStateDict(sd: SchedulerStateDict): void {
    const who = `${this.name}.loadStateDict`;
    if (sd == null || typeof sd !== 'object') throw new TypeError(`${who}: expected an object, got ${describe(sd)}`);
    const mine = this as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(sd)) {
      if (NOT_STATE.has(k)) continue;
      if (!(k in mine)) throw new Error(`${who}: unknown key '${k}'; is this another scheduler's state?`);
      if (typeof v !== typeof mine[k] || Array.isArray(v) !== Array.isArray(mine[k])) {
        throw new TypeError(`${who}: '${k}' should be ${describe(mine[k])}, got ${describe(v)}`);
      }
    }
    for (const [k, v] of Object.entries(sd)) if (!NOT_STATE.has(k)) mine[k] = structuredClone(v);
  }
}

/** Throws unless `value` is an integer >= min. */
export function checkInteger(who: string, what: string, value: unknown, min: number): void {
  if (!(Number.isInteger(value) && (value as number) >= min)) {
    throw new Error(`${who}: ${what} must be an integer >= ${min}, got ${String(value)}`);
  }
}
