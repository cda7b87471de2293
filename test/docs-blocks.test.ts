// Every code block of README.md and docs/*.md, run as a reader would (conventions: test/helpers/doc_blocks.ts).
// TypeScript blocks are type-checked together (one tsc run) and then run one module at a time in
// a fresh temporary folder; shell commands run through the built CLI (`npx skipgrad` is this
// package's bin, `node dist/src/cli/bin.js`), with the flags their `# suite:` comment names.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { docBlocks, shellCommands, tsModules, type ShellCommand, type TsModule } from './helpers/doc_blocks.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const docFiles = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const blocks = docFiles.flatMap((f) => docBlocks(f, readFileSync(join(root, f), 'utf8')));
const workDir = join(root, 'test', '.doctest');
const modules = tsModules(blocks, '../helpers/doc_check.js');
const commands = shellCommands(blocks);
const bin = join(root, 'dist', 'src', 'cli', 'bin.js');

function moduleName(m: TsModule): string {
  return `${m.file.replace(/[/.]/g, '_')}_${m.line}.ts`;
}

// The modules are written at collection time, so a filtered run (-t) can still import them.
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });
for (const m of modules) writeFileSync(join(workDir, moduleName(m)), m.code);
writeFileSync(join(workDir, 'tsconfig.json'), JSON.stringify({
  extends: '../../tsconfig.json',
  compilerOptions: { noEmit: true, rootDir: '../..', paths: { skipgrad: ['../../src/index.ts'] } },
  include: ['*.ts'],
}));

describe('the docs code blocks', () => {
  it('every block is found and well-formed', () => {
    expect(modules.length).toBeGreaterThan(5);
    expect(commands.length).toBeGreaterThan(5);
  });

  it('every TypeScript block type-checks as written', () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(workDir, 'tsconfig.json')], { encoding: 'utf8' });
    // Point each error at the doc line it came from: the module's "// FILE:LINE" comments.
    const errors = r.stdout.split('\n').filter((l) => l.includes('error TS')).map((l) => mapError(l));
    expect(errors).toEqual([]);
  }, 120_000);

  for (const m of modules.filter((x) => !x.partial)) {
    it(`runs ${m.file}:${m.line}`, async () => {
      const cwd = process.cwd();
      const scratch = mkdtempSync(join(tmpdir(), 'skipgrad-doc-'));
      const log = console.log;
      console.log = () => undefined; // the blocks print for the reader, not for the test log
      try {
        process.chdir(scratch);
        await import(pathToFileURL(join(workDir, moduleName(m))).href);
      } finally {
        console.log = log;
        process.chdir(cwd);
        rmSync(scratch, { recursive: true, force: true });
      }
    }, 180_000);
  }
});

function mapError(line: string): string {
  const m = /^(.*?\.ts)\((\d+),(\d+)\): (.*)$/.exec(line.trim());
  if (!m) return line;
  const mod = modules.find((x) => join(workDir, moduleName(x)).endsWith(m[1].replace(/^.*[/\\]/, '')));
  if (!mod) return line;
  const srcLines = mod.code.split('\n');
  let doc = `${mod.file}:${mod.line}`;
  let offset = 0;
  for (let i = Number(m[2]) - 1; i >= 0; i--) {
    const tag = /^\/\/ (\S+):(\d+)$/.exec(srcLines[i]);
    if (tag) {
      doc = `${tag[1]}:${Number(tag[2]) + offset}`;
      break;
    }
    offset++;
  }
  return `${doc}: ${m[4]}`;
}

// A block's commands run in order in one scratch folder (so `train --out r` then `--resume r`
// works); `npm run` commands run in the repository.
const byBlock = new Map<string, ShellCommand[]>();
for (const c of commands) {
  const key = `${c.file}:${c.blockLine}`;
  byBlock.set(key, [...(byBlock.get(key) ?? []), c]);
}

describe('the docs shell commands', () => {
  for (const [key, list] of byBlock) {
    const run = list.filter((c) => !c.notRun);
    for (const c of list.filter((x) => x.notRun)) it.skip(`${c.file}:${c.line}: ${c.command} (${c.notRun})`, () => undefined);
    if (run.length === 0) continue;
    it(`${key}: ${run.map((c) => c.command + (c.suiteFlags ? ` ${c.suiteFlags}` : '')).join(' ; ')}`, () => {
      const scratch = mkdtempSync(join(tmpdir(), 'skipgrad-doc-sh-'));
      try {
        for (const c of run) {
          // The suite runs after the install, so a leading `npm install &&` is already done.
          let command = c.command.replace(/^npm (install|ci) && /, '');
          const npm = /^npm /.test(command);
          command = command.replace(/(^|&&\s*)(?:npx )?skipgrad\b/g, `$1node ${JSON.stringify(bin)}`);
          if (c.suiteFlags) command += ` ${c.suiteFlags}`;
          const r = spawnSync('bash', ['-c', command], {
            cwd: npm ? root : scratch,
            encoding: 'utf8',
            timeout: 300_000,
            env: { ...process.env, SKIPGRAD_CACHE_DIR: 'off' },
          });
          const where = `${c.file}:${c.line}: ${command}`;
          expect(r.signal, `${where}: timed out`).toBeNull();
          expect(r.status, `${where}\n${r.stderr.slice(-2000)}`).toBe(0);
          if (c.output) {
            const printed = r.stdout.replace(/\n$/, '').split('\n');
            expect(printed.slice(-c.output.length), where).toEqual(c.output);
          }
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }, 600_000);
  }
});
