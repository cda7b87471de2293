// Batch norm and pooling fast kernels on arena-resident tensors (in place, split across threads)
// and on plain arrays (copied through scratch), at 1 and 2 threads with the split threshold
// forced low: every variant must give the same bits as plain arrays on one thread, and those
// must match the plain TypeScript references (exactly where the kernel headers promise it,
// within the float64 summation bound of kernels-fast-elementwise.test.ts for BN sums).

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as BN from '../src/kernels/batchnorm.js';
import { allocate } from '../src/kernels/dtype.js';
import { fastEngine, getFastTuning, setFastTuning } from '../src/kernels/fast/engine.js';
import { setKernelMode } from '../src/kernels/mode.js';
import * as P from '../src/kernels/pool.js';
import { getNumThreads, setNumThreads } from '../src/kernels/threads/pool.js';
import { rng } from './helpers/random.js';
import { expectSameBits } from './helpers/bits.js';
import { onBackend } from './helpers/modes.js';

// These tests are about the wasm kernels: run them on wasm whatever SKIPGRAD_BACKEND says.
onBackend('wasm');

const initial = { tuning: getFastTuning(), threads: getNumThreads(), mode: 'fast' as const }; // onBackend('wasm') above
beforeEach(() => {
  setKernelMode('fast');
  setFastTuning({ parallelElements: 4, minElements: 0 });
});
afterEach(() => {
  setFastTuning(initial.tuning);
  setNumThreads(initial.threads);
  setKernelMode(initial.mode);
});

/** |fast - ref| <= 1e-12 * scale(c) per channel: float64 sums of the same terms in another order. */
function expectSumsClose(fast: ArrayLike<number>, ref: ArrayLike<number>, scale: (c: number) => number, what: string): void {
  for (let c = 0; c < ref.length; c++) {
    const bound = 1e-12 * scale(c);
    if (!(Math.abs(fast[c] - ref[c]) <= bound)) expect.fail(`${what}: channel ${c} is ${fast[c]}, the reference gives ${ref[c]} (bound ${bound})`);
  }
}

/**
 * Where a variant keeps its operands: all plain arrays (the copy path), all in the arena (in
 * place), or mixed (inputs in the arena, outputs plain: copy path with inputs in place).
 */
type Residency = 'plain' | 'resident' | 'mixed';
interface Variant {
  residency: Residency;
  threads: number;
}
const VARIANTS: Variant[] = (['plain', 'resident', 'mixed'] as const).flatMap((residency) => [1, 2].map((threads) => ({ residency, threads })));
const label = (v: Variant) => `${v.residency}, ${v.threads} thread(s)`;

/** A copy of `src` in the arena (asserted: these tests pick sizes the arena takes) or a plain one. */
function place<T extends Float32Array | Int32Array>(src: T, resident: boolean): T {
  if (!resident) return src.slice() as T;
  const f = allocate('float32', src.length) as Float32Array;
  expect(fastEngine()!.resident(f), `arena block of ${src.length} floats`).toBeGreaterThanOrEqual(0);
  const out = (src instanceof Int32Array ? new Int32Array(f.buffer, f.byteOffset, f.length) : f) as T;
  out.set(src);
  return out;
}

/** An output array for the variant (zeroed arena block or plain array). */
function output(n: number, v: Variant): Float32Array {
  return place(new Float32Array(n), v.residency === 'resident');
}

/** Runs `f` for every variant at its thread count; returns the results by variant, plain/1 thread first. */
function across<T>(f: (v: Variant) => T): [Variant, T][] {
  return VARIANTS.map((v) => {
    setNumThreads(v.threads);
    return [v, f(v)];
  });
}

/** Asserts that every variant gave the same bits as the first (plain arrays, one thread). */
function expectAllSame<T>(results: [Variant, T][], fields: (r: T) => Record<string, ArrayLike<number>>, what: string): T {
  const base = fields(results[0][1]);
  for (const [v, r] of results.slice(1)) {
    const got = fields(r);
    for (const k of Object.keys(base)) expectSameBits(got[k], base[k], `${what} ${k} (${label(v)} vs plain, 1 thread)`);
  }
  return results[0][1];
}

function randomF32(n: number, seed: number, scale = 4, offset = -2): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * scale + offset);
}

