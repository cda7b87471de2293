// Winograd F(2x2, 3x3) (kernels/conv_winograd.ts) against the float64-accumulating reference
// (kernels/conv.ts in 'reference' mode), on awkward shapes, resident and plain arrays, 1 and 2
// threads; and its dispatch (kernels/conv_dispatch.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as R from '../src/kernels/conv.js';
import { conv2dBackward, conv2dForward, setWinograd } from '../src/kernels/conv_dispatch.js';
import { conv2dBackwardFast, conv2dForwardFast } from '../src/kernels/conv_fast.js';
import {
  conv2dBackwardInputWinograd, conv2dForwardWinograd, setWinogradChunkBudget, useWinograd, winogradWork,
} from '../src/kernels/conv_winograd.js';
import { allocate } from '../src/kernels/dtype.js';
import { setFastTuning, type FastTuning } from '../src/kernels/fast/engine.js';
import { gemmInfo, setGemmTuning, type GemmTuning } from '../src/kernels/gemm.js';
import { getKernelMode, setKernelMode } from '../src/kernels/mode.js';
import { kernelRuntime } from '../src/kernels/runtime.js';
import { getNumThreads, setNumThreads } from '../src/kernels/threads/pool.js';
import { randomF32, rng } from './helpers/random.js';
import { onBackend } from './helpers/modes.js';

// These tests are about the wasm kernels: run them on wasm whatever SKIPGRAD_BACKEND says.
onBackend('wasm');

const u = 2 ** -24;

/**
 * The error bound, in units of u * S (S: the Winograd magnitude below). Worst case, summing
 * every rounding's bound: 2 roundings in B^T d B, 4 in G g G^T (halving is exact), K in the
 * GEMM's sum of K = cSrc products, 4 in A^T M A, 1 for the bias: about (K + 11) u S, 81 u S at
 * K = 70. Random data stays far below it: the largest error over this file's table (forward and
 * input gradient, K up to 70) is 1.93 u S, and 1.99 u S over a sweep of 240 random convs (K 1 to
 * 128, maps 3x3 to 9x9, pads 0 and 1). The bound asserted is 4 u S, a 2x margin over those,
 * while a wrong or missing transform term (a whole tile value) is off by far more than 4 u S.
 */
const BOUND = 4;

/**
 * S for every output of the Winograd conv of src [n, cSrc, hs, ws] (padding ph, pw): the same
 * pipeline in float64 on absolute values with |B^T|, |G|, |A^T|, so every rounding of the float32
 * pipeline is at most a few u of it. Filters: w [cOut, cIn, 3, 3]; U[cd][cs] is the filter
 * (cd, cs), or (cs, cd) turned by 180 degrees when flip (the input gradient).
 */
