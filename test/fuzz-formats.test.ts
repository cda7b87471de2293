// Careless and hostile inputs to the file readers: a few hundred seeded mutations per format, each
// run in a child process under a 512 MB heap (an out-of-memory abort there cannot be caught, so
// it must not happen at all). Every input either loads or fails with a message that names the file
// and stays short; nothing crashes or hangs. Runs the built readers (dist/), as a user would.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fuzz/fuzz-formats.mjs', import.meta.url));

function runNode(args: string[], timeoutMs: number): { status: number | null; stdout: string; stderr: string; signal: string | null } {
  const r = spawnSync(process.execPath, ['--max-old-space-size=512', ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

describe('fuzzed data files', () => {
  for (const format of ['safetensors', 'idx', 'csv']) {
    it(`${format}: 300 mutated files load or fail cleanly, under a 512 MB heap`, () => {
      const r = runNode([script, format, '20261201', '300'], 120_000);
      expect(r.signal, 'a hang (killed at the time limit)').toBeNull();
      expect(r.status, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(summary.bad).toEqual([]);
      expect(summary.cases).toBe(300);
      expect(summary.loaded + summary.cleanErrors).toBe(300);
      // Most mutations must reach the readers' own checks rather than load unnoticed.
      expect(summary.cleanErrors).toBeGreaterThan(100);
    });
  }

  it('safetensors: a file of 300,000 one-byte tensors is refused with a clear error, not an abort', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-many-tensors-'));
    try {
      const path = join(dir, 'many.safetensors');
      const n = 300_000;
      const entries: string[] = [];
      for (let i = 0; i < n; i++) entries.push(`"t${i}":{"dtype":"U8","shape":[1],"data_offsets":[${i},${i + 1}]}`);
      const header = Buffer.from(`{${entries.join(',')}}`);
      const file = Buffer.alloc(8 + header.length + n);
      file.writeBigUInt64LE(BigInt(header.length), 0);
      header.copy(file, 8);
      writeFileSync(path, file);
      const code = `import('${new URL('../dist/src/io/safetensors.js', import.meta.url).href}').then((m) => m.loadSafetensorsFile(process.argv[1])).then(() => console.log('loaded'), (e) => console.log(e.message))`;
      const r = spawnSync(process.execPath, ['--max-old-space-size=128', '-e', code, path], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`${path}: header lists 300000 entries; skipgrad reads at most 100000 tensors per file`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
