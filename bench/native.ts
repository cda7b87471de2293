// Native backend micro-benchmark: each native kernel (src/kernels/native, oneDNN and the addon's
// C loops) against the wasm path that the dispatchers take today, on arena-resident operands
// (as tensors are), at the same thread count.
//
//   npm run build && node dist/bench/native.js [--json] [--threads N] [--quick] [--median]
//
// Rows: GEMM 1024^3 (GFLOP/s); a 3x3 convolution, N=64, C=K=64, 7x7, pad 1: forward +
// input gradient + weight gradient (ms, native in oneDNN's blocked layouts and in plain NCHW);
// ReLU, max pooling and batch-norm statistics at ResNet-18 28x28 b64 sizes (ms). Times are
// the fastest of repeated runs (--median: the median); on a shared machine treat them as rough.

import * as R from '../src/kernels/conv.js';
import { conv2dBackward, conv2dForward } from '../src/kernels/conv_dispatch.js';
import { channelStats } from '../src/kernels/batchnorm.js';
import { allocate } from '../src/kernels/dtype.js';
import { reluBackward, reluForward } from '../src/kernels/elementwise.js';
import { gemm } from '../src/kernels/gemm.js';
import { nativeKernels as K, nativeSlowerKernels, nativeStatus, setNativeBlockedLayout } from '../src/kernels/native/index.js';
import { maxPool2dBackward, maxPool2dForward, pool2dParams } from '../src/kernels/pool.js';
import { setNumThreads } from '../src/kernels/threads/pool.js';
import { setBackend } from '../src/kernels/backend.js';
import { randomArray } from './random.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const json = args.includes('--json');
const quick = args.includes('--quick');
const threads = Number(opt('--threads') ?? 2);
const useMedian = args.includes('--median');
setNumThreads(threads);

const status = nativeStatus();
if (!status.loaded) {
  console.error(`bench/native: native backend not loaded: ${status.reason}`);
  process.exit(1);
}
// The dispatchers are the comparison: pin them to wasm (the default backend is native where it loads).
setBackend('wasm');

function resident(n: number, seed: number): Float32Array {
  const a = allocate('float32', n) as Float32Array;
  a.set(randomArray(n, seed));
  return a;
}

/**
 * ms of `f` over runs lasting about `budgetMs` in all (after warm-up): the minimum, which a
 * shared machine disturbs least (the median is far noisier there), unless --median.
 */
function time(f: () => void, budgetMs = quick ? 150 : 1500): number {
  for (let i = 0; i < 3; i++) f();
  const ms: number[] = [];
  const end = performance.now() + budgetMs;
  while (ms.length < 5 || (performance.now() < end && ms.length < 2000)) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return useMedian ? ms[ms.length >> 1] : ms[0];
}

function report(name: string, unit: 'GFLOP/s' | 'ms', nativeV: number, wasmV: number, extra: Record<string, number> = {}): void {
  const speedup = unit === 'ms' ? wasmV / nativeV : nativeV / wasmV;
  if (json) {
    console.log(JSON.stringify({ name, unit, native: +nativeV.toFixed(4), wasm: +wasmV.toFixed(4), speedup: +speedup.toFixed(2), threads, ...extra }));
  } else {
    const more = Object.entries(extra).map(([k, v]) => `  ${k} ${v.toFixed(3)}`).join('');
    console.log(`${name.padEnd(40)} native ${nativeV.toFixed(3).padStart(9)} ${unit.padEnd(8)} wasm ${wasmV.toFixed(3).padStart(9)}  x${speedup.toFixed(2)}${more}`);
  }
}

if (!json) console.log(`native: oneDNN ${status.version} (${status.library}), CPU ${status.features.join(' ')}, ${threads} thread(s)`);

// GEMM 1024^3
{
  const n = 1024;
  const A = resident(n * n, 1), B = resident(n * n, 2), C = resident(n * n, 3);
  const flops = 2 * n ** 3;
  const nat = time(() => K.gemm!(false, false, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n));
  const wasm = time(() => gemm(false, false, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n));
  report('gemm 1024^3', 'GFLOP/s', flops / nat / 1e6, flops / wasm / 1e6);
}

// Convolution 3x3, N=64, C=K=64, 7x7, pad 1: the three passes
{
  const p = R.conv2dParams([64, 64, 7, 7], [64, 64, 3, 3], { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 });
  const x = resident(64 * 64 * 49, 4), w = resident(64 * 64 * 9, 5), gy = resident(64 * 64 * 49, 6);
  const y = resident(gy.length, 7), gx = resident(x.length, 8), gw = resident(w.length, 9);
  const g = { gx, gw, gb: null };
  const nativeTrio = (): void => {
    if (!K.conv2dForward!(x, w, null, p, y) || !K.conv2dBackward!(gy, x, w, p, g)) throw new Error('native conv declined');
  };
  setNativeBlockedLayout(true);
  const blocked = time(nativeTrio);
  setNativeBlockedLayout(false);
  const plain = time(nativeTrio);
  setNativeBlockedLayout(true);
  const wasm = time(() => {
    conv2dForward(x, w, null, p, y);
    conv2dBackward(gy, x, w, p, g);
  });
  report('conv 3x3 64->64 7x7 b64 fwd+bwd (blocked)', 'ms', blocked, wasm, { plainNchwMs: plain });
}

// Memory-bound kernels at ResNet-18 28x28 b64 sizes
{
  const n = 64 * 64 * 28 * 28; // the stem's output (3.2M floats)
  const x = resident(n, 10), g = resident(n, 11), out = resident(n, 12);
  report('relu forward 64x64x28x28', 'ms', time(() => K.reluForward!(x, out)), time(() => reluForward(x, out)));
  report('relu backward 64x64x28x28', 'ms', time(() => K.reluBackward!(g, x, out)), time(() => reluBackward(g, x, out)));
  const mean = new Float64Array(64), variance = new Float64Array(64);
  report('bn channel stats 64x64x28x28', 'ms', time(() => K.bnChannelStats!(x, 64, 64, 784, mean, variance)), time(() => channelStats(x, 64, 64, 784)));
  const p = pool2dParams([64, 64, 28, 28], { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: false }, 'maxPool2d');
  const L = 64 * 64 * p.outH * p.outW;
  const py = resident(L, 13), pgy = resident(L, 14), idx = new Int32Array(L);
  const wasmIdx = maxPool2dForward(x, p, py);
  report('max pool 3x3/2 fwd 64x64x28x28', 'ms', time(() => nativeSlowerKernels.maxPool2dForward!(x, p, py, idx)), time(() => maxPool2dForward(x, p, py)));
  report('max pool 3x3/2 bwd 64x64x28x28', 'ms', time(() => nativeSlowerKernels.maxPool2dBackward!(pgy, idx, p, out)), time(() => maxPool2dBackward(pgy, wasmIdx, p, out)));
}
