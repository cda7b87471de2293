// The `skipgrad` command: train, evaluate, summary, gradflow. Errors a user can fix print one line.

import { UsageError } from './args.js';
import { trainCommand, TRAIN_HELP } from './train.js';
import { evaluateCommand, EVALUATE_HELP } from './evaluate.js';
import { summaryCommand, SUMMARY_HELP } from './summary.js';
import { gradflowCommand, GRADFLOW_HELP } from './gradflow.js';
import { dashboardCommand, DASHBOARD_HELP } from './dashboard.js';

const HELP = `Usage: skipgrad <command> [options]

Commands
  train       train the seed's ResNet-18 on Fashion-MNIST (default: the embedded subset)
  evaluate    test accuracy of a trained model
  summary     layer output shapes and parameter counts of ResNet-18
  gradflow    gradient norms through residual blocks vs a plain network
  dashboard   live page of run folders: curves, gradient flow, evaluation

Run 'skipgrad <command> --help' for a command's options.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  train: { run: trainCommand, help: TRAIN_HELP },
  evaluate: { run: evaluateCommand, help: EVALUATE_HELP },
  summary: { run: summaryCommand, help: SUMMARY_HELP },
  gradflow: { run: gradflowCommand, help: GRADFLOW_HELP },
  dashboard: { run: dashboardCommand, help: DASHBOARD_HELP },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
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
    console.error(`skipgrad ${name}: ${err?.message ?? String(e)}`);
    if (process.env.SKIPGRAD_DEBUG) console.error(err?.stack);
    return 1;
  }
}
