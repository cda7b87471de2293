// Flag parsing for the CLI on node:util's parseArgs, with one-line errors instead of stack traces.

import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MAX_THREADS } from '../kernels/threads/pool.js';

/** A user-facing CLI error: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `--lr -0.1` is the value -0.1 to a user, but parseArgs calls it ambiguous (it could be a flag):
 * a number-like token after a string option is joined to it (`--lr=-0.1`), so range checks can
 * say what is wrong with the value.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity\b|inf\b|NaN\b)/i.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

export function parseFlags(command: string, argv: string[], options: Options): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    // parseArgs explains itself over several lines; keep the first sentence.
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/s, '').replace(/\.$/, '');
    throw new UsageError(`skipgrad ${command}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)} (see 'skipgrad ${command} --help')`);
  }
}

const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;

/** A number written in plain decimal ('2', '-0.1', '5e-4'), not '0x10', '0b11', '1_0' or ''. */
export const isDecimal = (raw: string): boolean => DECIMAL.test(raw);

function num(command: string, flag: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  // Plain decimal only: Number() would also read '0x10' as 16 and '0b11' as 3.
  if (typeof raw !== 'string' || !DECIMAL.test(raw) || !Number.isFinite(v)) {
    throw new UsageError(`skipgrad ${command}: --${flag} expects a number, got '${String(raw)}'`);
  }
  return v;
}

export function intFlag(command: string, flag: string, raw: string | boolean | undefined, min = 1): number | undefined {
  const v = num(command, flag, raw);
  if (v !== undefined && (!Number.isInteger(v) || v < min)) {
    throw new UsageError(`skipgrad ${command}: --${flag} expects an integer >= ${min}, got '${String(raw)}'`);
  }
  return v;
}

export function floatFlag(command: string, flag: string, raw: string | boolean | undefined, min = 0): number | undefined {
  const v = num(command, flag, raw);
  if (v !== undefined && v < min) throw new UsageError(`skipgrad ${command}: --${flag} must be >= ${min}, got '${String(raw)}'`);
  return v;
}

export interface Range {
  min?: number;
  max?: number;
  /** min < v rather than min <= v (likewise maxExclusive). */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  integer?: boolean;
}

/** Why `v` is outside `range`, or null when inside ("an integer >= 1", "a number in [0, 1)"). */
export function rangeProblem(v: number, r: Range): string | null {
  const lo = r.min === undefined ? '' : r.minExclusive ? `> ${r.min}` : `>= ${r.min}`;
  const hi = r.max === undefined ? '' : r.maxExclusive ? `< ${r.max}` : `<= ${r.max}`;
  const ok =
    Number.isFinite(v) && (!r.integer || Number.isInteger(v)) &&
    (r.min === undefined || (r.minExclusive ? v > r.min : v >= r.min)) &&
    (r.max === undefined || (r.maxExclusive ? v < r.max : v <= r.max));
  if (ok) return null;
  const kind = r.integer ? 'an integer' : 'a number';
  if (lo && hi && !r.integer) return `${kind} in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
  // Integers: name the bound that is crossed ("an integer >= 1").
  const aboveMax = r.max !== undefined && Number.isFinite(v) && (r.maxExclusive ? v >= r.max : v > r.max);
  return [kind, aboveMax ? hi : lo || hi].filter(Boolean).join(' ');
}

/** A numeric flag checked against `range`: `--momentum must be a number in [0, 1), got '1.5'`. */
export function rangeFlag(command: string, flag: string, raw: string | boolean | undefined, range: Range): number | undefined {
  const v = num(command, flag, raw);
  if (v === undefined) return undefined;
  const problem = rangeProblem(v, range);
  if (problem) throw new UsageError(`skipgrad ${command}: --${flag} must be ${problem}, got '${String(raw)}'`);
  return v;
}

export function choiceFlag<T extends string>(command: string, flag: string, raw: string | boolean | undefined, choices: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !choices.includes(raw as T)) {
    throw new UsageError(`skipgrad ${command}: --${flag} must be one of ${choices.join(', ')}, got '${String(raw)}'`);
  }
  return raw as T;
}

/** An integer flag in [min, max], worded as intFlag ("expects an integer <= 4096"). */
export function boundedIntFlag(command: string, flag: string, raw: string | boolean | undefined, min: number, max: number): number | undefined {
  const v = intFlag(command, flag, raw, min);
  if (v !== undefined && v > max) throw new UsageError(`skipgrad ${command}: --${flag} expects an integer <= ${max}, got '${String(raw)}'`);
  return v;
}

/** --threads N: an integer in [1, the thread pool's limit] (setNumThreads would clamp a larger N silently). */
export function threadsFlag(command: string, raw: string | boolean | undefined): number | undefined {
  return boundedIntFlag(command, 'threads', raw, 1, MAX_THREADS);
}

/**
 * A folder flag (--out, --resume): a non-empty path. With `create`, the folder must be creatable:
 * its nearest existing ancestor is a writable folder. Checked before anything is written.
 */
export function folderFlag(command: string, flag: string, raw: string | boolean | undefined, create = false): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.trim() === '') throw new UsageError(`skipgrad ${command}: --${flag} expects a folder path, got '${String(raw)}'`);
  if (!create) return raw;
  let p = resolve(raw);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  const here = p === resolve(raw);
  if (!statSync(p).isDirectory()) {
    throw new UsageError(`skipgrad ${command}: --${flag} ${raw}${here ? ' exists and is not a folder' : `: ${p} is a file, not a folder`}`);
  }
  try {
    accessSync(p, constants.W_OK);
  } catch {
    throw new UsageError(`skipgrad ${command}: --${flag} ${raw}: ${here ? 'the folder' : p} is not writable`);
  }
  return raw;
}
