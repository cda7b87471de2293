// The wasm reductions (src/kernels/fast/reduce.ts) against the plain TypeScript references in
// kernels/reduce.ts, on awkward shapes (len 1, outer 1, inner 1/3/5/7/12/15/17, sizes not
// multiples of 4 or 8), with chunks small enough that rows and column blocks are split across calls.
//
// max/min (values and first indices) and sums over an axis with inner > 1 add or compare in
// the reference's order, so they must be bit-identical. A sum over a contiguous axis (inner =
// 1) adds in another float64 order; its bound is in expectSumClose.

import { afterEach, describe, expect, it } from 'vitest';
import { getFastTuning, setFastTuning, type FastTuning } from '../src/kernels/fast/engine.js';
import { setKernelMode, type KernelMode } from '../src/kernels/mode.js';
import { extremumAxis, extremumAxisReference, sumAxes, sumAxesReference } from '../src/kernels/reduce.js';
import { sizeOf } from '../src/kernels/shape.js';
import { max, mean, min, sum, tensor, Tensor } from '../src/index.js';
import { rng } from './helpers/random.js';
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

/** n values: uniform in [-2, 2), or (with `pool`) drawn from a few values, for ties and specials. */
function data(n: number, seed: number, pool?: readonly number[]): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (pool ? pool[Math.floor(r() * pool.length)] : r() * 4 - 2));
}
const WITH_NAN = [0, -0, 1, 2, -Infinity, Infinity, NaN, -1];
const NO_NAN = [0, -0, 1, 2, -Infinity, Infinity, -1];
const SUM_SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -3e38, 1, 0.3, -1.7];

const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

/**
 * A sum over a contiguous axis (the last reduced one), given the reference's input `y` to that
 * step. Both paths add the same exactly representable f32 values in float64, sequentially or
 * in eight lanes, so each float64 sum is within (len - 1) * 2^-53 * sum|y| of the exact sum and
 * the two within twice that; rounding both to float32 then adds at most one float32 ulp
 * (<= 2^-23 of the larger magnitude). In practice the float64 gap (~1e-16 relative) is far
 * below float32's 2^-24, so the results are equal except at near-ties. Non-finite results
 * (Inf, NaN) come out the same in any order and must match exactly.
 */
function expectSumClose(fast: ArrayLike<number>, ref: ArrayLike<number>, y: Float32Array, len: number, what: string): void {
  expect(fast.length, `${what}: length`).toBe(ref.length);
  for (let o = 0; o < ref.length; o++) {
    const a = fast[o];
    const e = ref[o];
    if (!Number.isFinite(e) || !Number.isFinite(a) || e === 0) {
      if (!Object.is(a, e)) expect.fail(`${what}: output ${o} is ${show(a)}, the reference gives ${show(e)}`);
      continue;
    }
    let absSum = 0;
    for (let k = 0; k < len; k++) absSum += Math.abs(y[o * len + k]);
    const tol = (len - 1) * 2 ** -52 * absSum + 2 ** -23 * Math.max(Math.abs(a), Math.abs(e));
    if (!(Math.abs(a - e) <= tol)) expect.fail(`${what}: output ${o} is ${a}, the reference gives ${e} (bound ${tol})`);
  }
}

// Small chunks split rows (inner = 1, len > chunk), slabs (len * inner > chunk) and, with
// chunk 4, column blocks (inner > chunk); the default chunk is what training uses.
const TUNINGS: Partial<FastTuning>[] = [
  { minElements: 0, chunkElements: 64 },
  { minElements: 0, chunkElements: 4 },
  { minElements: 0 },
];

