// End to end: `skipgrad train --detect-anomaly` stays in anomaly mode across fit's awaits, so a
// diverging run stops at the first op that makes NaN/Inf (named with its module), not at a NaN loss.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';

async function run(...argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const code = await main(argv);
  return { code, err: err.join('\n') };
}

afterEach(() => vi.restoreAllMocks());

describe('skipgrad train --detect-anomaly', () => {
  const out = () => join(mkdtempSync(join(tmpdir(), 'skipgrad-anomaly-')), 'run');
  const diverging = ['train', '--lr', '1e6', '--limit', '256', '--epochs', '1'];

  it('stops a diverging run with an anomaly error naming the op and the module', async () => {
    const r = await run(...diverging, '--detect-anomaly', '--out', out());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^skipgrad train: anomaly: \w+ in module \d+(\.\w+)* (produced|received) (NaN|Inf) in its (forward|backward) /);
    expect(r.err).not.toContain('the loss became');
  }, 60_000);

  it('without the flag the same run ends at a non-finite loss instead', async () => {
    const r = await run(...diverging, '--out', out());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^skipgrad train: fit: the loss became (NaN|Infinity) at epoch 1, batch \d/);
  }, 60_000);
});
