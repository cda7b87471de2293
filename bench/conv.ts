// Convolution benchmark: every conv shape of the seed's ResNet-18 at 28x28, batch 64 (forward,
// input gradient, weight gradient), and a whole training step of models.resnet18().
//
//   npx tsc -p tsconfig.json && node dist/bench/conv.js [--json] [--threads N] [--quick]
//        [--reference] [--layers | --step] [--steps N] [--size S]
//
//   --layers / --step  only the per-layer table / only the training step
//   --size S           the training step on S x S images (default 28; the layers are 28x28 only)
//   --reference        also the plain TypeScript kernels (slow: one run each)
//   --plain            per-layer operands in ordinary arrays (copied through kernel scratch)
//                      instead of kernel-arena storage (used in place, as tensors are)
//
// Kernels compared per layer:
//   batched  conv_fast.ts: one GEMM per group for the whole batch, operands built in wasm memory
//   per-img  conv.ts with the wasm GEMM: one GEMM per image (the path before conv_fast existed)
//   plain    conv.ts in 'reference' kernel mode (plain TypeScript GEMM); only with --reference
// GFLOP/s counts the nominal 2*N*C_out*H_out*W_out*C_in/groups*kH*kW of the conv, including
// taps that only see padding (the batched path skips those, so it can exceed the GEMM's rate).
// Step: forward + cross-entropy + backward + SGD (momentum 0.9) on random data, run in a fresh
// child process per kernel path so peak RSS is that path's own (getrusage maxrss).
// Timings are medians (and minima) over repeated runs: this 2-core machine is shared, so
// single runs are noisy.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SGD, crossEntropy, manualSeed, models, randint, randn } from '../src/index.js';
import * as R from '../src/kernels/conv.js';
import { setConvBatched } from '../src/kernels/conv_dispatch.js';
import { conv2dBackwardFast, conv2dForwardFast } from '../src/kernels/conv_fast.js';
import { gemmInfo } from '../src/kernels/gemm.js';
import { setKernelMode } from '../src/kernels/mode.js';
import { setNumThreads } from '../src/kernels/threads/pool.js';
import { allocate } from '../src/kernels/dtype.js';
import { randomArray } from './random.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const json = args.includes('--json');
const quick = args.includes('--quick');
const threads = Number(opt('--threads') ?? 2);
const steps = Number(opt('--steps') ?? (quick ? 4 : 10));
const stepChild = opt('--step-child');
const imageSize = Number(opt('--size') ?? 28);
setNumThreads(threads);

// ---------------------------------------------------------------------------------------------
// A training step (in a child process when --step-child is given).

interface StepResult {
  ms: number[];
  peakRssMb: number;
  /** Size of the GEMM's shared wasm memory after the steps (it never shrinks). */
  wasmMb: number;
}

function runSteps(path: 'batched' | 'per-img' | 'plain', n: number): StepResult {
  if (path === 'per-img') setConvBatched(false);
  if (path === 'plain') setKernelMode('reference');
  manualSeed(0);
  const net = models.resnet18();
  net.train();
  const sgd = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = randn([64, 1, imageSize, imageSize]);
  const y = randint(0, 10, [64]);
  const ms: number[] = [];
  for (let i = 0; i < n + 2; i++) {
    const t = performance.now();
    sgd.zeroGrad();
    crossEntropy(net.call(x), y).backward();
    sgd.step();
    if (i >= 2) ms.push(performance.now() - t); // two warm-up steps (worker start, wasm compile)
  }
  return { ms, peakRssMb: process.resourceUsage().maxRSS / 1024, wasmMb: gemmInfo().memoryBytes / 2 ** 20 };
}

if (stepChild !== undefined) {
  process.send!(runSteps(stepChild as 'batched' | 'per-img' | 'plain', steps));
  process.exit(0);
}

function stepInChild(path: string, n: number): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--step-child', path, '--steps', String(n), '--threads', String(threads), '--size', String(imageSize)]);
    child.once('message', (m) => resolve(m as StepResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`step child (${path}) exited with ${code}`)));
  });
}

