// The "watch it learn" flags of `skipgrad train`: --gradflow-every N (fit's gradflowEvery: a
// GradflowRecorder writing gradflow.csv into the run folder, and gradflow.svg at the end) and
// --dashboard (the live page on the run folder). Kept out of train.ts so that file only spreads
// the flags in and calls startWatch.

import { startDashboard, type Dashboard } from '../dashboard/server.js';
import { UsageError, intFlag } from './args.js';

export const WATCH_FLAGS = {
  'gradflow-every': { type: 'string' }, dashboard: { type: 'boolean' }, 'dashboard-port': { type: 'string' },
} as const;

export const WATCH_HELP = `Watch it learn
  --gradflow-every N      every N steps (and at step 1) record each residual block's gradient
                          norms (output, branch, shortcut) and every layer's grad/weight ratio
                          into gradflow.csv
  --dashboard             serve the live dashboard of this run on 127.0.0.1 (URL printed)
  --dashboard-port P      its port (default: a free one)`;

export interface WatchOptions {
  gradflowEvery?: number;
  dashboard: boolean;
  dashboardPort?: number;
}

/** Validates the flags (before the run folder exists). */
export function parseWatchFlags(f: Record<string, string | boolean | undefined>): WatchOptions {
  const gradflowEvery = intFlag('train', 'gradflow-every', f['gradflow-every']);
  const dashboardPort = intFlag('train', 'dashboard-port', f['dashboard-port'], 0);
  if (dashboardPort !== undefined && dashboardPort > 65535) throw new UsageError(`skipgrad train: --dashboard-port expects an integer <= 65535, got '${f['dashboard-port']}'`);
  if (dashboardPort !== undefined && !f.dashboard) throw new UsageError('skipgrad train: --dashboard-port needs --dashboard');
  return { gradflowEvery, dashboard: f.dashboard === true, dashboardPort };
}

export interface Watch {
  close(): Promise<void>;
}

/** Starts the dashboard on the run folder when --dashboard was given. */
export async function startWatch(options: WatchOptions, outDir: string): Promise<Watch> {
  const dash: Dashboard | undefined = options.dashboard ? await startDashboard({ runs: [outDir], port: options.dashboardPort }) : undefined;
  if (dash) console.log(`dashboard: ${dash.url}`);
  return {
    async close() {
      if (!dash) return;
      await dash.close();
      console.log(`dashboard closed; look again with: skipgrad dashboard ${outDir}`);
    },
  };
}
