// A run folder's files: the checkpoint (validated before anything of it is applied), the metrics
// CSV and curves, the final model, and the temp files a killed save can leave behind.

import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultGenerator } from '../autograd/random.js';
import type { OptimizerLike, SchedulerLike } from './callbacks.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { TrainableModule } from './evaluate.js';
import { writeMetricsCsv, writeTrainingPlot } from './metrics.js';
import type { ProgressStream } from './progress.js';
import { CheckpointError, checkLike, validateModelTensors, validateTrainingState, type TrainingState } from './training_state.js';

/** `.checkpoint.safetensors.tmp-PID-RAND` (io/safetensors.ts), `metrics.csv.tmp-PID` (metrics.ts), `config.json.tmp-PID` (cli/train.ts). */
const TEMP_FILE = /^(?:\.(?:checkpoint|model)\.safetensors|metrics\.csv|curves\.svg|config\.json)\.tmp-(\d+)(?:-[0-9a-f]+)?$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false; // this process has no save in flight yet
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class RunFolder {
  readonly checkpointPath: string;
  readonly modelPath: string;

  constructor(readonly dir: string) {
    this.checkpointPath = join(dir, 'checkpoint.safetensors');
    this.modelPath = join(dir, 'model.safetensors');
  }

  /** Creates the folder and removes temp files left by saves that were killed (their process is gone). */
  async prepare(log?: ProgressStream): Promise<string[]> {
    await mkdir(this.dir, { recursive: true });
    const removed: string[] = [];
    for (const name of await readdir(this.dir)) {
      const m = TEMP_FILE.exec(name);
      if (!m || processAlive(Number(m[1]))) continue;
      await rm(join(this.dir, name), { force: true });
      removed.push(name);
    }
    if (removed.length && log) log.write(`removed ${removed.length} temp file(s) left by an interrupted save: ${removed.join(', ')}\n`);
    return removed;
  }

  /**
   * Loads and validates the checkpoint, then applies the weights, optimizer state and RNG (the
   * scheduler's state is returned, for the caller to apply or rebuild). Null when there is none.
   */
  async restore(model: TrainableModule, optimizer: OptimizerLike, scheduler: SchedulerLike | undefined, batches: number): Promise<TrainingState | null> {
    const file = this.checkpointPath;
    if (!existsSync(file)) return null;
    const named = (e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      return e instanceof CheckpointError ? e : new CheckpointError(file, msg.startsWith(file) ? msg.slice(file.length + 2) : msg);
    };
    let ckpt;
    try {
      ckpt = await loadCheckpoint(file);
    } catch (e) {
      throw named(e);
    }
    const st = validateTrainingState(ckpt.state, file, batches);
    validateModelTensors(ckpt.model, model.stateDict(), file);
    // The hyperparameters a scheduler reads (maxLr, momentum, …) must all be there, finite.
    const savedGroups = (st.optimizer as { paramGroups?: unknown }).paramGroups;
    const freshGroups = (optimizer.stateDict() as { paramGroups?: unknown[] }).paramGroups;
    if (Array.isArray(freshGroups)) {
      const noParams = (gs: unknown) => (Array.isArray(gs) ? gs.map((g) => (g && typeof g === 'object' ? { ...g, params: undefined } : g)) : gs);
      checkLike(noParams(savedGroups), noParams(freshGroups), 'optimizer.paramGroups', file);
    }
    try {
      model.loadStateDict(ckpt.model, { strict: true });
    } catch (e) {
      throw named(e);
    }
    for (const [what, apply] of [
      ['optimizer', () => optimizer.loadStateDict(st.optimizer)],
      ['scheduler', () => scheduler && st.scheduler && checkSchedulerState(scheduler, st.scheduler)],
      ['rng', () => defaultGenerator.setState(st.rng)],
    ] as const) {
      try {
        apply();
      } catch (e) {
        throw new CheckpointError(file, `checkpoint field '${what}': ${(e as Error).message}`);
      }
    }
    return st;
  }

  async save(model: TrainableModule, state: TrainingState): Promise<void> {
    await saveCheckpoint(this.checkpointPath, { model: model.stateDict(), state });
    await writeMetricsCsv(join(this.dir, 'metrics.csv'), state.history);
    await writeTrainingPlot(join(this.dir, 'curves.svg'), state.history);
  }
}

/** Validates a saved scheduler state by loading it into a throwaway copy (the real one is applied by fit). */
function checkSchedulerState(scheduler: SchedulerLike, saved: unknown): void {
  const before = scheduler.stateDict();
  try {
    scheduler.loadStateDict(saved);
  } finally {
    scheduler.loadStateDict(before);
  }
}
