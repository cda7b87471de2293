// Schedulers made of schedulers, as torch 1.13's: SequentialLR hands over from one scheduler to
// the next at milestone epochs (warm-up, then decay); ChainedScheduler steps several at once.

import { LRScheduler, type SchedulerStateDict } from './lr_scheduler.js';
import { describe, type HyperParams, type Optimizer } from './optimizer.js';

function checkSchedulers(who: string, schedulers: LRScheduler[], optimizer: Optimizer<HyperParams>): void {
  if (!Array.isArray(schedulers) || schedulers.length === 0) throw new Error(`${who}: expected a non-empty array of schedulers, got ${describe(schedulers)}`);
  schedulers.forEach((s, i) => {
    if (!(s instanceof LRScheduler)) throw new TypeError(`${who}: schedulers[${i}] is ${describe(s)}, not a scheduler`);
    if (s.optimizer !== optimizer) {
      throw new Error(`${who}: all schedulers must belong to the same optimizer, but schedulers[${i}] drives a different ${s.optimizer.name}`);
    }
  });
}

function loadChildren(who: string, schedulers: LRScheduler[], sd: SchedulerStateDict): void {
  const states = sd.schedulers;
  if (!Array.isArray(states) || states.length !== schedulers.length) {
    throw new Error(`${who}.loadStateDict: expected ${schedulers.length} scheduler states, got ${describe(states)}`);
  }
  states.forEach((s, i) => schedulers[i].loadStateDict(s as SchedulerStateDict));
}

/**
 * Runs schedulers[0] until milestones[0], then schedulers[1] until milestones[1], …; a scheduler
 * taking over starts from its own epoch 0 (PyTorch's step(0)).
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  milestones: number[];

  constructor(optimizer: Optimizer<HyperParams>, { schedulers, milestones }: { schedulers: LRScheduler[]; milestones: number[] }) {
    super('SequentialLR', optimizer);
    checkSchedulers('SequentialLR', schedulers, optimizer);
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new Error(
        `SequentialLR: expects one milestone fewer than schedulers, got ${schedulers.length} schedulers and ${describe(milestones)} of milestones`,
      );
    }
    this.schedulers = schedulers.slice();
    this.milestones = milestones.slice();
    this.lastEpoch = 0;
    // Undo the initial steps the schedulers took when they were built, then restart the first.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr!;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0].initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  protected getLr(): number[] {
    return this.lastLr.slice();
  }

  override step(): void {
    this.lastEpoch++;
    const idx = this.milestones.filter((m) => m <= this.lastEpoch).length; // bisect_right
    const s = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.step(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** Restores this scheduler's state and its child schedulers' (saved under `schedulers`). */
  override loadStateDict(sd: SchedulerStateDict): void {
    loadChildren('SequentialLR', this.schedulers, sd);
    super.loadStateDict(sd);
  }
}

/** Steps every scheduler each step(), so their (chainable) factors multiply. */
export class ChainedScheduler extends LRScheduler {
  readonly schedulers: LRScheduler[];

  constructor(schedulers: LRScheduler[]) {
    const first = Array.isArray(schedulers) ? schedulers[0] : undefined;
    if (!(first instanceof LRScheduler)) throw new TypeError(`ChainedScheduler: expected a non-empty array of schedulers, got ${describe(schedulers)}`);
    super('ChainedScheduler', first.optimizer);
    checkSchedulers('ChainedScheduler', schedulers, first.optimizer);
    this.schedulers = schedulers.slice();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  protected getLr(): number[] {
    return this.lastLr.slice();
  }

  override step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** Restores this scheduler's state and its child schedulers' (saved under `schedulers`). */
  override loadStateDict(sd: SchedulerStateDict): void {
    loadChildren('ChainedScheduler', this.schedulers, sd);
    super.loadStateDict(sd);
  }
}
