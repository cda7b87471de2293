// The `skipgrad` command: train, evaluate, summary, gradflow. Errors a user can fix print one line.

import { UsageError } from './args.js';
import { trainCommand, TRAIN_HELP } from './train.js';
import { evaluateCommand, EVALUATE_HELP } from './evaluate.js';
import { summaryCommand, SUMMARY_HELP } from './summary.js';
import { gradflowCommand, GRADFLOW_HELP } from './gradflow.js';
import { infoCommand, INFO_HELP } from './info.js';
import { setBackend } from '../kernels/backend.js';
import { exportCommand, EXPORT_HELP, importCommand, IMPORT_HELP } from './export.js';
import { dashboardCommand, DASHBOARD_HELP } from './dashboard.js';

const HELP = `Usage: skipgrad <command> [options]

Commands
  train       train the seed's ResNet-18 on Fashion-MNIST (default: the embedded subset)
  evaluate    test accuracy, per-class accuracy, confusion matrix and misclassified images
  summary     layer output shapes and parameter counts of ResNet-18
  gradflow    gradient norms through residual blocks vs a plain network
  info        the kernel backend in use, native library, CPU features, threads, kernel table
  export      a run to PyTorch (model.py, state, train_ddp.py for torchrun) or to ONNX
  import      a PyTorch checkpoint folder (from export or train_ddp.py) back into a run folder
  dashboard   live page of run folders: curves, gradient flow, evaluation

Global option (before or after the command)
  --backend NAME   kernel backend: native, wasm or reference (default: SKIPGRAD_BACKEND, else
                   native where it loaded, else wasm)

Run 'skipgrad <command> --help' for a command's options.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  train: { run: trainCommand, help: TRAIN_HELP },
  evaluate: { run: evaluateCommand, help: EVALUATE_HELP },
  summary: { run: summaryCommand, help: SUMMARY_HELP },
  gradflow: { run: gradflowCommand, help: GRADFLOW_HELP },
  info: { run: infoCommand, help: INFO_HELP },
  export: { run: exportCommand, help: EXPORT_HELP },
  import: { run: importCommand, help: IMPORT_HELP },
  dashboard: { run: dashboardCommand, help: DASHBOARD_HELP },
};

/** Takes the global `--backend NAME` / `--backend=NAME` out of argv: what is left, and the name (or undefined). */
export function takeBackendFlag(argv: readonly string[]): { rest: string[]; backend?: string } {
  const rest: string[] = [];
  let backend: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a !== '--backend' && !a.startsWith('--backend=')) {
      rest.push(a);
      continue;
    }
    const v = a === '--backend' ? argv[++i] : a.slice('--backend='.length);
    if (v === undefined || v === '' || v.startsWith('-')) throw new UsageError(`skipgrad: --backend needs a backend name (native, wasm or reference)`);
    if (backend !== undefined && backend !== v) throw new UsageError(`skipgrad: --backend given twice (${backend}, ${v})`);
    backend = v;
  }
  return { rest, backend };
}

export async function main(argv: string[]): Promise<number> {
  let taken: ReturnType<typeof takeBackendFlag>;
  try {
    taken = takeBackendFlag(argv);
    if (taken.backend !== undefined) setBackend(taken.backend);
  } catch (e) {
    console.error(e instanceof UsageError ? e.message : `skipgrad: --backend ${taken!.backend}: ${(e as Error).message.replace(/^setBackend: /, '')}`);
    return 2;
  }
  const [name, ...rest] = taken.rest;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`skipgrad: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(e.message);
      return 2;
    }
    // Errors from bad files or data name the file and the problem; print the message, not a stack.
    const err = e as Error;
    // A tensor too large to allocate: say so, not V8's 'Invalid typed array length: 49000000000'.
    if (e instanceof RangeError && /typed array length|Array buffer allocation failed/i.test(e.message)) {
      console.error(`skipgrad ${name}: out of memory: a tensor of this size cannot be allocated (${e.message}); lower the width, batch or image size given`);
      return 1;
    }
    console.error(`skipgrad ${name}: ${err?.message ?? String(e)}`);
    if (process.env.SKIPGRAD_DEBUG) console.error(err?.stack);
    return 1;
  }
}