describe('batch norm: resident / plain / mixed, 1 and 2 threads', () => {
  // [N, C, S]: S < 16 takes the column kernels (S = 1, 4, 7, 9), else the plane kernels (16, 25,
  // 49, 61, 196); batch 1; C not a multiple of 4. Every array has >= 256 elements (arena blocks).
  const SHAPES: [number, number, number][] = [
    [1, 5, 196], [3, 7, 49], [64, 5, 1], [1, 300, 1], [9, 13, 4], [5, 10, 7], [4, 3, 25], [2, 3, 61], [6, 5, 16], [3, 11, 9], [8, 33, 49],
  ];

  it.each(SHAPES)('[%i, %i, %i]: forward (train and eval) and backward', (N, C, S) => {
    const n = N * C * S;
    const what = `[${N},${C},${S}]`;
    // an offset per channel, so the shifted one-pass variance is exercised
    const x0 = randomF32(n, n).map((v, i) => 3 * v + 100 * (Math.floor(i / S) % C) - 50);
    const g0 = randomF32(n, n + 1);
    const w = randomF32(C, 5);
    const b = randomF32(C, 6);
    const runningMean = Float64Array.from(randomF32(C, 7));
    const runningInvstd = BN.invStd(Float64Array.from(randomF32(C, 8, 2, 0.1)), 1e-5);

    const results = across((v) => {
      const x = place(x0, v.residency !== 'plain');
      const g = place(g0, v.residency !== 'plain');
      const stats = BN.channelStats(x, N, C, S);
      const invstd = BN.invStd(stats.variance, 1e-5);
      const y = output(n, v);
      BN.normalize(x, N, C, S, stats.mean, invstd, w, b, y);
      const yEval = output(n, v);
      BN.normalize(x, N, C, S, runningMean, runningInvstd, w, b, yEval);
      const sums = BN.backwardReduce(g, x, N, C, S, stats.mean, invstd);
      const dx = output(n, v);
      BN.backwardInput(g, x, N, C, S, stats.mean, invstd, w, sums.sumG, sums.sumGXhat, true, dx);
      const dxEval = output(n, v);
      BN.backwardInput(g, x, N, C, S, runningMean, runningInvstd, w, sums.sumG, sums.sumGXhat, false, dxEval);
      return { mean: stats.mean, variance: stats.variance, y, yEval, sumG: sums.sumG, sumGXhat: sums.sumGXhat, dx, dxEval };
    });
    const fast = expectAllSame(results, (r) => r, what);

    // Against the reference: sums within the bound, elementwise passes exact given the same sums.
    setKernelMode('reference');
    const ref = BN.channelStats(x0, N, C, S);
    expectSumsClose(fast.mean, ref.mean, (c) => Math.abs(ref.mean[c]) + Math.sqrt(ref.variance[c]), `${what} mean`);
    expectSumsClose(fast.variance, ref.variance, (c) => ref.variance[c] + (ref.mean[c] - x0[c * S]) ** 2, `${what} variance`);
    const invstd = BN.invStd(fast.variance, 1e-5);
    const expected = (f: (out: Float32Array) => void) => {
      const out = new Float32Array(n);
      f(out);
      return out;
    };
    expectSameBits(fast.y, expected((o) => BN.normalize(x0, N, C, S, fast.mean, invstd, w, b, o)), `${what} normalize`);
    expectSameBits(fast.yEval, expected((o) => BN.normalize(x0, N, C, S, runningMean, runningInvstd, w, b, o)), `${what} normalize (eval)`);
    const refSums = BN.backwardReduce(g0, x0, N, C, S, fast.mean, invstd);
    const sumAbs = (c: number, xhat: boolean) => {
      let s = 0;
      for (let k = 0; k < N; k++) {
        for (let i = 0; i < S; i++) {
          const j = (k * C + c) * S + i;
          s += Math.abs(g0[j] * (xhat ? (x0[j] - fast.mean[c]) * invstd[c] : 1));
        }
      }
      return s;
    };
    expectSumsClose(fast.sumG, refSums.sumG, (c) => sumAbs(c, false), `${what} sum(g)`);
    expectSumsClose(fast.sumGXhat, refSums.sumGXhat, (c) => sumAbs(c, true), `${what} sum(g * xhat)`);
    const dx = expected((o) => BN.backwardInput(g0, x0, N, C, S, fast.mean, invstd, w, fast.sumG, fast.sumGXhat, true, o));
    expectSameBits(fast.dx, dx, `${what} input gradient`);
    const dxEval = expected((o) => BN.backwardInput(g0, x0, N, C, S, runningMean, runningInvstd, w, fast.sumG, fast.sumGXhat, false, o));
    expectSameBits(fast.dxEval, dxEval, `${what} input gradient (eval)`);
  });

  it('copies in chunks of whole planes: same bits with chunks smaller than a plane', () => {
    const [N, C, S] = [3, 5, 49];
    const x = randomF32(N * C * S, 3);
    const plainStats = (chunkElements: number) => {
      setFastTuning({ chunkElements });
      return BN.channelStats(x, N, C, S);
    };
    const [a, b] = [plainStats(16), plainStats(16384)];
    expectSameBits(a.mean, b.mean, 'mean');
    expectSameBits(a.variance, b.variance, 'variance');
  });

  it('splits resident tensors by channels at 2 threads, plain arrays stay on this thread', () => {
    const pool = fastEngine()!.runtime.pool;
    const run = vi.spyOn(pool, 'run');
    try {
      setNumThreads(2);
      const [N, C, S] = [4, 6, 49];
      const x = place(randomF32(N * C * S, 4), true);
      BN.channelStats(x, N, C, S);
      BN.channelStats(x.slice(), N, C, S); // a plain copy
      BN.channelStats(place(randomF32(64 * 5, 5), true), 64, 5, 1); // column mode
      expect(run.mock.calls.map(([name, jobs]) => [name, jobs.length])).toEqual([['bn_stats', 2], ['bn_stats_cols', 2]]);
      // column mode: thread 1 starts at channel 3 = column 3 (S = 1), L = 5
      expect(run.mock.calls[1][1][1].slice(1, 4)).toEqual([64, 2, 5]);
    } finally {
      run.mockRestore();
    }
  });
});