// ---------------------------------------------------------------------------------------------
// Per-layer timings.

interface Layer {
  name: string;
  count: number;
  x: number[];
  w: number[];
  stride: number;
  pad: number;
  needGx: boolean;
}

// ResNet-18 (inChannels 1, base 64) on 28x28: stem 28 -> 14, max-pool -> 7, stages 7, 4, 2, 1.
const B = 64;
const layers: Layer[] = [
  { name: 'stem 7x7 s2 1->64 @28', count: 1, x: [B, 1, 28, 28], w: [64, 1, 7, 7], stride: 2, pad: 3, needGx: false },
  { name: '3x3 64->64 @7', count: 4, x: [B, 64, 7, 7], w: [64, 64, 3, 3], stride: 1, pad: 1, needGx: true },
  { name: '3x3 s2 64->128 @7', count: 1, x: [B, 64, 7, 7], w: [128, 64, 3, 3], stride: 2, pad: 1, needGx: true },
  { name: '1x1 s2 64->128 @7', count: 1, x: [B, 64, 7, 7], w: [128, 64, 1, 1], stride: 2, pad: 0, needGx: true },
  { name: '3x3 128->128 @4', count: 3, x: [B, 128, 4, 4], w: [128, 128, 3, 3], stride: 1, pad: 1, needGx: true },
  { name: '3x3 s2 128->256 @4', count: 1, x: [B, 128, 4, 4], w: [256, 128, 3, 3], stride: 2, pad: 1, needGx: true },
  { name: '1x1 s2 128->256 @4', count: 1, x: [B, 128, 4, 4], w: [256, 128, 1, 1], stride: 2, pad: 0, needGx: true },
  { name: '3x3 256->256 @2', count: 3, x: [B, 256, 2, 2], w: [256, 256, 3, 3], stride: 1, pad: 1, needGx: true },
  { name: '3x3 s2 256->512 @2', count: 1, x: [B, 256, 2, 2], w: [512, 256, 3, 3], stride: 2, pad: 1, needGx: true },
  { name: '1x1 s2 256->512 @2', count: 1, x: [B, 256, 2, 2], w: [512, 256, 1, 1], stride: 2, pad: 0, needGx: true },
  { name: '3x3 512->512 @1', count: 3, x: [B, 512, 1, 1], w: [512, 512, 3, 3], stride: 1, pad: 1, needGx: true },
];

