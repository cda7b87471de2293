// The API reference: TypeDoc over the package entry (typedoc.json: warnings are errors, every
// exported function, class, interface, type, variable and namespace must have a TSDoc comment), so
// an undocumented export, or a type an export references but the entry does not export, fails here.
// TypeDoc prints nothing when there is nothing to report; otherwise each warning and a
// "Found N errors and M warnings" summary, with a non-zero exit.

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

it('typedoc documents every export of src/index.ts with 0 warnings', () => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--emit', 'none'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const output = `${r.stdout}${r.stderr}`;
  const problems = output.split('\n').filter((l) => /\[(warning|error)\]/.test(l));
  expect(problems, output).toEqual([]);
  expect(output).not.toMatch(/Found \d+ errors? and \d+ warnings?/);
  expect(r.error, output).toBeUndefined();
  expect(r.status, output).toBe(0);
}, 150_000);
