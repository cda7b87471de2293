// `npm run bench`: the seed's ResNet-18 (baseChannels 64) training step and inference at three
// input sizes, and GEMM 1024^3; bench/torch_resnet18.py runs the same configurations in PyTorch.
//
//   node dist/bench/resnet18.js [--json] [--threads N] [--backend NAME] [--reference] [--quick] [--only NAME]
//
//   --json        one JSON object per line (name, imagesPerSec or gflops, msPerStep, steps,
//                 peakRssMb, threads, kernels, backend, framework) instead of a table
//   --threads N   kernel threads (setNumThreads); default SKIPGRAD_NUM_THREADS or the core count
//   --backend N   kernel backend (setBackend): native, wasm or reference; default SKIPGRAD_BACKEND,
//                 else native where it loaded, else wasm
//   --reference   the same as --backend reference (plain TypeScript kernels): no warm-up, 1 timed step
//   --quick       1 warm-up step and 1 timed step per configuration (a smoke run)
//   --only NAME   configurations named NAME, or whose name contains NAME
//   --no-fork     run in this process (the parent forks one child per configuration with this)
//
// Timing (timingPlan, the same in the PyTorch script): warm up for at least 1 step and 2 s, then
// time steps until at least 1 step and 10 s have run, at most 100. msPerStep is the mean over
// the timed steps. Peak RSS is the child process's maxRSS, so each configuration's peak includes
// Node's own baseline (~55 MB with skipgrad loaded) but nothing from other configurations.

import { fork } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SGD, crossEntropy, gemm, getBackend, getKernelMode, getNumThreads, manualSeed, models, noGrad, randint, randn, reclaimMemory, setBackend,
  setNumThreads,
} from '../src/index.js';

export interface BenchConfig {
  name: string;
  kind: 'train' | 'infer' | 'gemm';
  /** Images per step (train / infer). */
  batch: number;
  /** Square input side (train / infer), or the GEMM dimension M = N = K. */
  size: number;
}

export const CONFIGS: readonly BenchConfig[] = [
  { name: 'train-28x28-b64', kind: 'train', batch: 64, size: 28 },
  { name: 'train-28x28-b256', kind: 'train', batch: 256, size: 28 },
  { name: 'train-96x96-b64', kind: 'train', batch: 64, size: 96 },
  { name: 'infer-28x28-b64', kind: 'infer', batch: 64, size: 28 },
  { name: 'infer-28x28-b256', kind: 'infer', batch: 256, size: 28 },
  { name: 'infer-96x96-b64', kind: 'infer', batch: 64, size: 96 },
  { name: 'gemm-1024', kind: 'gemm', batch: 0, size: 1024 },
];

export interface BenchOptions {
  json: boolean;
  quick: boolean;
  reference: boolean;
  noFork: boolean;
  help: boolean;
  threads?: number;
  only?: string;
  /** --backend NAME (--reference sets `reference` instead). */
  backend?: string;
}

const USAGE = 'usage: resnet18.js [--json] [--threads N] [--backend NAME] [--reference] [--quick] [--only NAME] [--no-fork]';

/** Parses the command line; `--threads N` and `--threads=N` (same for --only) both work. */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const opts: BenchOptions = { json: false, quick: false, reference: false, noFork: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) throw new Error(`bench: ${flag} needs a value (${USAGE})`);
      return argv[++i];
    };
    switch (flag) {
      case '--json': opts.json = true; break;
      case '--quick': opts.quick = true; break;
      case '--reference': opts.reference = true; break;
      case '--no-fork': opts.noFork = true; break;
      case '--help': case '-h': opts.help = true; break;
      case '--threads': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new Error(`bench: --threads expects a positive integer, got '${v}'`);
        opts.threads = n;
        break;
      }
      case '--only': opts.only = value(); break;
      case '--backend': opts.backend = value(); break;
      default: throw new Error(`bench: unknown argument '${arg}' (${USAGE})`);
    }
  }
  if (opts.backend !== undefined && opts.reference && opts.backend !== 'reference') {
    throw new Error(`bench: --reference contradicts --backend ${opts.backend}`);
  }
  return opts;
}

