// The bench script's pure helpers: argument parsing, configuration choice, the time box, the
// table and the JSON lines. No benchmark runs here (benchmarks are scripts, not timed tests).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONFIGS, formatTable, jsonLine, parseArgs, runTimed, selectConfigs, summarize, tableHeader, tableRow, timingPlan,
  type BenchResult,
} from '../bench/resnet18.js';

const env = { peakRssMb: 281.94, threads: 2, kernels: 'fast' as const, backend: 'wasm', framework: 'skipgrad' };

describe('bench: parseArgs', () => {
  it('defaults', () => {
    expect(parseArgs([])).toEqual({ json: false, quick: false, reference: false, noFork: false, help: false });
  });

  it('flags and both value spellings', () => {
    expect(parseArgs(['--json', '--threads', '3', '--reference', '--only=gemm', '--quick', '--no-fork'])).toEqual({
      json: true, quick: true, reference: true, noFork: true, help: false, threads: 3, only: 'gemm',
    });
    expect(parseArgs(['--threads=1', '--only', 'train-28x28-b64'])).toMatchObject({ threads: 1, only: 'train-28x28-b64' });
    expect(parseArgs(['--backend', 'native'])).toMatchObject({ backend: 'native', reference: false });
    expect(parseArgs(['--backend=reference', '--reference'])).toMatchObject({ backend: 'reference', reference: true });
  });

  it('rejects bad input, naming the argument', () => {
    expect(() => parseArgs(['--threads', '0'])).toThrow("bench: --threads expects a positive integer, got '0'");
    expect(() => parseArgs(['--threads', '1.5'])).toThrow("got '1.5'");
    expect(() => parseArgs(['--threads'])).toThrow('bench: --threads needs a value');
    expect(() => parseArgs(['--fast'])).toThrow("bench: unknown argument '--fast'");
    expect(() => parseArgs(['--backend'])).toThrow('bench: --backend needs a value');
    expect(() => parseArgs(['--backend', 'wasm', '--reference'])).toThrow('bench: --reference contradicts --backend wasm');
  });
});

describe('bench: configurations', () => {
  it('are the issue\'s: train and inference at 28x28 b64, 28x28 b256, 96x96 b64, and GEMM 1024^3', () => {
    expect(CONFIGS.map((c) => c.name)).toEqual([
      'train-28x28-b64', 'train-28x28-b256', 'train-96x96-b64', 'infer-28x28-b64', 'infer-28x28-b256', 'infer-96x96-b64', 'gemm-1024',
    ]);
  });

  it('--only picks an exact name first, else every name containing it', () => {
    expect(selectConfigs().length).toBe(CONFIGS.length);
    expect(selectConfigs('train-28x28-b64').map((c) => c.name)).toEqual(['train-28x28-b64']);
    expect(selectConfigs('96x96').map((c) => c.name)).toEqual(['train-96x96-b64', 'infer-96x96-b64']);
    expect(() => selectConfigs('resnet50')).toThrow("bench: --only 'resnet50' matches no configuration (train-28x28-b64, ");
  });

  it('bench/torch_resnet18.py runs the same ones (read as text: the suite never needs Python)', () => {
    const py = readFileSync(new URL('../bench/torch_resnet18.py', import.meta.url), 'utf8');
    const names = [...py.matchAll(/\{'name': '([^']+)'/g)].map((m) => m[1]);
    expect(names).toEqual([...CONFIGS.map((c) => c.name), 'gemm-1024-onednn']);
    // Same time box as timingPlan.
    expect(py).toContain('return dict(warmup_steps=1, warmup_ms=2000, min_steps=1, min_ms=10_000, max_steps=100)');
  });
});

describe('bench: time box', () => {
  // A fake clock: every step takes `stepMs`; reading the clock is free.
  async function fakeRun(stepMs: number, plan: ReturnType<typeof timingPlan>): Promise<{ steps: number; times: number[] }> {
    let t = 0;
    let steps = 0;
    const times = await runTimed(() => { t += stepMs; steps++; }, plan, () => t);
    return { steps, times };
  }

  it('a slow step gets one warm-up step and one timed step', async () => {
    const r = await fakeRun(40_000, timingPlan({ quick: false, reference: false }));
    expect(r).toEqual({ steps: 2, times: [40_000] });
  });

  it('a fast step warms up for 2 s and is timed for 10 s', async () => {
    const r = await fakeRun(100, timingPlan({ quick: false, reference: false }));
    expect(r.steps - r.times.length).toBe(20);
    expect(r.times).toEqual(new Array(100).fill(100)); // 100 steps reach both 10 s and the cap
  });

  it('--quick: one warm-up and one timed step; --reference: one timed step, no warm-up', async () => {
    expect(await fakeRun(5, timingPlan({ quick: true, reference: false }))).toEqual({ steps: 2, times: [5] });
    expect(await fakeRun(5, timingPlan({ quick: false, reference: true }))).toEqual({ steps: 1, times: [5] });
    expect(await fakeRun(5, timingPlan({ quick: false, reference: false, backend: 'reference' }))).toEqual({ steps: 1, times: [5] });
  });
});

describe('bench: results', () => {
  const train = summarize(CONFIGS[0], [3000, 5000], env);
  const gemm = summarize(CONFIGS[6], [25], env);

  it('images/s from the mean step time, GFLOP/s as 2n^3 per call', () => {
    expect(train).toEqual({
      name: 'train-28x28-b64', imagesPerSec: 16, msPerStep: 4000, steps: 2, peakRssMb: 281.9, threads: 2, kernels: 'fast', backend: 'wasm', framework: 'skipgrad',
    });
    expect(gemm.gflops).toBe(85.9); // 2 * 1024^3 / 25 ms = 85.899 GFLOP/s
    expect(gemm.imagesPerSec).toBeUndefined();
    expect(() => summarize(CONFIGS[0], [], env)).toThrow('bench: train-28x28-b64 has no timed steps');
  });

  it('JSON lines carry the fields BENCHMARKS.md and the PyTorch script share, in a fixed order', () => {
    expect(jsonLine(train)).toBe(
      '{"name":"train-28x28-b64","imagesPerSec":16,"msPerStep":4000,"steps":2,"peakRssMb":281.9,"threads":2,"kernels":"fast","backend":"wasm","framework":"skipgrad"}',
    );
    const parsed = JSON.parse(jsonLine(gemm)) as BenchResult;
    expect(Object.keys(parsed)).toEqual(['name', 'gflops', 'msPerStep', 'steps', 'peakRssMb', 'threads', 'kernels', 'backend', 'framework']);
  });

  it('the table aligns its columns', () => {
    expect(tableHeader()).toBe('name              throughput        ms/step    steps  peak RSS MB  threads  kernels');
    expect(tableRow(train)).toBe('train-28x28-b64   16.0 img/s        4000.0     2      282          2        wasm');
    expect(tableRow(gemm)).toBe('gemm-1024         85.9 GFLOP/s      25.0       1      282          2        wasm');
    expect(formatTable([train, gemm]).split('\n')).toEqual([tableHeader(), tableRow(train), tableRow(gemm)]);
  });
});
