// `skipgrad train` run management: flag ranges, resume (extending, finished, fresh), flags that
// differ from a resumed run, --momentum under one-cycle, --out/--force, no orphan folders.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './helpers/cli.js';
import { loadCheckpoint, saveCheckpoint } from '../src/index.js';
import { writeIdx } from '../src/data/idx.js';

const run = runCli;

afterEach(() => vi.restoreAllMocks());

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `skipgrad-${name}-`));
const QUICK = ['--width', '2', '--limit', '64', '--batch-size', '32'];

describe('train validates every flag before creating the run folder', () => {
  it.each([
    [['--epochs', '-1'], "--epochs expects an integer >= 1, got '-1'"],
    [['--lr', '-0.1'], "--lr must be a number in (0, 1000000], got '-0.1'"],
    [['--lr', '0'], "--lr must be a number in (0, 1000000], got '0'"],
    [['--momentum', '1.5'], "--momentum must be a number in [0, 1), got '1.5'"],
    [['--momentum', '-0.5'], "--momentum must be a number in [0, 1), got '-0.5'"],
    [['--label-smoothing', '2'], "--label-smoothing must be a number in [0, 1], got '2'"],
    [['--weight-decay', '-1'], "--weight-decay must be a number in [0, 1000000], got '-1'"],
    [['--batch-size', '0'], "--batch-size expects an integer >= 1, got '0'"],
    [['--seed', '-3'], "--seed expects an integer >= 0, got '-3'"],
    [['--seed', '1.5'], "--seed expects an integer >= 0, got '1.5'"],
    [['--resize', '4'], "--resize expects an integer >= 8, got '4'"],
    [['--width', '1e9'], "--width expects an integer <= 4096, got '1e9'"],
    [['--threads', '-2'], "--threads expects an integer >= 1, got '-2'"],
    [['--optimizer', 'adam', '--momentum', '0.9'], '--momentum applies to --optimizer sgd only'],
    [['--force'], '--force needs --out DIR'],
  ])('%j', async (flags, message) => {
    const out = join(tmp('flags'), 'run');
    const r = await run('train', ...flags, ...(flags.includes('--force') ? [] : ['--out', out]));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`skipgrad train: ${message}`);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('an empty dataset is named as such, with no folder created', async () => {
    const dir = tmp('empty');
    for (const [images, labels] of [['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'], ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']]) {
      await writeIdx(join(dir, images), [0, 28, 28], new Uint8Array(0));
      await writeIdx(join(dir, labels), [0], new Uint8Array(0));
    }
    const out = join(dir, 'run');
    const r = await run('train', '--data', dir, '--out', out);
    expect(r.code).toBeGreaterThan(0);
    expect(r.err.split('\n')).toHaveLength(1);
    // Either the data reader refuses 0-sized files or train names the empty split.
    expect(r.err).toMatch(new RegExp(`^skipgrad train: (the training data \\(${dir}\\) holds no images|.*${dir}.*)$`));
    expect(r.err).not.toContain('OneCycleLR');
    expect(existsSync(out)).toBe(false);
  });
});

describe('train --out', () => {
  it('refuses an existing file and an existing run folder; --force replaces the run', async () => {
    const dir = tmp('out');
    writeFileSync(join(dir, 'file'), 'x');
    let r = await run('train', ...QUICK, '--out', join(dir, 'file'));
    expect(r.err).toBe(`skipgrad train: --out ${join(dir, 'file')} exists and is not a folder`);
    const out = join(dir, 'run');
    expect((await run('train', ...QUICK, '--epochs', '1', '--out', out)).code).toBe(0);
    const before = readFileSync(join(out, 'model.safetensors'));
    r = await run('train', ...QUICK, '--epochs', '1', '--seed', '5', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--out ${out} is an existing run folder (`);
    expect(r.err).toContain(`pass --force to replace it, or --resume ${out} to continue it`);
    expect(readFileSync(join(out, 'model.safetensors')).equals(before)).toBe(true);
    r = await run('train', ...QUICK, '--epochs', '1', '--seed', '5', '--out', out, '--force');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`--force: replaced the run in ${out}`);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).seed).toBe(5);
  });

  it('the banner prints height × width of non-square images and the momentum schedule', async () => {
    const dir = tmp('20x28');
    const n = 40;
    const pixels = new Uint8Array(n * 20 * 28).map((_, i) => (i * 37) % 256);
    const labels = new Uint8Array(n).map((_, i) => i % 10);
    await writeIdx(join(dir, 'train-images-idx3-ubyte'), [n, 20, 28], pixels);
    await writeIdx(join(dir, 'train-labels-idx1-ubyte'), [n], labels);
    await writeIdx(join(dir, 't10k-images-idx3-ubyte'), [n, 20, 28], pixels);
    await writeIdx(join(dir, 't10k-labels-idx1-ubyte'), [n], labels);
    const r = await run('train', '--data', dir, '--width', '2', '--epochs', '1', '--batch-size', '20', '--out', join(dir, 'run'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('40 images at 20×28');
    expect(r.out).toContain('sgd lr 0.05, momentum 0.95 → 0.85 → 0.95 (one-cycle), onecycle schedule');
  });
});

describe('train --momentum', () => {
  it('under one-cycle sets the max momentum (cycling X → X-0.1 → X); under no schedule it is constant', async () => {
    const out = join(tmp('mom'), 'run');
    const r = await run('train', ...QUICK, '--epochs', '1', '--momentum', '0.6', '--out', out);
    expect(r.out).toContain('momentum 0.6 → 0.5 → 0.6 (one-cycle)');
    const st = (await loadCheckpoint(join(out, 'checkpoint.safetensors'))).state as { optimizer: { paramGroups: Array<Record<string, number>> } };
    expect(st.optimizer.paramGroups[0]).toMatchObject({ maxMomentum: 0.6, baseMomentum: 0.5 });
    const m = st.optimizer.paramGroups[0].momentum; // the cycle's last step, on the way back up
    expect(m).toBeGreaterThan(0.5);
    expect(m).toBeLessThan(0.6);
    const out2 = join(tmp('mom'), 'run');
    const r2 = await run('train', ...QUICK, '--epochs', '1', '--momentum', '0.6', '--scheduler', 'none', '--out', out2);
    expect(r2.out).toContain('sgd lr 0.05, momentum 0.6, none schedule');
    const st2 = (await loadCheckpoint(join(out2, 'checkpoint.safetensors'))).state as { optimizer: { paramGroups: Array<Record<string, number>> } };
    expect(st2.optimizer.paramGroups[0].momentum).toBe(0.6);
  });
});

describe('train --resume', () => {
  it.each([
    [[], 'OneCycleLR'],
    [['--scheduler', 'cosine'], 'CosineAnnealingLR'],
  ])('%j: --epochs N extends a finished run, rebuilding the schedule', async (extra, name) => {
    const out = join(tmp('extend'), 'run');
    expect((await run('train', ...QUICK, ...extra, '--epochs', '1', '--out', out)).code).toBe(0);
    const r = await run('train', '--resume', out, '--epochs', '2');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--epochs 2: the run had 1');
    expect(r.out).toContain(`extending 1 → 2 epochs: ${name} schedule rebuilt for 2 epochs (4 steps), continuing at step 2`);
    expect(r.out).toMatch(/epoch 2\/2: loss/);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).epochs).toBe(2);
    // The same epochs again: finished, said so.
    const again = await run('train', '--resume', out);
    expect(again.code).toBe(0);
    expect(again.out).toContain('the run already finished its 2 epochs at step 4: nothing to train');
  });

  it('refuses flags that differ from the run, naming them; accepts equal ones, saying so', async () => {
    const out = join(tmp('differ'), 'run');
    expect((await run('train', ...QUICK, '--epochs', '1', '--out', out)).code).toBe(0);
    const r = await run('train', '--resume', out, '--lr', '0.1', '--width', '8', '--epochs', '2');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `skipgrad train: --resume ${out} keeps the run's config; refusing --width 8 (the run has 2), --lr 0.1 (the run has 0.05): drop them, or start a new run with --out`,
    );
    const same = await run('train', '--resume', out, '--width', '2', '--lr', '0.05', '--threads', '1');
    expect(same.code).toBe(0);
    expect(same.out).toContain("--width, --lr: same as the run's config");
    expect(same.out).toContain('--threads 1: applied to this session');
    expect((await run('train', '--resume', out, '--lr', '-1')).err).toContain("--lr must be a number in (0, 1000000], got '-1'");
  });

  it('a run folder with config.json but no checkpoint starts fresh, saying so', async () => {
    const out = join(tmp('nockpt'), 'run');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'config.json'), JSON.stringify({ width: 2, init: 'default', epochs: 1, batchSize: 32, optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0, scheduler: 'none', labelSmoothing: 0, augment: false, limit: 64, seed: 0 }));
    const r = await run('train', '--resume', out);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`no checkpoint in ${out}: starting fresh`);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(true);
  });

  it('a bad config.json or checkpoint is named, and nothing in the folder is written', async () => {
    const out = join(tmp('badckpt'), 'run');
    expect((await run('train', ...QUICK, '--epochs', '1', '--out', out)).code).toBe(0);
    const ckptPath = join(out, 'checkpoint.safetensors');
    const ckpt = await loadCheckpoint(ckptPath);
    const state = ckpt.state as { position: Record<string, unknown> };
    state.position.batch = -1;
    await saveCheckpoint(ckptPath, ckpt);
    const mtimes = ['config.json', 'model.safetensors', 'metrics.csv'].map((n) => statSync(join(out, n)).mtimeMs);
    const r = await run('train', '--resume', out, '--epochs', '2');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`skipgrad train: ${ckptPath}: checkpoint field 'position.batch' must be an integer >= 0, got number -1`);
    expect(['config.json', 'model.safetensors', 'metrics.csv'].map((n) => statSync(join(out, n)).mtimeMs)).toEqual(mtimes);
    writeFileSync(join(out, 'config.json'), '{"width": "wide"}');
    expect((await run('train', '--resume', out)).err).toBe(`skipgrad train: ${join(out, 'config.json')}: 'width' must be a number, got "wide"`);
  });
});
