// The package as a user installs it: `npm pack`, install the tarball into a scratch project, then
// import it and run the CLI there. Needs the build (dist/, made by `npm ci`/`npm run build`) and
// fast-csv from the npm cache or the registry.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(join(root, 'dist/src/cli/bin.js')) && existsSync(join(root, 'dist/src/index.js'));
const exec = promisify(execFile);

async function sh(cmd: string, args: string[], cwd: string, only: 'stdout' | 'both' = 'both', env: Record<string, string | undefined> = {}): Promise<string> {
  const merged: NodeJS.ProcessEnv = { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k]; // undefined: unset it
  try {
    const { stdout, stderr } = await exec(cmd, args, { cwd, maxBuffer: 64 << 20, env: merged });
    // npm's warnings go to stderr: output that is parsed (JSON) must be stdout alone.
    return only === 'stdout' ? stdout : stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`.slice(0, 4000));
  }
}

describe.skipIf(!built)('the packed package, installed', () => {
  it('ships what the README links to and no source maps; installs; imports; trains and evaluates with npx', async () => {
    const work = mkdtempSync(join(tmpdir(), 'skipgrad-pack-'));
    const packed = JSON.parse(await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root, 'stdout')) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed[0].files.map((f) => f.path);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    for (const f of ['README.md', 'CHANGELOG.md', 'BENCHMARKS.md', 'LICENSE', 'docs/extending.md', 'docs/gradient-flow.md', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/bin.js']) {
      expect(files, f).toContain(f);
    }
    // Every relative link in the README points at a shipped file.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const [, target] of readme.matchAll(/\]\(((?:docs\/|[A-Z]+\.md)[^)#\s]*)\)/g)) expect(files, `README link ${target}`).toContain(target);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
    expect(lock.packages[''].bin).toEqual({ skipgrad: pkg.bin.skipgrad.replace(/^\.\//, '') }); // else `npm install` rewrites the lockfile

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true, type: 'module' }));
    await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0].filename)], app);
    writeFileSync(join(app, 'check.js'), [
      "import * as sg from 'skipgrad';",
      'const y = sg.tensor([[1, 2], [3, 4]], { requiresGrad: true });',
      'y.mul(y).sum().backward();',
      'console.log(JSON.stringify({ grad: y.grad.toArray(), fit: typeof sg.fit, evaluate: typeof sg.evaluate, confusion: sg.confusionMatrix([1, 0], [1, 1], 2) }));',
    ].join('\n'));
    const checked = JSON.parse((await sh(process.execPath, ['check.js'], app)).trim());
    expect(checked).toEqual({ grad: [[2, 4], [6, 8]], fit: 'function', evaluate: 'function', confusion: [[0, 0], [1, 1]] });

    const trained = await sh('npx', ['--no', 'skipgrad', 'train', '--epochs', '1', '--limit', '256', '--out', 'run'], app);
    expect(trained).toMatch(/epoch 1\/1: loss \d\.\d{3}, train acc \d\.\d{3}, test acc \d\.\d{3}/);
    for (const f of ['config.json', 'metrics.csv', 'curves.svg', 'checkpoint.safetensors', 'model.safetensors']) expect(existsSync(join(app, 'run', f)), f).toBe(true);
    const testAcc = /test acc (\d\.\d{3})/.exec(trained)![1];
    const evaluated = await sh('npx', ['--no', 'skipgrad', 'evaluate', '--checkpoint', 'run'], app);
    expect(evaluated).toContain(`test acc ${testAcc}`);

    // Installed where there is no compiler: the install succeeds, the native addon is not built,
    // and skipgrad runs on wasm, saying why native is not in use.
    const bare = join(work, 'bare');
    mkdirSync(bare);
    writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'scratch-bare', version: '1.0.0', private: true, type: 'module' }));
    await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', join(work, packed[0].filename)], bare, 'both', { CC: '/nonexistent' });
    expect(existsSync(join(bare, 'node_modules', 'skipgrad', 'build', 'native', 'skipgrad_native.node'))).toBe(false);
    // As a user has it: no SKIPGRAD_BACKEND (CI's native pass sets it, and asking for native where
    // it is missing is an error by design).
    const asUser = { SKIPGRAD_BACKEND: undefined, SKIPGRAD_KERNELS: undefined };
    const info = await sh('npx', ['--no', 'skipgrad', 'info'], bare, 'both', asUser);
    expect(info).toMatch(/^backend\s+wasm/m);
    expect(info).toMatch(/^native\s+not available: \S.{10,}/m);
    expect(await sh('npx', ['--no', 'skipgrad', 'train', '--epochs', '1', '--limit', '64', '--width', '4', '--out', 'run'], bare, 'both', asUser)).toMatch(/epoch 1\/1: loss/);
  }, 600_000);
});
