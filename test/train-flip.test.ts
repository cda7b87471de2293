// `skipgrad train --flip`: random horizontal flips without the crops of --augment. Recorded in
// config.json (absent in older run folders: no flips), refused on --resume of a run without it,
// and mirrored by the exported train_ddp.py (export-pytorch.test.ts runs it against --resume).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Generator } from '../src/autograd/random.js';
import { trainTransform } from '../src/cli/model_config.js';
import { validateSavedConfig } from '../src/cli/train_config.js';
import { runCli } from './helpers/cli.js';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `skipgrad-${name}-`));
const QUICK = ['--width', '2', '--limit', '64', '--batch-size', '32', '--epochs', '1'];

describe('--flip', () => {
  it('flips whole rows left to right or leaves the image as it is, never crops', () => {
    const t = trainTransform({ width: 2, init: 'default' }, false, true)!;
    const img = { data: Float32Array.from({ length: 12 }, (_, i) => i), channels: 1, height: 3, width: 4 };
    const mirrored = [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8];
    const rng = new Generator(7);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const out = Array.from(t(img, rng).data);
      expect([JSON.stringify(Array.from(img.data)), JSON.stringify(mirrored)]).toContain(JSON.stringify(out));
      seen.add(JSON.stringify(out));
    }
    expect(seen.size).toBe(2);
    expect(trainTransform({ width: 2, init: 'default' }, false, false)).toBeUndefined();
  });

  it('is written to config.json, refused on --resume of a run without it, and checked when read', async () => {
    const out = join(tmp('flip'), 'run');
    expect((await runCli('train', ...QUICK, '--flip', '--out', out)).code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).flip).toBe(true);
    const plain = join(tmp('noflip'), 'run');
    expect((await runCli('train', ...QUICK, '--out', plain)).code).toBe(0);
    const r = await runCli('train', '--resume', plain, '--flip', '--epochs', '2');
    expect(r.code).toBe(2);
    expect(r.err).toContain('refusing --flip');
    const cfg = JSON.parse(readFileSync(join(plain, 'config.json'), 'utf8'));
    expect(() => validateSavedConfig({ ...cfg, flip: 'yes' }, 'config.json')).toThrow(`config.json: 'flip' must be true or false, got "yes"`);
    delete cfg.flip; // run folders from before the flag
    expect(validateSavedConfig(cfg, 'config.json').flip).toBeUndefined();
    writeFileSync(join(plain, 'config.json'), JSON.stringify(cfg));
    expect((await runCli('train', '--resume', plain, '--epochs', '2')).code).toBe(0);
  });

});
