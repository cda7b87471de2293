// StepLR, MultiStepLR, CosineAnnealingLR and LinearLR: torch 1.13's formulas, term for term
// (the recursive get_lr for step(), the closed form for step(epoch)).

import type { HyperParams, Optimizer } from './optimizer.js';
import { LRScheduler, checkInteger } from './lr_scheduler.js';

/** Multiplies the lr by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer<HyperParams>, { stepSize, gamma = 0.1 }: { stepSize: number; gamma?: number }) {
    super('StepLR', optimizer);
    checkInteger('StepLR', 'stepSize', stepSize, 1);
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const lrs = this.optimizer.paramGroups.map((g) => g.lr);
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** Multiplies the lr by `gamma` at each milestone epoch (a milestone listed twice applies twice). */
export class MultiStepLR extends LRScheduler {
  /** Sorted, repeats kept (PyTorch's Counter). */
  milestones: number[];
  gamma: number;

  constructor(optimizer: Optimizer<HyperParams>, { milestones, gamma = 0.1 }: { milestones: number[]; gamma?: number }) {
    super('MultiStepLR', optimizer);
    if (!Array.isArray(milestones)) throw new TypeError(`MultiStepLR: milestones must be an array of epochs, got ${String(milestones)}`);
    milestones.forEach((m, i) => checkInteger('MultiStepLR', `milestones[${i}]`, m, 0));
    this.milestones = milestones.slice().sort((a, b) => a - b);
    this.gamma = gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    const lrs = this.optimizer.paramGroups.map((g) => g.lr);
    return hits === 0 ? lrs : lrs.map((lr) => lr * this.gamma ** hits);
  }

  protected override closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length; // bisect_right
    return this.baseLrs.map((b) => b * this.gamma ** passed);
  }
}

/**
 * Cosine annealing from the initial lr to `etaMin` over `tMax` epochs (SGDR without restarts),
 * in PyTorch's recursive form; past tMax it climbs back up, as PyTorch's does.
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer<HyperParams>, { tMax, etaMin = 0 }: { tMax: number; etaMin?: number }) {
    super('CosineAnnealingLR', optimizer);
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: tMax must be > 0, got ${tMax}`);
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    const groups = this.optimizer.paramGroups;
    // (PyTorch's branch for `_step_count == 1 and last_epoch > 0` serves construction with a
    // last_epoch, which this port does not offer: resume goes through loadStateDict.)
    if (e === 0) return groups.map((g) => g.lr);
    // Truncated and floored remainders agree on being zero, so JS % matches Python's test here.
    if ((e - 1 - T) % (2 * T) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return groups.map(
      (g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
}

/** Scales the lr linearly from startFactor to endFactor over totalIters epochs (warm-up). */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;

  constructor(
    optimizer: Optimizer<HyperParams>,
    { startFactor = 1 / 3, endFactor = 1, totalIters = 5 }: { startFactor?: number; endFactor?: number; totalIters?: number } = {},
  ) {
    super('LinearLR', optimizer);
    // torch 1.13 accepts startFactor 0, whose next recursive step divides by zero; later torch rejects it.
    if (!(startFactor > 0 && startFactor <= 1)) throw new Error(`LinearLR: startFactor must be in (0, 1], got ${startFactor}`);
    if (!(endFactor >= 0 && endFactor <= 1)) throw new Error(`LinearLR: endFactor must be in [0, 1], got ${endFactor}`);
    checkInteger('LinearLR', 'totalIters', totalIters, 1);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    const lrs = this.optimizer.paramGroups.map((g) => g.lr);
    if (e === 0) return lrs.map((lr) => lr * s);
    if (e > n) return lrs;
    return lrs.map((lr) => lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }

  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: f, totalIters: n } = this;
    return this.baseLrs.map((b) => b * (s + ((f - s) * Math.min(n, this.lastEpoch)) / n));
  }
}