/** The configuration named `only` exactly, else those whose name contains it; all without it. */
export function selectConfigs(only?: string): BenchConfig[] {
  if (only === undefined) return [...CONFIGS];
  const exact = CONFIGS.filter((c) => c.name === only);
  const picked = exact.length ? exact : CONFIGS.filter((c) => c.name.includes(only));
  if (!picked.length) throw new Error(`bench: --only '${only}' matches no configuration (${CONFIGS.map((c) => c.name).join(', ')})`);
  return picked;
}

export interface TimingPlan {
  warmupSteps: number;
  warmupMs: number;
  minSteps: number;
  minMs: number;
  maxSteps: number;
}

// A 28x28 b64 training step takes ~0.1 s in PyTorch and seconds here: the time box gives fast
// configurations many steps and slow ones the minimum, so a full run stays within minutes.
export function timingPlan(opts: Pick<BenchOptions, 'quick' | 'reference' | 'backend'>): TimingPlan {
  if (opts.reference || opts.backend === 'reference') return { warmupSteps: 0, warmupMs: 0, minSteps: 1, minMs: 0, maxSteps: 1 };
  if (opts.quick) return { warmupSteps: 1, warmupMs: 0, minSteps: 1, minMs: 0, maxSteps: 1 };
  return { warmupSteps: 1, warmupMs: 2000, minSteps: 1, minMs: 10_000, maxSteps: 100 };
}

/** Runs `step` per the plan and returns the timed steps' durations in ms. `now` is injectable for tests. */
export async function runTimed(step: () => void | Promise<void>, plan: TimingPlan, now: () => number = () => performance.now()): Promise<number[]> {
  const w0 = now();
  for (let n = 0; n < plan.warmupSteps || (now() - w0 < plan.warmupMs && n < plan.maxSteps); n++) await step();
  const times: number[] = [];
  const t0 = now();
  while (times.length < plan.minSteps || (now() - t0 < plan.minMs && times.length < plan.maxSteps)) {
    const t = now();
    await step();
    times.push(now() - t);
  }
  return times;
}

