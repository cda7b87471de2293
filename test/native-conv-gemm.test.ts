// The native backend's oneDNN kernels (src/kernels/native, native/*.c) against the plain
// reference (kernels in 'reference' mode sum in float64): GEMM and the three convolution passes
// on awkward shapes, at 1 and 2 oneDNN threads, in oneDNN's blocked layouts and in plain NCHW,
// with non-finite inputs and arena-resident operands. Skipped, with the reason in the test name,
// where the addon is not built or finds no oneDNN.

import { afterAll, describe, expect, it } from 'vitest';
import * as R from '../src/kernels/conv.js';
import { allocate } from '../src/kernels/dtype.js';
import { gemmReference } from '../src/kernels/gemm.js';
import { kernelArena } from '../src/kernels/memory/arena.js';
import {
  nativeKernels as K, nativeStatus, setNativeBlockedLayout, setNativeSmallImageConv, setNativeThreads, setNativeWinograd,
} from '../src/kernels/native/index.js';
import { inMode } from './helpers/modes.js';
import { abs, randomF32, rng } from './helpers/random.js';

const status = nativeStatus();
const suite = status.loaded ? describe : describe.skip;
if (!status.loaded) {
  it.skip(`native backend not loaded: ${status.reason}`, () => {});
  console.warn(`native-conv-gemm.test.ts: native kernel tests skipped: ${status.reason}`);
}

afterAll(() => {
  if (status.loaded) {
    setNativeThreads(0);
    setNativeBlockedLayout(true);
    setNativeSmallImageConv(true);
    setNativeWinograd(true);
  }
});

/**
 * |native - ref| <= 1e-5 * (sum of |terms|) elementwise, as for the wasm kernels
 * (kernels-conv-fast.test.ts): oneDNN sums in float32, the reference in float64, so the error is
 * up to ~sqrt(K) * 6e-8 of the sum of |terms| for K-term sums (K <= 3136 here: <= 3.4e-6). S = 0
 * (no terms) demands exact equality. Non-finite reference values must be matched exactly.
 */
