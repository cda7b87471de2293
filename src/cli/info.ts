// `skipgrad info`: which kernel backend runs and why, the native library it loaded, the wasm
// runtime, threads, the CPU and its features, and which backend provides which kernel.

import { formatSystemInfo, systemInfo } from '../kernels/system_info.js';
import { parseFlags } from './args.js';

export const INFO_HELP = `Usage: skipgrad info [--json]

Prints the kernel backend in use (and why 'native' is not, when it is not), the native library
and version it loaded, the wasm runtime, the thread count, the CPU model and vector features,
and the kernel table: which backend implements each kernel and the order they are tried in.
--json prints the same as one JSON object. Choose a backend with --backend NAME (before or
after the command) or SKIPGRAD_BACKEND.`;

const FLAGS = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

export async function infoCommand(argv: string[]): Promise<number> {
  const f = parseFlags('info', argv, FLAGS);
  if (f.help) {
    console.log(INFO_HELP);
    return 0;
  }
  const info = systemInfo();
  console.log(f.json ? JSON.stringify(info) : formatSystemInfo(info));
  return 0;
}
