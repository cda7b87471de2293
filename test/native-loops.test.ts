// The native backend's C loops (max pooling, ReLU, batch-norm statistics) against the
// references; the addon from a worker thread on the shared kernel memory; and how the backend
// degrades: no oneDNN (SKIPGRAD_DNNL_PATH), no addon, no compiler at build time (CC=/nonexistent).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { backwardInputReference, backwardReduceReference, channelStatsReference, invStd, normalizeReference } from '../src/kernels/batchnorm.js';
import { allocate } from '../src/kernels/dtype.js';
import { reluFn } from '../src/kernels/elementwise.js';
import { kernelArena } from '../src/kernels/memory/arena.js';
import { nativeKernels as K, nativeSlowerKernels, nativeStatus, setNativeThreads } from '../src/kernels/native/index.js';
import { sgdReference, type SgdHyperParams } from '../src/kernels/optim.js';
import { maxPool2dBackwardReference, maxPool2dForwardReference, pool2dParams, type Pool2dOptions } from '../src/kernels/pool.js';
import { expectSameBits } from './helpers/bits.js';
import { randomF32, rng } from './helpers/random.js';

const status = nativeStatus();
const suite = status.loaded ? describe : describe.skip;
if (!status.loaded) {
  it.skip(`native backend not loaded: ${status.reason}`, () => {});
  console.warn(`native-loops.test.ts: native kernel tests skipped: ${status.reason}`);
}

/** Random values with NaN, +-Inf, -0 and ties sprinkled in. */
function awkward(n: number, seed: number, resident = false): Float32Array {
  const a = resident ? (allocate('float32', n) as Float32Array) : new Float32Array(n);
  a.set(randomF32(n, rng(seed)));
  for (let i = 0; i < n; i += 7) a[i] = [NaN, Infinity, -Infinity, -0, 0, 0.5, 0.5][(i / 7) % 7];
  return a;
}

suite('native SGD step: bit for bit the reference, every variant, at 1 and 2 threads', () => {
  const base: SgdHyperParams = { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };
  const variants: [string, Partial<SgdHyperParams>][] = [
    ['plain', {}],
    ['momentum', { momentum: 0.9 }],
    ['momentum + dampening + weight decay', { momentum: 0.8, dampening: 0.3, weightDecay: 1e-3 }],
    ['nesterov + weight decay', { momentum: 0.9, nesterov: true, weightDecay: 5e-4 }],
    ['maximize + momentum', { momentum: 0.5, maximize: true }],
  ];
  // odd lengths around the 16-float thread split and the 32K parallel threshold, and a parameter's size
  for (const n of [0, 1, 17, 1000, 32769, 300001]) {
    for (const [name, h] of variants) {
      it(`${name}, ${n} elements, first and running momentum steps`, () => {
        const hp = { ...base, ...h };
        for (const threads of [1, 2]) {
          setNativeThreads(threads);
          try {
            const p = awkward(n, n + 1, true), g = awkward(n, n + 2, true);
            const momentum = hp.momentum !== 0;
            const buf = momentum ? (allocate('float32', n) as Float32Array) : null;
            const [pRef, bufRef] = [p.slice(), buf ? buf.slice() : null];
            for (const first of momentum ? [true, false] : [false]) {
              expect(K.sgdStep!(p, g, buf, first, hp)).toBe(true);
              sgdReference(pRef, g, bufRef, first, hp);
              expectSameBits(p, pRef, `parameters (${threads} threads)`);
              if (buf) expectSameBits(buf, bufRef!, `momentum buffer (${threads} threads)`);
            }
          } finally {
            setNativeThreads(0);
          }
        }
      });
    }
  }
});