function winogradMagnitude(
  src: Float32Array, n: number, cSrc: number, hs: number, ws: number, ph: number, pw: number,
  w: Float32Array, cDst: number, flip: boolean, bias: Float32Array | null,
): Float64Array {
  const BT = [[1, 0, 1, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 0, 1]];
  const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0, 0, 1]];
  const AT = [[1, 1, 1, 0], [0, 1, 1, 1]];
  const ho = hs + 2 * ph - 2;
  const wo = ws + 2 * pw - 2;
  const U = new Float64Array(cDst * cSrc * 16);
  for (let cd = 0; cd < cDst; cd++) {
    for (let cs = 0; cs < cSrc; cs++) {
      const g = (i: number, j: number): number => Math.abs(flip ? w[(cs * cDst + cd) * 9 + (2 - i) * 3 + (2 - j)] : w[(cd * cSrc + cs) * 9 + i * 3 + j]);
      for (let a = 0; a < 4; a++) {
        for (let b = 0; b < 4; b++) {
          let s = 0;
          for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) s += G[a][i] * g(i, j) * G[b][j];
          U[(cd * cSrc + cs) * 16 + a * 4 + b] = s;
        }
      }
    }
  }
  const out = new Float64Array(n * cDst * ho * wo);
  const V = new Float64Array(cSrc * 16);
  for (let bi = 0; bi < n; bi++) {
    for (let ty = 0; ty < Math.ceil(ho / 2); ty++) {
      for (let tx = 0; tx < Math.ceil(wo / 2); tx++) {
        for (let cs = 0; cs < cSrc; cs++) {
          const d = (i: number, j: number): number => {
            const y = 2 * ty + i - ph;
            const x = 2 * tx + j - pw;
            return y >= 0 && y < hs && x >= 0 && x < ws ? Math.abs(src[((bi * cSrc + cs) * hs + y) * ws + x]) : 0;
          };
          for (let a = 0; a < 4; a++) {
            for (let b = 0; b < 4; b++) {
              let s = 0;
              for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) s += BT[a][i] * d(i, j) * BT[b][j];
              V[cs * 16 + a * 4 + b] = s;
            }
          }
        }
        for (let cd = 0; cd < cDst; cd++) {
          const M = new Float64Array(16);
          for (let cs = 0; cs < cSrc; cs++) for (let k = 0; k < 16; k++) M[k] += U[(cd * cSrc + cs) * 16 + k] * V[cs * 16 + k];
          for (let i = 0; i < 2; i++) {
            for (let j = 0; j < 2; j++) {
              const [oy, ox] = [2 * ty + i, 2 * tx + j];
              if (oy >= ho || ox >= wo) continue;
              let s = bias ? Math.abs(bias[cd]) : 0;
              for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) s += AT[i][a] * M[a * 4 + b] * AT[j][b];
              out[((bi * cDst + cd) * ho + oy) * wo + ox] = s;
            }
          }
        }
      }
    }
  }
  return out;
}

interface Case {
  name: string;
  x: number[];
  cOut: number;
  pad: [number, number];
  bias?: boolean;
}

const cases: Case[] = [
  { name: 'batch 1, 3x3 map, 5 -> 7 channels', x: [1, 5, 3, 3], cOut: 7, pad: [1, 1] },
  { name: '5x5 pad 1 with bias, 3 -> 6', x: [2, 3, 5, 5], cOut: 6, pad: [1, 1], bias: true },
  { name: '7x7 pad 0 (5x5 out) with bias, batch 3, 6 -> 5', x: [3, 6, 7, 7], cOut: 5, pad: [0, 0], bias: true },
  { name: '9x9 pad 1, 9 -> 10', x: [2, 9, 9, 9], cOut: 10, pad: [1, 1] },
  { name: '9x9 pad 0 (7x7 out), batch 1, 4 -> 3, bias', x: [1, 4, 9, 9], cOut: 3, pad: [0, 0], bias: true },
  { name: '6x11 pad [1, 0], 7 -> 9, bias', x: [2, 7, 6, 11], cOut: 9, pad: [1, 0], bias: true },
  { name: '13x10 pad [0, 1] (wider than four tiles), 2 -> 3', x: [2, 2, 13, 10], cOut: 3, pad: [0, 1] },
  { name: 'K = 70 channels, 8x8, bias', x: [2, 70, 8, 8], cOut: 13, pad: [1, 1], bias: true },
  { name: '2x2 map (never dispatched; the kernel still computes it)', x: [3, 6, 2, 2], cOut: 5, pad: [1, 1], bias: true },
];

interface Run {
  p: R.Conv2dParams;
  x: Float32Array;
  w: Float32Array;
  b: Float32Array | null;
  gy: Float32Array;
}

function setup(c: Case, seed: number): Run {
  const p = R.conv2dParams(c.x, [c.cOut, c.x[1], 3, 3], { stride: [1, 1], padding: c.pad, dilation: [1, 1], groups: 1 });
  const rand = rng(seed);
  return {
    p,
    x: randomF32(c.x.reduce((a, b) => a * b, 1), rand),
    w: randomF32(c.cOut * c.x[1] * 9, rand),
    b: c.bias ? randomF32(c.cOut, rand) : null,
    gy: randomF32(p.n * p.cOut * p.outH * p.outW, rand),
  };
}

