// `skipgrad gradflow`: gradient norms through the seed's ResNet vs its plain twin, as a table, an
// SVG chart and a CSV (the experiment itself is src/inspect/gradflow.ts).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { getNumThreads, setNumThreads } from '../kernels/threads/pool.js';
import { gradflowTable, runGradflow, writeGradflowFiles } from '../inspect/gradflow.js';
import { boundedIntFlag, floatFlag, folderFlag, intFlag, parseFlags, threadsFlag } from './args.js';

export const GRADFLOW_HELP = `Usage: skipgrad gradflow [options]

Shows the seed's argument for skip connections: the gradient norm arriving at every residual
block of ResNet-18 and of its plain twin (same layers and initial weights, shortcuts removed),
at initialization and after --steps SGD steps on the embedded Fashion-MNIST subset, measured on
one fixed batch of test images. Prints a table; writes gradflow.svg (norm against depth, log
scale), gradflow.csv (every norm of the report: output, sum, branch, shortcut, input and its
branch/shortcut parts) and gradflow-params.csv (each parameter's gradient and weight norms and
their ratio) into --out.

  --width N              channels of the first stage (default 16; the seed's net has 64)
  --depth-multiplier K   repeat every stage's blocks K times: 1 = 18 layers, 3 = 50 (default 1)
  --steps N              SGD steps between the two measurements (default 20; 0 measures init only)
  --batch-size N         (default 32)
  --lr X                 SGD learning rate, momentum 0.9 (default 0.05)
  --seed N               (default 0)
  --threads N            compute threads (default: SKIPGRAD_NUM_THREADS or the number of cores)
  --out DIR              (default runs/gradflow-<date-time>)
  -h, --help`;

const FLAGS = {
  width: { type: 'string' }, 'depth-multiplier': { type: 'string' }, steps: { type: 'string' }, 'batch-size': { type: 'string' },
  lr: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' }, out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function gradflowCommand(argv: string[]): Promise<number> {
  const c = 'gradflow';
  const f = parseFlags(c, argv, FLAGS);
  if (f.help) {
    console.log(GRADFLOW_HELP);
    return 0;
  }
  const options = {
    width: boundedIntFlag(c, 'width', f.width, 1, 4096) ?? 16, // train's bound
    depthMultiplier: intFlag(c, 'depth-multiplier', f['depth-multiplier']) ?? 1,
    steps: intFlag(c, 'steps', f.steps, 0) ?? 20,
    batchSize: intFlag(c, 'batch-size', f['batch-size'], 2) ?? 32, // BatchNorm needs two images
    lr: floatFlag(c, 'lr', f.lr) ?? 0.05,
    seed: intFlag(c, 'seed', f.seed, 0) ?? 0,
  };
  const threads = threadsFlag(c, f.threads);
  folderFlag(c, 'out', f.out, true);
  if (threads !== undefined) setNumThreads(threads);
  const outDir = (f.out as string | undefined) ?? join('runs', `gradflow-${new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '')}`);
  await mkdir(outDir, { recursive: true });
  console.log(
    `gradflow: ResNet vs plain, width ${options.width}, depth multiplier ${options.depthMultiplier}, ${options.steps} SGD steps ` +
      `(batch ${options.batchSize}, lr ${options.lr}), seed ${options.seed}, ${getNumThreads()} threads -> ${outDir}`,
  );
  const t0 = performance.now();
  const result = await runGradflow(options);
  for (const line of gradflowTable(result)) console.log(line);
  const { svg, csv, paramsCsv } = await writeGradflowFiles(outDir, result);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const each = `ResNet ${result.resnet.seconds.toFixed(1)} s, plain ${result.plain.seconds.toFixed(1)} s`;
  console.log(`${secs} s (${each}); wrote ${svg}, ${csv} and ${paramsCsv}`);
  return 0;
}