suite('native max pooling: values, indices and gradients identical to the reference', () => {
  const cases: [number[], Partial<Pool2dOptions>][] = [
    [[2, 3, 7, 5], { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1] }],
    [[1, 2, 8, 8], { kernelSize: [2, 2], stride: [2, 2] }],
    [[3, 2, 9, 6], { kernelSize: [3, 2], stride: [1, 2], padding: [1, 1], ceilMode: true }],
    [[2, 2, 9, 9], { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [3, 2] }], // windows of padding only
    [[64, 64, 28, 28], { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1] }], // ResNet's stem pool
  ];
  for (const [shape, o] of cases) {
    it(`${shape.join('x')} ${JSON.stringify(o)}`, () => {
      const p = pool2dParams(shape, { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], ceilMode: false, ...o }, 'maxPool2d');
      const x = awkward(p.n * p.c * p.h * p.w, shape[2] * 31 + shape[3]);
      const L = p.n * p.c * p.outH * p.outW;
      const ref = new Float32Array(L);
      const refIdx = maxPool2dForwardReference(x, p, ref);
      const got = new Float32Array(L).fill(7);
      const idx = new Int32Array(L).fill(-7);
      expect(nativeSlowerKernels.maxPool2dForward!(x, p, got, idx)).toBe(true);
      expectSameBits(got, ref, 'output');
      expect(Array.from(idx)).toEqual(Array.from(refIdx));
      const gy = awkward(L, 5);
      const gxRef = new Float32Array(x.length);
      maxPool2dBackwardReference(gy, refIdx, p, gxRef);
      const gx = new Float32Array(x.length).fill(NaN);
      expect(nativeSlowerKernels.maxPool2dBackward!(gy, idx, p, gx)).toBe(true);
      expectSameBits(gx, gxRef, 'input gradient');
    });
  }
});

suite('native ReLU and batch-norm statistics', () => {
  for (const n of [1, 7, 256, 100_003]) {
    it(`ReLU forward and backward keep NaN and map -0 to +0, ${n} elements, resident and not`, () => {
      for (const resident of [false, true]) {
        const x = awkward(n, n, resident), g = awkward(n, n + 1, resident);
        if (resident && n >= 256) expect(kernelArena()!.addressOf(x)).toBeGreaterThanOrEqual(0);
        const out = new Float32Array(n).fill(9);
        expect(K.reluForward!(x, out)).toBe(true);
        expectSameBits(out, x.map(reluFn), 'relu');
        const gx = new Float32Array(n);
        // A select, as PyTorch: +0 where x <= 0 even for a NaN or Inf g (reversed, the special
        // values of g meet other x's); a NaN x passes g.
        for (const gg of [g, g.slice().reverse()]) {
          expect(K.reluBackward!(gg, x, gx)).toBe(true);
          expectSameBits(gx, gg.map((v, i) => (x[i] <= 0 ? 0 : v)), 'relu backward');
        }
        expect(K.reluForward!(x, x)).toBe(true); // in place
        expectSameBits(x, out, 'relu in place');
      }
    });
  }

  for (const [N, C, S] of [[1, 1, 1], [3, 5, 7], [64, 64, 196], [2, 3, 0], [5, 17, 1]]) {
    it(`channel mean and variance [${N}, ${C}, ${S}] within 1e-12 of the reference (both float64)`, () => {
      const x = randomF32(N * C * S, rng(N + C + S)).map((v, i) => v * 3 + (i % 11));
      const ref = channelStatsReference(x, N, C, S);
      const mean = new Float64Array(C), variance = new Float64Array(C);
      expect(K.bnChannelStats!(x, N, C, S, mean, variance)).toBe(true);
      for (let c = 0; c < C; c++) {
        if (Number.isNaN(ref.mean[c])) {
          expect(mean[c]).toBeNaN();
          continue;
        }
        expect(Math.abs(mean[c] - ref.mean[c])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(ref.mean[c])));
        expect(Math.abs(variance[c] - ref.variance[c])).toBeLessThanOrEqual(1e-12 * (1 + ref.variance[c]));
      }
    });
  }

  it('non-finite batch-norm inputs give the reference\'s NaN / Inf per channel', () => {
    const x = randomF32(2 * 3 * 4, rng(3));
    x[0] = NaN; // channel 0: NaN mean and variance
    x[5] = Infinity; // channel 1: +Inf mean, NaN variance
    const ref = channelStatsReference(x, 2, 3, 4);
    const mean = new Float64Array(3), variance = new Float64Array(3);
    expect(K.bnChannelStats!(x, 2, 3, 4, mean, variance)).toBe(true);
    expectSameBits(mean.subarray(0, 2), ref.mean.subarray(0, 2), 'mean');
    expectSameBits(variance.subarray(0, 2), ref.variance.subarray(0, 2), 'variance');
    expect(Math.abs(mean[2] - ref.mean[2])).toBeLessThan(1e-12);
  });
});

