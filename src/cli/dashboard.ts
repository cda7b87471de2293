// `skipgrad dashboard [RUN_DIR …]`: serves the live page over one or more run folders.

import { startDashboard } from '../dashboard/server.js';
import { UsageError, intFlag } from './args.js';
import { parseArgs } from 'node:util';

export const DASHBOARD_HELP = `Usage: skipgrad dashboard [options] RUN_DIR [RUN_DIR …]

Serves a page on http://127.0.0.1 that shows the runs side by side and updates while
'skipgrad train' writes to them: loss, accuracy, learning rate and throughput by epoch or step,
the gradient flow through every block (train --gradflow-every N), and the confusion matrix and
misclassified images once 'skipgrad evaluate' ran. It binds to 127.0.0.1 only and serves only
the named files of the folders given. Ctrl-C stops it.

  --port P                TCP port (default: a free one)
  -h, --help`;

export async function dashboardCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(`skipgrad dashboard: ${(e as Error).message.split('\n')[0].replace(/\.$/, '')} (see 'skipgrad dashboard --help')`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(DASHBOARD_HELP);
    return 0;
  }
  if (!positionals.length) throw new UsageError("skipgrad dashboard: name at least one run folder (see 'skipgrad dashboard --help')");
  const port = intFlag('dashboard', 'port', values.port, 0);
  if (port !== undefined && port > 65535) throw new UsageError(`skipgrad dashboard: --port expects an integer <= 65535, got '${values.port}'`);
  let dash;
  try {
    dash = await startDashboard({ runs: positionals, port });
  } catch (e) {
    throw new UsageError(`skipgrad ${(e as Error).message}`);
  }
  console.log(`dashboard: ${dash.url} (${dash.runs.map((r) => r.name).join(', ')}); Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await dash.close();
  return 0;
}
