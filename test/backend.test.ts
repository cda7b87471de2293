// The kernel backend registry (kernels/backend.ts): fallback when a backend lacks a kernel or
// declines a call, setBackend's errors, SKIPGRAD_BACKEND, the kernel table; that every kernel
// the ops call goes through it (a backend that counts and declines every call); the native
// path with a stand-in for the addon; and reference vs wasm on a ResNet step.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Adam, KERNEL_NAMES, SGD, Tensor, adaptiveAvgPool2d, avgPool2d, crossEntropy, defaultBackend, exp, formatKernelTable, gemm,
  getBackend, getKernelMode, getNumThreads, kernelTable, listBackends, manualSeed, max, maxPool2d, models, pow, randn, randint,
  registerBackend, registerKernel, relu, setBackend, setKernelMode, setNumThreads, sum, systemInfo, tensor, unregisterBackend, where,
  type KernelName, type Kernels,
} from '../src/index.js';
import { resetBackendForTests, setNativeSourceForTests, type NativeSource } from '../src/kernels/backend.js';
import { conv2dBackward } from '../src/kernels/conv_dispatch.js';
import * as R from '../src/kernels/conv.js';
import { gemmReference } from '../src/kernels/gemm.js';
import { channelStatsReference } from '../src/kernels/batchnorm.js';
import { maxPool2dForwardReference, maxPool2dBackwardReference } from '../src/kernels/pool.js';
import { nativeStatus, type NativeKernels, type NativeStatus } from '../src/kernels/native/index.js';
import { cpuFeaturesFrom, formatSystemInfo } from '../src/kernels/system_info.js';
import { expectClose } from './helpers/fixtures.js';

const initial = getBackend();
const initialThreads = getNumThreads();
const savedEnv = { backend: process.env.SKIPGRAD_BACKEND, kernels: process.env.SKIPGRAD_KERNELS };
const testBackends = ['alpha', 'counter'];

