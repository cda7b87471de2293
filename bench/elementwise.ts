// Memory-bound kernels of a ResNet-18 training step (28x28 input, batch 64), fast vs reference:
// the residual add, ReLU and its backward, batch norm forward (statistics + normalize) and
// backward (reductions + input gradient), the stem's 3x3 / 2 max pool and the global average pool.
//
//   npx tsc -p tsconfig.json && node dist/bench/elementwise.js [--json] [--quick] [--only=TEXT]
//       [--chunk=ELEMENTS]   (override the fast path's chunk size, see fast/engine.ts)
//
// GB/s counts each array the kernel must read or write once (e.g. add: two inputs and the
// output); the fast path moves more (copies into and out of wasm memory), so its GB/s is an
// effective rate. Here the reference closures are called from one op each (monomorphic, their
// best case); in training mapBinary serves several ops and runs slower, so speedups are low.
// Times are medians of repeated runs; other processes on the machine (other sessions' tests)
// make single runs noisy, so compare medians taken in one sitting.

import * as BN from '../src/kernels/batchnorm.js';
import { arith, reluBackward, reluForward } from '../src/kernels/elementwise.js';
import { fastEngine, getFastTuning, setFastTuning } from '../src/kernels/fast/engine.js';
import { getKernelMode, setKernelMode, type KernelMode } from '../src/kernels/mode.js';
import { adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward, maxPool2dBackward, maxPool2dForward, pool2dParams } from '../src/kernels/pool.js';
import { randomArray } from './random.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const chunkArg = args.find((a) => a.startsWith('--chunk='));
if (chunkArg) setFastTuning({ chunkElements: Number(chunkArg.slice('--chunk='.length)) });

/** Median milliseconds of `run` after warm-up (at least `minReps` runs and `minMs` of them). */
function medianMs(run: () => void): number {
  const [warmup, minReps, minMs] = quick ? [3, 5, 100] : [10, 21, 400];
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  const start = performance.now();
  while ((times.length < minReps || performance.now() - start < minMs) && times.length < 500) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

interface Case {
  name: string;
  /** Bytes of the arrays read and written once. */
  bytes: number;
  run: () => void;
}

const sizes: [number, number, number, number][] = [
  [64, 64, 14, 14],
  [64, 64, 7, 7],
  [64, 128, 4, 4],
  [64, 256, 2, 2],
  [64, 512, 1, 1],
];

function cases(): Case[] {
  const out: Case[] = [];
  for (const shape of sizes) {
    const [N, C, H, W] = shape;
    const S = H * W;
    const n = N * C * S;
    const tag = `[${shape.join(',')}]`;
    const a = randomArray(n, 1);
    const b = randomArray(n, 2);
    const o = new Float32Array(n);
    out.push({ name: `add ${tag}`, bytes: 12 * n, run: () => arith('add', a, shape, b, shape, o, shape) });
    out.push({ name: `relu ${tag}`, bytes: 8 * n, run: () => reluForward(a, o) });
    out.push({ name: `relu backward ${tag}`, bytes: 12 * n, run: () => reluBackward(b, a, o) });
    const w = randomArray(C, 3);
    const bias = randomArray(C, 4);
    // What the batchNorm op runs in training: statistics + normalize, reductions + input gradient.
    out.push({
      name: `batchnorm forward ${tag}`,
      bytes: 8 * n,
      run: () => {
        const { mean, variance } = BN.channelStats(a, N, C, S);
        BN.normalize(a, N, C, S, mean, BN.invStd(variance, 1e-5), w, bias, o);
      },
    });
    const { mean, variance } = BN.channelStatsReference(a, N, C, S);
    const invstd = BN.invStd(variance, 1e-5);
    out.push({
      name: `batchnorm backward ${tag}`,
      bytes: 12 * n,
      run: () => {
        const { sumG, sumGXhat } = BN.backwardReduce(b, a, N, C, S, mean, invstd);
        BN.backwardInput(b, a, N, C, S, mean, invstd, w, sumG, sumGXhat, true, o);
      },
    });
    if (H === 14) {
      const p = pool2dParams(shape, { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], ceilMode: false }, 'bench');
      const m = p.n * p.c * p.outH * p.outW;
      const po = new Float32Array(m);
      const idx = maxPool2dForward(a, p, po);
      const gx = new Float32Array(n);
      out.push({ name: `maxpool 3x3/2 forward ${tag}`, bytes: 4 * n + 8 * m, run: () => maxPool2dForward(a, p, po) });
      out.push({ name: `maxpool 3x3/2 backward ${tag}`, bytes: 4 * n + 8 * m, run: () => maxPool2dBackward(po, idx, p, gx) });
    }
    if (C === 512) {
      // the global average pool before the classifier (its input is 1x1 at 28x28, 3x3 at 96x96)
      for (const s of [1, 3]) {
        const p = { n: N, c: C, h: s, w: s, outH: 1, outW: 1 };
        const x = randomArray(N * C * s * s, 5);
        const y = new Float32Array(N * C);
        const gx = new Float32Array(x.length);
        const t = `[${N},${C},${s},${s}]`;
        out.push({ name: `adaptive avgpool forward ${t}`, bytes: 4 * (x.length + y.length), run: () => adaptiveAvgPool2dForward(x, p, y) });
        out.push({ name: `adaptive avgpool backward ${t}`, bytes: 4 * (x.length + y.length), run: () => adaptiveAvgPool2dBackward(y, p, gx) });
      }
    }
  }
  return out;
}

const rows: { name: string; bytes: number; ms: Record<KernelMode, number> }[] = [];
const initialMode = getKernelMode();
for (const c of cases()) {
  if (only !== undefined && !c.name.includes(only)) continue;
  const ms = {} as Record<KernelMode, number>;
  for (const mode of ['reference', 'fast'] as const) {
    setKernelMode(mode);
    ms[mode] = medianMs(c.run);
    if (json) console.log(JSON.stringify({ name: `${c.name} [${mode}]`, ms: Number(ms[mode].toFixed(4)), gbPerSec: Number((c.bytes / ms[mode] / 1e6).toFixed(2)), threads: 1 }));
  }
  rows.push({ name: c.name, bytes: c.bytes, ms });
}
setKernelMode(initialMode);

if (!json) {
  const t = getFastTuning();
  console.log(`elementwise kernels: wasm ${fastEngine() ? 'simd128' : 'unavailable'}, chunk ${t.chunkElements} elements, 1 thread`);
  const pad = (x: string, n: number): string => x.padEnd(n);
  console.log(`${pad('kernel', 40)}${pad('reference ms', 14)}${pad('GB/s', 8)}${pad('fast ms', 10)}${pad('GB/s', 8)}speedup`);
  for (const r of rows) {
    const gb = (ms: number): string => (r.bytes / ms / 1e6).toFixed(1);
    console.log(
      `${pad(r.name, 40)}${pad(r.ms.reference.toFixed(3), 14)}${pad(gb(r.ms.reference), 8)}` +
        `${pad(r.ms.fast.toFixed(3), 10)}${pad(gb(r.ms.fast), 8)}${(r.ms.reference / r.ms.fast).toFixed(1)}x`,
    );
  }
}