/** An arena-resident copy (tensor storage: the kernels use it in place). */
function resident(a: Float32Array): Float32Array {
  if (a.length < 256) return a.slice(); // the arena pools 256 floats and up: smaller arrays stay plain
  const out = allocate('float32', a.length) as Float32Array;
  expect(kernelRuntime()!.arena.addressOf(out), 'allocate gave arena storage').toBeGreaterThanOrEqual(0);
  out.set(a);
  return out;
}

interface Result {
  y: Float32Array;
  gx: Float32Array;
}

function runWinograd({ p, x, w, b, gy }: Run, inArena: boolean): Result {
  const make = (n: number): Float32Array => (inArena && n >= 256 ? (allocate('float32', n) as Float32Array) : new Float32Array(n));
  const put = (a: Float32Array): Float32Array => (inArena ? resident(a) : a);
  const r = { y: make(gy.length), gx: make(x.length) };
  expect(conv2dForwardWinograd(put(x), put(w), b && put(b), p, r.y), 'forward ran').toBe(true);
  expect(conv2dBackwardInputWinograd(put(gy), put(w), p, r.gx), 'input gradient ran').toBe(true);
  return r;
}

function runReference({ p, x, w, b, gy }: Run): Result {
  const r = { y: new Float32Array(gy.length), gx: new Float32Array(x.length) };
  const prev = getKernelMode();
  setKernelMode('reference');
  try {
    R.conv2dForward(x, w, b, p, r.y);
    R.conv2dBackwardInput(gy, w, p, r.gx);
  } finally {
    setKernelMode(prev);
  }
  return r;
}

function magnitudes({ p, x, w, b, gy }: Run): { y: Float64Array; gx: Float64Array } {
  return {
    y: winogradMagnitude(x, p.n, p.cIn, p.h, p.w, p.padH, p.padW, w, p.cOut, false, b),
    gx: winogradMagnitude(gy, p.n, p.cOut, p.outH, p.outW, 2 - p.padH, 2 - p.padW, w, p.cIn, true, null),
  };
}

/** |fast - ref| <= BOUND * u * S elementwise (S = 0: no terms, so exactly equal). */
function expectWithin(fast: Float32Array, ref: Float32Array, S: Float64Array, what: string): void {
  expect(fast.length, `${what}: length`).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const err = Math.abs(fast[i] - ref[i]);
    const units = err === 0 ? 0 : err / (u * S[i]);
    if (!(units <= BOUND)) expect.fail(`${what}: element ${i} is ${fast[i]}, reference ${ref[i]}, magnitude ${S[i]} (${units.toFixed(2)} u S > ${BOUND})`);
  }
}

function expectIdentical(a: Float32Array, b: Float32Array, what: string): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const i = ua.findIndex((v, k) => v !== ub[k]);
  if (i >= 0) expect.fail(`${what}: element ${i} differs (${a[i]} vs ${b[i]})`);
}

function differs(a: Float32Array, b: Float32Array): boolean {
  return a.some((v, i) => v !== b[i]);
}

let savedGemm: GemmTuning;
let savedFast: FastTuning;
let savedThreads: number;
beforeAll(() => {
  savedThreads = getNumThreads();
  // Route tiny products through the wasm GEMM, and split even tiny GEMM rounds and transforms.
  savedGemm = setGemmTuning({ fastMinMNK: 0, minFlopsPerThread: 0 });
  savedFast = setFastTuning({ parallelElements: 4 });
});
afterAll(() => {
  setGemmTuning(savedGemm);
  setFastTuning(savedFast);
  setNumThreads(savedThreads);
});

