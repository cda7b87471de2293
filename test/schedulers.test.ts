// Learning-rate schedulers against torch.optim.lr_scheduler 1.13 (test/fixtures/optim.json,
// written by scripts/fixtures/gen_optim.py): lr (and momentum) after construction and each step.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../src/index.js';
import {
  Adam, AdamW, ChainedScheduler, CosineAnnealingLR, LinearLR, MultiStepLR, OneCycleLR, SGD, SequentialLR, StepLR,
  type LRScheduler, type Optimizer,
} from '../src/optim/index.js';
import type { FixtureCase } from './helpers/fixtures.js';

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/optim.json', import.meta.url)), 'utf8'));
const cases: Record<string, FixtureCase> = fixture.cases;

interface SchedulerMeta {
  optimizer: ['SGD' | 'Adam' | 'AdamW', Record<string, unknown>];
  groups?: Record<string, unknown>[];
  steps: number;
  schedulers: [string, Record<string, unknown>][];
  drive?: 'each' | 'chained' | 'sequential';
  milestones?: number[];
}
const schedMeta: Record<string, SchedulerMeta> = fixture.meta.schedulers;

const OPTIMIZERS = { SGD, Adam, AdamW } as const;
const SCHEDULERS = { StepLR, MultiStepLR, CosineAnnealingLR, LinearLR, OneCycleLR } as const;

interface Setup {
  opt: Optimizer;
  /** What the training loop steps each epoch. */
  driven: LRScheduler[];
}

function setup(meta: SchedulerMeta): Setup {
  const [kind, options] = meta.optimizer;
  const n = meta.groups?.length ?? 1;
  const params: Tensor[] = Array.from({ length: n }, () => tensor([0, 0], { requiresGrad: true }));
  const spec = meta.groups ? params.map((p, i) => ({ params: [p], ...meta.groups![i] })) : params;
  const opt = new OPTIMIZERS[kind](spec as never, options as never) as Optimizer;
  const scheds = meta.schedulers.map(([name, o]) => new SCHEDULERS[name as keyof typeof SCHEDULERS](opt, o as never) as LRScheduler);
  let driven: LRScheduler[];
  if (meta.drive === 'chained') driven = [new ChainedScheduler(scheds)];
  else if (meta.drive === 'sequential') driven = [new SequentialLR(opt, { schedulers: scheds, milestones: meta.milestones! })];
  else if (meta.drive === 'each') driven = scheds;
  else driven = scheds.slice(0, 1);
  return { opt, driven };
}

const momentumOf = (opt: Optimizer): number[] => opt.paramGroups.map((g) => (g.betas ? g.betas[0] : g.momentum!));

/** |a - e| <= 1e-12·|e| for every value: the formulas are PyTorch's, term for term, in float64. */
function expectRow(actual: number[], expected: number[], what: string): void {
  actual.forEach((a, j) => {
    const e = expected[j];
    if (!(Math.abs(a - e) <= 1e-12 * Math.abs(e))) expect.fail(`${what}, group ${j}: ${a}, PyTorch gives ${e}`);
  });
}

function row(c: FixtureCase, key: string, k: number): number[] {
  const [, groups] = c[key].shape;
  return c[key].data.slice(k * groups, (k + 1) * groups);
}

describe('schedulers match torch.optim.lr_scheduler', () => {
  for (const [name, meta] of Object.entries(schedMeta)) {
    it(name, () => {
      const c = cases[`sched_${name}`];
      const { opt, driven } = setup(meta);
      const check = (k: number) => {
        const lrs = opt.paramGroups.map((g) => g.lr);
        expectRow(lrs, row(c, 'lr', k), `${name}: lr after ${k} steps`);
        expectRow(driven[driven.length - 1].getLastLr(), lrs, `${name}: getLastLr after ${k} steps`);
        if (c.momentum) expectRow(momentumOf(opt), row(c, 'momentum', k), `${name}: momentum after ${k} steps`);
      };
      check(0);
      for (let k = 1; k <= meta.steps; k++) {
        opt.step();
        for (const s of driven) s.step();
        check(k);
      }
    });
  }

  it('OneCycleLR refuses to step past totalSteps', () => {
    const opt = new SGD([tensor([0], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
    const s = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 3 });
    for (let i = 0; i < 3; i++) s.step();
    expect(() => s.step()).toThrow('OneCycleLR: tried to step 5 times; the schedule was built for totalSteps 3');
  });

  it('lastEpoch counts steps and initialLr is recorded once', () => {
    const opt = new SGD([tensor([0], { requiresGrad: true })], { lr: 0.1 });
    const a = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    expect(a.lastEpoch).toBe(0);
    a.step();
    a.step();
    expect(a.lastEpoch).toBe(2);
    const b = new LinearLR(opt, { startFactor: 0.5 });
    expect(opt.paramGroups[0].initialLr).toBe(0.1);
    expect(b.baseLrs).toEqual([0.1]);
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.0125, 15);
  });
});

