// The gradient-flow experiment of docs/gradient-flow.md, small: ResNet-18 and its plain twin (same
// layers and initial weights, shortcuts removed), gradient norm at every block's output at init
// and after a few SGD steps on the embedded Fashion-MNIST subset. `skipgrad gradflow` is the same
// experiment with flags; standalone, this writes its chart and CSV files too.
// Run: node dist/examples/gradient-flow.js [outDir]   (default runs/gradient-flow, about a minute)

import { mkdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { inspect } from '../src/index.js';

const { gradflowTable, runGradflow, writeGradflowFiles } = inspect;
type GradflowOptions = inspect.GradflowOptions;

export async function main(options: GradflowOptions & { out?: string } = {}): Promise<string[]> {
  const result = await runGradflow({ width: 4, depthMultiplier: 1, steps: 2, batchSize: 8, ...options });
  const lines = gradflowTable(result);
  if (options.out) {
    await mkdir(options.out, { recursive: true });
    const { svg, csv, paramsCsv } = await writeGradflowFiles(options.out, result);
    lines.push(`wrote ${svg}, ${csv} and ${paramsCsv}`);
  }
  return lines;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = process.argv[2] ?? 'runs/gradient-flow';
  for (const line of await main({ width: 8, depthMultiplier: 3, steps: 30, batchSize: 32, out })) console.log(line);
}
