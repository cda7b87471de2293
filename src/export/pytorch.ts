// `skipgrad export RUN_DIR --to pytorch OUT_DIR` and `skipgrad import DIR --out RUN_DIR`.
//
// OUT_DIR (a "PyTorch checkpoint folder"): model.py, train_ddp.py, model.safetensors (the state
// dict, with skipgrad's metadata so `skipgrad evaluate` reads it too), optimizer.safetensors
// (optimizer.state_dict()['state'] as state.<index>.<name>) and state.json (param_groups, the
// scheduler's state_dict, the run's position, history, generator state and config).
// train_ddp.py writes the same layout into RUN_DIR/checkpoint/, which import turns back into a
// skipgrad run folder through the training loop's own saveCheckpoint.

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadSafetensorsFile, saveSafetensorsFile } from '../io/safetensors.js';
import { loadSafetensors, saveSafetensors } from '../io/tensors.js';
import { saveCheckpoint } from '../train/checkpoint.js';
import { writeMetricsCsv, writeTrainingPlot, type MetricRow } from '../train/metrics.js';
import { embeddedDataDir } from '../data/fashion_files.js';
import { buildModel, CONFIG_METADATA_KEY } from '../cli/model_config.js';
import type { TrainConfig } from '../cli/train.js';
import type { OptimizerStateDict } from '../optim/optimizer.js';
import type { SchedulerStateDict } from '../optim/lr_scheduler.js';
import { modelPy } from './torch_model.js';
import { TRAIN_DDP_PY } from './train_ddp_py.js';
import { OPTIMIZER_CLASS, SCHEDULER_CLASS, readRun, recipeObjects, type RunState } from './run_folder.js';
import {
  optimizerFromTorch, optimizerToTorch, schedulerFromTorch, schedulerToTorch, type TorchOptimizerJson, type TorchSchedulerJson,
} from './torch_state.js';

/** The `format` tag of the training-state JSON that a PyTorch export carries and {@link importPytorchCheckpoint} accepts. */
export const TORCH_CHECKPOINT_FORMAT = 'skipgrad-pytorch-checkpoint';

/**
 * The training state of a PyTorch export (state.json): config, position, history, RNG, and the optimizer and
 * scheduler in PyTorch's own state-dict form.
 */
export interface TorchCheckpointState {
  format: typeof TORCH_CHECKPOINT_FORMAT;
  version: 1;
  /** Where this state came from (a run folder). */
  source: string;
  config: TrainConfig;
  /** The run's planned length when saved; train_ddp.py --epochs other than it rebuilds the schedule. */
  epochs: number;
  position: Record<string, number>;
  history: unknown[];
  rng: unknown;
  optimizer: TorchOptimizerJson & { param_names: string[] };
  scheduler: TorchSchedulerJson | null;
  /** The embedded Fashion-MNIST subset, the data when the config names none. */
  embedded_data: string;
}

function modelMetadata(config: TrainConfig): Record<string, string> {
  return { format: 'pt', producer: 'skipgrad', [CONFIG_METADATA_KEY]: JSON.stringify(config) };
}

/** Writes OUT_DIR from the run folder's last checkpoint; returns the files written. */
export async function exportRunToPytorch(runDir: string, outDir: string): Promise<string[]> {
  const run = await readRun(runDir);
  const { config, model, state } = run;
  const code = modelPy(model, runDir); // refuses what it cannot translate before anything is written
  const params = model.namedParameters();
  const opt = optimizerToTorch(OPTIMIZER_CLASS[config.optimizer], state.optimizer as never, params.map(([, p]) => p.shape.slice()));
  const sched = SCHEDULER_CLASS[config.scheduler];
  if (sched && !state.scheduler) throw new Error(`${runDir}: the config has scheduler '${config.scheduler}' but the checkpoint holds no scheduler state`);
  const torchState: TorchCheckpointState = {
    format: TORCH_CHECKPOINT_FORMAT,
    version: 1,
    source: resolve(runDir),
    config,
    epochs: state.epochs ?? config.epochs,
    position: state.position,
    history: state.history,
    rng: state.rng,
    optimizer: { ...opt.json, param_names: params.map(([n]) => n) },
    scheduler: sched ? schedulerToTorch(sched.cls, sched.interval, state.scheduler as Record<string, unknown>) : null,
    embedded_data: embeddedDataDir(),
  };
  await mkdir(outDir, { recursive: true });
  const files = ['model.py', 'train_ddp.py', 'model.safetensors', 'optimizer.safetensors', 'state.json'];
  await writeFile(join(outDir, 'model.py'), code);
  await writeFile(join(outDir, 'train_ddp.py'), TRAIN_DDP_PY);
  await saveSafetensors(join(outDir, 'model.safetensors'), model.stateDict(), modelMetadata(config));
  await saveSafetensorsFile(join(outDir, 'optimizer.safetensors'), opt.tensors);
  await writeFile(join(outDir, 'state.json'), JSON.stringify(torchState, null, 1) + '\n');
  return files.map((f) => join(outDir, f));
}