const SUM_CASES: [number[], number[]][] = [
  [[1], [0]],
  [[7], [0]],
  [[100003], [0]],
  [[3, 5], [0]],
  [[3, 5], [1]],
  [[1, 9], [1]],
  [[9, 1], [1]],
  [[5, 1, 3], [1]],
  [[1, 6, 5], [1]],
  [[5, 17], [0]],
  [[3, 7, 7], [1]],
  [[6, 5, 3], [1]],
  [[2, 9, 17], [1]],
  [[3, 6, 15], [1]],
  [[3, 200], [1]],
  [[2, 300, 5], [1]],
  [[2, 3, 100], [1]],
  [[13, 2, 33], [0]],
  [[2, 3, 4, 5], [0]],
  [[2, 3, 4, 5], [1]],
  [[2, 3, 4, 5], [0, 2]],
  [[2, 3, 4, 5], [1, 2, 3]],
  [[2, 3, 4, 5], [0, 1, 2, 3]],
  [[4, 33, 7], [0, 1, 2]],
  [[3, 70, 1], [1, 2]],
];

/** Whether each reduction step of sumAxes runs with inner > 1 (bit-identical), and the last step's input. */
function sumSteps(x: Float32Array, shape: number[], axes: number[]): { exact: boolean; y: Float32Array; len: number } {
  const last = axes[axes.length - 1];
  const innerLast = sizeOf(shape.slice(last + 1));
  const y = sumAxesReference(x, shape, axes.slice(0, -1)) as Float32Array;
  return { exact: innerLast > 1, y, len: shape[last] };
}