describe('Winograd F(2x2, 3x3) against the float64 reference', () => {
  it('runs on the wasm kernels here', () => expect(gemmInfo().available).toBe(true));

  const baseline = new Map<string, Result>();
  for (const threads of [1, 2]) {
    for (const inArena of [false, true]) {
      describe(`${threads} thread(s), ${inArena ? 'resident' : 'plain'} arrays`, () => {
        cases.forEach((c, k) => {
          it(c.name, () => {
            setNumThreads(threads);
            const run = setup(c, 200 + k);
            const got = runWinograd(run, inArena);
            const ref = runReference(run);
            const S = magnitudes(run);
            expectWithin(got.y, ref.y, S.y, 'y');
            expectWithin(got.gx, ref.gx, S.gx, 'gx');
            // identical run to run, and whatever the thread count and residency
            const again = runWinograd(run, inArena);
            expectIdentical(again.y, got.y, 'y (second run)');
            expectIdentical(again.gx, got.gx, 'gx (second run)');
            const first = baseline.get(c.name);
            if (first) {
              expectIdentical(got.y, first.y, 'y (vs 1 thread, plain arrays)');
              expectIdentical(got.gx, first.gx, 'gx (vs 1 thread, plain arrays)');
            } else baseline.set(c.name, got);
          });
        });
      });
    }
  }

  it('gives the same bits in chunks of images (with a remainder) as in one', () => {
    setNumThreads(2);
    const run = setup({ name: 'chunked', x: [7, 5, 6, 7], cOut: 6, pad: [1, 1], bias: true }, 17);
    const whole = runWinograd(run, true);
    // 6x7 -> 3x4 tiles: 16 * 12 * (5 + 6) + 5 * 42 + 6 * 42 = 2574 floats per image: 3 per chunk (3 + 3 + 1)
    const prev = setWinogradChunkBudget(3 * 2574);
    try {
      const chunked = runWinograd(run, true);
      expectIdentical(chunked.y, whole.y, 'y');
      expectIdentical(chunked.gx, whole.gx, 'gx');
      const plain = runWinograd(run, false);
      expectIdentical(plain.y, whole.y, 'y (plain arrays)');
    } finally {
      setWinogradChunkBudget(prev);
    }
    const ref = runReference(run);
    expectWithin(whole.y, ref.y, magnitudes(run).y, 'y');
  });

  it('handles an empty batch', () => {
    const p = R.conv2dParams([0, 2, 5, 5], [3, 2, 3, 3], { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 });
    expect(conv2dForwardWinograd(new Float32Array(0), new Float32Array(54), null, p, new Float32Array(0))).toBe(true);
    expect(conv2dBackwardInputWinograd(new Float32Array(0), new Float32Array(54), p, new Float32Array(0))).toBe(true);
  });

  it('refuses shapes it cannot compute, naming the op and the shapes', () => {
    const p = R.conv2dParams([1, 2, 5, 5], [3, 2, 3, 3], { stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 1 });
    expect(() => conv2dForwardWinograd(new Float32Array(50), new Float32Array(54), null, p, new Float32Array(27))).toThrow(
      /conv2dForwardWinograd: .*stride \[2, 2\].*input \[1, 2, 5, 5\]/,
    );
    const q = R.conv2dParams([1, 2, 5, 5], [3, 2, 3, 3], { stride: [1, 1], padding: [2, 2], dilation: [1, 1], groups: 1 });
    expect(() => conv2dBackwardInputWinograd(new Float32Array(147), new Float32Array(54), q, new Float32Array(50))).toThrow(
      /conv2dBackwardInputWinograd: .*padding \[2, 2\]/,
    );
  });
});

