// The wasm SIMD optimizer updates (src/kernels/fast/optim*.ts) against the plain TypeScript
// loops in src/kernels/optim.ts: every hyper-parameter variant, awkward sizes, chunk boundaries
// inside the arrays, several consecutive steps (so state written by one step is read by the
// next), NaN/Inf/-0 gradients. The kernels do the reference's float64 operations in its order
// and round where it stores, so every comparison is exact (NaN equal to NaN, -0 distinct from +0).

import { afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { fastEngine, getFastTuning, setFastTuning, type FastEngine, type FastTuning } from '../src/kernels/fast/engine.js';
import { ADAM_VARIANTS, SGD_VARIANTS, adamExport, sgdExport } from '../src/kernels/fast/optim_module.js';
import { setKernelMode, type KernelMode } from '../src/kernels/mode.js';
import { adamReference, adamStep, sgdReference, sgdStep, type AdamHyperParams, type SgdHyperParams } from '../src/kernels/optim.js';
import { tensor, type Tensor } from '../src/index.js';
import { Adam, AdamW, SGD, type Optimizer } from '../src/optim/index.js';
import { rng } from './helpers/random.js';
import { expectSameBits } from './helpers/bits.js';
import { onBackend } from './helpers/modes.js';

// These tests are about the wasm kernels: run them on wasm whatever SKIPGRAD_BACKEND says.
onBackend('wasm');

const initialMode: KernelMode = 'fast'; // onBackend('wasm') above
const initialTuning = getFastTuning();
afterEach(() => {
  setKernelMode(initialMode);
  setFastTuning(initialTuning);
});

let eng: FastEngine;
let fnSpy: MockInstance<FastEngine['fn']>;
beforeAll(() => {
  const e = fastEngine();
  expect(e, 'wasm SIMD engine (Node 20 has SIMD128)').not.toBeNull();
  eng = e!;
  fnSpy = vi.spyOn(eng, 'fn');
});

/** Runs `f` in fast mode and checks it fetched a wasm export named `prefix`* (else fast = reference would prove nothing). */
function viaWasm(prefix: string, f: () => void): void {
  setKernelMode('fast');
  fnSpy.mockClear();
  f();
  expect(fnSpy.mock.calls.map((c) => c[0]).some((name) => name.startsWith(prefix)), `${prefix} kernel used`).toBe(true);
}

function inReference(f: () => void): void {
  setKernelMode('reference');
  f();
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -3e38];

/** Uniform in [-scale, scale), with one value in eight from SPECIALS if `specials`. */
function randomArray(n: number, rand: () => number, scale: number, specials: boolean): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = specials && rand() < 0.125 ? SPECIALS[Math.floor(rand() * SPECIALS.length)] : (rand() * 2 - 1) * scale;
  return a;
}

// 16387 is past the default chunk (16384); the 64-element chunk puts boundaries in every size above 64.
const SIZES = [1, 3, 5, 17, 1000, 16387];
const TUNINGS: Partial<FastTuning>[] = [{ minElements: 0 }, { minElements: 0, chunkElements: 64 }];
const STEPS = 4;

describe('fast optimizer kernels: module', () => {
  it('exports every variant', () => {
    expect(SGD_VARIANTS.length).toBe(20); // maximize × weight decay × (none | first, running × nesterov)
    expect(ADAM_VARIANTS.length).toBe(12); // maximize × (none, l2, decoupled) × amsgrad
    for (const v of SGD_VARIANTS) expect(() => eng.fn(sgdExport(v))).not.toThrow();
    for (const v of ADAM_VARIANTS) expect(() => eng.fn(adamExport(v))).not.toThrow();
  });
});

const SGD_CASES: SgdHyperParams[] = [];
for (const maximize of [false, true]) {
  for (const weightDecay of [0, 0.01]) {
    SGD_CASES.push({ lr: 0.1, momentum: 0, dampening: 0, weightDecay, nesterov: false, maximize });
    for (const [dampening, nesterov] of [[0, false], [0, true], [0.3, false]] as const) {
      SGD_CASES.push({ lr: 0.1, momentum: 0.9, dampening, weightDecay, nesterov, maximize });
    }
  }
}

describe('fast optimizer kernels: SGD', () => {
  for (const t of TUNINGS) {
    for (const specials of [false, true]) {
      it(`every flag combination, ${STEPS} steps, ${specials ? 'NaN/Inf/-0 gradients' : 'finite values'}, tuning ${JSON.stringify(t)}`, () => {
        setFastTuning(t);
        for (const h of SGD_CASES) {
          for (const n of SIZES) {
            const rand = rng(n + 7);
            const p0 = randomArray(n, rand, 1, false);
            const [pF, pR] = [p0.slice(), p0.slice()];
            const withBuf = h.momentum !== 0;
            const [bF, bR] = withBuf ? [new Float32Array(n), new Float32Array(n)] : [null, null];
            for (let k = 0; k < STEPS; k++) {
              const g = randomArray(n, rand, 3, specials);
              viaWasm('sgd_', () => sgdStep(pF, g, bF, withBuf && k === 0, h));
              sgdReference(pR, g, bR, withBuf && k === 0, h);
              const what = `SGD ${JSON.stringify(h)} n=${n} step ${k + 1}`;
              expectSameBits(pF, pR, `${what}: p`);
              if (bF && bR) expectSameBits(bF, bR, `${what}: momentum buffer`);
            }
          }
        }
      });
    }
  }
});

