// fit's `gradflowEvery` option: a GradflowRecorder (src/inspect/recorder.ts) run as a callback.
// Every N steps (and at step 1) it records each residual block's gradient norms at its output,
// through its branch and its shortcut, and every parameter's grad/weight ratio, right after
// backward; with a run folder, into gradflow.csv, and gradflow.svg when training ends.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GradflowRecorder } from '../inspect/recorder.js';
import { gradflowTrainingSvg } from '../inspect/recorder_plot.js';
import type { Module } from '../nn/module.js';
import type { Callback } from './callbacks.js';

export interface GradflowCallback extends Callback {
  readonly recorder: GradflowRecorder;
}

/** `firstStep` is the first step this session trains (1, or the checkpoint's step + 1 on resume). */
export function gradflowCallback(model: Module, every: number, outDir: string | undefined, firstStep: number): GradflowCallback {
  const csvPath = outDir ? join(outDir, 'gradflow.csv') : undefined;
  const recorder = new GradflowRecorder(model, { every, csvPath, firstStep });
  return {
    recorder,
    onAfterBackward(state) {
      recorder.afterBackward(state.step);
    },
    async onTrainEnd() {
      recorder.close();
      if (!csvPath || !outDir) return;
      // The picture of the whole gradflow.csv, earlier sessions of a resumed run included.
      const svg = gradflowTrainingSvg(csvPath);
      if (svg) await writeFile(join(outDir, 'gradflow.svg'), svg);
    },
  };
}