export interface BenchResult {
  name: string;
  imagesPerSec?: number;
  gflops?: number;
  msPerStep: number;
  steps: number;
  peakRssMb: number;
  threads: number;
  kernels: 'fast' | 'reference';
  /** The kernel backend that ran (getBackend()). */
  backend: string;
  framework: string;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Throughput from the timed steps: images/s for the network, GFLOP/s (2·n³ per call) for GEMM. */
export function summarize(
  config: BenchConfig, timesMs: readonly number[], env: Pick<BenchResult, 'peakRssMb' | 'threads' | 'kernels' | 'backend' | 'framework'>,
): BenchResult {
  if (!timesMs.length) throw new Error(`bench: ${config.name} has no timed steps`);
  const ms = timesMs.reduce((a, b) => a + b, 0) / timesMs.length;
  const rate = config.kind === 'gemm'
    ? { gflops: round((2 * config.size ** 3) / ms / 1e6, 2) }
    : { imagesPerSec: round((config.batch * 1000) / ms, 2) };
  return { name: config.name, ...rate, msPerStep: round(ms, 2), steps: timesMs.length, peakRssMb: round(env.peakRssMb, 1), threads: env.threads, kernels: env.kernels, backend: env.backend, framework: env.framework };
}

/** One JSON object, keys in a fixed order (the PyTorch script writes the same). */
export function jsonLine(r: BenchResult): string {
  return JSON.stringify(r);
}

const COLUMNS: [string, number][] = [['name', 18], ['throughput', 18], ['ms/step', 11], ['steps', 7], ['peak RSS MB', 13], ['threads', 9], ['kernels', 10]];

export function tableHeader(): string {
  return COLUMNS.map(([h, w]) => h.padEnd(w)).join('').trimEnd();
}

export function tableRow(r: BenchResult): string {
  const rate = r.gflops !== undefined ? `${r.gflops.toFixed(1)} GFLOP/s` : `${(r.imagesPerSec ?? 0).toFixed(1)} img/s`;
  // skipgrad's kernels column names the backend (PyTorch's script names its libraries there).
  const cells = [r.name, rate, r.msPerStep.toFixed(1), String(r.steps), r.peakRssMb.toFixed(0), String(r.threads), r.backend];
  return cells.map((c, i) => c.padEnd(COLUMNS[i][1])).join('').trimEnd();
}

export function formatTable(rows: readonly BenchResult[]): string {
  return [tableHeader(), ...rows.map(tableRow)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Measuring (not exercised by the tests).

// Network steps end with reclaimMemory() (as fit's do), inside the timed region: recycling the
// step's tensors is part of what a training step costs.
function makeStep(config: BenchConfig): () => void | Promise<void> {
  manualSeed(0);
  if (config.kind === 'gemm') {
    const n = config.size;
    const A = randn([n, n]).data as Float32Array;
    const B = randn([n, n]).data as Float32Array;
    const C = new Float32Array(n * n);
    return () => gemm(false, false, n, n, n, 1, A, 0, n, B, 0, n, 0, C, 0, n);
  }
  const net = models.resnet18(); // the seed's: 1 input channel, 10 classes, baseChannels 64
  const x = randn([config.batch, 1, config.size, config.size]);
  const y = randint(0, 10, [config.batch]);
  if (config.kind === 'infer') {
    net.eval();
    return async () => {
      noGrad(() => net.call(x));
      await reclaimMemory();
    };
  }
  net.train();
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  return async () => {
    opt.zeroGrad();
    const loss = crossEntropy(net.call(x), y);
    loss.backward();
    opt.step();
    if (!Number.isFinite(loss.item())) throw new Error(`bench: ${config.name} loss is ${loss.item()}`);
    opt.zeroGrad(); // before reclaiming: this step's gradients are dead, their blocks serve the next step
    await reclaimMemory();
  };
}

async function runInProcess(config: BenchConfig, opts: BenchOptions): Promise<BenchResult> {
  const times = await runTimed(makeStep(config), timingPlan(opts));
  const peakRssMb = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  const kernels = getKernelMode();
  // The reference kernels are single-threaded whatever setNumThreads says: report what ran.
  const threads = kernels === 'reference' ? 1 : getNumThreads();
  return summarize(config, times, { peakRssMb, threads, kernels, backend: getBackend(), framework: 'skipgrad' });
}

/** Runs one configuration in a fresh child (this script with --no-fork), so its peak RSS is its own. */
function runInChild(config: BenchConfig, argv: readonly string[]): Promise<BenchResult> {
  const passOn = argv.filter((a, i) => a !== '--only' && !a.startsWith('--only=') && argv[i - 1] !== '--only');
  return new Promise((resolve, reject) => {
    let result: BenchResult | undefined;
    const child = fork(fileURLToPath(import.meta.url), [...passOn, '--only', config.name, '--no-fork'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m) => { result = m as BenchResult; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (result && code === 0) resolve(result);
      else reject(new Error(`bench: ${config.name} child exited with ${signal ?? `code ${code}`}`));
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  if (opts.threads !== undefined) setNumThreads(opts.threads);
  if (opts.reference || opts.backend !== undefined) setBackend(opts.backend ?? 'reference');
  const configs = selectConfigs(opts.only);
  if (opts.noFork && process.send) {
    for (const c of configs) process.send(await runInProcess(c, opts));
    return 0;
  }
  if (!opts.json) console.log(tableHeader());
  let failed = 0;
  for (const c of configs) {
    try {
      const r = opts.noFork ? await runInProcess(c, opts) : await runInChild(c, argv);
      console.log(opts.json ? jsonLine(r) : tableRow(r));
    } catch (e) {
      failed++;
      console.error((e as Error).message);
    }
  }
  return failed ? 1 : 0;
}

const entry = process.argv[1];
if (entry && realpathSync(entry) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e: Error) => { console.error(e.message); process.exitCode = 2; },
  );
}
