// Careless-user trials of the CLI: odd flag values and --out paths. Each must end in one short
// line naming the flag (exit 2), before any run folder or file is written; never a raw Node error
// (ENOTDIR, 'Invalid typed array length'), a silently clamped value, or files in the cwd.

import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './helpers/cli.js';

const run = runCli;

afterEach(() => vi.restoreAllMocks());

const tmp = mkdtempSync(join(tmpdir(), 'skipgrad-qa-cli-'));
const aFile = join(tmp, 'a-file');
writeFileSync(aFile, 'not a folder');
const QUICK = ['--width', '2', '--epochs', '1'];

describe('train refuses odd values before anything is written', () => {
  it.each([
    // Was: trained, then wrote config.json into the current folder.
    [['--out', ''], "skipgrad train: --out expects a folder path, got ''"],
    [['--resume', ''], "skipgrad train: --resume expects a folder path, got ''"],
    // Was: the banner, then a raw "ENOTDIR: not a directory, mkdir".
    [['--out', join(aFile, 'run', 'x')], `skipgrad train: --out ${join(aFile, 'run', 'x')}: ${aFile} is a file, not a folder`],
    // Was: accepted and silently run on 256 threads.
    [['--threads', '1000'], "skipgrad train: --threads expects an integer <= 256, got '1000'"],
    // Was: read as 16 and 3 (Number's hex and binary literals).
    [['--lr', '0x10'], "skipgrad train: --lr expects a number, got '0x10'"],
    [['--epochs', '0b11'], "skipgrad train: --epochs expects a number, got '0b11'"],
  ])('%j', async (argv, message) => {
    const r = await run('train', ...QUICK, '--limit', '64', ...argv);
    expect(r.err).toBe(message);
    expect(r.code).toBe(2);
    expect(existsSync('config.json')).toBe(false);
  });

  it('a last batch of one image is refused up front, not after an epoch of training (BatchNorm cannot train on it)', async () => {
    const out = join(tmp, 'run65');
    const r = await run('train', ...QUICK, '--limit', '65', '--out', out);
    expect(r.err).toBe(
      'skipgrad train: 65 training images in batches of 64 leave a last batch of 1 image, which BatchNorm cannot train on: change --batch-size or --limit',
    );
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false); // was: an orphan folder holding only config.json
  });

  it('a batch larger than a one-image dataset is the same case', async () => {
    const r = await run('train', ...QUICK, '--limit', '1', '--batch-size', '512', '--out', join(tmp, 'run1'));
    expect(r.err).toMatch(/1 training images in batches of 512 leave a last batch of 1 image/);
    expect(existsSync(join(tmp, 'run1'))).toBe(false);
  });
});

describe('summary and gradflow', () => {
  it.each([
    // Was: "Invalid typed array length: 49000000000".
    [['summary', '--width', '1e9'], "skipgrad summary: --width expects an integer <= 4096, got '1e9'"],
    [['summary', '--size', '5000'], "skipgrad summary: --size expects an integer <= 4096, got '5000'"],
    // Was: "ENOENT: no such file or directory, mkdir ''" and "ENOTDIR: not a directory".
    [['gradflow', '--out', ''], "skipgrad gradflow: --out expects a folder path, got ''"],
    [['gradflow', '--out', join(aFile, 'x')], `skipgrad gradflow: --out ${join(aFile, 'x')}: ${aFile} is a file, not a folder`],
    [['gradflow', '--out', aFile], `skipgrad gradflow: --out ${aFile} exists and is not a folder`],
    [['gradflow', '--threads', '1000'], "skipgrad gradflow: --threads expects an integer <= 256, got '1000'"],
    [['gradflow', '--width', '100000'], "skipgrad gradflow: --width expects an integer <= 4096, got '100000'"],
  ])('%j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.err).toBe(message);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });

  it('a tensor too large to allocate is reported as out of memory, naming the flags to lower', async () => {
    const r = await run('summary', '--batch', '1000000');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^skipgrad summary: out of memory: a tensor of this size cannot be allocated \(.*\); lower the width, batch or image size given$/);
  });
});

describe('config.json is written atomically', () => {
  it("a resume rewrites it through a temp file, and a killed write's temp file is removed on the next start", async () => {
    const out = join(tmp, 'atomic');
    expect((await run('train', ...QUICK, '--limit', '64', '--batch-size', '32', '--out', out)).code).toBe(0);
    // What a write killed between open and rename leaves (was: an empty config.json, unresumable).
    const stale = 'config.json.tmp-999999999';
    writeFileSync(join(out, stale), '');
    const r = await run('train', '--resume', out, '--epochs', '2');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`removed 1 temp file(s) left by an interrupted save: ${stale}`);
    expect(readdirSync(out).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).epochs).toBe(2);
  });
});

describe('evaluate --threads', () => {
  it('refuses more threads than the pool allows, as train does', async () => {
    const r = await run('evaluate', '--checkpoint', 'package.json', '--threads', '1000');
    expect(r.code).toBe(2);
    expect(r.err).toBe("skipgrad evaluate: --threads expects an integer <= 256, got '1000'");
  });
});
