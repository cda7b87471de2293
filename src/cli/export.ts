// `skipgrad export RUN_DIR --to pytorch OUT_DIR | --to onnx FILE.onnx` and
// `skipgrad import TORCH_CHECKPOINT_DIR --out RUN_DIR`: leaving for PyTorch's distributed engine
// or an ONNX runtime, and coming back.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './args.js';
import { exportOnnx } from '../export/onnx/export.js';
import { exportRunToPytorch, importPytorchCheckpoint } from '../export/pytorch.js';
import { readRun } from '../export/run_folder.js';

export const EXPORT_HELP = `Usage: skipgrad export RUN_DIR --to pytorch OUT_DIR
       skipgrad export RUN_DIR --to onnx FILE.onnx

  --to pytorch OUT_DIR   model.py (the same nn.Module tree and state-dict keys), model.safetensors,
                         the optimizer and scheduler state as PyTorch's state_dicts
                         (optimizer.safetensors + state.json), and train_ddp.py, which continues
                         the run: torchrun --nproc_per_node N OUT_DIR/train_ddp.py --data DIR --out RUN_DIR
  --to onnx FILE.onnx    the inference graph (eval-mode BatchNorm, opset 17, dynamic batch size)
  -h, --help

RUN_DIR is a folder written by 'skipgrad train' (its last checkpoint is exported).`;

export const IMPORT_HELP = `Usage: skipgrad import TORCH_CHECKPOINT_DIR --out RUN_DIR

Turns a folder written by 'skipgrad export --to pytorch' or by train_ddp.py (its RUN_DIR, or
RUN_DIR/checkpoint) into a skipgrad run folder that 'skipgrad train --resume RUN_DIR' continues.

  --out RUN_DIR
  -h, --help`;

function parse(command: string, argv: string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].replace(/\.$/, '');
    throw new UsageError(`skipgrad ${command}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)} (see 'skipgrad ${command} --help')`);
  }
}

export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('export', argv, { to: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(EXPORT_HELP);
    return 0;
  }
  const to = values.to as string | undefined;
  if (to !== 'pytorch' && to !== 'onnx') throw new UsageError(`skipgrad export: --to must be pytorch or onnx, got ${to === undefined ? 'nothing' : `'${to}'`}`);
  if (positionals.length !== 2) {
    throw new UsageError(`skipgrad export: expected RUN_DIR and ${to === 'onnx' ? 'FILE.onnx' : 'OUT_DIR'}, got ${positionals.length} paths (see 'skipgrad export --help')`);
  }
  const [runDir, out] = positionals;
  if (to === 'pytorch') {
    const files = await exportRunToPytorch(runDir, out);
    console.log(`exported ${runDir} to ${out}: ${files.map((f) => f.slice(out.length + 1)).join(', ')}`);
    console.log(`continue with: torchrun --nproc_per_node N ${out}/train_ddp.py --out RUN_DIR [--data DIR] [--max-steps K]`);
    return 0;
  }
  const run = await readRun(runDir);
  const size = run.config.resize ?? 28;
  const bytes = exportOnnx(run.model, { inputShape: [1, size, size] });
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, bytes);
  console.log(`exported ${runDir} to ${out}: ONNX opset 17, input [batch, 1, ${size}, ${size}], ${(bytes.length / 1e6).toFixed(1)} MB`);
  return 0;
}

export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse('import', argv, { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(IMPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`skipgrad import: expected one TORCH_CHECKPOINT_DIR, got ${positionals.length} (see 'skipgrad import --help')`);
  if (typeof values.out !== 'string') throw new UsageError("skipgrad import: --out RUN_DIR is required (see 'skipgrad import --help')");
  await importPytorchCheckpoint(positionals[0], values.out);
  console.log(`imported ${positionals[0]} into ${values.out}; continue with: skipgrad train --resume ${values.out}`);
  return 0;
}
