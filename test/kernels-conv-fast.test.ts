// The batched wasm convolution (kernels/conv_fast.ts) against the plain reference (kernels/conv.ts
// in 'reference' kernel mode, which sums in float64), on awkward shapes, 1 and 2 threads; and
// against itself: the same bits with its helpers split across threads and with its operands
// resident in the kernel arena (used in place) or not (copied).

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { conv2d } from '../src/autograd/ops/conv2d.js';
import { tensor, type Tensor } from '../src/index.js';
import * as R from '../src/kernels/conv.js';
import { conv2dBackward, conv2dForward } from '../src/kernels/conv_dispatch.js';
import { conv2dBackwardFast, conv2dForwardFast, pixelClasses, setConvChunkBudget, setConvParallelFloats } from '../src/kernels/conv_fast.js';
import { allocate } from '../src/kernels/dtype.js';
import { gemm, gemmHeap, gemmInfo, setGemmTuning, type GemmTuning } from '../src/kernels/gemm.js';
import { getKernelMode, setKernelMode } from '../src/kernels/mode.js';
import { kernelRuntime } from '../src/kernels/runtime.js';
import { getNumThreads, setNumThreads } from '../src/kernels/threads/pool.js';
import { abs, randomF32, rng } from './helpers/random.js';
import { onBackend } from './helpers/modes.js';

// These tests are about the wasm kernels: run them on wasm whatever SKIPGRAD_BACKEND says.
onBackend('wasm');


function oracle(run: () => void): void {
  const prev = getKernelMode();
  setKernelMode('reference');
  try {
    run();
  } finally {
    setKernelMode(prev);
  }
}

interface Case {
  name: string;
  x: number[];
  w: number[];
  stride?: [number, number];
  padding?: [number, number] | 'same' | 'valid';
  dilation?: [number, number];
  groups?: number;
  bias?: boolean;
}

