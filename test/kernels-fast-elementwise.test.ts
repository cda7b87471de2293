// The fast elementwise, batch-norm and pooling kernels (src/kernels/fast/) against their plain
// TypeScript references, on awkward sizes (not multiples of 4, N = 1, C = 1, planes larger
// than a chunk, chunk boundaries everywhere), in both kernel modes, on plain arrays (the copy
// path). Arena-resident tensors and thread counts: kernels-fast-threads.test.ts.
//
// Everything elementwise is bit-identical to the reference by construction (see the kernel
// headers), so those checks use exact equality (NaN equal to NaN, +0 distinct from -0).
// Only the batch-norm sums are float64 sums in another order; their bound is stated below.

import { afterEach, describe, expect, it } from 'vitest';
import * as BN from '../src/kernels/batchnorm.js';
import type { TypedArray } from '../src/kernels/dtype.js';
import { ARITH_FNS, arith, mapBinary, reluBackward, reluForward, type ArithOp } from '../src/kernels/elementwise.js';
import { fastEngine, getFastTuning, setFastTuning, type FastTuning } from '../src/kernels/fast/engine.js';
import { setKernelMode, type KernelMode } from '../src/kernels/mode.js';
import * as P from '../src/kernels/pool.js';
import { adaptiveAvgPool2d, add, batchNorm, maxPool2d, mul, relu, sub, div, sum, tensor, Tensor } from '../src/index.js';
import { inMode, onBackend } from './helpers/modes.js';
import { expectSameBits } from './helpers/bits.js';

// These tests are about the wasm kernels: run them on wasm whatever SKIPGRAD_BACKEND says.
onBackend('wasm');

const initialMode: KernelMode = 'fast'; // onBackend('wasm') above
const initialTuning = getFastTuning();
afterEach(() => {
  setKernelMode(initialMode);
  setFastTuning(initialTuning);
});

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -3e38, 1];

/** Uniform in [-2, 2) with, if `specials`, one value in eight from SPECIALS. */
function randomF32(n: number, seed: number, specials = false): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = specials && r() < 0.125 ? SPECIALS[Math.floor(r() * SPECIALS.length)] : r() * 4 - 2;
  return a;
}

const SIZES = [1, 3, 5, 7, 13, 63, 64, 1000, 4099];
// Tiny chunks put chunk boundaries inside every array; the default is what training uses.
const TUNINGS: Partial<FastTuning>[] = [
  { minElements: 0, chunkElements: 4 },
  { minElements: 0, chunkElements: 12 },
  { minElements: 0 },
];

describe('fast kernels: engine', () => {
  it('compiles the SIMD module on this runtime (Node 20 has SIMD128)', () => {
    expect(fastEngine()).not.toBeNull();
  });

  it('rejects bad tuning', () => {
    expect(() => setFastTuning({ chunkElements: 6 })).toThrow(/chunkElements=6/);
    expect(() => setFastTuning({ minElements: -1 })).toThrow(/minElements=-1/);
  });
});