suite('native elementwise arithmetic: bit for bit the reference, scalars broadcast, in place', () => {
  const ref = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y, div: (x: number, y: number) => x / y };
  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    for (const n of [1, 5, 256, 1000, 40000]) {
      it(`${op}, ${n} elements: arrays, a scalar on either side, in place, 1 and 2 threads`, () => {
        for (const threads of [1, 2]) {
          setNativeThreads(threads);
          try {
            const a = awkward(n, n, true), b = awkward(n, n + 3), one = new Float32Array([-2.5]);
            for (const [x, y] of [[a, b], [one, b], [a, one]] as const) {
              const out = new Float32Array(n).fill(9);
              expect(K.arith!(op, x, y, out)).toBe(true);
              const want = Float32Array.from({ length: n }, (_, i) => ref[op](x.length === 1 ? x[0] : x[i], y.length === 1 ? y[0] : y[i]));
              expectSameBits(out, want, `${op} (${threads} threads, lengths ${x.length}, ${y.length})`);
            }
            const inPlace = a.slice();
            expect(K.arith!(op, inPlace, b, inPlace)).toBe(true);
            expectSameBits(inPlace, Float32Array.from({ length: n }, (_, i) => ref[op](a[i], b[i])), `${op} in place`);
          } finally {
            setNativeThreads(0);
          }
        }
      });
    }
  }
  it('declines operands of other lengths (broadcasting is the next backend\'s)', () => {
    expect(K.arith!('add', new Float32Array(4), new Float32Array(2), new Float32Array(4))).toBe(false);
    expect(K.arith!('add', new Float32Array(0), new Float32Array(0), new Float32Array(0))).toBe(false);
  });
});

suite('native batch norm passes against the reference, plane and column layouts (sums by plane from S = 1024, elementwise from 16), 1 and 2 threads', () => {
  const close = (got: Float64Array, want: Float64Array, what: string): void => {
    for (let c = 0; c < want.length; c++) {
      if (!Number.isFinite(want[c])) expectSameBits(got.subarray(c, c + 1), want.subarray(c, c + 1), `${what}[${c}]`);
      else expect(Math.abs(got[c] - want[c]), `${what}[${c}]`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want[c])));
    }
  };
  // [N, C, S]: planes, columns, one channel, one sample, empty, a ResNet stage at 64 x 512 x 1 (parallel), planes for the sums
  const shapes = [[3, 5, 20], [4, 6, 3], [2, 1, 17], [1, 7, 5], [2, 3, 0], [0, 4, 4], [64, 512, 1], [64, 64, 49], [2, 3, 1030]];
  for (const [N, C, S] of shapes) {
    for (const affine of [true, false]) {
      it(`[${N}, ${C}, ${S}] ${affine ? 'with' : 'without'} weight and bias`, () => {
        const n = N * C * S;
        const x = awkward(n, N * 100 + C * 10 + S, true);
        const g = awkward(n, N + C + S + 1, true);
        const weight = affine ? randomF32(C, rng(C)) : null;
        const bias = affine ? randomF32(C, rng(C + 1)) : null;
        const stats = channelStatsReference(x.map((v) => (Number.isFinite(v) ? v : 0.5)), N, C, S);
        const mean = stats.mean, invstd = invStd(stats.variance, 1e-5);
        if (C > 2) mean[1] = NaN; // a channel whose statistics are not finite
        for (const threads of [1, 2]) {
          setNativeThreads(threads);
          try {
            const out = new Float32Array(n).fill(7), ref = new Float32Array(n);
            expect(K.bnNormalize!(x, N, C, S, mean, invstd, weight, bias, out)).toBe(true);
            normalizeReference(x, N, C, S, mean, invstd, weight, bias, ref);
            expectSameBits(out, ref, `normalize (${threads} threads)`);
            const sumG = new Float64Array(C), sumGXhat = new Float64Array(C);
            expect(K.bnBackwardReduce!(g, x, N, C, S, mean, invstd, sumG, sumGXhat)).toBe(true);
            const r = backwardReduceReference(g, x, N, C, S, mean, invstd);
            close(sumG, r.sumG, 'sum(g)');
            close(sumGXhat, r.sumGXhat, 'sum(g xhat)');
            for (const batchStats of [true, false]) {
              const gx = new Float32Array(n).fill(7), gxRef = new Float32Array(n);
              expect(K.bnBackwardInput!(g, x, N, C, S, mean, invstd, weight, r.sumG, r.sumGXhat, batchStats, gx)).toBe(true);
              backwardInputReference(g, x, N, C, S, mean, invstd, weight, r.sumG, r.sumGXhat, batchStats, gxRef);
              expectSameBits(gx, gxRef, `input gradient, batchStats ${batchStats} (${threads} threads)`);
            }
            const m2 = new Float64Array(C), v2 = new Float64Array(C);
            expect(K.bnChannelStats!(x, N, C, S, m2, v2)).toBe(true);
            const sRef = channelStatsReference(x, N, C, S);
            close(m2, sRef.mean, 'mean');
            close(v2, sRef.variance, 'variance');
          } finally {
            setNativeThreads(0);
          }
        }
      });
    }
  }

  it('declines arrays shorter than N x C x S and per-channel arrays shorter than C', () => {
    const x = new Float32Array(24), out = new Float32Array(23), m = new Float64Array(3), s = new Float64Array(3);
    expect(K.bnNormalize!(x, 2, 3, 4, m, s, null, null, out)).toBe(false);
    expect(K.bnNormalize!(x, 2, 3, 4, m.subarray(0, 2), s, null, null, new Float32Array(24))).toBe(false);
    expect(K.bnBackwardReduce!(x, out, 2, 3, 4, m, s, new Float64Array(3), new Float64Array(3))).toBe(false);
    expect(K.bnChannelStats!(x, 2, 3, 4, new Float64Array(2), new Float64Array(3))).toBe(false);
  });
});

