// The "watch it learn" flags of `skipgrad train`: --gradflow-every N (a GradflowRecorder writing
// gradflow.csv into the run folder, and gradflow.svg at the end) and --dashboard (the live page
// on the run folder). Kept out of train.ts so that file only spreads the flags in and calls startWatch.

import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { GradflowRecorder } from '../inspect/recorder.js';
import { gradflowTrainingSvg } from '../inspect/recorder_plot.js';
import type { Module } from '../nn/module.js';
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
  /** For fit's onAfterBackward; undefined without --gradflow-every. */
  onAfterBackward?: (model: unknown, step: number) => void;
  close(): Promise<void>;
}

export async function startWatch(options: WatchOptions, model: Module, outDir: string): Promise<Watch> {
  let recorder: GradflowRecorder | undefined;
  let dash: Dashboard | undefined;
  if (options.gradflowEvery !== undefined) {
    recorder = new GradflowRecorder(model, { every: options.gradflowEvery, csvPath: join(outDir, 'gradflow.csv'), keep: false });
  }
  if (options.dashboard) {
    dash = await startDashboard({ runs: [outDir], port: options.dashboardPort });
    console.log(`dashboard: ${dash.url}`);
  }
  return {
    onAfterBackward: recorder ? (_model, step) => void recorder!.afterBackward(step) : undefined,
    async close() {
      if (recorder) {
        recorder.close();
        // The picture of the whole gradflow.csv, earlier sessions of a resumed run included.
        const svg = gradflowTrainingSvg(recorder.csvPath!);
        if (svg) await writeFile(join(outDir, 'gradflow.svg'), svg);
        console.log(`gradient flow: ${recorder.csvPath}${svg ? `, ${join(outDir, 'gradflow.svg')}` : ''}`);
      }
      if (dash) {
        await dash.close();
        console.log(`dashboard closed; look again with: skipgrad dashboard ${outDir}`);
      }
    },
  };
}