/** The PyTorch checkpoint folder inside `dir`: `dir` itself, or a train_ddp.py run's `dir/checkpoint`. */
export function findTorchCheckpoint(dir: string): string {
  if (existsSync(join(dir, 'state.json'))) return dir;
  if (existsSync(join(dir, 'checkpoint', 'state.json'))) return join(dir, 'checkpoint');
  throw new Error(`${dir}: no state.json there or in ${join(dir, 'checkpoint')} (not a folder written by 'skipgrad export --to pytorch' or train_ddp.py)`);
}

/** Turns a PyTorch checkpoint folder into a skipgrad run folder that `skipgrad train --resume` continues. */
export async function importPytorchCheckpoint(dir: string, outDir: string): Promise<void> {
  const src = findTorchCheckpoint(dir);
  const statePath = join(src, 'state.json');
  const st = JSON.parse(readFileSync(statePath, 'utf8')) as TorchCheckpointState;
  if (st.format !== TORCH_CHECKPOINT_FORMAT) throw new Error(`${statePath}: format is '${String(st.format)}', expected '${TORCH_CHECKPOINT_FORMAT}'`);
  const config = st.config;
  const model = buildModel(config);
  const weightsPath = join(src, 'model.safetensors');
  model.loadStateDict(await loadSafetensors(weightsPath), { strict: true });
  const names = model.namedParameters().map(([n]) => n);
  if (JSON.stringify(names) !== JSON.stringify(st.optimizer.param_names)) {
    throw new Error(`${statePath}: the optimizer's parameters are not the model's (${st.optimizer.param_names.length} names vs ${names.length})`);
  }
  const wantCls = OPTIMIZER_CLASS[config.optimizer];
  if (st.optimizer.class !== wantCls) throw new Error(`${statePath}: optimizer is ${st.optimizer.class}, the config trains with ${wantCls}`);
  const { optimizer, scheduler } = recipeObjects(config, model);
  const optPath = join(src, 'optimizer.safetensors');
  const { tensors } = await loadSafetensorsFile(optPath);
  optimizer.loadStateDict(optimizerFromTorch(st.optimizer, tensors, optPath) as unknown as OptimizerStateDict);
  const want = SCHEDULER_CLASS[config.scheduler];
  if (Boolean(want) !== Boolean(st.scheduler) || (want && st.scheduler && want.cls !== st.scheduler.class)) {
    throw new Error(`${statePath}: scheduler is ${st.scheduler?.class ?? 'none'}, the config has '${config.scheduler}'`);
  }
  if (scheduler && st.scheduler) scheduler.loadStateDict(schedulerFromTorch(st.scheduler, statePath) as SchedulerStateDict);
  const state: RunState = {
    position: st.position,
    epochs: st.epochs ?? config.epochs,
    optimizer: optimizer.stateDict(),
    scheduler: scheduler ? scheduler.stateDict() : null,
    rng: st.rng,
    history: st.history,
    config: config as unknown as Record<string, unknown>,
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  await saveCheckpoint(join(outDir, 'checkpoint.safetensors'), { model: model.stateDict(), state });
  await saveSafetensors(join(outDir, 'model.safetensors'), model.stateDict(), modelMetadata(config));
  const history = st.history as MetricRow[];
  await writeMetricsCsv(join(outDir, 'metrics.csv'), history);
  await writeTrainingPlot(join(outDir, 'curves.svg'), history);
}
