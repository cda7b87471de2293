// Extracts the fenced code blocks of the README and docs/*.md so the suite can run them as written.
//
// Conventions (an HTML comment on the line before a fence; it does not render):
// - ```ts blocks run as modules, in a fresh temporary folder, with `import * as sg from 'skipgrad'`
//   implied when the block does not import skipgrad itself (the README says so).
//   `<!-- doctest: continue -->` appends a block to the previous ts block of the same file (one
//   module), `<!-- doctest: partial -->` marks a block that is type-checked but not run.
//   A line `expr; // => value` asserts that expr equals value (numbers to 6 significant digits).
// - ```sh blocks: every command line runs. A trailing `# suite: FLAGS` comment says which flags the
//   suite appends to shrink the work (the CLI takes the last of a repeated flag); `# suite: not run
//   (REASON)` names a command the suite cannot run (one that installs system packages, or the
//   suite's own command), and the reason shows in the test list.
// - A plain ``` block marked `<!-- doctest: output -->` is what the previous sh block's last
//   command prints: compared line by line.

import { readFileSync } from 'node:fs';

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  marker: string | null;
  code: string;
}

export interface TsModule {
  file: string;
  line: number;
  partial: boolean;
  code: string;
}

export interface ShellCommand {
  file: string;
  /** Line of the block's opening fence: a block's commands run in order, in one scratch folder. */
  blockLine: number;
  line: number;
  command: string;
  /** Flags the suite appends, or null. */
  suiteFlags: string | null;
  /** Why the suite does not run it, or null. */
  notRun: string | null;
  /** Lines the command is documented to print, or null. */
  output: string[] | null;
}

const MARKER = /^<!--\s*doctest:\s*(.+?)\s*-->$/;

export function docBlocks(file: string, text = readFileSync(file, 'utf8')): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    if (end === lines.length) throw new Error(`${file}:${i + 1}: code fence is never closed`);
    let prev = i - 1;
    while (prev >= 0 && lines[prev].trim() === '') prev--;
    const marker = prev >= 0 ? (MARKER.exec(lines[prev].trim())?.[1] ?? null) : null;
    blocks.push({ file, line: i + 1, lang: open[1].toLowerCase(), marker, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const TS_LANGS = new Set(['ts', 'typescript']);
const SH_LANGS = new Set(['sh', 'bash', 'shell']);

/** `expr; // => value` lines become checks that report the doc's file and line. */
function withChecks(code: string, file: string, firstLine: number): string {
  return code
    .split('\n')
    .map((l, k) => {
      const m = /^(\s*)(.+?);\s*\/\/ => (.+)$/.exec(l);
      if (!m) return l;
      return `${m[1]}__doc.check(() => (${m[2]}), ${m[3]}, ${JSON.stringify(`${file}:${firstLine + k}`)});`;
    })
    .join('\n');
}

export function tsModules(blocks: readonly DocBlock[], checkModule: string): TsModule[] {
  const modules: TsModule[] = [];
  for (const b of blocks) {
    if (!TS_LANGS.has(b.lang)) continue;
    if (b.marker !== null && !['continue', 'partial'].includes(b.marker)) {
      throw new Error(`${b.file}:${b.line}: unknown doctest marker '${b.marker}' on a ts block`);
    }
    const code = withChecks(b.code, b.file, b.line + 1);
    const last = modules[modules.length - 1];
    if (b.marker === 'continue') {
      if (!last || last.file !== b.file) throw new Error(`${b.file}:${b.line}: 'continue' block has no ts block before it`);
      last.code += `\n// ${b.file}:${b.line}\n${code}`;
      continue;
    }
    const head = [`import * as __doc from ${JSON.stringify(checkModule)};`];
    if (!/from ['"]skipgrad['"]/.test(b.code)) head.push(`import * as sg from 'skipgrad';`);
    modules.push({ file: b.file, line: b.line, partial: b.marker === 'partial', code: `${head.join(' ')}\n// ${b.file}:${b.line}\n${code}\nexport {};\n` });
  }
  return modules;
}

export function shellCommands(blocks: readonly DocBlock[]): ShellCommand[] {
  const commands: ShellCommand[] = [];
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i];
    if (b.lang === '' && b.marker === 'output') {
      const prev = commands[commands.length - 1];
      if (!prev || prev.file !== b.file || blocks[i - 1]?.lang === '' || !SH_LANGS.has(blocks[i - 1]?.lang ?? '')) {
        throw new Error(`${b.file}:${b.line}: an output block must follow a sh block`);
      }
      prev.output = b.code.split('\n');
      continue;
    }
    if (!SH_LANGS.has(b.lang)) continue;
    b.code.split('\n').forEach((raw, k) => {
      const text = raw.replace(/^\$\s+/, '');
      if (text.trim() === '' || text.trim().startsWith('#')) return;
      const hash = text.search(/\s#\s/);
      const command = (hash < 0 ? text : text.slice(0, hash)).trim();
      const comment = hash < 0 ? '' : text.slice(hash).trim().replace(/^#\s*/, '');
      const suite = /(?:^|;\s*)suite:\s*(.+)$/.exec(comment)?.[1].trim() ?? null;
      const notRun = suite && /^not run\b/.test(suite) ? suite : null;
      commands.push({ file: b.file, blockLine: b.line, line: b.line + 1 + k, command, suiteFlags: notRun ? null : suite, notRun, output: null });
    });
  }
  return commands;
}
