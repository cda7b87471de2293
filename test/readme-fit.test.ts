// The README's "training loop as a library" example, run as written (an MLP through sg.fit).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

function readmeExample(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const m = /<!-- readme-fit-example -->\n```ts\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README: the fit example (marked readme-fit-example) is missing');
  return m[1];
}

describe('README: fit on an MLP', () => {
  it('trains, writes the run folder and reports the metrics', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'skipgrad-readme-fit-')), 'mlp');
    const code = readmeExample();
    expect(code).toContain("import * as sg from 'skipgrad';");
    expect(code).toContain("'runs/mlp'");
    // The block is plain JavaScript apart from the import: run it with sg in scope and a temp run folder.
    const body = code.replace("import * as sg from 'skipgrad';", '').replace("'runs/mlp'", JSON.stringify(out));
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    const logged: unknown[][] = [];
    const konsole = { log: (...a: unknown[]) => void logged.push(a) };
    const quiet = { write: () => true };
    const origOut = process.stdout.write.bind(process.stdout);
    const origErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = (() => true) as never;
    process.stderr.write = (() => true) as never;
    try {
      await new AsyncFunction('sg', 'console', body)(sg, konsole);
    } finally {
      process.stdout.write = origOut;
      process.stderr.write = origErr;
    }
    void quiet;
    const epochLines = logged.filter((a) => String(a[0]).startsWith('epoch ')).map((a) => String(a[0]));
    expect(epochLines).toHaveLength(3);
    const top3 = epochLines.map((l) => Number(/top-3 accuracy ([\d.]+)/.exec(l)![1]));
    const [testAcc, epochsDone] = logged.find((a) => typeof a[0] === 'number')! as [number, number];
    expect(epochsDone).toBe(3);
    expect(testAcc).toBeGreaterThan(0.78);
    expect(top3[2]).toBeGreaterThan(testAcc);
    const row0 = logged.at(-1)![0] as number[];
    expect(row0).toHaveLength(10);
    expect(row0.reduce((a, b) => a + b, 0)).toBe(100); // the embedded test subset has 100 images of each class
    for (const f of ['metrics.csv', 'curves.svg', 'checkpoint.safetensors', 'model.safetensors']) expect(existsSync(join(out, f)), f).toBe(true);
  }, 120_000);
});