describe('fast reductions: sum', () => {
  for (const t of TUNINGS) {
    it(`sumAxes fast vs reference, tuning ${JSON.stringify(t)}`, () => {
      setFastTuning(t);
      let exactCases = 0;
      for (const [shape, axes] of SUM_CASES) {
        const n = sizeOf(shape);
        for (const specials of [false, true]) {
          const x = data(n, n + axes.length, specials ? SUM_SPECIALS : undefined);
          const ref = inMode('reference', () => sumAxes(x, shape, axes));
          expectSameBits(ref, sumAxesReference(x, shape, axes), 'reference mode is the reference');
          const fast = inMode('fast', () => sumAxes(x, shape, axes));
          expect(fast).toBeInstanceOf(Float32Array);
          const what = `[${shape}] over [${axes}]${specials ? ' with specials' : ''}`;
          const { exact, y, len } = sumSteps(x, shape, axes);
          if (exact) {
            expectSameBits(fast, ref, what);
            exactCases++;
          } else {
            expectSumClose(fast, ref, y, len, what);
          }
        }
      }
      expect(exactCases).toBeGreaterThan(20);
    });
  }

  it('contiguous sums equal the reference in practice (random rows, no near-ties)', () => {
    setFastTuning({ minElements: 0, chunkElements: 64 });
    const shape = [500, 37];
    const x = data(500 * 37, 5);
    const fast = inMode('fast', () => sumAxes(x, shape, [1]));
    const ref = sumAxesReference(x, shape, [1]);
    expectSumClose(fast, ref, x, 37, 'rows');
    let equal = 0;
    for (let i = 0; i < ref.length; i++) if (Object.is(fast[i], ref[i])) equal++;
    // An output differs only if its two float64 sums (at most ~1e-13 apart here) straddle a
    // float32 rounding boundary (ulps of 1e-10 and up at these magnitudes): rare enough that
    // a deterministic table of 500 rows shows none.
    expect(equal).toBe(ref.length);
  });

  it('takes the wasm path: a cancellation the two orders round differently', () => {
    setFastTuning({ minElements: 0 });
    // Sequentially 1e30 - 1e30 + 1 = 1; in lanes (1e30 + 1) - 1e30 = 0, the 1 absorbed by 1e30.
    const x = new Float32Array([1e30, -1e30, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(sumAxesReference(x, [8], [0]))).toEqual([1]);
    expect(Array.from(inMode('fast', () => sumAxes(x, [8], [0])))).toEqual([0]);
  });

  it('+0 for sums of negative zeros and of length-1 axes (0 + -0), as the reference', () => {
    setFastTuning({ minElements: 0, chunkElements: 4 });
    const x = new Float32Array(30).fill(-0);
    for (const [shape, axes] of [[[30], [0]], [[3, 10], [1]], [[3, 10], [0]], [[30, 1], [1]], [[1, 30], [0]]] as [number[], number[]][]) {
      const fast = inMode('fast', () => sumAxes(x, shape, axes));
      expectSameBits(fast, new Float32Array(fast.length), `[${shape}] over [${axes}]`);
    }
  });

  it('float64 and int32 inputs and empty axes take the reference', () => {
    setFastTuning({ minElements: 0 });
    const f64 = Float64Array.from(data(60, 1));
    const i32 = Int32Array.from({ length: 60 }, (_, i) => (i * 7919) % 41 - 20);
    for (const x of [f64, i32]) {
      const fast = inMode('fast', () => sumAxes(x, [3, 4, 5], [0, 2]));
      expect(fast.constructor).toBe(x.constructor);
      expectSameBits(fast, sumAxesReference(x, [3, 4, 5], [0, 2]), x.constructor.name);
    }
    const x = data(12, 2);
    const copy = inMode('fast', () => sumAxes(x, [3, 4], []));
    expect(copy).not.toBe(x);
    expectSameBits(copy, x, 'no axes');
    expect(inMode('fast', () => sumAxes(new Float32Array(0), [0, 3], [1])).length).toBe(0);
    expectSameBits(inMode('fast', () => sumAxes(new Float32Array(0), [3, 0], [1])), [0, 0, 0], 'empty axis');
  });
});

const EXT_CASES: [number[], number][] = [
  [[1], 0],
  [[7], 0],
  [[100003], 0],
  [[5, 3], 0],
  [[5, 3], 1],
  [[1, 9], 1],
  [[9, 1], 1],
  [[3, 1, 4], 1],
  [[1, 6, 5], 1],
  [[2, 13, 5], 1],
  [[4, 9, 17], 1],
  [[3, 6, 15], 1],
  [[2, 11, 12], 1],
  [[3, 7, 7], 2],
  [[3, 200], 1],
  [[2, 300, 3], 1],
  [[2, 7, 100], 1],
  [[200, 7], 0],
  [[6, 5, 7], 0],
  [[2, 3, 4, 5], 3],
];

describe('fast reductions: max and min', () => {
  for (const t of TUNINGS) {
    it(`values and first indices identical to the reference (ties, NaN, ±Infinity, ±0), tuning ${JSON.stringify(t)}`, () => {
      setFastTuning(t);
      for (const [shape, axis] of EXT_CASES) {
        const n = sizeOf(shape);
        for (const [p, pool] of [undefined, WITH_NAN, NO_NAN, [-Infinity, -0, 0], [Infinity, 0, -0]].entries()) {
          const x = data(n, 3 * n + axis + p, pool);
          for (const wantMax of [true, false]) {
            const ref = extremumAxisReference(x, shape, axis, wantMax);
            const fast = inMode('fast', () => extremumAxis(x, shape, axis, wantMax));
            const what = `${wantMax ? 'max' : 'min'} [${shape}] axis ${axis} pool ${p}`;
            expect(fast.values).toBeInstanceOf(Float32Array);
            expectSameBits(fast.values, ref.values, `${what} values`);
            expectSameBits(fast.indices, ref.indices, `${what} indices`);
          }
        }
      }
    });
  }

  it('hand-made rows: first tie, first NaN, all -Infinity, +0 / -0 order', () => {
    setFastTuning({ minElements: 0, chunkElements: 8 });
    const rows: [number[], number, number, number, number][] = [
      // row, max value, its index, min value, its index
      [[1, 3, 3, 0, 3, 0, 2, 3, 1, 0, 3], 3, 1, 0, 3],
      [[-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity], -Infinity, 0, -Infinity, 0],
      [[Infinity, Infinity, Infinity, Infinity, Infinity], Infinity, 0, Infinity, 0],
      [[1, 2, 3, 4, 5, NaN, 7, NaN, 9, 10, 11, NaN], NaN, 5, NaN, 5],
      [[-0, 0, 0, -0, -0, 0, -1, 0, -0], -0, 0, -1, 6], // -0 == +0: the first zero, sign and all
      [[-0, 0, 0, -0, -0, 0, 0, -0, 1], 1, 8, -0, 0],
      [[0, -0, 0, -0, -0, 0, 0, -0, -0], 0, 0, 0, 0],
      [[5, 4, 3, 2, 1, 0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12], 5, 0, -12, 17],
    ];
    for (const [row, mx, mi, mn, ni] of rows) {
      const x = Float32Array.from(row);
      for (const [wantMax, v, i] of [[true, mx, mi], [false, mn, ni]] as const) {
        const r = inMode('fast', () => extremumAxis(x, [1, row.length], 1, wantMax));
        expectSameBits(r.values, [v], `${wantMax ? 'max' : 'min'} of [${row.map(show)}]`);
        expect(r.indices[0]).toBe(i);
        const ref = extremumAxisReference(x, [1, row.length], 1, wantMax);
        expectSameBits(ref.values, [v], 'the reference agrees');
        expect(ref.indices[0]).toBe(i);
        // the same row as a column (inner = 3 copies side by side)
        const col = Float32Array.from(row.flatMap((e) => [e, e, e]));
        const c = inMode('fast', () => extremumAxis(col, [row.length, 3], 0, wantMax));
        expectSameBits(c.values, [v, v, v], 'column values');
        expectSameBits(c.indices, [i, i, i], 'column indices');
      }
    }
  });

  it('float64 input takes the reference', () => {
    setFastTuning({ minElements: 0 });
    const x = Float64Array.from(data(35, 4, WITH_NAN));
    const fast = inMode('fast', () => extremumAxis(x, [5, 7], 1, true));
    expect(fast.values).toBeInstanceOf(Float64Array);
    const ref = extremumAxisReference(x, [5, 7], 1, true);
    expectSameBits(fast.values, ref.values, 'values');
    expectSameBits(fast.indices, ref.indices, 'indices');
  });
});

describe('fast reductions: through the ops', () => {
  /** sum / mean / max / min with their gradients, in one kernel mode. */
  function run(mode: KernelMode): Float32Array[] {
    return inMode(mode, () => {
      const x = tensor(data(4 * 9 * 6 * 5, 7), { shape: [4, 9, 6, 5], requiresGrad: true });
      const outs: Tensor[] = [sum(x, [0, 2]), mean(x, 1, { keepdim: true }), max(x, 2), min(x, 0), max(x)];
      const w = outs.map((o, i) => tensor(data(o.size, 20 + i), { shape: o.shape }));
      outs.reduce<Tensor | null>((acc, o, i) => {
        const term = sum(o.mul(w[i]));
        return acc ? acc.add(term) : term;
      }, null)!.backward();
      return [...outs.map((o) => o.data as Float32Array), x.grad!.data as Float32Array];
    });
  }

  it('sum (inner > 1), mean, max, min: same values and gradients as reference mode, same from run to run', () => {
    setFastTuning({ minElements: 0, chunkElements: 16 });
    const fast = run('fast');
    const again = run('fast');
    const ref = run('reference');
    // Every reduction here has inner > 1 or is a max/min, so all are bit-identical.
    fast.forEach((f, i) => {
      expectSameBits(f, ref[i], `output ${i}`);
      expectSameBits(f, again[i], `output ${i}, second run`);
    });
  });

  it('sums over all axes are the same from run to run', () => {
    setFastTuning({ minElements: 0, chunkElements: 64 });
    const x = data(100003, 11, SUM_SPECIALS.filter((v) => Number.isFinite(v)));
    const a = inMode('fast', () => sumAxes(x, [100003], [0]));
    const b = inMode('fast', () => sumAxes(x, [100003], [0]));
    expectSameBits(a, b, 'run to run');
  });
});