const cases: Case[] = [
  { name: '3x3 pad 1, odd sizes, batch 3', x: [3, 5, 7, 5], w: [6, 5, 3, 3], padding: [1, 1], bias: true },
  { name: '1x1 stride 1 (no im2col), batch 2', x: [2, 6, 5, 3], w: [5, 6, 1, 1], bias: true },
  { name: '1x1 stride 2', x: [2, 6, 7, 5], w: [9, 6, 1, 1], stride: [2, 2] },
  { name: '7x7 stride 2 pad 3 (the stem)', x: [2, 3, 13, 11], w: [8, 3, 7, 7], stride: [2, 2], padding: [3, 3], bias: true },
  { name: 'dilation 2, pad 2, groups 2', x: [2, 4, 9, 7], w: [6, 2, 3, 3], padding: [2, 2], dilation: [2, 2], groups: 2, bias: true },
  { name: 'depthwise (groups = C_in), stride 2, pad 1', x: [3, 4, 8, 7], w: [4, 1, 3, 3], stride: [2, 2], padding: [1, 1], groups: 4 },
  { name: 'depthwise with multiplier 2', x: [2, 3, 6, 6], w: [6, 1, 3, 3], padding: [1, 1], groups: 3, bias: true },
  { name: 'batch 1, no padding', x: [1, 3, 9, 9], w: [5, 3, 3, 3] },
  { name: 'pad 3 on a 2x3 image (taps that only see padding)', x: [2, 3, 2, 3], w: [4, 3, 3, 3], padding: [3, 3], bias: true },
  { name: '3x3 pad 1 on 1x1 maps (one tap of nine)', x: [5, 16, 1, 1], w: [12, 16, 3, 3], padding: [1, 1] },
  { name: '3x3 stride 2 pad 1 on 2x2 (four taps of nine)', x: [3, 8, 2, 2], w: [10, 8, 3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'no tap ever sees the input (output is the bias)', x: [2, 3, 1, 1], w: [4, 3, 1, 1], stride: [2, 2], padding: [1, 1], bias: true },
  { name: 'stride [2,1], padding [2,0], 4x2 kernel, dilation [1,2]', x: [2, 3, 9, 8], w: [5, 3, 4, 2], stride: [2, 1], padding: [2, 0], dilation: [1, 2] },
  { name: "padding 'same' with an even kernel", x: [2, 2, 6, 5], w: [3, 2, 4, 2], padding: 'same', bias: true },
  { name: 'K = 576 > the GEMM K block, 6x6 maps', x: [2, 64, 6, 6], w: [20, 64, 3, 3], padding: [1, 1], bias: true },
  { name: '4x4 maps (9 pixel classes), groups 2, batch 3', x: [3, 6, 4, 4], w: [4, 3, 3, 3], padding: [1, 1], groups: 2, bias: true },
  { name: 'wide rows (stride-1 SIMD runs), 37x23', x: [2, 2, 37, 23], w: [3, 2, 3, 5], padding: [1, 2] },
];

interface Run {
  p: R.Conv2dParams;
  x: Float32Array;
  w: Float32Array;
  b: Float32Array | null;
  gy: Float32Array;
}

function setup(c: Case, seed: number): Run {
  const p = R.conv2dParams(c.x, c.w, {
    stride: c.stride ?? [1, 1],
    padding: c.padding ?? [0, 0],
    dilation: c.dilation ?? [1, 1],
    groups: c.groups ?? 1,
  });
  const rand = rng(seed);
  const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  return {
    p,
    x: randomF32(size(c.x), rand),
    w: randomF32(size(c.w), rand),
    b: c.bias ? randomF32(p.cOut, rand) : null,
    gy: randomF32(p.n * p.cOut * p.outH * p.outW, rand),
  };
}

interface Result {
  y: Float32Array;
  gx: Float32Array;
  gw: Float32Array;
  gb: Float32Array;
}

function runFast({ p, x, w, b, gy }: Run): Result {
  const r = { y: new Float32Array(gy.length), gx: new Float32Array(x.length), gw: new Float32Array(w.length), gb: new Float32Array(p.cOut) };
  expect(conv2dForwardFast(x, w, b, p, r.y), 'forward took the fast path').toBe(true);
  expect(conv2dBackwardFast(gy, x, w, p, r), 'backward took the fast path').toBe(true);
  return r;
}

function runReference({ p, x, w, b, gy }: Run): Result {
  const r = { y: new Float32Array(gy.length), gx: new Float32Array(x.length), gw: new Float32Array(w.length), gb: new Float32Array(p.cOut) };
  oracle(() => {
    R.conv2dForward(x, w, b, p, r.y);
    R.conv2dBackwardInput(gy, w, p, r.gx);
    R.conv2dBackwardWeight(x, gy, p, r.gw);
    R.conv2dBackwardBias(gy, p, r.gb);
  });
  return r;
}

/**
 * |fast - ref| <= 1e-5 * (sum of |terms|) elementwise. The reference sums in float64, the fast
 * path in float32 (blocked, FMA or not), so its error is a sum of K roundings of partial sums,
 * each at most 2^-24 of the running sum of |terms|: K * 6e-8 * S in the worst case, ~sqrt(K) *
 * 6e-8 * S for random signs. Here K <= 576 for outputs and input gradients and <= 1702 (the
 * n*outH*outW pixels of the 37x23 case) for weight gradients: sqrt(K) * 6e-8 <= 2.5e-6, so 1e-5
 * leaves a 4x margin and still catches a single wrong or missing term of more than 1e-5 of the
 * row's magnitude. S is computed exactly by the reference on |x|, |w|, |gy|: every product
 * there is a |term|.
 */
function expectWithin(fast: Float32Array, ref: Float32Array, S: Float32Array, what: string): void {
  expect(fast.length, `${what}: length`).toBe(ref.length);
  let worst = -1;
  let worstRatio = 1;
  for (let i = 0; i < ref.length; i++) {
    const bound = 1e-5 * S[i] + 1e-30; // S = 0 (no terms) demands exact equality, up to the sign of 0
    const ratio = Math.abs(fast[i] - ref[i]) / bound;
    if (!(ratio <= worstRatio)) {
      worst = i;
      worstRatio = ratio;
    }
  }
  if (worst >= 0) expect.fail(`${what}: element ${worst} is ${fast[worst]}, reference ${ref[worst]}, sum of |terms| ${S[worst]} (${worstRatio.toFixed(1)}x the bound)`);
}

function magnitudes(run: Run): Result {
  return runReference({ p: run.p, x: abs(run.x), w: abs(run.w), b: run.b && abs(run.b), gy: abs(run.gy) });
}

function expectIdentical(a: Float32Array, b: Float32Array, what: string): void {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const i = ua.findIndex((v, k) => v !== ub[k]);
  if (i >= 0) expect.fail(`${what}: element ${i} differs between runs (${a[i]} vs ${b[i]})`);
}

let savedTuning: GemmTuning;
let savedThreads: number;
beforeAll(() => {
  savedThreads = getNumThreads();
  // Route even these small products through the wasm kernel and split them across threads.
  savedTuning = setGemmTuning({ fastMinMNK: 0, minFlopsPerThread: 0 });
});
afterAll(() => {
  setGemmTuning(savedTuning);
  setNumThreads(savedThreads);
});

describe('conv_fast against the reference', () => {
  it('runs on the wasm GEMM here', () => expect(gemmInfo().available).toBe(true));

  for (const threads of [1, 2]) {
    describe(`${threads} thread(s)`, () => {
      cases.forEach((c, k) => {
        it(c.name, () => {
          setNumThreads(threads);
          const run = setup(c, 100 + k);
          const fast = runFast(run);
          const ref = runReference(run);
          const S = magnitudes(run);
          expectWithin(fast.y, ref.y, S.y, 'y');
          expectWithin(fast.gx, ref.gx, S.gx, 'gx');
          expectWithin(fast.gw, ref.gw, S.gw, 'gw');
          // same float64 sum in the same order as the reference
          expectIdentical(fast.gb, ref.gb, 'gb');
          // a fixed thread count gives the same bits every time
          const again = runFast(run);
          for (const key of ['y', 'gx', 'gw', 'gb'] as const) expectIdentical(again[key], fast[key], `${key} (second run)`);
        });
      });
    });
  }

  it('chunks of images (with a remainder) give the same gradients within the bound, and repeat exactly', () => {
    setNumThreads(2);
    const run = setup({ name: 'chunked', x: [7, 6, 5, 6], w: [6, 3, 3, 3], padding: [1, 1], groups: 2, bias: true }, 7);
    // 5x6 map, 3x3 pad 1: 9 classes, the largest (3x4 interior, 9 taps) has 6*9*12 column floats per
    // image, plus 2*6*30 map and 6*30 input floats: 1188, so 3 images per chunk (3 + 3 + 1)
    const prev = setConvChunkBudget(3 * 1188);
    try {
      const fast = runFast(run);
      const ref = runReference(run);
      const S = magnitudes(run);
      expectWithin(fast.y, ref.y, S.y, 'y');
      expectWithin(fast.gx, ref.gx, S.gx, 'gx');
      expectWithin(fast.gw, ref.gw, S.gw, 'gw');
      expectIdentical(fast.gb, ref.gb, 'gb');
      const again = runFast(run);
      expectIdentical(again.gw, fast.gw, 'gw (second run)');
    } finally {
      setConvChunkBudget(prev);
    }
  });

  it('computes only the gradients asked for', () => {
    const run = setup(cases[0], 3);
    const full = runFast(run);
    const gw = new Float32Array(run.w.length);
    expect(conv2dBackwardFast(run.gy, run.x, run.w, run.p, { gx: null, gw, gb: null })).toBe(true);
    expectIdentical(gw, full.gw, 'gw alone');
    const gx = new Float32Array(run.x.length);
    expect(conv2dBackwardFast(run.gy, run.x, run.w, run.p, { gx, gw: null, gb: null })).toBe(true);
    expectIdentical(gx, full.gx, 'gx alone');
  });

  it('handles an empty batch (weight and bias gradients are zero)', () => {
    const p = R.conv2dParams([0, 2, 5, 5], [3, 2, 3, 3], { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 });
    const gw = new Float32Array(54).fill(7);
    const gb = new Float32Array(3).fill(7);
    expect(conv2dForwardFast(new Float32Array(0), new Float32Array(54), null, p, new Float32Array(0))).toBe(true);
    expect(conv2dBackwardFast(new Float32Array(0), new Float32Array(0), new Float32Array(54), p, { gx: new Float32Array(0), gw, gb })).toBe(true);
    expect(Array.from(gw).every((v) => v === 0) && Array.from(gb).every((v) => v === 0)).toBe(true);
  });

  it('cuts small maps into pixel classes by the taps that reach the input', () => {
    const classes = (x: number[], w: number[], s: number, pad: number) =>
      pixelClasses(R.conv2dParams(x, w, { stride: [s, s], padding: [pad, pad], dilation: [1, 1], groups: 1 }))
        .map((c) => ({ at: [c.oy, c.ox, c.rows, c.cols], taps: c.taps, padded: c.padded }));
    // a 1x1 map sees the centre tap only
    expect(classes([1, 1, 1, 1], [1, 1, 3, 3], 1, 1)).toEqual([{ at: [0, 0, 1, 1], taps: [4], padded: false }]);
    // ResNet's 2x2 -> 1x1 stride-2 conv: four taps
    expect(classes([1, 1, 2, 2], [1, 1, 3, 3], 2, 1)).toEqual([{ at: [0, 0, 1, 1], taps: [4, 5, 7, 8], padded: false }]);
    // a 2x2 map: one class per pixel, four taps each
    expect(classes([1, 1, 2, 2], [1, 1, 3, 3], 1, 1)).toEqual([
      { at: [0, 0, 1, 1], taps: [4, 5, 7, 8], padded: false },
      { at: [0, 1, 1, 1], taps: [3, 4, 6, 7], padded: false },
      { at: [1, 0, 1, 1], taps: [1, 2, 4, 5], padded: false },
      { at: [1, 1, 1, 1], taps: [0, 1, 3, 4], padded: false },
    ]);
    // 4x4: corners (4 taps), edges (6), the 2x2 interior (9): 100 of 144 tap-pixels, 9 classes
    const c4 = classes([1, 1, 4, 4], [1, 1, 3, 3], 1, 1);
    expect(c4.map((c) => c.taps.length)).toEqual([4, 6, 4, 6, 9, 6, 4, 6, 4]);
    expect(c4[4].at).toEqual([1, 1, 2, 2]);
    // 7x7 saves only 18%: one class with all nine taps, zeros in the padding
    expect(classes([1, 1, 7, 7], [1, 1, 3, 3], 1, 1)).toEqual([{ at: [0, 0, 7, 7], taps: [0, 1, 2, 3, 4, 5, 6, 7, 8], padded: true }]);
    // no tap ever reaches the input
    expect(classes([1, 1, 1, 1], [1, 1, 1, 1], 2, 1)).toEqual([{ at: [0, 0, 2, 2], taps: [], padded: false }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Residency and helper threads: every variant must give the bits of the single-threaded run on
// plain arrays.

interface SplitCase extends Case {
  /** setConvChunkBudget for this case (floats), to get several chunks. */
  chunk?: number;
}

// Arrays are mostly >= 256 floats, so that allocate('float32') puts them in the arena.
const splitCases: SplitCase[] = [
  { name: '1x1 stride 1, batch 1', x: [1, 24, 5, 7], w: [16, 24, 1, 1], bias: true },
  { name: '1x1 stride 2 on a 7x5 map', x: [3, 20, 7, 5], w: [18, 20, 1, 1], stride: [2, 2] },
  { name: '7x7 stride 2 pad 3, 3 channels (the stem)', x: [2, 3, 13, 11], w: [8, 3, 7, 7], stride: [2, 2], padding: [3, 3], bias: true },
  { name: '7x7 stride 2 pad 3, 1 channel (im2col split by images)', x: [5, 1, 15, 15], w: [8, 1, 7, 7], stride: [2, 2], padding: [3, 3] },
  { name: '3x3 pad 1, groups 2, 5x7 maps', x: [3, 6, 5, 7], w: [10, 3, 3, 3], padding: [1, 1], groups: 2, bias: true },
  { name: 'depthwise 3x3 stride 2 pad 1 on 9x7', x: [3, 8, 9, 7], w: [8, 1, 3, 3], stride: [2, 2], padding: [1, 1], groups: 8 },
  { name: 'pad 3 on a 2x3 map (taps that only see padding)', x: [2, 6, 2, 3], w: [8, 6, 3, 3], padding: [3, 3], bias: true },
  { name: '3x3 pad 1 on 1x1 maps (direct: one tap)', x: [20, 16, 1, 1], w: [24, 16, 3, 3], padding: [1, 1] },
  { name: '3x3 stride 2 pad 1 on 2x2 (direct: four taps)', x: [9, 8, 2, 2], w: [12, 8, 3, 3], stride: [2, 2], padding: [1, 1] },
  { name: '3x3 pad 1 on 2x2 (four classes of four taps)', x: [6, 12, 2, 2], w: [16, 12, 3, 3], padding: [1, 1] },
  { name: '4x4 maps (9 classes), groups 2', x: [3, 8, 4, 4], w: [6, 4, 3, 3], padding: [1, 1], groups: 2, bias: true },
  { name: '7x7 map (one padded class), batch 1', x: [1, 10, 7, 7], w: [12, 10, 3, 3], padding: [1, 1] },
  // 3 images per chunk (see the chunking test below): chunks of 3, 3 and 1
  { name: 'chunks of 3, 3 and 1 images', x: [7, 6, 5, 6], w: [6, 3, 3, 3], padding: [1, 1], groups: 2, bias: true, chunk: 3 * 1188 },
];

type Residency = 'plain' | 'resident' | 'inputs resident' | 'outputs resident';

/** The fast path on copies of run's arrays, resident or not; outputs start as NaN (every element must be written). */
function runPlaced(run: Run, residency: Residency): Result {
  const addressOf = gemmHeap()!.addressOf;
  const put = (a: Float32Array, resident: boolean): Float32Array => {
    if (!resident) return a.slice();
    const r = allocate('float32', a.length) as Float32Array;
    r.set(a);
    if (a.length >= 256) expect(addressOf(r), `a resident array of ${a.length}`).toBeGreaterThanOrEqual(0);
    return r;
  };
  const ins = residency === 'resident' || residency === 'inputs resident';
  const outs = residency === 'resident' || residency === 'outputs resident';
  const [x, w, b, gy] = [run.x, run.w, run.b, run.gy].map((a) => a && put(a, ins));
  const [y, gx, gw, gb] = [gy!.length, run.x.length, run.w.length, run.p.cOut].map((k) => put(new Float32Array(k).fill(NaN), outs));
  expect(conv2dForwardFast(x!, w!, b, run.p, y), 'forward took the fast path').toBe(true);
  expect(conv2dBackwardFast(gy!, x!, w!, run.p, { gx, gw, gb }), 'backward took the fast path').toBe(true);
  return { y: y.slice(), gx: gx.slice(), gw: gw.slice(), gb: gb.slice() };
}

describe('conv_fast: resident operands and helpers on the pool give the same bits', () => {
  /** Helper exports the pool ran split into 2 or more jobs. */
  const split = new Set<string>();
  const residencies: Residency[] = ['plain', 'resident', 'inputs resident', 'outputs resident'];

  splitCases.forEach((c, k) => {
    it(c.name, () => {
      const run = setup(c, 300 + k);
      const prevChunk = c.chunk ? setConvChunkBudget(c.chunk) : null;
      const prevFloats = setConvParallelFloats(1);
      const pool = kernelRuntime()!.pool;
      const spy = vi.spyOn(pool, 'run');
      try {
        // the baseline: one thread, so nothing is split; plain arrays, so everything is copied
        setNumThreads(1);
        const base = runPlaced(run, 'plain');
        const ref = runReference(run);
        const S = magnitudes(run);
        expectWithin(base.y, ref.y, S.y, 'y');
        expectWithin(base.gx, ref.gx, S.gx, 'gx');
        expectWithin(base.gw, ref.gw, S.gw, 'gw');
        expectIdentical(base.gb, ref.gb, 'gb');
        // with the threshold at 1, every helper call that has 2 units splits at 2 threads
        for (const threads of [1, 2]) {
          for (const residency of residencies) {
            setNumThreads(threads);
            spy.mockClear();
            const r = runPlaced(run, residency);
            for (const key of ['y', 'gx', 'gw', 'gb'] as const) expectIdentical(r[key], base[key], `${key}, ${threads} thread(s), ${residency}`);
            const jobs = spy.mock.calls.filter(([name, args]) => name !== 'gemm' && args.length > 1);
            if (threads === 1) expect(jobs, 'no helper split at 1 thread').toEqual([]);
            else expect(jobs.length, 'helpers split at 2 threads').toBeGreaterThan(0);
            for (const [name] of jobs) split.add(name);
          }
        }
      } finally {
        spy.mockRestore();
        setConvParallelFloats(prevFloats);
        if (prevChunk !== null) setConvChunkBudget(prevChunk);
      }
    });
  });

  it('split every kind of helper somewhere in the table above', () => {
    expect([...split].sort()).toEqual([
      'addBias', 'blocks', 'col2im', 'col2imImagesInner', 'im2col', 'im2colImagesInner', 'packTaps', 'unpackTaps', 'unpackTapsAdd', 'zero',
    ]);
  });

  it('does not split helpers below the threshold', () => {
    setNumThreads(2);
    const prev = setConvParallelFloats(1 << 30);
    const spy = vi.spyOn(kernelRuntime()!.pool, 'run');
    try {
      runPlaced(setup(splitCases[2], 1), 'resident');
      expect(spy.mock.calls.filter(([name, args]) => name !== 'gemm' && args.length > 1)).toEqual([]);
    } finally {
      spy.mockRestore();
      setConvParallelFloats(prev);
    }
  });

  it('rejects a bad threshold, naming the setter', () => {
    expect(() => setConvParallelFloats(0)).toThrow('setConvParallelFloats: expected a positive integer, got 0');
    expect(() => setConvParallelFloats(1.5)).toThrow(/setConvParallelFloats/);
  });
});

describe('gemmHeap (the GEMM on operands resident in wasm memory)', () => {
  it('gives the same bits as gemm on copied operands, for both transposes and 2 threads', () => {
    setNumThreads(2);
    const heap = gemmHeap()!;
    const rand = rng(9);
    const [M, N, K] = [37, 45, 29];
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const A = randomF32(M * K, rand);
      const B = randomF32(K * N, rand);
      const C0 = randomF32(M * N, rand);
      const expected = C0.slice();
      gemm(tA, tB, M, N, K, 1.5, A, 0, tA ? M : K, B, 0, tB ? K : N, 0.5, expected, 0, N);
      const base = heap.scratch(12 * 4096 + heap.scratchBytes(M, N, K));
      expect(base).toBeGreaterThan(0);
      const [aAt, bAt, cAt] = [base, base + 4 * 4096, base + 8 * 4096];
      const scratchAt = base + 12 * 4096;
      const f = heap.f32();
      f.set(A, aAt / 4);
      f.set(B, bAt / 4);
      f.set(C0, cAt / 4);
      heap.gemm(tA, tB, M, N, K, 1.5, aAt, tA ? M : K, bAt, tB ? K : N, 0.5, cAt, N, scratchAt);
      expectIdentical(f.slice(cAt / 4, cAt / 4 + M * N), expected, `C (transA ${tA}, transB ${tB})`);
    }
  });

  it('refuses operands outside the memory or in the control area, naming them', () => {
    const heap = gemmHeap()!;
    const far = heap.f32().length * 4;
    const base = heap.scratch(4096);
    expect(() => heap.gemm(false, false, 4, 4, 4, 1, far, 4, base, 4, 0, base, 4, base)).toThrow(/A \(4x4, ld 4, at \d+\) exceeds the wasm memory/);
    expect(() => heap.gemm(false, false, 4, 4, 4, 1, 0, 4, base, 4, 0, base, 4, base)).toThrow(/A address 0 is not a 4-byte aligned offset/);
    expect(() => heap.gemm(false, false, 4, 4, 4, 1, base, 2, base, 4, 0, base, 4, base)).toThrow('lda=2 < max(1, 4)');
  });
});

describe('conv_dispatch', () => {
  it('keeps float64 on the reference, bit for bit', () => {
    const run = setup(cases[0], 11);
    const x = Float64Array.from(run.x);
    const w = Float64Array.from(run.w);
    const gy = Float64Array.from(run.gy);
    const y1 = new Float64Array(gy.length);
    const y2 = new Float64Array(gy.length);
    conv2dForward(x, w, null, run.p, y1);
    R.conv2dForward(x, w, null, run.p, y2);
    expect(Array.from(y1)).toEqual(Array.from(y2));
    const g1 = { gx: new Float64Array(x.length), gw: new Float64Array(w.length), gb: new Float64Array(run.p.cOut) };
    const g2 = { gx: new Float64Array(x.length), gw: new Float64Array(w.length), gb: new Float64Array(run.p.cOut) };
    conv2dBackward(gy, x, w, run.p, g1);
    R.conv2dBackwardInput(gy, w, run.p, g2.gx);
    R.conv2dBackwardWeight(x, gy, run.p, g2.gw);
    R.conv2dBackwardBias(gy, run.p, g2.gb);
    for (const k of ['gx', 'gw', 'gb'] as const) expect(Array.from(g1[k]), k).toEqual(Array.from(g2[k]));
  });

  it('the conv2d op gives the same values and gradients in fast and reference mode', () => {
    setNumThreads(2);
    const c = cases[4];
    const run = setup(c, 5);
    const go = (mode: 'fast' | 'reference'): Tensor[] => {
      const prev = getKernelMode();
      setKernelMode(mode);
      try {
        const x = tensor(run.x, { shape: c.x, requiresGrad: true });
        const w = tensor(run.w, { shape: c.w, requiresGrad: true });
        const b = tensor(run.b!, { requiresGrad: true });
        const y = conv2d(x, w, b, { padding: c.padding as [number, number], dilation: c.dilation, groups: c.groups });
        y.backward(tensor(run.gy, { shape: y.shape }));
        return [y, x.grad!, w.grad!, b.grad!];
      } finally {
        setKernelMode(prev);
      }
    };
    const fast = go('fast');
    const ref = go('reference');
    const S = magnitudes(run);
    expectWithin(fast[0].data as Float32Array, ref[0].data as Float32Array, S.y, 'y');
    expectWithin(fast[1].data as Float32Array, ref[1].data as Float32Array, S.gx, 'x.grad');
    expectWithin(fast[2].data as Float32Array, ref[2].data as Float32Array, S.gw, 'w.grad');
    expectIdentical(fast[3].data as Float32Array, ref[3].data as Float32Array, 'b.grad');
  });
});