describe('fast kernels: elementwise', () => {
  const ops: ArithOp[] = ['add', 'sub', 'mul', 'div'];
  for (const t of TUNINGS) {
    it(`add/sub/mul/div, array-array and array-scalar, tuning ${JSON.stringify(t)}`, () => {
      setFastTuning(t);
      for (const n of SIZES) {
        const a = randomF32(n, n, true);
        const b = randomF32(n, n + 1, true);
        const s = randomF32(1, n + 2);
        for (const op of ops) {
          for (const [x, y] of [[a, b], [a, s], [s, b]]) {
            const shapeOf = (v: Float32Array) => (v.length === 1 ? [] : [n]);
            const run = (mode: KernelMode) => inMode(mode, () => {
              const out = new Float32Array(n);
              arith(op, x, shapeOf(x), y, shapeOf(y), out, [n]);
              return out;
            });
            expectSameBits(run('fast'), run('reference'), `${op} n=${n} (${x.length}, ${y.length})`);
          }
        }
      }
    });

    it(`relu and its backward, tuning ${JSON.stringify(t)}`, () => {
      setFastTuning(t);
      for (const n of SIZES) {
        const x = randomF32(n, 3 * n, true);
        const g = randomF32(n, 3 * n + 1, true);
        const fwd = (mode: KernelMode) => inMode(mode, () => {
          const out = new Float32Array(n);
          reluForward(x, out);
          return out;
        });
        const bwd = (mode: KernelMode) => inMode(mode, () => {
          const out = new Float32Array(n);
          reluBackward(g, x, out);
          return out;
        });
        expectSameBits(fwd('fast'), fwd('reference'), `relu n=${n}`);
        expectSameBits(bwd('fast'), bwd('reference'), `relu backward n=${n}`);
      }
    });
  }

  it('relu keeps NaN, maps -0 and -Infinity to +0; its backward selects (x <= 0 ? +0 : g, even for a NaN or Inf g), passing g at a NaN x, as PyTorch', () => {
    setFastTuning({ minElements: 0 });
    const x = new Float32Array([NaN, -0, 0, -Infinity, Infinity, -1, 2, -2, 0]);
    const g = new Float32Array([1, 1, 1, -1, NaN, -5, 3, NaN, -Infinity]);
    const out = new Float32Array(9);
    reluForward(x, out);
    expectSameBits(out, [NaN, 0, 0, 0, Infinity, 0, 2, 0, 0], 'relu');
    reluBackward(g, x, out);
    expectSameBits(out, [1, 0, 0, 0, NaN, 0, 3, 0, 0], 'relu backward');
  });

  it('other dtypes and mixes take the per-op JS loops, same results as the closures', () => {
    setFastTuning({ minElements: 0 });
    const f64 = Float64Array.from(randomF32(37, 9, true));
    const i32 = Int32Array.from({ length: 37 }, (_, i) => (i * 7919) % 41 - 20);
    const f32 = randomF32(37, 10);
    const cases: [TypedArray, TypedArray, () => TypedArray][] = [
      [f64, f64, () => new Float64Array(37)],
      [i32, i32, () => new Int32Array(37)],
      [i32, f32, () => new Float32Array(37)],
      [f32, f64, () => new Float64Array(37)],
    ];
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      for (const [a, b, make] of cases) {
        const run = (mode: KernelMode) => inMode(mode, () => {
          const out = make();
          arith(op, a, [37], b, [37], out, [37]);
          return out;
        });
        const ref = make();
        mapBinary(a, [37], b, [37], ref, [37], ARITH_FNS[op]);
        expectSameBits(run('fast'), ref, `${op} ${a.constructor.name}/${b.constructor.name}`);
        expectSameBits(run('reference'), ref, `${op} reference`);
      }
    }
  });

  it('broadcasting that is not array-scalar still goes through mapBinary', () => {
    setFastTuning({ minElements: 0 });
    const a = randomF32(15, 11);
    const b = randomF32(5, 12);
    const run = (mode: KernelMode) => inMode(mode, () => {
      const out = new Float32Array(15);
      arith('sub', a, [3, 5], b, [5], out, [3, 5]);
      return out;
    });
    const expected = Float32Array.from({ length: 15 }, (_, i) => a[i] - b[i % 5]);
    expectSameBits(run('fast'), expected, 'fast');
    expectSameBits(run('reference'), expected, 'reference');
  });
});

// [N, C, S] shapes: S < 16 takes the column kernels, larger S the plane kernels; with chunks
// of 4 or 12 elements every chunk is one plane (or one row of C*S in column mode).
const BN_SHAPES: [number, number, number][] = [
  [1, 1, 2], [2, 1, 7], [1, 3, 5], [3, 5, 1], [5, 3, 4], [2, 3, 13], [2, 3, 16], [4, 7, 33], [3, 2, 49], [1, 2, 5000],
];

/**
 * Bound for the statistics. The fast path sums d = x - shift (shift = the channel's first
 * value) and d^2 in float64 lanes, the reference sums x, then (x - mean)^2, sequentially: both
 * are float64 sums of at most a few thousand terms, so each differs from the exact value by
 * well under 1e-12 of the sum of |terms| (n * 2^-53 ~ 1e-12 for n ~ 1e4, and far less in
 * practice). For the variance the terms are d^2, whose sum is n * (var + (mean - shift)^2).
 */
function expectStatsClose(fast: ArrayLike<number>, ref: ArrayLike<number>, scale: (c: number) => number, what: string): void {
  for (let c = 0; c < ref.length; c++) {
    const err = Math.abs(fast[c] - ref[c]);
    if (!(err <= 1e-12 * scale(c))) expect.fail(`${what}: channel ${c} is ${fast[c]}, the reference gives ${ref[c]} (bound ${1e-12 * scale(c)})`);
  }
}

