import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './helpers/cli.js';

const run = runCli;

afterEach(() => vi.restoreAllMocks());

describe('skipgrad CLI', () => {
  it.each([
    [['train', '--epochs', 'x'], "skipgrad train: --epochs expects a number, got 'x'"],
    [['train', '--epochs', '0'], "skipgrad train: --epochs expects an integer >= 1, got '0'"],
    [['train', '--bogus'], "skipgrad train: unknown option '--bogus' (see 'skipgrad train --help')"],
    [['train', '--optimizer', 'rmsprop'], "skipgrad train: --optimizer must be one of sgd, adam, adamw, got 'rmsprop'"],
    [['train', '--data', '/no/such/dir'], 'skipgrad train: --data /no/such/dir: no such file or directory'],
    [['train', '--resume', '/no/such/run'], 'skipgrad train: --resume /no/such/run: no config.json there (not a run folder)'],
    [['evaluate'], "skipgrad evaluate: --checkpoint PATH is required (see 'skipgrad evaluate --help')"],
    [['evaluate', '--checkpoint', '/no/such/file'], 'skipgrad evaluate: --checkpoint /no/such/file: no such file or directory'],
    [['summary', '--width=-3'], "skipgrad summary: --width expects an integer >= 1, got '-3'"],
    [['summary', '--width', '-3'], "skipgrad summary: --width expects an integer >= 1, got '-3'"],
    [['fly'], "skipgrad: unknown command 'fly'"],
    [['train', '--data', 'package.json'], 'skipgrad train: --data package.json: expected a directory of IDX files or a .csv file'],
    [['train', '--resume', 'test/fixtures', '--out', 'elsewhere'], 'skipgrad train: --resume test/fixtures: no config.json there (not a run folder)'],
    [['evaluate', '--checkpoint', 'test'], 'skipgrad evaluate: test holds neither model.safetensors nor checkpoint.safetensors'],
    [['gradflow', '--steps', 'many'], "skipgrad gradflow: --steps expects a number, got 'many'"],
  ])('%j fails with one clear line', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBeGreaterThan(0);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toContain(message);
    expect(r.err).not.toContain('    at ');
  });

  it('--help describes each command', async () => {
    for (const cmd of ['train', 'evaluate', 'summary']) {
      const r = await run(cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Usage: skipgrad ${cmd}`);
    }
    expect((await run('train', '--help')).out).toContain('--d2l');
  });

  it('summary prints the seed demo', async () => {
    const r = await run('summary', '--width', '8', '--size', '96');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe('Sequential output shape:\t [1, 8, 24, 24]');
    expect(r.out).toContain('Linear output shape:\t [1, 10]');
  });

  it('train writes a run folder that evaluate reads back', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'skipgrad-cli-')), 'run');
    const r = await run('train', '--width', '4', '--limit', '64', '--epochs', '1', '--batch-size', '32', '--out', out, '--seed', '1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/epoch 1\/1: loss \d\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}, [\d.]+ examples\/sec/);
    for (const f of ['config.json', 'metrics.csv', 'curves.svg', 'checkpoint.safetensors', 'model.safetensors']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ width: 4, limit: 64, epochs: 1 });
    const testAcc = Number(/test acc (\d\.\d{3})/.exec(r.out)![1]);
    const e = await run('evaluate', '--checkpoint', out);
    expect(e.code).toBe(0);
    expect(e.out).toContain(`test acc ${testAcc.toFixed(3)}`);
  });
});

describe('skipgrad train with CSV data', () => {
  it('asks for --test-data when a CSV has no test sibling', async () => {
    const { writeFashionCsv } = await import('../src/data/index.js');
    const path = join(mkdtempSync(join(tmpdir(), 'skipgrad-csv-')), 'mydata.csv');
    await writeFashionCsv(path, { pixels: new Uint8Array(2 * 784), labels: Uint8Array.from([1, 2]), rows: 28, cols: 28 });
    const r = await run('train', '--data', path);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`skipgrad train: --data ${path} is a CSV file and no test CSV is beside it (looked for fashion-mnist_test.csv, test.csv); pass --test-data FILE.csv`);
    const kaggle = join(mkdtempSync(join(tmpdir(), 'skipgrad-csv-')), 'train.csv');
    await writeFashionCsv(kaggle, { pixels: new Uint8Array(2 * 784), labels: Uint8Array.from([1, 2]), rows: 28, cols: 28 });
    const k = await run('train', '--data', kaggle);
    expect(k.err).toBe(`skipgrad train: --data ${kaggle} is a CSV file and no test CSV is beside it (looked for test.csv, fashion-mnist_test.csv); pass --test-data FILE.csv`);
  });

  it('finds fashion-mnist_test.csv beside train.csv, and evaluate names the test file it read', async () => {
    const { writeFashionCsv, loadFashionSplit } = await import('../src/data/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-csv-'));
    const sub = async (train: boolean, n: number) => {
      const s = await loadFashionSplit({ train });
      return { pixels: s.pixels.slice(0, n * 784), labels: s.labels.slice(0, n), rows: 28, cols: 28 };
    };
    await writeFashionCsv(join(dir, 'train.csv'), await sub(true, 64));
    await writeFashionCsv(join(dir, 'fashion-mnist_test.csv'), await sub(false, 40));
    const out = join(dir, 'run');
    const r = await run('train', '--data', join(dir, 'train.csv'), '--width', '4', '--epochs', '1', '--batch-size', '32', '--out', out, '--seed', '1');
    expect(r.code, r.err).toBe(0);
    const e = await run('evaluate', '--checkpoint', out);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(new RegExp(`on 40 images of ${join(dir, 'fashion-mnist_test.csv').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`));
  });
});

describe('skipgrad evaluate reads the test split alone', () => {
  it('evaluates on a folder that holds only the t10k files', async () => {
    const { copyFileSync, mkdirSync: mk } = await import('node:fs');
    const { embeddedDataDir } = await import('../src/data/fashion_files.js');
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-testonly-'));
    const data = join(dir, 'data');
    mk(data);
    for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) copyFileSync(join(embeddedDataDir(), f), join(data, f));
    const out = join(dir, 'run');
    expect((await run('train', '--width', '2', '--limit', '64', '--epochs', '1', '--batch-size', '32', '--out', out)).code).toBe(0);
    const e = await run('evaluate', '--checkpoint', out, '--data', data);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(new RegExp(`on 1000 images of ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`));
  });
});
