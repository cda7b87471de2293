// `skipgrad summary`: the seed's shape demo for ResNet-18.

import { resnet18 } from '../models/resnet.js';
import { summary } from '../models/summary.js';
import { boundedIntFlag, intFlag, parseFlags } from './args.js';

export const SUMMARY_HELP = `Usage: skipgrad summary [--width N] [--size N] [--batch N]

Prints each top-level layer's output shape and the parameter counts of the seed's ResNet-18,
as the D2L chapter's demo does (default: width 64 on a 1×1×224×224 input).`;

const FLAGS = { width: { type: 'string' }, size: { type: 'string' }, batch: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

export async function summaryCommand(argv: string[]): Promise<number> {
  const f = parseFlags('summary', argv, FLAGS);
  if (f.help) {
    console.log(SUMMARY_HELP);
    return 0;
  }
  // The same bounds as train's --width and --resize.
  const width = boundedIntFlag('summary', 'width', f.width, 1, 4096) ?? 64;
  const size = boundedIntFlag('summary', 'size', f.size, 8, 4096) ?? 224;
  const batch = intFlag('summary', 'batch', f.batch) ?? 1;
  for (const line of summary(resnet18({ baseChannels: width }), [batch, 1, size, size])) console.log(line);
  return 0;
}