describe('fast kernels: batch norm', () => {
  for (const t of [...TUNINGS, { minElements: 0, chunkElements: 64 }]) {
    it(`statistics, normalize and both backward passes, tuning ${JSON.stringify(t)}`, () => {
      setFastTuning(t);
      for (const [N, C, S] of BN_SHAPES) {
        const n = N * C * S;
        const what = `[${N},${C},${S}]`;
        // an offset per channel, so the shifted one-pass variance is actually exercised
        const x = randomF32(n, n).map((v, i) => 3 * v + 100 * (Math.floor(i / S) % C) - 50);
        const g = randomF32(n, n + 1);
        const w = randomF32(C, 5);
        const b = randomF32(C, 6);
        const ref = inMode('reference', () => BN.channelStats(x, N, C, S));
        const fast = inMode('fast', () => BN.channelStats(x, N, C, S));
        const absMean = (c: number) => Math.abs(ref.mean[c]) + Math.sqrt(ref.variance[c]);
        expectStatsClose(fast.mean, ref.mean, absMean, `${what} mean`);
        expectStatsClose(fast.variance, ref.variance, (c) => ref.variance[c] + (ref.mean[c] - x[c * S]) ** 2, `${what} variance`);

        // Given the same statistics, the elementwise passes are bit-identical.
        const invstd = BN.invStd(ref.variance, 1e-5);
        const both = <T>(f: () => T): [T, T] => [inMode('fast', f), inMode('reference', f)];
        const [y1, y2] = both(() => {
          const out = new Float32Array(n);
          BN.normalize(x, N, C, S, ref.mean, invstd, w, b, out);
          return out;
        });
        expectSameBits(y1, y2, `${what} normalize`);
        const [r1, r2] = both(() => BN.backwardReduce(g, x, N, C, S, ref.mean, invstd));
        const sumAbs = (c: number, xhat: boolean) => {
          let s = 0;
          for (let k = 0; k < N; k++) for (let i = 0; i < S; i++) {
            const j = (k * C + c) * S + i;
            s += Math.abs(g[j] * (xhat ? (x[j] - ref.mean[c]) * invstd[c] : 1));
          }
          return s;
        };
        expectStatsClose(r1.sumG, r2.sumG, (c) => sumAbs(c, false), `${what} sum(g)`);
        expectStatsClose(r1.sumGXhat, r2.sumGXhat, (c) => sumAbs(c, true), `${what} sum(g * xhat)`);
        for (const batchStats of [true, false]) {
          const [d1, d2] = both(() => {
            const out = new Float32Array(n);
            BN.backwardInput(g, x, N, C, S, ref.mean, invstd, w, r2.sumG, r2.sumGXhat, batchStats, out);
            return out;
          });
          expectSameBits(d1, d2, `${what} backwardInput batchStats=${batchStats}`);
        }
      }
    });
  }

  it('float64 input and weights without a weight take the reference', () => {
    setFastTuning({ minElements: 0 });
    const x = Float64Array.from(randomF32(30, 1));
    const both = (mode: KernelMode) => inMode(mode, () => BN.channelStats(x, 2, 3, 5));
    expectSameBits(both('fast').variance, both('reference').variance, 'float64 stats');
    const x32 = randomF32(30, 2);
    const [o1, o2] = (['fast', 'reference'] as const).map((mode) => inMode(mode, () => {
      const out = new Float32Array(30);
      BN.normalize(x32, 2, 3, 5, [0.5, -1, 2], new Float64Array([1, 2, 3]), null, null, out);
      return out;
    }));
    expectSameBits(o1, o2, 'normalize without weight and bias');
  });
});