afterEach(() => {
  for (const b of testBackends) if (listBackends().some((x) => x.name === b)) unregisterBackend(b);
  setNativeSourceForTests(null);
  for (const [k, v] of [['SKIPGRAD_BACKEND', savedEnv.backend], ['SKIPGRAD_KERNELS', savedEnv.kernels]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  setBackend(initial);
  setNumThreads(initialThreads);
});

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

describe('backend registry', () => {
  it('the default is native where it loaded, else wasm; setKernelMode maps to wasm and reference', () => {
    expect(defaultBackend()).toBe(nativeStatus().loaded ? 'native' : 'wasm');
    expect(listBackends().map((b) => b.name)).toEqual(['native', 'wasm', 'reference']);
    setKernelMode('reference');
    expect([getBackend(), getKernelMode()]).toEqual(['reference', 'reference']);
    setKernelMode('fast');
    expect([getBackend(), getKernelMode()]).toEqual(['wasm', 'fast']);
  });

  it('setBackend refuses unknown and unavailable backends, naming them and why', () => {
    setBackend('wasm'); // not native: the stand-in below makes it unavailable
    expect(() => setBackend('cuda')).toThrow("setBackend: unknown backend 'cuda' (backends: native, wasm, reference)");
    setNativeSourceForTests(fakeNative({}, { loaded: false, reason: 'libdnnl.so.3 and libdnnl.so.2 not found' }));
    expect(() => setBackend('native')).toThrow("setBackend: the 'native' backend is not available: libdnnl.so.3 and libdnnl.so.2 not found");
    expect(getBackend()).toBe('wasm');
    expect(() => setBackend(7 as unknown as string)).toThrow(TypeError);
  });

  it('SKIPGRAD_BACKEND picks the backend at first use, and refuses bad names; SKIPGRAD_KERNELS=reference still works', () => {
    process.env.SKIPGRAD_BACKEND = 'reference';
    resetBackendForTests();
    expect(getBackend()).toBe('reference');
    process.env.SKIPGRAD_BACKEND = 'tpu';
    resetBackendForTests();
    expect(() => getBackend()).toThrow("SKIPGRAD_BACKEND=tpu: unknown backend 'tpu'");
    expect(() => gemm(false, false, 1, 1, 1, 1, f32([2]), 0, 1, f32([3]), 0, 1, 0, new Float32Array(1), 0, 1)).toThrow('SKIPGRAD_BACKEND=tpu');
    delete process.env.SKIPGRAD_BACKEND;
    process.env.SKIPGRAD_KERNELS = 'reference';
    resetBackendForTests();
    expect(getBackend()).toBe('reference');
    delete process.env.SKIPGRAD_KERNELS;
    resetBackendForTests();
    expect(getBackend()).toBe(defaultBackend());
  });

  it('a kernel a backend lacks runs on the next one; a declined call too; the table shows both', () => {
    const calls = { relu: 0, declined: 0 };
    registerBackend('alpha', { priority: 250 });
    registerKernel('reluForward', 'alpha', (x, out) => {
      if (x.length < 4) {
        calls.declined++;
        return false;
      }
      calls.relu++;
      out.fill(42); // not relu: shows who ran
      return true;
    });
    setBackend('alpha');
    const big = relu(tensor([1, -2, 3, -4, 5]));
    expect(Array.from(big.data)).toEqual([42, 42, 42, 42, 42]);
    const small = relu(tensor([1, -2, 3]));
    expect(Array.from(small.data)).toEqual([1, 0, 3]); // declined: wasm's relu
    expect(calls).toEqual({ relu: 1, declined: 1 });
    // gemm: alpha has none, wasm and reference run it
    const C = new Float32Array(1);
    gemm(false, false, 1, 1, 2, 1, f32([1, 2]), 0, 2, f32([3, 4]), 0, 1, 0, C, 0, 1);
    expect(C[0]).toBe(11);
    const rows = Object.fromEntries(kernelTable().map((r) => [r.kernel, r]));
    // native (priority above alpha's) is not in alpha's chain even where the addon has relu
    expect(rows.reluForward.providers.filter((b) => b !== 'native')).toEqual(['alpha', 'wasm', 'reference']);
    expect(rows.reluForward.chain).toEqual(['alpha', 'wasm', 'reference']);
    expect(rows.gemm.chain).toEqual(['wasm', 'reference']);
    expect(rows.avgPool2dForward).toEqual({ kernel: 'avgPool2dForward', providers: ['reference'], chain: ['reference'] });
    expect(kernelTable().map((r) => r.kernel)).toEqual([...KERNEL_NAMES]);
    const text = formatKernelTable();
    expect(text.split('\n')[0]).toMatch(/^kernel +native +alpha +wasm +reference +tried now \(backend: alpha\)$/);
    expect(text).toMatch(/\nreluForward +(-|yes) +yes +yes +yes +alpha > wasm > reference\n/);
    // removing the backend in use falls back to the one the environment gives
    unregisterBackend('alpha');
    expect(getBackend()).toBe(initial);
    expect(() => unregisterBackend('reference')).toThrow("the 'reference' backend cannot be removed");
  });

  it('a kernel that returns its result declines with null; the reference backend alone runs everything itself', () => {
    registerBackend('alpha', { priority: 250 });
    let asked = 0;
    registerKernel('sumAxes', 'alpha', () => {
      asked++;
      return null;
    });
    setBackend('alpha');
    expect(Array.from(sum(tensor([[1, 2], [3, 4]]), 1).data)).toEqual([3, 7]);
    expect(asked).toBe(1);
    setBackend('reference');
    expect(kernelTable().every((r) => r.chain.length === 1 && r.chain[0] === 'reference')).toBe(true);
  });

  it('conv2dBackward: a backend may do some gradients and leave the rest to the next; the caller\'s object is untouched', () => {
    const p = R.conv2dParams([2, 3, 5, 5], [4, 3, 3, 3], { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 });
    manualSeed(3);
    const x = randn([2, 3, 5, 5]).data as Float32Array;
    const w = randn([4, 3, 3, 3]).data as Float32Array;
    const gy = randn([2, 4, 5, 5]).data as Float32Array;
    registerBackend('alpha', { priority: 250 });
    registerKernel('conv2dBackward', 'alpha', (_gy, _x, _w, _p, g) => {
      g.gb!.fill(7);
      g.gb = null;
      return false;
    });
    setBackend('alpha');
    const g = { gx: new Float32Array(x.length), gw: new Float32Array(w.length), gb: new Float32Array(4) };
    const arrays = { ...g };
    conv2dBackward(gy, x, w, p, g);
    expect(g).toEqual(arrays);
    expect(Array.from(g.gb)).toEqual([7, 7, 7, 7]);
    const ref = { gx: new Float32Array(x.length), gw: new Float32Array(w.length) };
    setBackend('reference');
    conv2dBackward(gy, x, w, p, { gx: ref.gx, gw: ref.gw, gb: null });
    for (let i = 0; i < x.length; i++) expect(Math.abs(g.gx[i] - ref.gx[i])).toBeLessThan(1e-4);
    for (let i = 0; i < w.length; i++) expect(Math.abs(g.gw[i] - ref.gw[i])).toBeLessThan(1e-4);
  });
});

// ---------------------------------------------------------------------------------------------

/** A backend that counts every kernel call and declines it, so the real backends still run. */
function counterBackend(): Record<KernelName, number> {
  const counts = Object.fromEntries(KERNEL_NAMES.map((k) => [k, 0])) as Record<KernelName, number>;
  registerBackend('counter', { priority: 1000 });
  const returnsValue = new Set<KernelName>(['bnChannelStats', 'bnBackwardReduce', 'maxPool2dForward', 'sumAxes', 'extremumAxis']);
  for (const k of KERNEL_NAMES) {
    const decline = (() => {
      counts[k]++;
      return returnsValue.has(k) ? null : false;
    }) as unknown as Kernels[typeof k];
    registerKernel(k, 'counter', decline);
  }
  return counts;
}

/** A training step of a small ResNet-18 plus the ops the network does not use; every result. */
function workload(): Tensor[] {
  manualSeed(11);
  const net = models.resnet18({ baseChannels: 4 });
  const x = randn([3, 1, 20, 20]);
  const y = randint(0, 10, [3]);
  net.train();
  const loss = crossEntropy(net.call(x), y);
  loss.backward();
  const params = net.parameters();
  new SGD(params.slice(0, 5), { lr: 0.1, momentum: 0.9 }).step();
  new Adam(params.slice(5), { lr: 0.01 }).step();
  const t = randn([2, 3, 6, 6], { requiresGrad: true });
  const parts = [
    avgPool2d(t, { kernelSize: 2 }), maxPool2d(t, { kernelSize: 2 }), adaptiveAvgPool2d(t, 2),
    exp(t), pow(t, 2), where(tensor(Float32Array.from(t.data, (v) => (v > 0 ? 1 : 0)), { shape: [...t.shape] }), t, 0), max(t, 1),
  ];
  sum(parts.map((p) => sum(p)).reduce((a, b) => a.add(b))).backward();
  return [loss, ...params.map((q) => q.grad!), ...params, ...parts, t.grad!];
}

describe('every kernel the ops call goes through the registry', () => {
  it('a counting backend sees every kernel of the table, and declining changes no bit', () => {
    setBackend('wasm'); // the counter falls back to wasm (or to native, where it loaded)
    const expected = workload();
    const counts = counterBackend();
    setBackend('counter');
    const got = workload();
    const missed = KERNEL_NAMES.filter((k) => counts[k] === 0);
    expect(missed, 'kernels the workload never dispatched').toEqual([]);
    expect(got.length).toBe(expected.length);
    // with native loaded the counter's fallback is native, not wasm: compare bits only without it
    if (defaultBackend() !== 'native') got.forEach((t, i) => expect(Array.from(t.data), `result ${i}`).toEqual(Array.from(expected[i].data)));
  });
});

// ---------------------------------------------------------------------------------------------

function fakeNative(kernels: NativeKernels, status: Partial<NativeStatus> = {}, threads: number[] = []): NativeSource {
  const s: NativeStatus = { loaded: true, reason: null, library: 'libdnnl.so.2 (fake)', version: '2.6.0', addonPath: '/fake/skipgrad.node', features: ['avx512f'], ...status };
  return { status: () => s, kernels, setThreads: (n) => threads.push(n) };
}

describe('the native backend (a stand-in for the addon)', () => {
  const calls: Record<string, number> = {};
  const count = (k: string): void => {
    calls[k] = (calls[k] ?? 0) + 1;
  };
  // Real work through the reference loops, so results can be checked; small GEMMs declined.
  const kernels: NativeKernels = {
    gemm(tA, tB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) {
      if (M * N * K < 64) return false;
      count('gemm');
      gemmReference(tA, tB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
      return true;
    },
    conv2dForward() {
      count('conv2dForward.declined');
      return false;
    },
    bnChannelStats(x, N, C, S, mean, variance) {
      count('bnChannelStats');
      const r = channelStatsReference(x, N, C, S);
      mean.set(r.mean);
      variance.set(r.variance);
      return true;
    },
    maxPool2dForward(x, p, out, indices) {
      count('maxPool2dForward');
      indices.set(maxPool2dForwardReference(x, p, out));
      return true;
    },
    maxPool2dBackward(gy, indices, p, gx) {
      count('maxPool2dBackward');
      maxPool2dBackwardReference(gy, indices, p, gx);
      return true;
    },
    reluForward(x, out) {
      count('reluForward');
      for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : x[i] !== x[i] ? x[i] : 0;
      return true;
    },
  };

  beforeEach(() => {
    for (const k of Object.keys(calls)) delete calls[k];
  });

  it('loads as the default, is tried first, declines fall back, and float64 never reaches it', () => {
    const threads: number[] = [];
    setNativeSourceForTests(fakeNative(kernels, {}, threads));
    expect(defaultBackend()).toBe('native');
    expect(threads).toEqual([getNumThreads()]); // the thread budget handed over at load
    delete process.env.SKIPGRAD_BACKEND;
    delete process.env.SKIPGRAD_KERNELS;
    resetBackendForTests();
    expect(getBackend()).toBe('native');
    const rows = Object.fromEntries(kernelTable().map((r) => [r.kernel, r.chain]));
    expect(rows.gemm).toEqual(['native', 'wasm', 'reference']);
    expect(rows.conv2dBackward).toEqual(['wasm', 'reference']);
    expect(KERNEL_NAMES.filter((k) => kernelTable().find((r) => r.kernel === k)!.providers.includes('native'))).toEqual([
      'gemm', 'conv2dForward', 'bnChannelStats', 'maxPool2dForward', 'maxPool2dBackward', 'reluForward',
    ]);
    const A = f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    const C = new Float32Array(16);
    gemm(false, false, 4, 4, 4, 1, A, 0, 4, A, 0, 4, 0, C, 0, 4);
    expect(calls.gemm).toBe(1);
    expect(C[0]).toBe(90);
    gemm(false, false, 2, 2, 2, 1, A, 0, 4, A, 0, 4, 0, C, 0, 4); // declined by the addon
    gemm(false, false, 4, 4, 4, 1, Float64Array.from(A), 0, 4, Float64Array.from(A), 0, 4, 0, new Float64Array(16), 0, 4);
    expect(calls.gemm).toBe(1);
    setNumThreads(1);
    expect(threads.at(-1)).toBe(1);
  });

  it('a ResNet step on it matches wasm; the addon ran its kernels and declined conv', () => {
    setNativeSourceForTests(fakeNative(kernels));
    setBackend('wasm');
    const expected = workload();
    setBackend('native');
    const got = workload();
    for (const k of ['gemm', 'bnChannelStats', 'maxPool2dForward', 'maxPool2dBackward', 'reluForward', 'conv2dForward.declined']) {
      expect(calls[k] ?? 0, k).toBeGreaterThan(0);
    }
    got.forEach((t, i) => expectNear(t, expected[i], `result ${i}`, 1e-3));
  });

  it('info says why native is not in use: not loaded, or another backend chosen', () => {
    setBackend('wasm'); // not native: the stand-in below makes it unavailable
    setNativeSourceForTests(fakeNative({}, { loaded: false, reason: 'no C compiler at install (CC=/nonexistent)' }));
    let info = systemInfo();
    expect(info.whyNotNative).toBe('not available: no C compiler at install (CC=/nonexistent)');
    expect(formatSystemInfo(info)).toContain('native     not available: no C compiler at install (CC=/nonexistent)');
    setNativeSourceForTests(fakeNative(kernels));
    setBackend('wasm');
    info = systemInfo();
    expect(info.whyNotNative).toMatch(/^available, but the backend in use is 'wasm'/);
    setBackend('native');
    info = systemInfo();
    expect(info.whyNotNative).toBeNull();
    const text = formatSystemInfo(info);
    expect(text).toContain('native     in use');
    expect(text).toContain('library libdnnl.so.2 (fake), version 2.6.0');
    expect(text).toContain(`threads    ${getNumThreads()}`);
    expect(text).toMatch(/\n  gemm +yes +yes +yes +native > wasm > reference/);
  });
});

describe('cpu features', () => {
  it('reads the x86 flags and Arm features lines of /proc/cpuinfo', () => {
    expect(cpuFeaturesFrom('processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512bw amx_tile amx_bf16 xsave\n')).toEqual([
      'sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'amx_tile', 'amx_bf16',
    ]);
    expect(cpuFeaturesFrom('Features\t: fp asimd evtstrm sve\n')).toEqual(['asimd', 'sve']);
    expect(cpuFeaturesFrom('model name: x\n')).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------

function maxAbs(t: Tensor): number {
  let m = 0;
  for (const v of t.data) m = Math.max(m, Math.abs(v));
  return m;
}

/** As resnet-parity.test.ts: rtol plus an absolute floor of 1e-4 x the expected tensor's largest magnitude. */
function expectNear(actual: Tensor, expected: Tensor, what: string, rtol: number, scale = maxAbs(expected)): void {
  expectClose(actual, { shape: [...expected.shape], dtype: expected.dtype, data: Array.from(expected.data) }, what, rtol, 1e-4 * scale);
}

describe('reference and wasm agree on a ResNet-18 forward and backward', () => {
  it('logits and loss within 1e-4, every gradient within 1e-3 (resnet-parity.test.ts\'s bounds)', () => {
    manualSeed(5);
    const net = models.resnet18({ baseChannels: 8 });
    const x = randn([4, 1, 28, 28]);
    const y = randint(0, 10, [4]);
    net.train();
    const run = (backend: string) => {
      setBackend(backend);
      for (const q of net.parameters()) q.grad = null;
      const logits = net.call(x);
      const loss = crossEntropy(logits, y);
      loss.backward();
      return { logits, loss, grads: new Map(net.namedParameters().map(([k, q]) => [k, q.grad!])) };
    };
    const ref = run('reference');
    const fast = run('wasm');
    expectNear(fast.logits, ref.logits, 'logits', 1e-4);
    expectNear(fast.loss, ref.loss, 'loss', 1e-4, 0);
    expect([...fast.grads.keys()]).toEqual([...ref.grads.keys()]);
    for (const [key, g] of fast.grads) {
      // A conv bias feeding a train-mode BatchNorm has a true gradient of 0: both are cancellation
      // noise at the scale of its weight's gradient (as in resnet-parity.test.ts).
      const preBn = /(^0\.0|conv1|conv2)\.bias$/.test(key);
      const scale = maxAbs(ref.grads.get(preBn ? key.replace(/bias$/, 'weight') : key)!);
      expectNear(g, ref.grads.get(key)!, `grad of ${key}`, 1e-3, scale);
    }
  });
});