suite('native calls under asynchronous signals', () => {
  // V8's CPU profiler interrupts the JavaScript thread with SIGPROF. Before the addon blocked
  // asynchronous signals around oneDNN calls, this loop of the classifier's GEMM corrupted the
  // heap in four runs of four ("corrupted double-linked list", "realloc(): invalid pointer").
  it('a GEMM loop under --cpu-prof sampling every 50 us exits cleanly with the right result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-signals-'));
    try {
      const script = join(dir, 'loop.cjs');
      writeFileSync(script, `
        const addon = require(${JSON.stringify(status.addonPath)});
        const M = 256, N = 10, K = 512;
        const A = new Float32Array(M * K).fill(0.5), B = new Float32Array(K * N).fill(0.25), C = new Float32Array(M * N);
        const end = Date.now() + 2000;
        let calls = 0;
        while (Date.now() < end) { if (!addon.gemm(false, true, M, N, K, 1, A, 0, K, B, 0, K, 0, C, 0, N)) throw new Error('declined'); calls++; }
        if (!C.every((v) => v === 64)) throw new Error('wrong result ' + C[0]);
        console.log('calls ' + calls);
      `);
      for (let run = 0; run < 2; run++) {
        const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '50', script], { encoding: 'utf8', timeout: 60_000 });
        expect(r.stderr, `run ${run}`).toBe('');
        expect(r.status, `run ${run}: signal ${r.signal}`).toBe(0);
        expect(r.stdout).toMatch(/^calls \d+/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

suite('native addon in a worker thread, on the shared kernel memory', () => {
  it('runs GEMM and ReLU from a worker on arena views of the main thread\'s memory, at 1 and 2 threads', async () => {
    const arena = kernelArena();
    if (!arena) return expect.fail('no kernel arena');
    const M = 40, N = 30, Kd = 50;
    const A = allocate('float32', M * Kd) as Float32Array;
    A.set(awkward(M * Kd, 1).map((v) => (Number.isFinite(v) ? v : 0.25)));
    const B = randomF32(Kd * N, rng(2));
    const Bres = allocate('float32', Kd * N) as Float32Array;
    Bres.set(B);
    const C = allocate('float32', M * N) as Float32Array;
    const R = allocate('float32', M * Kd) as Float32Array;
    for (const a of [A, Bres, C, R]) expect(arena.addressOf(a)).toBeGreaterThanOrEqual(0);
    const expected = new Float32Array(M * N);
    setNativeThreads(1);
    expect(K.gemm!(false, false, M, N, Kd, 1, A, 0, Kd, Bres, 0, N, 0, expected, 0, N)).toBe(true);
    setNativeThreads(0);
    const views = [A, Bres, C, R].map((a) => [a.byteOffset, a.length]);
    const src = `
      const { parentPort, workerData } = require('node:worker_threads');
      const addon = require(workerData.path);
      const buf = workerData.memory.buffer;
      const [A, B, C, R] = workerData.views.map(([o, n]) => new Float32Array(buf, o, n));
      const s = addon.status();
      const out = [];
      for (const t of [1, 2]) {
        addon.setThreads(t);
        C.fill(NaN);
        out.push(addon.gemm(false, false, ${M}, ${N}, ${Kd}, 1, A, 0, ${Kd}, B, 0, ${N}, 0, C, 0, ${N}) && Array.from(C));
      }
      const relu = addon.reluForward(A, R);
      parentPort.postMessage({ loaded: s.loaded, out, relu });`;
    const w = new Worker(src, { eval: true, workerData: { path: status.addonPath, memory: arena.memory, views } });
    const msg = await new Promise<{ loaded: boolean; out: (number[] | false)[]; relu: boolean }>((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    expect(msg.loaded).toBe(true);
    for (const o of msg.out) {
      expect(o).not.toBe(false);
      // 1 thread in the worker and on the main thread: the same oneDNN kernel, the same bits
      expect(Math.max(...(o as number[]).map((v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-4);
    }
    expectSameBits(new Float32Array(msg.out[0] as number[]), expected, 'worker gemm, 1 thread');
    expect(msg.relu).toBe(true);
    expectSameBits(R, A.map(reluFn), 'worker relu'); // written by the worker into the shared memory
  });
});

describe('native backend degrades with a reason', () => {
  it.skipIf(!status.addonPath)('no oneDNN (SKIPGRAD_DNNL_PATH=/nonexistent): the addon loads, says why, and every kernel declines', () => {
    const code = `
      const a = require(${JSON.stringify(status.addonPath)});
      const s = a.status();
      const f = new Float32Array(4);
      console.log(JSON.stringify({ s, gemm: a.gemm(false, false, 2, 2, 1, 1, f, 0, 1, f, 0, 2, 0, f, 0, 2),
        relu: a.reluForward(f, f) }));`;
    const r = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, SKIPGRAD_DNNL_PATH: '/nonexistent/libdnnl.so' }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.s.loaded).toBe(false);
    expect(out.s.reason).toMatch(/SKIPGRAD_DNNL_PATH=\/nonexistent\/libdnnl\.so: .*No such file/);
    expect(out.gemm).toBe(false);
    expect(out.relu).toBe(false);
    // a library that is not oneDNN: named, with the symbol it lacks
    const other = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, SKIPGRAD_DNNL_PATH: 'libm.so.6' }, encoding: 'utf8' });
    expect(other.status, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout).s).toMatchObject({ loaded: false, reason: 'libm.so.6 has no symbol dnnl_version' });
  });

  it('no addon (SKIPGRAD_NATIVE_ADDON points nowhere), or SKIPGRAD_NATIVE=0: nativeStatus says so and kernels decline', async () => {
    vi.stubEnv('SKIPGRAD_NATIVE_ADDON', '/nonexistent/skipgrad_native.node');
    vi.resetModules();
    try {
      const fresh = await import('../src/kernels/native/index.js');
      const s = fresh.nativeStatus();
      expect(s).toMatchObject({ loaded: false, addonPath: null, library: null });
      expect(s.reason).toMatch(/native addon not built \(no \/nonexistent\/skipgrad_native\.node/);
      expect(fresh.nativeKernels.reluForward!(new Float32Array(2), new Float32Array(2))).toBe(false);
      vi.stubEnv('SKIPGRAD_NATIVE_ADDON', '');
      vi.stubEnv('SKIPGRAD_NATIVE', '0');
      vi.resetModules();
      const off = await import('../src/kernels/native/index.js');
      expect(off.nativeStatus()).toMatchObject({ loaded: false, reason: 'disabled by SKIPGRAD_NATIVE=0' });
      expect(off.nativeKernels.gemm!(false, false, 1, 1, 1, 1, new Float32Array(1), 0, 1, new Float32Array(1), 0, 1, 0, new Float32Array(1), 0, 1)).toBe(false);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  it('the install-time build with no compiler (CC=/nonexistent) prints why and exits 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-native-'));
    try {
      const out = join(dir, 'addon.node');
      const r = spawnSync(process.execPath, ['scripts/build-native.mjs'], { env: { ...process.env, CC: '/nonexistent', SKIPGRAD_NATIVE_OUT: out }, encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toMatch(/^skipgrad native addon: not built: compiler \/nonexistent not usable \(ENOENT\); using the WebAssembly kernels$/);
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