describe('fast kernels: pooling', () => {
  it('max pool: values and argmax indices identical to the reference (NaN, -Infinity, ties)', () => {
    let checked = 0;
    for (const t of [{ minElements: 0, chunkElements: 4 }, { minElements: 0, chunkElements: 64 }, { minElements: 0 }]) {
      setFastTuning(t);
      for (const [n, c, h, w] of [[1, 1, 1, 1], [1, 3, 5, 7], [2, 5, 14, 14], [1, 7, 9, 4], [3, 2, 2, 11], [1, 6, 8, 8]]) {
        for (const k of [1, 2, 3]) for (const s of [1, 2, 3]) for (const pad of [0, 1]) for (const ceilMode of [false, true]) {
          if (2 * pad > k || k > h + 2 * pad || k > w + 2 * pad) continue;
          const p = P.pool2dParams([n, c, h, w], { kernelSize: [k, k], stride: [s, s], padding: [pad, pad], dilation: [1, 1], ceilMode }, 'test');
          const r = rng(checked);
          // few distinct values: many ties, whole windows of -Infinity, NaNs
          const x = Float32Array.from({ length: n * c * h * w }, () => [0, 1, 2, -Infinity, NaN, -0][Math.floor(r() * 6)]);
          const m = n * c * p.outH * p.outW;
          const [a, b] = (['fast', 'reference'] as const).map((mode) => inMode(mode, () => {
            const out = new Float32Array(m);
            return { out, idx: P.maxPool2dForward(x, p, out) };
          }));
          const what = `[${n},${c},${h},${w}] k${k} s${s} p${pad}${ceilMode ? ' ceil' : ''}`;
          expectSameBits(a.out, b.out, `${what} values`);
          expectSameBits(a.idx, b.idx, `${what} indices`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('adaptive average pool (global and overlapping bins) identical to the reference', () => {
    for (const [n, c, h, w, oh, ow] of [[2, 3, 1, 1, 1, 1], [2, 3, 3, 3, 1, 1], [1, 2, 7, 5, 3, 2], [3, 1, 4, 6, 4, 6], [1, 1, 5, 5, 0, 2]]) {
      const p = { n, c, h, w, outH: oh, outW: ow };
      const x = randomF32(n * c * h * w, h * w, true);
      const g = randomF32(n * c * oh * ow, 7);
      const [f, r] = (['fast', 'reference'] as const).map((mode) => inMode(mode, () => {
        const out = new Float32Array(n * c * oh * ow);
        const gx = new Float32Array(n * c * h * w);
        P.adaptiveAvgPool2dForward(x, p, out);
        P.adaptiveAvgPool2dBackward(g, p, gx);
        return { out, gx };
      }));
      expectSameBits(f.out, r.out, `[${n},${c},${h},${w}] -> ${oh}x${ow} forward`);
      expectSameBits(f.gx, r.gx, `[${n},${c},${h},${w}] -> ${oh}x${ow} backward`);
    }
  });
});

describe('fast kernels: through the ops, fast mode vs reference mode', () => {
  /** Forward and input gradients of a small ResNet-like block, in one kernel mode. */
  function block(mode: KernelMode): Tensor[] {
    return inMode(mode, () => {
      const x = tensor(randomF32(3 * 5 * 7 * 9, 21), { shape: [3, 5, 7, 9], requiresGrad: true });
      const w = tensor(randomF32(5, 22), { requiresGrad: true });
      const b = tensor(randomF32(5, 23), { requiresGrad: true });
      const rm = tensor(new Float32Array(5));
      const rv = tensor(new Float32Array(5).fill(1));
      const y = relu(batchNorm(x, rm, rv, w, b, { training: true }));
      const z = relu(add(maxPool2d(y, { kernelSize: 3, stride: 2, padding: 1 }), 0.25));
      const v = div(sub(mul(z, z), 1), 3);
      const pooled = adaptiveAvgPool2d(v, 1);
      sum(mul(pooled, tensor(randomF32(15, 24), { shape: [3, 5, 1, 1] }))).backward();
      return [y, z, pooled, x.grad!, w.grad!, b.grad!, rm, rv];
    });
  }

  it('a BN / ReLU / max-pool / add block: same values and gradients', () => {
    setFastTuning({ minElements: 0, chunkElements: 8 });
    const fast = block('fast');
    const ref = block('reference');
    const names = ['bn+relu', 'pool+add+relu', 'pooled', 'x.grad', 'weight.grad', 'bias.grad', 'runningMean', 'runningVar'];
    fast.forEach((t, i) => {
      // BN statistics differ by float64 rounding (~1e-16 relative); a float32 result can then
      // round the other way: one float32 ulp, 6e-8 relative, far inside 1e-6.
      const e = ref[i].data;
      for (let k = 0; k < e.length; k++) {
        const tol = 1e-6 * Math.max(1, Math.abs(e[k]));
        if (!(Math.abs(t.data[k] - e[k]) <= tol)) expect.fail(`${names[i]}: element ${k} is ${t.data[k]}, reference mode gives ${e[k]}`);
      }
    });
  });

  it('is identical from run to run', () => {
    setFastTuning({ minElements: 0, chunkElements: 8 });
    const a = block('fast');
    const b = block('fast');
    a.forEach((t, i) => expectSameBits(t.data, b[i].data, `output ${i}`));
  });
});