interface AdamCase {
  h: AdamHyperParams;
  amsgrad: boolean;
  decoupled: boolean;
}
const ADAM_CASES: AdamCase[] = [];
for (const maximize of [false, true]) {
  for (const amsgrad of [false, true]) {
    // Adam without decay, Adam with L2, AdamW with decoupled decay, AdamW with lr·wd = 0.
    for (const [weightDecay, decoupled] of [[0, false], [0.01, false], [0.01, true], [0, true]] as const) {
      ADAM_CASES.push({ h: { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay, maximize }, amsgrad, decoupled });
    }
  }
}

describe('fast optimizer kernels: Adam / AdamW', () => {
  for (const t of TUNINGS) {
    for (const specials of [false, true]) {
      it(`every flag combination, ${STEPS} steps, ${specials ? 'NaN/Inf/-0 gradients' : 'finite values'}, tuning ${JSON.stringify(t)}`, () => {
        setFastTuning(t);
        for (const { h, amsgrad, decoupled } of ADAM_CASES) {
          for (const n of SIZES) {
            const rand = rng(n + 11);
            const p0 = randomArray(n, rand, 1, false);
            const fast = { p: p0.slice(), m: new Float32Array(n), v: new Float32Array(n), vMax: amsgrad ? new Float32Array(n) : null };
            const ref = { p: p0.slice(), m: new Float32Array(n), v: new Float32Array(n), vMax: amsgrad ? new Float32Array(n) : null };
            for (let step = 1; step <= STEPS; step++) {
              // Some zero gradients leave v at 0, so the denominator is eps alone.
              const g = randomArray(n, rand, 3, specials).map((x) => (rand() < 0.05 ? 0 : x));
              viaWasm('adam_', () => adamStep(fast.p, g, fast.m, fast.v, fast.vMax, h, step, decoupled));
              adamReference(ref.p, g, ref.m, ref.v, ref.vMax, h, step, decoupled);
              const what = `${decoupled ? 'AdamW' : 'Adam'} ${JSON.stringify(h)} amsgrad=${amsgrad} n=${n} step ${step}`;
              expectSameBits(fast.p, ref.p, `${what}: p`);
              expectSameBits(fast.m, ref.m, `${what}: exp_avg`);
              expectSameBits(fast.v, ref.v, `${what}: exp_avg_sq`);
              if (fast.vMax && ref.vMax) expectSameBits(fast.vMax, ref.vMax, `${what}: max_exp_avg_sq`);
            }
          }
        }
      });
    }
  }
});

describe('fast optimizer kernels: dispatch', () => {
  it('float64 parameters take the reference loop in fast mode', () => {
    setFastTuning({ minElements: 0 });
    const rand = rng(3);
    const p0 = Float64Array.from(randomArray(37, rand, 1, false));
    const g = Float64Array.from(randomArray(37, rand, 3, true));
    const h: SgdHyperParams = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true, maximize: false };
    const [pF, pR, bF, bR] = [p0.slice(), p0.slice(), new Float64Array(37), new Float64Array(37)];
    setKernelMode('fast');
    fnSpy.mockClear();
    sgdStep(pF, g, bF, true, h);
    sgdReference(pR, g, bR, true, h);
    expect(fnSpy).not.toHaveBeenCalled();
    expectSameBits(pF, pR, 'float64 SGD: p');
    expectSameBits(bF, bR, 'float64 SGD: buffer');
  });

  // Through the optimizer classes (their state handling around the kernels): three parameters
  // of awkward sizes, fast mode (wasm) against reference mode, parameters and state exact.
  const OPTIMIZERS: [string, (ps: Tensor[]) => Optimizer][] = [
    ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })],
    ['SGD dampening, maximize', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.8, dampening: 0.1, maximize: true })],
    ['Adam amsgrad, L2', (ps) => new Adam(ps, { lr: 0.01, weightDecay: 0.1, amsgrad: true })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ];
  for (const [name, make] of OPTIMIZERS) {
    it(`${name}: 3 steps through the optimizer class, fast = reference`, () => {
      setFastTuning({ minElements: 0, chunkElements: 64 });
      const run = (mode: (f: () => void) => void) => {
        const rand = rng(5);
        const ps = [300, 5, 1001].map((n) => tensor(randomArray(n, rand, 1, false), { shape: [n], requiresGrad: true }));
        const opt = make(ps);
        for (let k = 0; k < 3; k++) {
          for (const p of ps) p.grad = tensor(randomArray(p.size, rand, 2, false), { shape: p.shape });
          mode(() => opt.step());
        }
        return { params: ps.map((p) => p.data), state: opt.stateDict().state };
      };
      const fast = run((f) => viaWasm(name.startsWith('SGD') ? 'sgd_' : 'adam_', f));
      const ref = run(inReference);
      fast.params.forEach((p, i) => expectSameBits(p, ref.params[i], `${name}: parameter ${i}`));
      expect(fast.state).toEqual(ref.state);
    });
  }
});