/** Median and minimum ms over at least `reps` runs and `minMs` of running, after one warm-up. */
function time(run: () => void, reps: number, minMs: number): { med: number; min: number } {
  run();
  const ts: number[] = [];
  const start = performance.now();
  while (ts.length < reps || (performance.now() - start < minMs && ts.length < 100)) {
    const t = performance.now();
    run();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  return { med: ts[Math.floor(ts.length / 2)], min: ts[0] };
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
const rows: string[][] = [];
const emit = (o: Record<string, unknown>): void => {
  if (json) console.log(JSON.stringify({ ...o, threads }));
};

const info = gemmInfo();
if (!json) {
  console.log(`conv benchmark: ${threads} thread(s), GEMM kernel ${info.available ? (info.relaxedSimd ? 'wasm relaxed-simd' : 'wasm simd128') : 'unavailable'}, medians (min)`);
}

if (!args.includes('--step') && stepChild === undefined) {
  const totals: Record<string, number> = {};
  for (const L of layers) {
    const p = R.conv2dParams(L.x, L.w, { stride: [L.stride, L.stride], padding: [L.pad, L.pad], dilation: [1, 1], groups: 1 });
    const flops = 2 * p.n * p.cOut * p.outH * p.outW * p.cIn * p.kh * p.kw;
    // tensors' storage is arena-resident (allocate), which the kernels use in place
    const place = (a: Float32Array): Float32Array => {
      if (args.includes('--plain')) return a;
      const r = allocate('float32', a.length) as Float32Array;
      r.set(a);
      return r;
    };
    const x = place(randomArray(size(L.x), 1));
    const w = place(randomArray(size(L.w), 2));
    const gy = place(randomArray(p.n * p.cOut * p.outH * p.outW, 3));
    const out = place(new Float32Array(gy.length));
    const gx = place(new Float32Array(x.length));
    const gw = place(new Float32Array(w.length));
    const kernels: [string, string, () => void][] = [
      ['fwd', 'batched', () => conv2dForwardFast(x, w, null, p, out)],
      ['fwd', 'per-img', () => R.conv2dForward(x, w, null, p, out)],
      ['dX', 'batched', () => conv2dBackwardFast(gy, x, w, p, { gx, gw: null, gb: null })],
      ['dX', 'per-img', () => R.conv2dBackwardInput(gy, w, p, gx)],
      ['dW', 'batched', () => conv2dBackwardFast(gy, x, w, p, { gx: null, gw, gb: null })],
      ['dW', 'per-img', () => R.conv2dBackwardWeight(x, gy, p, gw)],
    ];
    if (args.includes('--reference')) {
      const plain = (f: () => void) => () => {
        setKernelMode('reference');
        try {
          f();
        } finally {
          setKernelMode('fast');
        }
      };
      kernels.push(['fwd', 'plain', plain(() => R.conv2dForward(x, w, null, p, out))]);
      kernels.push(['dX', 'plain', plain(() => R.conv2dBackwardInput(gy, w, p, gx))]);
      kernels.push(['dW', 'plain', plain(() => R.conv2dBackwardWeight(x, gy, p, gw))]);
    }
    for (const [pass, path, run] of kernels) {
      if (pass === 'dX' && !L.needGx) continue;
      const t = path === 'plain' ? time(run, 1, 0) : time(run, quick ? 3 : 7, quick ? 100 : 400);
      const gflops = flops / t.med / 1e6;
      totals[path] = (totals[path] ?? 0) + t.med * L.count;
      rows.push([L.name, String(L.count), pass, path, `${t.med.toFixed(2)} (${t.min.toFixed(2)})`, gflops.toFixed(1)]);
      emit({ name: `conv ${L.name} ${pass} [${path}]`, ms: Number(t.med.toFixed(3)), gflops: Number(gflops.toFixed(2)) });
    }
  }
  if (!json) {
    const pad = (s: string, n: number): string => s.padEnd(n);
    console.log(`${pad('layer', 24)}${pad('x', 3)}${pad('pass', 5)}${pad('path', 9)}${pad('ms', 18)}GFLOP/s`);
    for (const r of rows) console.log(`${pad(r[0], 24)}${pad(r[1], 3)}${pad(r[2], 5)}${pad(r[3], 9)}${pad(r[4], 18)}${r[5]}`);
    for (const [path, ms] of Object.entries(totals)) console.log(`all convs of one step (fwd + dX + dW, x count), ${path}: ${ms.toFixed(1)} ms`);
  }
}

if (!args.includes('--layers')) {
  const paths = args.includes('--reference') ? ['batched', 'per-img', 'plain'] : ['batched', 'per-img'];
  for (const path of paths) {
    const r = await stepInChild(path, path === 'plain' ? 1 : steps);
    const med = median(r.ms);
    const min = Math.min(...r.ms);
    emit({ name: `train resnet18 ${imageSize}x${imageSize} b64 [${path}]`, ms: Number(med.toFixed(1)), imagesPerSec: Number(((64 * 1000) / med).toFixed(1)), peakRssMb: Math.round(r.peakRssMb) });
    if (!json) {
      console.log(
        `training step, ResNet-18 b64 ${imageSize}x${imageSize}, ${path}: median ${med.toFixed(0)} ms (min ${min.toFixed(0)}) over ${r.ms.length} steps, ` +
          `${((64 * 1000) / med).toFixed(0)} images/s, peak RSS ${r.peakRssMb.toFixed(0)} MB (GEMM wasm memory ${r.wasmMb.toFixed(0)} MB)`,
      );
    }
  }
}
