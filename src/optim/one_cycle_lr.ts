// OneCycleLR (Smith & Topin's 1cycle policy), torch 1.13's implementation: the lr rises from
// maxLr/divFactor to maxLr over pctStart of the steps, then anneals to initialLr/finalDivFactor;
// momentum (SGD's momentum or Adam's beta1) moves the opposite way between maxMomentum and
// baseMomentum. `threePhase` adds a symmetric way down before the final annealing.

import { LRScheduler, checkInteger } from './lr_scheduler.js';
import type { HyperParams, Optimizer, SchedulerFields } from './optimizer.js';

/** Options of `OneCycleLR`, as torch.optim.lr_scheduler.OneCycleLR's keywords and defaults. */
export interface OneCycleLROptions {
  /** Peak lr: one for all groups or one per group. */
  maxLr: number | number[];
  /** Give totalSteps, or epochs and stepsPerEpoch. */
  totalSteps?: number;
  /** With `stepsPerEpoch`, gives totalSteps = epochs · stepsPerEpoch. */
  epochs?: number;
  /** Steps (batches) per epoch; see `epochs`. */
  stepsPerEpoch?: number;
  /** Fraction of the steps spent raising the lr (default 0.3). */
  pctStart?: number;
  /** Shape of each phase's change (default 'cos'). */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle SGD's momentum or Adam's beta1 inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Momentum at the lr's peak (default 0.85). */
  baseMomentum?: number | number[];
  /** Momentum at the start and end of the cycle (default 0.95). */
  maxMomentum?: number | number[];
  /** The initial lr is maxLr / divFactor (default 25). */
  divFactor?: number;
  /** The final lr is initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Go back down to the initial lr symmetrically before annealing to the final lr (default false). */
  threePhase?: boolean;
}

type LrKey = 'initialLr' | 'maxLr' | 'minLr';
type MomentumKey = 'maxMomentum' | 'baseMomentum';

interface Phase {
  endStep: number;
  startLr: LrKey;
  endLr: LrKey;
  startMomentum: MomentumKey;
  endMomentum: MomentumKey;
}

/**
 * The 1cycle policy (Smith & Topin), torch 1.13's `OneCycleLR`: the lr rises from maxLr/divFactor
 * to maxLr over `pctStart` of the steps, then anneals to initialLr/finalDivFactor, while momentum
 * moves the opposite way. Step it once per batch, `totalSteps` times in all.
 */
export class OneCycleLR extends LRScheduler {
  /** Steps in the whole cycle; stepping further is refused, as in PyTorch. */
  totalSteps: number;
  /** @internal The schedule's phases (PyTorch's private `_schedule_phases`); kept in the state dict. */
  phases: Phase[];
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  /** Whether the momentum cycled is Adam's beta1 rather than SGD's momentum. */
  useBeta1: boolean;

  constructor(optimizer: Optimizer<HyperParams>, options: OneCycleLROptions) {
    const {
      maxLr, totalSteps, epochs, stepsPerEpoch, pctStart = 0.3, annealStrategy = 'cos', cycleMomentum = true,
      baseMomentum = 0.85, maxMomentum = 0.95, divFactor = 25, finalDivFactor = 1e4, threePhase = false,
    } = options;
    const who = 'OneCycleLR';
    let total: number;
    if (totalSteps !== undefined) {
      checkInteger(who, 'totalSteps', totalSteps, 1);
      total = totalSteps;
    } else if (epochs !== undefined && stepsPerEpoch !== undefined) {
      checkInteger(who, 'epochs', epochs, 1);
      checkInteger(who, 'stepsPerEpoch', stepsPerEpoch, 1);
      total = epochs * stepsPerEpoch;
    } else {
      throw new Error(`${who}: give either totalSteps or (epochs and stepsPerEpoch)`);
    }
    if (!(pctStart >= 0 && pctStart <= 1)) throw new Error(`${who}: pctStart must be in [0, 1], got ${pctStart}`);
    if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
      throw new Error(`${who}: annealStrategy must be 'cos' or 'linear', got ${String(annealStrategy)}`);
    }
    const groups = optimizer.paramGroups as Array<HyperParams & SchedulerFields>;
    const maxLrs = perGroup(who, 'maxLr', maxLr, groups.length);
    // Set before the base constructor, which keeps an existing initialLr.
    groups.forEach((g, i) => {
      g.initialLr = maxLrs[i] / divFactor;
      g.maxLr = maxLrs[i];
      g.minLr = g.initialLr / finalDivFactor;
    });
    let useBeta1 = false;
    if (cycleMomentum) {
      if (!('momentum' in optimizer.defaults) && !('betas' in optimizer.defaults)) {
        throw new Error(`${who}: cycleMomentum needs an optimizer with momentum (SGD) or betas (Adam), ${optimizer.name} has neither`);
      }
      useBeta1 = 'betas' in optimizer.defaults;
      const maxMs = perGroup(who, 'maxMomentum', maxMomentum, groups.length);
      const baseMs = perGroup(who, 'baseMomentum', baseMomentum, groups.length);
      groups.forEach((g, i) => {
        setMomentum(g, useBeta1, maxMs[i]);
        g.maxMomentum = maxMs[i];
        g.baseMomentum = baseMs[i];
      });
    }
    super(who, optimizer);
    this.totalSteps = total;
    const up = pctStart * total - 1;
    this.phases = threePhase
      ? [
          { endStep: up, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: 2 * pctStart * total - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
          { endStep: total - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: up, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: total - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2.0) * cosOut;
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new Error(`OneCycleLR: tried to step ${stepNum + 1} times; the schedule was built for totalSteps ${this.totalSteps}`);
    }
    const groups = this.optimizer.paramGroups as Array<HyperParams & SchedulerFields>;
    return groups.map((g) => {
      let startStep = 0;
      let lr = NaN;
      let momentum = NaN;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i];
        if (stepNum <= phase.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          lr = this.anneal(g[phase.startLr]!, g[phase.endLr]!, pct);
          if (this.cycleMomentum) momentum = this.anneal(g[phase.startMomentum]!, g[phase.endMomentum]!, pct);
          break;
        }
        startStep = phase.endStep;
      }
      if (this.cycleMomentum) setMomentum(g, this.useBeta1, momentum);
      return lr;
    });
  }
}

function setMomentum(g: HyperParams, useBeta1: boolean, m: number): void {
  if (useBeta1) g.betas = [m, g.betas![1]];
  else g.momentum = m;
}

function perGroup(who: string, what: string, value: number | number[], groups: number): number[] {
  if (!Array.isArray(value)) return new Array<number>(groups).fill(value);
  if (value.length !== groups) throw new Error(`${who}: expected ${groups} values for ${what} (one per parameter group), got ${value.length}`);
  return value.slice();
}