describe('Winograd dispatch', () => {
  const params = (x: number[], cOut: number, o: Partial<R.Conv2dOptions> = {}, k = 3): R.Conv2dParams =>
    R.conv2dParams(x, [cOut, x[1] / (o.groups ?? 1), k, k], { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1, ...o });

  it('picks the shapes where Winograd does at least 1.1x fewer multiplies, on maps of 3x3 and up', () => {
    const pick = (x: number[], o: Partial<R.Conv2dOptions> = {}, k = 3) => {
      const p = params(x, 8, o, k);
      return [useWinograd(p, 'forward'), useWinograd(p, 'input')];
    };
    expect(pick([64, 64, 7, 7])).toEqual([true, true]); // 441 vs 256 multiplies per channel pair
    expect(pick([64, 128, 4, 4])).toEqual([true, true]); // 100 (conv_fast skips the padding) vs 64
    expect(pick([4, 8, 5, 5])).toEqual([true, true]); // 169 vs 144
    expect(pick([64, 512, 3, 3])).toEqual([false, false]); // 49 vs 64
    expect(pick([64, 256, 2, 2])).toEqual([false, false]); // 2x2 maps
    expect(pick([64, 8, 7, 7], { padding: [0, 0] })).toEqual([true, false]); // 225 vs 144; the input gradient on 7x7: 225 vs 256
    expect(pick([64, 8, 6, 6], { padding: [0, 0] })).toEqual([true, false]); // input gradient: 144 vs 144
    expect(pick([64, 8, 9, 9], { padding: [0, 0] })).toEqual([true, true]); // input gradient: 441 vs 400
    expect(winogradWork(params([1, 8, 9, 9], 8, { padding: [0, 0] }), 'input')).toEqual({ direct: 441, winograd: 400 });
    // not 3x3 stride-1 undilated ungrouped with padding 0 or 1
    expect(pick([2, 8, 9, 9], { stride: [2, 2] })).toEqual([false, false]);
    expect(pick([2, 8, 9, 9], { dilation: [2, 2], padding: [2, 2] })).toEqual([false, false]);
    expect(pick([2, 8, 9, 9], { groups: 2 })).toEqual([false, false]);
    expect(pick([2, 8, 9, 9], { padding: [2, 2] })).toEqual([false, false]);
    expect(pick([2, 8, 9, 9], { padding: [2, 2] }, 5)).toEqual([false, false]);
    const prev = setWinograd(false);
    try {
      expect(prev).toBe(true);
      expect(pick([64, 64, 7, 7])).toEqual([false, false]);
    } finally {
      expect(setWinograd(prev)).toBe(false);
    }
  });

  /** conv_dispatch's forward and all three gradients of one run. */
  function dispatched(run: Run): { y: Float32Array; gx: Float32Array; gw: Float32Array; gb: Float32Array } {
    const { p, x, w, b, gy } = run;
    const r = { y: new Float32Array(gy.length), gx: new Float32Array(x.length), gw: new Float32Array(w.length), gb: new Float32Array(p.cOut) };
    conv2dForward(x, w, b, p, r.y);
    conv2dBackward(gy, x, w, p, r);
    return r;
  }

  it('sends an eligible conv through Winograd when on, through conv_fast (its exact bits) when off', () => {
    setNumThreads(2);
    const run = setup({ name: 'eligible', x: [3, 8, 7, 7], cOut: 6, pad: [1, 1], bias: true }, 31);
    const { p, x, w, b, gy } = run;
    expect(useWinograd(p, 'forward') && useWinograd(p, 'input')).toBe(true);
    const wino = runWinograd(run, false);
    const fast = { y: new Float32Array(gy.length), gx: new Float32Array(x.length), gw: new Float32Array(w.length), gb: new Float32Array(p.cOut) };
    expect(conv2dForwardFast(x, w, b, p, fast.y)).toBe(true);
    expect(conv2dBackwardFast(gy, x, w, p, fast)).toBe(true);
    // the two paths round differently: bits tell which one ran
    expect(differs(wino.y, fast.y) && differs(wino.gx, fast.gx)).toBe(true);

    const on = dispatched(run);
    expectIdentical(on.y, wino.y, 'y (on)');
    expectIdentical(on.gx, wino.gx, 'gx (on)');
    expectIdentical(on.gw, fast.gw, 'gw (on: conv_fast)');
    expectIdentical(on.gb, fast.gb, 'gb (on: conv_fast)');

    const prev = setWinograd(false);
    try {
      const off = dispatched(run);
      for (const k of ['y', 'gx', 'gw', 'gb'] as const) expectIdentical(off[k], fast[k], `${k} (off)`);
    } finally {
      setWinograd(prev);
    }
  });

  it('computes only the gradients asked for alongside the Winograd input gradient', () => {
    const run = setup({ name: 'partial', x: [2, 4, 6, 6], cOut: 5, pad: [1, 1], bias: true }, 37);
    const { p, x, w, gy } = run;
    const wino = runWinograd(run, false);
    const full = dispatched(run);
    const gx = new Float32Array(x.length);
    const gb = new Float32Array(p.cOut).fill(7);
    conv2dBackward(gy, x, w, p, { gx, gw: null, gb });
    expectIdentical(gx, wino.gx, 'gx');
    expectIdentical(gb, full.gb, 'gb (with gx only)');
    const gw = new Float32Array(w.length);
    conv2dBackward(gy, x, w, p, { gx: null, gw, gb: null });
    expectIdentical(gw, full.gw, 'gw alone');
  });

  it('never sends a non-eligible conv through Winograd', () => {
    setNumThreads(2);
    const shapes: [string, R.Conv2dParams][] = [
      ['stride 2', params([2, 6, 9, 9], 5, { stride: [2, 2] })],
      ['3x3 map', params([2, 6, 3, 3], 5)],
      ['groups 2', params([2, 6, 8, 8], 4, { groups: 2 })],
      ['5x5 kernel', params([2, 3, 8, 8], 4, { padding: [2, 2] }, 5)],
      ['pad 2', params([2, 3, 8, 8], 4, { padding: [2, 2] })],
    ];
    for (const [what, p] of shapes) {
      const rand = rng(41);
      const x = randomF32(p.n * p.cIn * p.h * p.w, rand);
      const w = randomF32(p.cOut * (p.cIn / p.groups) * p.kh * p.kw, rand);
      const gy = randomF32(p.n * p.cOut * p.outH * p.outW, rand);
      const y = new Float32Array(gy.length);
      const yFast = new Float32Array(gy.length);
      conv2dForward(x, w, null, p, y);
      expect(conv2dForwardFast(x, w, null, p, yFast)).toBe(true);
      expectIdentical(y, yFast, `${what}: y`);
      const gx = new Float32Array(x.length);
      const gxFast = new Float32Array(x.length);
      conv2dBackward(gy, x, w, p, { gx, gw: null, gb: null });
      expect(conv2dBackwardFast(gy, x, w, p, { gx: gxFast, gw: null, gb: null })).toBe(true);
      expectIdentical(gx, gxFast, `${what}: gx`);
    }
  });

  it('keeps float64 and reference mode off the Winograd path', () => {
    const run = setup({ name: 'f64', x: [2, 4, 7, 7], cOut: 3, pad: [1, 1] }, 43);
    const { p } = run;
    const x = Float64Array.from(run.x);
    const w = Float64Array.from(run.w);
    const y1 = new Float64Array(run.gy.length);
    const y2 = new Float64Array(run.gy.length);
    conv2dForward(x, w, null, p, y1);
    R.conv2dForward(x, w, null, p, y2);
    expect(Array.from(y1)).toEqual(Array.from(y2));
    const ref = runReference(run);
    const prev = getKernelMode();
    setKernelMode('reference');
    try {
      const y = new Float32Array(run.gy.length);
      conv2dForward(run.x, run.w, null, p, y);
      expectIdentical(y, ref.y, 'y in reference mode');
    } finally {
      setKernelMode(prev);
    }
  });
});
