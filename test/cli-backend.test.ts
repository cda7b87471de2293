// `skipgrad info` and the global `--backend NAME` flag, run in-process.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, takeBackendFlag } from '../src/cli/main.js';
import { KERNEL_NAMES, getBackend, setBackend } from '../src/index.js';
import { setNativeSourceForTests } from '../src/kernels/backend.js';

const initial = getBackend();

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const code = await main(argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => {
  vi.restoreAllMocks();
  setNativeSourceForTests(null);
  setBackend(initial);
});

describe('skipgrad info', () => {
  it('--json: the backend, why native is not in use, threads, CPU, and the kernel table', async () => {
    const r = await run('info', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.backend).toBe(initial);
    expect(info.whyNotNative === null).toBe(initial === 'native');
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(typeof info.cpu.model).toBe('string');
    expect(info.kernels.map((k: { kernel: string }) => k.kernel)).toEqual([...KERNEL_NAMES]);
  });

  it('prints a report with the kernel table', async () => {
    const r = await run('info');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^backend    ${initial}`));
    expect(r.out).toContain('\nthreads    ');
    expect(r.out).toMatch(/\n {2}gemm +(yes|-) +yes +yes +/);
    expect((await run('help')).out).toContain('info        the kernel backend in use');
  });

  it('--backend NAME before or after the command selects the backend', async () => {
    let r = await run('--backend', 'reference', 'info', '--json');
    expect([r.code, JSON.parse(r.out).backend]).toEqual([0, 'reference']);
    setBackend(initial);
    r = await run('info', '--backend=reference');
    expect(r.out).toMatch(/^backend    reference \(default: /);
  });

  it('refuses an unknown or unavailable backend, with the reason, and a missing name', async () => {
    setBackend('wasm'); // not native: the stand-in below makes it unavailable
    setNativeSourceForTests({
      status: () => ({ loaded: false, reason: 'no C compiler when installed', library: null, version: null, addonPath: null, features: [] }),
      kernels: {},
      setThreads: () => {},
    });
    let r = await run('--backend', 'native', 'train');
    expect([r.code, r.err]).toEqual([2, "skipgrad: --backend native: the 'native' backend is not available: no C compiler when installed"]);
    r = await run('info', '--backend', 'tpu');
    expect([r.code, r.err]).toEqual([2, "skipgrad: --backend tpu: unknown backend 'tpu' (backends: native, wasm, reference)"]);
    r = await run('info', '--backend');
    expect([r.code, r.err]).toEqual([2, 'skipgrad: --backend needs a backend name (native, wasm or reference)']);
    expect(getBackend()).toBe('wasm');
  });

  it('takeBackendFlag leaves every other argument alone', () => {
    expect(takeBackendFlag(['train', '--epochs', '2', '--backend', 'wasm', '--lr=0.1'])).toEqual({ rest: ['train', '--epochs', '2', '--lr=0.1'], backend: 'wasm' });
    expect(takeBackendFlag(['summary'])).toEqual({ rest: ['summary'], backend: undefined });
    expect(() => takeBackendFlag(['--backend', 'wasm', 'info', '--backend=reference'])).toThrow('skipgrad: --backend given twice (wasm, reference)');
  });
});