describe('scheduler stateDict', () => {
  // Stops after `cut` epochs, saves optimizer and scheduler through JSON, rebuilds both from the
  // configuration and loads them, then continues; the lrs must equal an uninterrupted run's.
  function lrs(name: string, cut: number | null): number[][] {
    const meta = schedMeta[name];
    let { opt, driven } = setup(meta);
    const out = [opt.paramGroups.map((g) => g.lr)];
    for (let k = 1; k <= meta.steps; k++) {
      if (k === cut) {
        const saved = JSON.parse(JSON.stringify({ opt: opt.stateDict(), scheds: driven.map((s) => s.stateDict()) }));
        ({ opt, driven } = setup(meta));
        opt.loadStateDict(saved.opt);
        driven.forEach((s, i) => s.loadStateDict(saved.scheds[i]));
      }
      opt.step();
      for (const s of driven) s.step();
      out.push([...opt.paramGroups.map((g) => g.lr), ...momentumOf(opt)]);
    }
    return out;
  }

  for (const name of ['cosine', 'step_and_linear', 'chained', 'warmup_cosine', 'sequential_three', 'one_cycle_sgd', 'one_cycle_adam']) {
    it(`${name}: resuming equals an uninterrupted run`, () => {
      const straight = lrs(name, null);
      for (const cut of [1, 4, 7]) expect(lrs(name, cut), `cut at ${cut}`).toEqual(straight);
    });
  }

  it('rejects a different scheduler state', () => {
    const opt = new SGD([tensor([0], { requiresGrad: true })], { lr: 0.1 });
    const step = new StepLR(opt, { stepSize: 2 });
    const cos = new CosineAnnealingLR(opt, { tMax: 4 });
    expect(() => step.loadStateDict(cos.stateDict())).toThrow("StepLR.loadStateDict: unknown key 'tMax'; is this another scheduler's state?");
    expect(() => step.loadStateDict({ lastEpoch: 'three' })).toThrow("StepLR.loadStateDict: 'lastEpoch' should be number 0, got string three");
    const seq = new SequentialLR(opt, { schedulers: [step, cos], milestones: [2] });
    expect(() => seq.loadStateDict({ ...seq.stateDict(), schedulers: [] })).toThrow('SequentialLR.loadStateDict: expected 2 scheduler states, got an array of length 0');
  });
});

describe('scheduler errors', () => {
  const sgd = (momentum = 0) => new SGD([tensor([0], { requiresGrad: true })], { lr: 0.1, momentum });
  it('options', () => {
    expect(() => new StepLR(sgd(), { stepSize: 0 })).toThrow('StepLR: stepSize must be an integer >= 1, got 0');
    expect(() => new MultiStepLR(sgd(), { milestones: [3, 1.5] })).toThrow('MultiStepLR: milestones[1] must be an integer >= 0, got 1.5');
    expect(() => new CosineAnnealingLR(sgd(), { tMax: 0 })).toThrow('CosineAnnealingLR: tMax must be > 0, got 0');
    expect(() => new LinearLR(sgd(), { startFactor: 0 })).toThrow('LinearLR: startFactor must be in (0, 1], got 0');
    expect(() => new LinearLR(sgd(), { endFactor: 2 })).toThrow('LinearLR: endFactor must be in [0, 1], got 2');
    expect(() => new StepLR({} as never, { stepSize: 1 })).toThrow('StepLR: expected an Optimizer, got an object');
  });
  it('OneCycleLR', () => {
    expect(() => new OneCycleLR(sgd(), { maxLr: 0.1 })).toThrow('OneCycleLR: give either totalSteps or (epochs and stepsPerEpoch)');
    expect(() => new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 2.5 })).toThrow('OneCycleLR: totalSteps must be an integer >= 1, got 2.5');
    expect(() => new OneCycleLR(sgd(), { maxLr: 0.1, epochs: 2, stepsPerEpoch: 0 })).toThrow('OneCycleLR: stepsPerEpoch must be an integer >= 1, got 0');
    expect(() => new OneCycleLR(sgd(), { maxLr: [0.1, 0.2], totalSteps: 10 })).toThrow('OneCycleLR: expected 1 values for maxLr (one per parameter group), got 2');
    expect(() => new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 })).toThrow('OneCycleLR: pctStart must be in [0, 1], got 1.5');
    expect(() => new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10, annealStrategy: 'exp' as never })).toThrow("OneCycleLR: annealStrategy must be 'cos' or 'linear', got exp");
  });
  it('SequentialLR and ChainedScheduler', () => {
    const a = sgd(0.9);
    const b = sgd(0.9);
    const s1 = new LinearLR(a);
    const s2 = new StepLR(a, { stepSize: 2 });
    expect(() => new SequentialLR(a, { schedulers: [s1, s2], milestones: [] })).toThrow(
      'SequentialLR: expects one milestone fewer than schedulers, got 2 schedulers and an array of length 0 of milestones',
    );
    expect(() => new SequentialLR(b, { schedulers: [s1, s2], milestones: [3] })).toThrow(
      'SequentialLR: all schedulers must belong to the same optimizer, but schedulers[0] drives a different SGD',
    );
    expect(() => new ChainedScheduler([s1, new StepLR(b, { stepSize: 2 })])).toThrow(
      'ChainedScheduler: all schedulers must belong to the same optimizer, but schedulers[1] drives a different SGD',
    );
    expect(() => new ChainedScheduler([])).toThrow('ChainedScheduler: expected a non-empty array of schedulers, got an array of length 0');
  });
});
