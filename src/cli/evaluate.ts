// `skipgrad evaluate`: test accuracy of a trained model (model.safetensors, a checkpoint, or a run folder),
// per class, with a confusion matrix and a grid of the images it gets wrong.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataLoader } from '../data/dataloader.js';
import { loadSafetensorsFile } from '../io/safetensors.js';
import { loadSafetensors } from '../io/tensors.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { TTA_MODES, type TestTimeAugmentation } from '../train/evaluate.js';
import { predict, writeEvaluationFiles } from '../train/predictions.js';
import { setNumThreads } from '../kernels/threads/pool.js';
import { UsageError, intFlag, parseFlags, threadsFlag } from './args.js';
import { loadTestSplit } from './data_args.js';
import { CONFIG_METADATA_KEY, buildModel, evalTransform, type ModelConfig } from './model_config.js';
import type { Tensor } from '../autograd/tensor.js';

export const EVALUATE_HELP = `Usage: skipgrad evaluate --checkpoint PATH [options]

Reports the test accuracy of a model trained by 'skipgrad train', per class too, and writes
confusion.csv, confusion.svg and misclassified.svg into the checkpoint's run folder (or --out).

  --checkpoint PATH       a run folder, its model.safetensors, or its checkpoint.safetensors
  --data DIR|FILE.csv     test data (default: the data the run trained on, else the embedded subset)
  --out DIR               where the pictures go (default: the checkpoint's folder)
  --max-images N          misclassified images in the grid (default 32)
  --batch-size N          (default 256)
  --tta flip              test-time augmentation: average each image's class probabilities with its
                          mirror image's (default: none)
  --threads N
  -h, --help`;

const FLAGS = {
  checkpoint: { type: 'string' }, data: { type: 'string' }, 'batch-size': { type: 'string' },
  threads: { type: 'string' }, help: { type: 'boolean', short: 'h' }, out: { type: 'string' }, 'max-images': { type: 'string' },
  tta: { type: 'string' },
} as const;

async function readModel(path: string): Promise<{ weights: Record<string, Tensor>; config: ModelConfig & { data?: string; testData?: string } }> {
  if (!existsSync(path)) throw new UsageError(`skipgrad evaluate: --checkpoint ${path}: no such file or directory`);
  if (statSync(path).isDirectory()) {
    const model = join(path, 'model.safetensors');
    const ckpt = join(path, 'checkpoint.safetensors');
    if (existsSync(model)) return readModel(model);
    if (existsSync(ckpt)) return readModel(ckpt);
    throw new UsageError(`skipgrad evaluate: ${path} holds neither model.safetensors nor checkpoint.safetensors`);
  }
  const { metadata } = await loadSafetensorsFile(path);
  if (metadata[CONFIG_METADATA_KEY]) {
    return { weights: await loadSafetensors(path), config: JSON.parse(metadata[CONFIG_METADATA_KEY]) };
  }
  if (metadata['skipgrad.checkpoint']) {
    const ckpt = await loadCheckpoint(path);
    const config = (ckpt.state as { config: ModelConfig }).config;
    return { weights: ckpt.model, config };
  }
  // A bare state dict (e.g. exported from PyTorch): infer the width from the stem's weight.
  const weights = await loadSafetensors(path);
  const stem = weights['0.0.weight'];
  if (!stem) throw new UsageError(`skipgrad evaluate: ${path} is not a ResNet-18 state dict (no '0.0.weight')`);
  const cfgPath = join(path, '..', 'config.json');
  const saved = existsSync(cfgPath) ? JSON.parse(readFileSync(cfgPath, 'utf8')) : {};
  return { weights, config: { init: 'default', ...saved, width: stem.shape[0] } };
}

export async function evaluateCommand(argv: string[]): Promise<number> {
  const f = parseFlags('evaluate', argv, FLAGS);
  if (f.help) {
    console.log(EVALUATE_HELP);
    return 0;
  }
  if (typeof f.checkpoint !== 'string') throw new UsageError("skipgrad evaluate: --checkpoint PATH is required (see 'skipgrad evaluate --help')");
  const tta = (f.tta ?? 'none') as TestTimeAugmentation;
  if (!TTA_MODES.includes(tta)) throw new UsageError(`skipgrad evaluate: --tta must be 'flip' or 'none', got '${String(tta)}'`);
  const threads = threadsFlag('evaluate', f.threads);
  if (threads !== undefined) setNumThreads(threads);
  const { weights, config } = await readModel(f.checkpoint);
  const model = buildModel(config);
  model.loadStateDict(weights, { strict: true });
  const { test, testSource } = await loadTestSplit('evaluate', (f.data as string | undefined) ?? config.data, f.data ? undefined : config.testData);
  const loader = new DataLoader(test, { batchSize: intFlag('evaluate', 'batch-size', f['batch-size']) ?? 256, transform: evalTransform(config) });
  const maxImages = intFlag('evaluate', 'max-images', f['max-images'], 0) ?? 32;
  const outDir = (f.out as string | undefined) ?? (statSync(f.checkpoint).isDirectory() ? f.checkpoint : dirname(f.checkpoint));
  const t0 = performance.now();
  const p = predict(model, loader, undefined, tta);
  const seconds = (performance.now() - t0) / 1000;
  const { accuracy, loss, count } = p;
  const how = tta === 'flip' ? ' with flip test-time augmentation' : '';
  console.log(`test acc ${accuracy.toFixed(4)}, loss ${loss.toFixed(4)} on ${count} images of ${testSource}${how} (${(count / seconds).toFixed(1)} examples/sec)`);
  await mkdir(outDir, { recursive: true });
  const classes = (test as { classes?: readonly string[] }).classes ?? [];
  const files = await writeEvaluationFiles(outDir, test, p, classes, { maxImages });
  const names = files.confusion.map((_, i) => classes[i] ?? String(i));
  const w = Math.max(5, ...names.map((n) => n.length));
  console.log(`${'class'.padEnd(w)}  accuracy  images`);
  files.perClass.forEach((a, i) => {
    const n = files.confusion[i].reduce((s, v) => s + v, 0);
    console.log(`${names[i].padEnd(w)}  ${Number.isNaN(a) ? '     n/a' : a.toFixed(4).padStart(8)}  ${String(n).padStart(6)}`);
  });
  console.log(`wrote ${files.confusionCsv}, ${files.confusionSvg}, ${files.misclassifiedSvg}`);
  return 0;
}
