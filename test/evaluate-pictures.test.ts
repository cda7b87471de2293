// train --gradflow-every writes gradflow.csv; evaluate prints per-class accuracy and writes
// confusion.csv, confusion.svg and misclassified.svg into the run folder (or --out).

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { readGradflow } from '../src/dashboard/index.js';
import * as sg from '../src/index.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => (out.push(String(chunk).trimEnd()), true));
  const code = await main(argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => vi.restoreAllMocks());

describe('train --gradflow-every and evaluate pictures', () => {
  it('records gradient flow while training, then evaluates into the run folder', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'skipgrad-eval-')), 'run');
    const t = await run('train', '--width', '4', '--limit', '96', '--epochs', '1', '--batch-size', '32', '--out', out, '--gradflow-every', '2');
    expect(t.code, t.err).toBe(0);
    const g = readGradflow(join(out, 'gradflow.csv'))!;
    expect(g.steps).toEqual([1, 2]); // 3 steps: step 1 and the multiples of 2
    expect(g.blocks).toEqual(['1.0', '1.1', '2.0', '2.1', '3.0', '3.1', '4.0', '4.1']);
    expect(g.output.every((row) => row.every((v) => v !== null && v > 0))).toBe(true);
    expect(g.params.length).toBeGreaterThan(60);
    const svg0 = readFileSync(join(out, 'gradflow.svg'), 'utf8');
    expect(svg0).toContain("Gradient at each block's output during training (steps 1–2)");
    for (const s of ['>step 1</text>', '>step 2</text>', '>4.1</text>', '>b5</text>']) expect(svg0).toContain(s);

    const e = await run('evaluate', '--checkpoint', out, '--max-images', '5');
    expect(e.code, e.err).toBe(0);
    const acc = Number(/test acc (\d\.\d{4})/.exec(e.out)![1]);
    const csv = readFileSync(join(out, 'confusion.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('"true\\predicted","t-shirt","trouser","pullover","dress","coat","sandal","shirt","sneaker","bag","ankle boot"');
    const counts = csv.slice(1).map((l) => l.split(',').slice(1).map(Number));
    const total = counts.flat().reduce((a, b) => a + b, 0);
    const diag = counts.reduce((s, row, i) => s + row[i], 0);
    expect(total).toBe(1000);
    expect(diag / total).toBeCloseTo(acc, 4);
    // The per-class lines agree with the matrix.
    for (const [i, name] of ['t-shirt', 'trouser', 'ankle boot'].entries()) {
      const k = [0, 1, 9][i];
      const n = counts[k].reduce((a, b) => a + b, 0);
      expect(e.out).toMatch(new RegExp(`^${name}\\s+${(counts[k][k] / n).toFixed(4)}\\s+${n}$`, 'm'));
    }
    const svg = readFileSync(join(out, 'misclassified.svg'), 'utf8');
    expect(svg.match(/<image /g)).toHaveLength(Math.min(5, total - diag));
    expect(readFileSync(join(out, 'confusion.svg'), 'utf8')).toContain('>ankle boot</text>');

    const elsewhere = join(mkdtempSync(join(tmpdir(), 'skipgrad-eval-')), 'pics');
    expect((await run('evaluate', '--checkpoint', join(out, 'model.safetensors'), '--out', elsewhere)).code).toBe(0);
    for (const f of ['confusion.csv', 'confusion.svg', 'misclassified.svg']) expect(existsSync(join(elsewhere, f)), f).toBe(true);

    // --tta flip: the library's evaluate with tta 'flip' on the same weights gives the same accuracy.
    const tta = await run('evaluate', '--checkpoint', out, '--out', elsewhere, '--tta', 'flip');
    expect(tta.code, tta.err).toBe(0);
    const m = /test acc (\d\.\d{4}), loss (\d+\.\d{4}) on 1000 images of .* with flip test-time augmentation/.exec(tta.out);
    expect(m, tta.out).not.toBeNull();
    const model = sg.models.resnet18({ baseChannels: 4 });
    model.loadStateDict(await sg.loadSafetensors(join(out, 'model.safetensors')), { strict: true });
    const test = new sg.DataLoader(await sg.FashionMNIST.load({ train: false }), { batchSize: 256 });
    expect(sg.evaluate(model, test, { tta: 'flip' }).accuracy.toFixed(4)).toBe(m![1]);
    const bad = await run('evaluate', '--checkpoint', out, '--tta', 'crop');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("skipgrad evaluate: --tta must be 'flip' or 'none', got 'crop'");
  });

  it('train --dashboard prints its 127.0.0.1 URL and closes the server when the run ends', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'skipgrad-eval-')), 'run');
    const t = await run('train', '--width', '4', '--limit', '32', '--epochs', '1', '--batch-size', '32', '--out', out, '--dashboard');
    expect(t.code, t.err).toBe(0);
    const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(t.out)![1];
    expect(t.out).toContain(`dashboard closed; look again with: skipgrad dashboard ${out}`);
    await expect(fetch(url)).rejects.toThrow(); // closed with the run
  });

  it('refuses a bad --gradflow-every before creating the run folder', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'skipgrad-eval-')), 'run');
    const r = await run('train', '--gradflow-every', '0', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toBe("skipgrad train: --gradflow-every expects an integer >= 1, got '0'");
    expect(existsSync(out)).toBe(false);
    const p = await run('train', '--dashboard-port', '80', '--out', out);
    expect(p.err).toBe('skipgrad train: --dashboard-port needs --dashboard');
    expect(existsSync(out)).toBe(false);
  });
});