describe('pooling: resident / plain / mixed, 1 and 2 threads', () => {
  type MaxCase = [n: number, c: number, h: number, w: number, k: number, s: number, pad: number, ceil: boolean];
  // ResNet's stem window (3x3 / 2, pad 1), 2x2 / 2, odd sizes; plane counts with and without a
  // partial group of four. Every output has >= 256 elements (arena blocks).
  const MAX: MaxCase[] = [
    [2, 3, 14, 14, 3, 2, 1, false],
    [1, 5, 28, 28, 3, 2, 1, false],
    [3, 7, 11, 13, 3, 2, 1, false],
    [4, 4, 9, 9, 2, 2, 0, false],
    [2, 9, 8, 8, 2, 2, 0, false],
    [1, 11, 15, 13, 2, 2, 0, true],
    [1, 3, 31, 29, 3, 3, 1, true],
  ];

  it.each(MAX)('max pool [%i, %i, %i, %i] k%i s%i p%i ceil=%s: values, indices and gradient', (n, c, h, w, k, s, pad, ceilMode) => {
    const p = P.pool2dParams([n, c, h, w], { kernelSize: [k, k], stride: [s, s], padding: [pad, pad], dilation: [1, 1], ceilMode }, 'test');
    const r = rng(n * 1000 + c * 100 + h);
    // few distinct values: ties, windows of -Infinity, NaNs, signed zeros
    const x0 = Float32Array.from({ length: n * c * h * w }, () => [0, 1, 2, -Infinity, NaN, -0][Math.floor(r() * 6)]);
    const m = n * c * p.outH * p.outW;
    const g0 = randomF32(m, 9);
    const results = across((v) => {
      const x = place(x0, v.residency !== 'plain');
      const out = output(m, v);
      const idx = P.maxPool2dForward(x, p, out);
      // the op keeps these indices for the backward; plain variants pass an ordinary array
      const gx = output(x0.length, v);
      P.maxPool2dBackward(place(g0, v.residency !== 'plain'), v.residency === 'plain' ? Int32Array.from(idx) : idx, p, gx);
      return { out, idx, gx };
    });
    const what = `[${n},${c},${h},${w}] k${k} s${s} p${pad}`;
    const fast = expectAllSame(results, (q) => q, what);
    expect(fastEngine()!.resident(results[2][1].idx), 'resident variant: indices on an arena block').toBeGreaterThanOrEqual(0);
    setKernelMode('reference');
    const out = new Float32Array(m);
    const idx = P.maxPool2dForward(x0, p, out);
    expectSameBits(fast.out, out, `${what} values`);
    expectSameBits(fast.idx, idx, `${what} indices`);
    const gx = new Float32Array(x0.length);
    P.maxPool2dBackward(g0, idx, p, gx);
    expectSameBits(fast.gx, gx, `${what} gradient`);
  });

  type AdaptiveCase = [n: number, c: number, h: number, w: number, outH: number, outW: number];
  // global (1x1) pools, S = 1, overlapping bins (9 -> 4), uneven bins (7 -> 3, 10 -> 3)
  const ADAPTIVE: AdaptiveCase[] = [[4, 70, 2, 3, 1, 1], [64, 5, 1, 1, 1, 1], [3, 15, 7, 5, 3, 2], [1, 20, 9, 9, 4, 4], [4, 5, 6, 10, 5, 3], [2, 129, 7, 7, 1, 1]];

  it.each(ADAPTIVE)('adaptive avg pool [%i, %i, %i, %i] -> %ix%i: forward and backward', (n, c, h, w, outH, outW) => {
    const p = { n, c, h, w, outH, outW };
    const x0 = randomF32(n * c * h * w, h * w);
    const g0 = randomF32(n * c * outH * outW, 7);
    g0[0] = -0; // the reference's 0 + (-0) = +0 in the gradient
    const results = across((v) => {
      const out = output(g0.length, v);
      P.adaptiveAvgPool2dForward(place(x0, v.residency !== 'plain'), p, out);
      const gx = output(x0.length, v);
      P.adaptiveAvgPool2dBackward(place(g0, v.residency !== 'plain'), p, gx);
      return { out, gx };
    });
    const what = `[${n},${c},${h},${w}] -> ${outH}x${outW}`;
    const fast = expectAllSame(results, (q) => q, what);
    setKernelMode('reference');
    const out = new Float32Array(g0.length);
    P.adaptiveAvgPool2dForward(x0, p, out);
    expectSameBits(fast.out, out, `${what} forward`);
    const gx = new Float32Array(x0.length);
    P.adaptiveAvgPool2dBackward(g0, p, gx);
    expectSameBits(fast.gx, gx, `${what} backward`);
  });

  it('splits resident max pooling by groups of planes at 2 threads; the partial group goes through scratch', () => {
    const pool = fastEngine()!.runtime.pool;
    const run = vi.spyOn(pool, 'run');
    try {
      setNumThreads(2);
      const p = P.pool2dParams([3, 7, 14, 14], { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: false }, 'test');
      const x = place(randomF32(3 * 7 * 196, 1), true);
      const out = place(new Float32Array(3 * 7 * 49), true);
      const idx = P.maxPool2dForward(x, p, out);
      P.maxPool2dBackward(out, idx, p, place(new Float32Array(x.length), true));
      const calls = run.mock.calls.map(([name, jobs]) => [name, jobs.map((j) => j[3])]);
      // 21 planes: 5 groups of four (3 + 2) in place, plane 20 copied; backward by planes (11 + 10)
      expect(calls).toEqual([['max_pool_planes', [3, 2]], ['max_pool_backward', [11, 10]]]);
    } finally {
      run.mockRestore();
    }
  });

  it('max-pool backward: an index of -1 (a dilated window of padding only) passes no gradient on', () => {
    // taps at rows -1 and 1 of a 1-row input: every window sees only padding
    const p = P.pool2dParams([4, 80, 1, 3], { kernelSize: [2, 1], stride: [1, 1], padding: [1, 0], dilation: [2, 1], ceilMode: false }, 'test');
    const x0 = randomF32(4 * 80 * 3, 3);
    const out = new Float32Array(4 * 80 * p.outH * p.outW);
    const idx0 = P.maxPool2dForward(x0, p, out); // the reference (dilation)
    expect(Array.from(new Set(idx0))).toEqual([-1]);
    // and a stem-like pool with every fifth index replaced by -1
    const q = P.pool2dParams([2, 5, 14, 14], { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: false }, 'test');
    const y0 = randomF32(2 * 5 * 196, 4);
    const qOut = new Float32Array(2 * 5 * 49);
    const qIdx = Int32Array.from(P.maxPool2dForward(y0, q, qOut), (v, i) => (i % 5 === 2 ? -1 : v));
    for (const [pp, idx] of [[p, idx0], [q, qIdx]] as const) {
      const m = idx.length;
      const g0 = randomF32(m, 5);
      const hw = pp.h * pp.w;
      const results = across((v) => {
        const gx = output(pp.n * pp.c * hw, v);
        P.maxPool2dBackward(place(g0, v.residency !== 'plain'), place(idx, v.residency !== 'plain'), pp, gx);
        return { gx };
      });
      const fast = expectAllSame(results, (r) => r, `[${pp.n},${pp.c},${pp.h},${pp.w}]`);
      // independently: the kept entries scattered in float64 (float32 sums of at most four terms
      // are within a few 2^-24 of the sum of their magnitudes; no term: exactly 0)
      const expected = new Float64Array(pp.n * pp.c * hw);
      const magnitude = new Float64Array(pp.n * pp.c * hw);
      for (let o = 0; o < m; o++) {
        if (idx[o] < 0) continue;
        const i = Math.floor(o / (pp.outH * pp.outW)) * hw + idx[o];
        expected[i] += g0[o];
        magnitude[i] += Math.abs(g0[o]);
      }
      for (let i = 0; i < expected.length; i++) {
        if (!(Math.abs(fast.gx[i] - expected[i]) <= 1e-6 * magnitude[i])) expect.fail(`gradient ${i}: ${fast.gx[i]}, expected ${expected[i]}`);
      }
      setKernelMode('reference');
      const gx = new Float32Array(expected.length);
      P.maxPool2dBackward(g0, idx, pp, gx);
      expectSameBits(fast.gx, gx, 'reference');
      setKernelMode('fast');
    }
  });
});
