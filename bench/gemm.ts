// GEMM throughput: the wasm SIMD kernel on 1 and 2 threads, and the plain TypeScript reference.
//
//   npx tsc -p tsconfig.json && node dist/bench/gemm.js [--json] [--no-relaxed] [--reference] [--quick]
//
//   --json        one JSON object per line: {"name", "gflops", "threads"} (gflops = median run)
//   --no-relaxed  use the plain SIMD kernel (f32x4.mul + f32x4.add) instead of relaxed madd
//   --reference   only measure the reference kernel
//   --quick       fewer repetitions, and the reference only on the small shapes
//   --only=TEXT   only the shapes whose name contains TEXT

import { gemm, gemmInfo, gemmReference } from '../src/kernels/gemm.js';
import { setKernelMode } from '../src/kernels/mode.js';
import { setNumThreads } from '../src/kernels/threads/pool.js';

const argv = new Set(process.argv.slice(2));
const only = process.argv.slice(2).find((a) => a.startsWith('--only='))?.slice('--only='.length);
const json = argv.has('--json');
const quick = argv.has('--quick');
const referenceOnly = argv.has('--reference');
if (argv.has('--no-relaxed')) process.env.SKIPGRAD_GEMM_RELAXED = '0'; // read when the engine starts

interface Shape {
  name: string;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
}

const shapes: Shape[] = [
  { name: 'square 1024^3', transA: false, transB: false, M: 1024, N: 1024, K: 1024 },
  // conv 3x3, 64 -> 128 channels, 56x56 output, as im2col: W[128 x 576] . cols[576 x 3136]
  { name: 'conv fwd 128x3136x576', transA: false, transB: false, M: 128, N: 3136, K: 576 },
  // conv 3x3, 512 channels on 8x8 maps: W[512 x 4608] . cols[4608 x 64]
  { name: 'conv fwd 512x64x4608', transA: false, transB: false, M: 512, N: 64, K: 4608 },
  // weight gradient of a 3x3 64 -> 64 conv on 56x56: dY[64 x 3136] . cols^T[3136 x 576]
  { name: 'conv dW 64x576x3136 (B^T)', transA: false, transB: true, M: 64, N: 576, K: 3136 },
];

function randomArray(n: number): Float32Array {
  const a = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) | 0;
    a[i] = ((s >>> 8) / (1 << 24)) * 2 - 1;
  }
  return a;
}

/** Median and best GFLOP/s over repeated runs (after warm-up), at least `minMs` of runs. */
function measure(run: () => void, flops: number, warmup: number, minReps: number, minMs: number): { median: number; best: number } {
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minReps || performance.now() - start < minMs) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
    if (times.length >= 200) break;
  }
  times.sort((x, y) => x - y);
  const med = times[Math.floor(times.length / 2)];
  return { median: flops / med / 1e6, best: flops / times[0] / 1e6 };
}

const rows: { name: string; kernel: string; threads: number; median: number; best: number }[] = [];

function report(name: string, kernel: string, threads: number, r: { median: number; best: number }): void {
  rows.push({ name, kernel, threads, ...r });
  if (json) console.log(JSON.stringify({ name: `${name} [${kernel}]`, gflops: Number(r.median.toFixed(2)), threads }));
}

const info = gemmInfo();
const fastKernel = info.available ? (info.relaxedSimd ? 'wasm relaxed-simd' : 'wasm simd128') : 'unavailable';
if (!json) {
  console.log(`gemm benchmark: fast kernel = ${fastKernel}, blocking mc/kc/nc = ${info.blocking.mc}/${info.blocking.kc}/${info.blocking.nc}`);
}

for (const s of shapes) {
  if (only !== undefined && !s.name.includes(only)) continue;
  const { transA, transB, M, N, K } = s;
  const lda = transA ? M : K;
  const ldb = transB ? K : N;
  const A = randomArray(M * K);
  const B = randomArray(K * N);
  const C = new Float32Array(M * N);
  const flops = 2 * M * N * K;
  if (!referenceOnly && info.available) {
    setKernelMode('fast');
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const r = measure(() => gemm(transA, transB, M, N, K, 1, A, 0, lda, B, 0, ldb, 0, C, 0, N), flops, 3, quick ? 3 : 10, quick ? 200 : 1000);
      report(s.name, fastKernel, threads, r);
    }
  }
  if (!quick || flops < 1e9 || referenceOnly) {
    const r = measure(() => gemmReference(transA, transB, M, N, K, 1, A, 0, lda, B, 0, ldb, 0, C, 0, N), flops, 1, quick ? 1 : 3, 0);
    report(s.name, 'reference', 1, r);
  }
}

if (!json) {
  const pad = (x: string, n: number): string => x.padEnd(n);
  console.log(`${pad('shape', 28)}${pad('kernel', 20)}${pad('threads', 9)}${pad('GFLOP/s median', 16)}best`);
  for (const r of rows) {
    console.log(`${pad(r.name, 28)}${pad(r.kernel, 20)}${pad(String(r.threads), 9)}${pad(r.median.toFixed(1), 16)}${r.best.toFixed(1)}`);
  }
}