function expectWithin(got: Float32Array, ref: Float32Array, S: Float32Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(ref[i]) || !Number.isFinite(S[i])) {
      if (!Object.is(got[i], ref[i]) && !(Number.isNaN(got[i]) && Number.isNaN(ref[i]))) {
        expect.fail(`${what}: element ${i} is ${got[i]}, reference ${ref[i]}`);
      }
      continue;
    }
    const bound = 1e-5 * S[i] + 1e-30;
    if (!(Math.abs(got[i] - ref[i]) <= bound)) {
      expect.fail(`${what}: element ${i} is ${got[i]}, reference ${ref[i]}, sum of |terms| ${S[i]}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GEMM

suite('native gemm (dnnl_sgemm) against gemmReference', () => {
  const shapes: [boolean, boolean, number, number, number][] = [
    [false, false, 1, 1, 1], [false, true, 7, 5, 3], [true, false, 13, 17, 29], [true, true, 33, 1, 65],
    [false, false, 64, 130, 257], [false, true, 1, 300, 77], [true, true, 129, 31, 2],
  ];
  for (const threads of [1, 2]) {
    for (const [ta, tb, M, N, Kd] of shapes) {
      it(`${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${M}x${N}x${Kd}, offsets and padded strides, ${threads} thread(s)`, () => {
        setNativeThreads(threads);
        const rand = rng(M * 1000 + N * 10 + Kd);
        const [ar, ac] = ta ? [Kd, M] : [M, Kd];
        const [br, bc] = tb ? [N, Kd] : [Kd, N];
        const lda = ac + 3, ldb = bc + 1, ldc = N + 2, aOff = 5, bOff = 2, cOff = 7;
        const A = randomF32(aOff + ar * lda, rand), B = randomF32(bOff + br * ldb, rand);
        for (const [alpha, beta] of [[1, 0], [0.5, 1], [-2, 0.25]]) {
          const C0 = randomF32(cOff + M * ldc, rand);
          const got = C0.slice(), ref = C0.slice(), S = C0.map(Math.abs);
          expect(K.gemm!(ta, tb, M, N, Kd, alpha, A, aOff, lda, B, bOff, ldb, beta, got, cOff, ldc)).toBe(true);
          gemmReference(ta, tb, M, N, Kd, alpha, A, aOff, lda, B, bOff, ldb, beta, ref, cOff, ldc);
          gemmReference(ta, tb, M, N, Kd, Math.abs(alpha), abs(A), aOff, lda, abs(B), bOff, ldb, Math.abs(beta), S, cOff, ldc);
          expectWithin(got, ref, S, `alpha ${alpha} beta ${beta}`);
        }
      });
    }
  }

  it('beta = 0 overwrites C even where it holds NaN or Inf (BLAS), K = 0 and alpha = 0 scale C, M = 0 is a no-op', () => {
    const A = randomF32(12, rng(1)), B = randomF32(12, rng(2));
    const C = new Float32Array(9).fill(NaN);
    C[4] = Infinity;
    expect(K.gemm!(false, false, 3, 3, 4, 1, A, 0, 4, B, 0, 3, 0, C, 0, 3)).toBe(true);
    const ref = new Float32Array(9);
    gemmReference(false, false, 3, 3, 4, 1, A, 0, 4, B, 0, 3, 0, ref, 0, 3);
    expectWithin(C, ref, ref.map(() => 1), 'beta 0');
    const D = Float32Array.from([1, NaN, 3, 4]);
    expect(K.gemm!(false, false, 2, 2, 0, 1, A, 0, 1, B, 0, 2, 2, D, 0, 2)).toBe(true);
    expect(Array.from(D)).toEqual([2, NaN, 6, 8]);
    D.fill(NaN);
    expect(K.gemm!(false, false, 2, 2, 3, 0, A, 0, 3, B, 0, 2, 0, D, 0, 2)).toBe(true);
    expect(Array.from(D)).toEqual([0, 0, 0, 0]);
    expect(K.gemm!(false, false, 0, 2, 3, 1, A, 0, 3, B, 0, 2, 0, D, 0, 2)).toBe(true);
  });

  it('propagates NaN and Inf from A and B as the reference does', () => {
    const A = randomF32(20, rng(3)), B = randomF32(20, rng(4));
    A[2] = NaN; A[7] = Infinity; B[11] = -Infinity; B[0] = 0;
    const got = new Float32Array(16), ref = new Float32Array(16);
    expect(K.gemm!(false, false, 4, 4, 5, 1, A, 0, 5, B, 0, 4, 0, got, 0, 4)).toBe(true);
    gemmReference(false, false, 4, 4, 5, 1, A, 0, 5, B, 0, 4, 0, ref, 0, 4);
    const S = new Float32Array(16);
    gemmReference(false, false, 4, 4, 5, 1, abs(A), 0, 5, abs(B), 0, 4, 0, S, 0, 4);
    expectWithin(got, ref, S, 'non-finite');
  });

  it('declines what it cannot do safely: operands too short, ld too small, non-float32', () => {
    const A = new Float32Array(6), B = new Float32Array(6), C = new Float32Array(4);
    expect(K.gemm!(false, false, 2, 2, 3, 1, A, 1, 3, B, 0, 2, 0, C, 0, 2)).toBe(false);
    expect(K.gemm!(false, false, 2, 2, 3, 1, A, 0, 2, B, 0, 2, 0, C, 0, 2)).toBe(false);
    expect(K.gemm!(false, false, 2, 2, 3, 1, new Float64Array(6) as unknown as Float32Array, 0, 3, B, 0, 2, 0, C, 0, 2)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Convolution

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
  { name: '1x1, batch 2', x: [2, 6, 5, 3], w: [5, 6, 1, 1], bias: true },
  { name: '1x1 stride 2 (trailing rows never read)', x: [2, 6, 8, 6], w: [9, 6, 1, 1], stride: [2, 2] },
  { name: '7x7 stride 2 pad 3 (the stem)', x: [2, 3, 13, 11], w: [8, 3, 7, 7], stride: [2, 2], padding: [3, 3], bias: true },
  { name: 'dilation 2, pad 2, groups 2', x: [2, 4, 9, 7], w: [6, 2, 3, 3], padding: [2, 2], dilation: [2, 2], groups: 2, bias: true },
  { name: 'depthwise, stride 2, pad 1', x: [3, 4, 8, 7], w: [4, 1, 3, 3], stride: [2, 2], padding: [1, 1], groups: 4 },
  { name: 'batch 1, no padding', x: [1, 3, 9, 9], w: [5, 3, 3, 3] },
  { name: 'pad 3 on a 2x3 image (taps that only see padding)', x: [2, 3, 2, 3], w: [4, 3, 3, 3], padding: [3, 3], bias: true },
  { name: '3x3 stride 2 pad 1 on 2x2', x: [3, 8, 2, 2], w: [10, 8, 3, 3], stride: [2, 2], padding: [1, 1] },
  { name: 'no tap ever sees the input (output is the bias)', x: [2, 3, 1, 1], w: [4, 3, 1, 1], stride: [2, 2], padding: [1, 1], bias: true },
  { name: 'stride [2,1], padding [2,0], 4x2 kernel, dilation [1,2]', x: [2, 3, 9, 8], w: [5, 3, 4, 2], stride: [2, 1], padding: [2, 0], dilation: [1, 2] },
  { name: "padding 'same' with an even kernel (asymmetric)", x: [2, 2, 6, 5], w: [3, 2, 4, 2], padding: 'same', bias: true },
  { name: 'K = 576, 64 -> 20 channels, 6x6', x: [2, 64, 6, 6], w: [20, 64, 3, 3], padding: [1, 1], bias: true },
  // Winograd (3x3, stride 1, channels that oneDNN's avx512 kernels take: multiples of 16)
  { name: '3x3 pad 1, 32 -> 16 channels, 9x9, batch 4 (Winograd)', x: [4, 32, 9, 9], w: [16, 32, 3, 3], padding: [1, 1], bias: true },
  { name: '3x3 no padding, 16 -> 32 channels, 8x10 (Winograd, partial tiles)', x: [3, 16, 8, 10], w: [32, 16, 3, 3] },
  // dead taps (native/taps.c crops the kernel to the taps some window reads inside the image)
  { name: "3x3 pad 1 on 1x1 (ResNet-18's last stage on 28x28: the centre tap only)", x: [3, 16, 1, 1], w: [8, 16, 3, 3], padding: [1, 1], bias: true },
  { name: '5x5 pad 2 on 2x3, groups 2 (rows 1-3 of 5 read the image)', x: [2, 4, 2, 3], w: [6, 2, 5, 5], padding: [2, 2], groups: 2, bias: true },
  { name: "padding 'same', 4x2 kernel on 1x2 (asymmetric crop)", x: [2, 3, 1, 2], w: [4, 3, 4, 2], padding: 'same' },
  { name: '3x3 dilation 2 pad 2 on 2x2 (centre tap only)', x: [2, 5, 2, 2], w: [3, 5, 3, 3], padding: [2, 2], dilation: [2, 2] },
  // small images (native/smallconv.c): a 2x2 image and output, a 2x2 image to 1x1, a 1x3 row
  { name: '3x3 pad 1 on 2x2, batch 5 (every pixel pair shares a tap)', x: [5, 6, 2, 2], w: [7, 6, 3, 3], padding: [1, 1], bias: true },
  { name: '3x3 stride 2 pad 1 on 2x2 to 1x1, 12 -> 5 channels', x: [4, 12, 2, 2], w: [5, 12, 3, 3], stride: [2, 2], padding: [1, 1], bias: true },
  { name: '2x3 kernel, pad [1,1], dilation [1,2] on 1x3', x: [3, 4, 1, 3], w: [6, 4, 2, 3], padding: [1, 1], dilation: [1, 2], bias: true },
  { name: '3x3 pad 1 on 1x3 (7 of 9 pixel pairs share a tap: left to oneDNN)', x: [48, 40, 1, 3], w: [36, 40, 3, 3], padding: [1, 1], bias: true },
  { name: 'ResNet size: 256 -> 256 on 2x2, batch 16', x: [16, 256, 2, 2], w: [256, 256, 3, 3], padding: [1, 1] },
  { name: 'ResNet size: 512 -> 512 on 1x1, batch 8', x: [8, 512, 1, 1], w: [512, 512, 3, 3], padding: [1, 1] },
  { name: 'ResNet size: 64 -> 64, 7x7, batch 64 (3136-term weight sums)', x: [64, 64, 7, 7], w: [64, 64, 3, 3], padding: [1, 1] },
];

interface Run { p: R.Conv2dParams; x: Float32Array; w: Float32Array; b: Float32Array | null; gy: Float32Array }
interface Result { y: Float32Array; gx: Float32Array; gw: Float32Array; gb: Float32Array }

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

function setup(c: Case, seed: number, resident = false): Run {
  const p = R.conv2dParams(c.x, c.w, { stride: c.stride ?? [1, 1], padding: c.padding ?? [0, 0], dilation: c.dilation ?? [1, 1], groups: c.groups ?? 1 });
  const rand = rng(seed);
  const mk = (n: number): Float32Array => {
    const a = randomF32(n, rand);
    if (!resident) return a;
    const r = allocate('float32', n) as Float32Array;
    r.set(a);
    return r;
  };
  return { p, x: mk(size(c.x)), w: mk(size(c.w)), b: c.bias ? mk(p.cOut) : null, gy: mk(p.n * p.cOut * p.outH * p.outW) };
}

function runNative({ p, x, w, b, gy }: Run): Result {
  const r = { y: new Float32Array(gy.length).fill(NaN), gx: new Float32Array(x.length).fill(NaN), gw: new Float32Array(w.length).fill(NaN), gb: new Float32Array(p.cOut).fill(NaN) };
  expect(K.conv2dForward!(x, w, b, p, r.y), 'forward done natively').toBe(true);
  expect(K.conv2dBackward!(gy, x, w, p, r), 'backward done natively').toBe(true);
  return r;
}

function runReference({ p, x, w, b, gy }: Run): Result {
  const r = { y: new Float32Array(gy.length), gx: new Float32Array(x.length), gw: new Float32Array(w.length), gb: new Float32Array(p.cOut) };
  inMode('reference', () => {
    R.conv2dForward(x, w, b, p, r.y);
    R.conv2dBackwardInput(gy, w, p, r.gx);
    R.conv2dBackwardWeight(x, gy, p, r.gw);
    R.conv2dBackwardBias(gy, p, r.gb);
  });
  return r;
}

function compare(run: Run, what: string): void {
  const got = runNative(run), ref = runReference(run);
  const S = runReference({ p: run.p, x: abs(run.x), w: abs(run.w), b: run.b && abs(run.b), gy: abs(run.gy) });
  expectWithin(got.y, ref.y, S.y, `${what}: output`);
  expectWithin(got.gx, ref.gx, S.gx, `${what}: input gradient`);
  expectWithin(got.gw, ref.gw, S.gw, `${what}: weight gradient`);
  expectWithin(got.gb, ref.gb, S.gb, `${what}: bias gradient`);
}

suite('native convolution (oneDNN) against the reference', () => {
  // Small images (at most 4 output pixels, most pixel pairs sharing a tap) go through
  // native/smallconv.c's GEMMs unless turned off; the rest through oneDNN in either layout.
  // 3x3 stride-1 convolutions use Winograd where oneDNN has it unless turned off.
  const modes = [
    { name: 'blocked layout', blocked: true, small: true, winograd: true },
    { name: 'plain layout', blocked: false, small: true, winograd: true },
    { name: 'blocked layout, small images through oneDNN too', blocked: true, small: false, winograd: true },
    { name: 'blocked layout, direct algorithm only', blocked: true, small: true, winograd: false },
  ];
  for (const mode of modes) {
    for (const threads of [1, 2]) {
      for (const [i, c] of cases.entries()) {
        it(`${c.name}: ${mode.name}, ${threads} thread(s)`, () => {
          setNativeThreads(threads);
          expect(setNativeBlockedLayout(mode.blocked)).toBe(true);
          expect(setNativeSmallImageConv(mode.small)).toBe(true);
          expect(setNativeWinograd(mode.winograd)).toBe(true);
          try {
            compare(setup(c, 100 + i), c.name);
          } finally { // the tests below run on the defaults
            setNativeBlockedLayout(true);
            setNativeSmallImageConv(true);
            setNativeWinograd(true);
          }
        });
      }
    }
  }

  it('arena-resident operands (views of the shared wasm memory) are used in place', () => {
    if (!kernelArena()) return expect.fail('no kernel arena');
    setNativeBlockedLayout(true);
    const run = setup(cases[0], 7, true);
    expect(kernelArena()!.addressOf(run.x)).toBeGreaterThanOrEqual(0);
    compare(run, 'resident');
  });

  it('gradients left null are not computed; gb alone is declined (the caller reduces it)', () => {
    const run = setup(cases[0], 9);
    const ref = runReference(run);
    const gx = new Float32Array(run.x.length);
    expect(K.conv2dBackward!(run.gy, run.x, run.w, run.p, { gx, gw: null, gb: null })).toBe(true);
    const S = runReference({ p: run.p, x: abs(run.x), w: abs(run.w), b: null, gy: abs(run.gy) });
    expectWithin(gx, ref.gx, S.gx, 'gx only');
    const gw = new Float32Array(run.w.length);
    expect(K.conv2dBackward!(run.gy, run.x, run.w, run.p, { gx: null, gw, gb: null })).toBe(true);
    expectWithin(gw, ref.gw, S.gw, 'gw only');
    expect(K.conv2dBackward!(run.gy, run.x, run.w, run.p, { gx: null, gw: null, gb: new Float32Array(run.p.cOut) })).toBe(false);
  });

  it('non-finite inputs give what the reference gives; where they meet padding it declines', () => {
    const poison = (a: Float32Array): void => {
      a[0] = NaN;
      a[Math.floor(a.length / 2)] = Infinity;
      a[a.length - 1] = -Infinity;
    };
    // in x: every pass natively, padded or not
    // (small images and Winograd mix inputs across pixels: they must not spread NaN or Inf)
    const small = cases.filter((c) => /^3x3 (pad 1 on 2x2|stride 2 pad 1 on 2x2 to 1x1|pad 1 on 1x3)|Winograd/.test(c.name));
    expect(small.length).toBe(5);
    for (const c of [cases[0], cases[3], cases[4], cases[6], ...small]) {
      const run = setup(c, 11);
      poison(run.x);
      compare(run, `${c.name}, non-finite x`);
    }
    // in gy and w without padding: natively
    const plain = setup(cases[6], 12);
    poison(plain.gy);
    poison(plain.w);
    compare(plain, 'no padding, non-finite gy and w');
    // in gy and w with padding: the reference's im2col multiplies padding zeros (0 * Inf = NaN),
    // oneDNN skips them, so the forward (w) and the weight gradient (gy) decline; the input
    // gradient has no such taps and stays native
    const run = setup(cases[0], 13);
    poison(run.gy);
    poison(run.w);
    const ref = runReference(run);
    const S = runReference({ p: run.p, x: abs(run.x), w: abs(run.w), b: null, gy: abs(run.gy) });
    expect(K.conv2dForward!(run.x, run.w, run.b, run.p, new Float32Array(run.gy.length))).toBe(false);
    expect(K.conv2dBackward!(run.gy, run.x, run.w, run.p, { gx: null, gw: new Float32Array(run.w.length), gb: null })).toBe(false);
    const gx = new Float32Array(run.x.length);
    expect(K.conv2dBackward!(run.gy, run.x, run.w, run.p, { gx, gw: null, gb: null })).toBe(true);
    expectWithin(gx, ref.gx, S.gx, 'padded, non-finite gy and w: input gradient');
    // a NaN in a tap that only ever meets padding (cropped away natively): the reference's
    // output is NaN there, so the forward declines rather than drop it
    const centre = setup(cases.find((c) => c.name.includes('the centre tap only'))!, 14);
    centre.w[0] = NaN; // tap (0, 0) of the first filter
    const yRef = runReference(centre).y;
    expect(yRef.some(Number.isNaN)).toBe(true);
    expect(K.conv2dForward!(centre.x, centre.w, centre.b, centre.p, new Float32Array(centre.gy.length))).toBe(false);
    const cgx = new Float32Array(centre.x.length);
    expect(K.conv2dBackward!(centre.gy, centre.x, centre.w, centre.p, { gx: cgx, gw: null, gb: null })).toBe(true);
    expect(cgx.every(Number.isFinite)).toBe(true);
    // the same in the last row block of a 512x512x3x3 kernel (the crop scans it block by block)
    const big = setup(cases.find((c) => c.name.includes('512 -> 512 on 1x1'))!, 16);
    big.w[big.w.length - 1] = Infinity; // tap (2, 2) of the last filter's last channel
    expect(K.conv2dForward!(big.x, big.w, big.b, big.p, new Float32Array(big.gy.length))).toBe(false);
  });

  it("finite inputs that overflow inside Winograd's transforms get the direct algorithm's finite answer", () => {
    const c = cases.find((k) => k.name.includes('32 -> 16 channels, 9x9'))!;
    const run = setup(c, 15);
    for (let i = 0; i < run.x.length; i++) run.x[i] = (i % 3 === 0 ? -1 : 1) * 2e37; // ±2e37: the sums stay < 1e37
    for (let i = 0; i < run.w.length; i++) run.w[i] *= 1e-3;
    run.gy.set(run.x.subarray(0, run.gy.length));
    const ref = runReference(run);
    expect(ref.y.every(Number.isFinite) && ref.gx.every(Number.isFinite)).toBe(true);
    compare(run, 'near-overflow inputs');
  });

  it('declines operands that are too short', () => {
    const run = setup(cases[0], 13);
    expect(K.conv2dForward!(run.x.subarray(1), run.w, run.b, run.p, new Float32Array(run.gy.length))).toBe(false);
    expect(K.conv2dForward!(run.x, run.w, run.b, run.p, new Float32Array(run.gy.length - 1))).toBe(false);
  });
});
