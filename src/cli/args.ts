// Flag parsing for the CLI on node:util's parseArgs, with one-line errors instead of stack traces.

import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A user-facing CLI error: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags(command: string, argv: string[], options: Options): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    // parseArgs explains itself over several lines; keep the first sentence.
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/s, '').replace(/\.$/, '');
    throw new UsageError(`skipgrad ${command}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)} (see 'skipgrad ${command} --help')`);
  }
}

function num(command: string, flag: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v)) {
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

export function choiceFlag<T extends string>(command: string, flag: string, raw: string | boolean | undefined, choices: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !choices.includes(raw as T)) {
    throw new UsageError(`skipgrad ${command}: --${flag} must be one of ${choices.join(', ')}, got '${String(raw)}'`);
  }
  return raw as T;
}
