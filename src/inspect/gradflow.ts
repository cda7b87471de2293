// The gradient-flow experiment behind `skipgrad gradflow`: the seed's ResNet and its plain twin
// (same layers, same initial weights, shortcuts removed) are measured with inspectGradients on one
// fixed held-out batch, at initialization and after the same SGD steps on the same batches.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeToPath } from 'fast-csv';
import { crossEntropy } from '../autograd/ops/loss.js';
import { manualSeed } from '../autograd/random.js';
import { DataLoader, type Batch } from '../data/dataloader.js';
import type { Dataset } from '../data/dataset.js';
import { FashionMNIST } from '../data/fashion_mnist.js';
import { resnet } from '../models/resnet.js';
import { SGD } from '../optim/sgd.js';
import { gradflowChartSvg } from '../plot/gradflow.js';
import { inspectGradients, type BlockGradients, type ParameterGradients } from './gradients.js';

/** Options of {@link runGradflow} (`skipgrad gradflow`'s flags): network size, training steps and data. */
export interface GradflowOptions {
  /** Channels of the first stage (default 16). */
  width?: number;
  /** ResNet-18's stages (2, 2, 2, 2 blocks) each repeated K times (default 1). */
  depthMultiplier?: number;
  /** SGD steps between the two measurements (default 20). */
  steps?: number;
  batchSize?: number;
  lr?: number;
  momentum?: number;
  seed?: number;
  /** Training images and the held-out images of the probe batch (default: the embedded subset). */
  train?: Dataset;
  test?: Dataset;
  /** Called after each training step. */
  onStep?: (model: 'resnet' | 'plain', step: number, loss: number) => void;
}

/** One network's measurements in {@link runGradflow}: block and parameter norms at init and after training, and its losses. */
export interface GradflowRun {
  model: 'resnet' | 'plain';
  init: BlockGradients[];
  trained: BlockGradients[];
  /** Per-parameter norms and grad/weight ratios on the probe batch, at init and after training. */
  initParams: ParameterGradients[];
  trainedParams: ParameterGradients[];
  /** Loss on the probe batch at init and after training; training losses of each step. */
  probeLoss: [number, number];
  stepLosses: number[];
  seconds: number;
}

/** What {@link runGradflow} returns: the settings and the ResNet's and the plain net's runs. */
export interface GradflowResult {
  width: number;
  depthMultiplier: number;
  /** Weighted layers: the stem conv, two per block, the classifier (18 for multiplier 1). */
  layers: number;
  steps: number;
  batchSize: number;
  lr: number;
  resnet: GradflowRun;
  plain: GradflowRun;
}

const STAGES = [2, 2, 2, 2];

/**
 * Trains a ResNet-18-shaped net and the same net without shortcuts on Fashion-MNIST for a few SGD steps, measuring
 * the gradient reaching each block on a held-out probe batch at init and after training (`skipgrad gradflow`).
 */
export async function runGradflow(options: GradflowOptions = {}): Promise<GradflowResult> {
  const { width = 16, depthMultiplier = 1, steps = 20, batchSize = 32, lr = 0.05, momentum = 0.9, seed = 0 } = options;
  const train = options.train ?? (await FashionMNIST.load({ train: true }));
  const test = options.test ?? (await FashionMNIST.load({ train: false }));
  const probe: Batch = new DataLoader(test, { batchSize }).batches(0).next().value!;
  const loader = new DataLoader(train, { batchSize, shuffle: true, seed, dropLast: true });
  if (steps > 0 && loader.length === 0) throw new Error(`gradflow: batch size ${batchSize} exceeds the ${train.length} training images`);
  const run = (skip: boolean): GradflowRun => {
    const model = skip ? 'resnet' : 'plain';
    const t0 = performance.now();
    manualSeed(seed); // both nets start from identical weights
    const net = resnet({ stages: STAGES, depthMultiplier, baseChannels: width, skip });
    const before = inspectGradients(net, probe);
    const opt = new SGD(net.parameters(), { lr, momentum });
    const stepLosses: number[] = [];
    for (let epoch = 0; stepLosses.length < steps; epoch++) {
      for (const { x, y } of loader.batches(epoch)) {
        if (stepLosses.length >= steps) break;
        opt.zeroGrad();
        const loss = crossEntropy(net.call(x), y);
        loss.backward();
        opt.step();
        stepLosses.push(loss.item());
        options.onStep?.(model, stepLosses.length, loss.item());
      }
    }
    const after = inspectGradients(net, probe);
    return {
      model,
      init: before.blocks,
      trained: after.blocks,
      initParams: before.params,
      trainedParams: after.params,
      probeLoss: [before.loss, after.loss],
      stepLosses,
      seconds: (performance.now() - t0) / 1000,
    };
  };
  const resnetRun = run(true);
  const plainRun = run(false);
  const layers = 2 + 2 * STAGES.reduce((a, b) => a + b, 0) * depthMultiplier;
  return { width, depthMultiplier, layers, steps, batchSize, lr, resnet: resnetRun, plain: plainRun };
}

const sci = (v: number | null) => (v === null ? '—' : v.toExponential(2));
/** 'ResNet-18', or 'ResNet-18×3' for the 50-layer net of basic blocks (not torchvision's bottleneck ResNet-50). */
const suffix = (r: GradflowResult) => (r.depthMultiplier === 1 ? '18' : `18×${r.depthMultiplier}`);

/** The terminal table: ‖∂L/∂(block output)‖ per block for both nets, at init and after training. */
export function gradflowTable(r: GradflowResult): string[] {
  const head = ['block', 'path', 'ResNet init', 'plain init', `ResNet ${r.steps} steps`, `plain ${r.steps} steps`];
  const rows = r.resnet.init.map((b, i) => [
    String(b.depth), b.path, sci(b.output), sci(r.plain.init[i].output), sci(r.resnet.trained[i].output), sci(r.plain.trained[i].output),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (c < 2 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
  const ratio = (run: GradflowRun, phase: 'init' | 'trained') => {
    const bs = run[phase];
    return sci(bs[0].output! / bs[bs.length - 1].output!);
  };
  return [
    `gradient norm at each block's output, ResNet-${suffix(r)} vs plain-${suffix(r)} (${r.layers} layers, width ${r.width}, batch ${r.batchSize})`,
    line(head),
    ...rows.map(line),
    `first/last block ratio: ResNet ${ratio(r.resnet, 'init')} → ${ratio(r.resnet, 'trained')}, ` +
      `plain ${ratio(r.plain, 'init')} → ${ratio(r.plain, 'trained')}`,
    ...(['resnet', 'plain'] as const).map((m) => {
      // The first block's first conv: where a plain net's early weights blow up and then stall.
      const name = `${r[m].init[0].path}.conv1.weight`;
      const [a, b] = [r[m].initParams, r[m].trainedParams].map((ps) => ps.find((p) => p.name === name)!);
      const label = m === 'resnet' ? 'ResNet' : 'plain';
      return `${label} ${name}: weight norm ${a.weightNorm.toFixed(2)} → ${b.weightNorm.toFixed(2)}, grad/weight ${sci(a.ratio)} → ${sci(b.ratio)}`;
    }),
    `probe loss: ResNet ${r.resnet.probeLoss.map((l) => l.toFixed(3)).join(' → ')}, plain ${r.plain.probeLoss.map((l) => l.toFixed(3)).join(' → ')}`,
  ];
}

/** Gradient norm against depth on a log scale: ResNet vs plain, at init (solid) and trained (dashed). */
export function gradflowSvg(r: GradflowResult): string {
  const pts = (bs: BlockGradients[]) => bs.map((b) => [b.depth, b.output ?? NaN] as const);
  return gradflowChartSvg(
    r.resnet.init,
    [
      { name: `ResNet-${suffix(r)} init`, points: pts(r.resnet.init), color: '#1f77b4' },
      { name: `plain-${suffix(r)} init`, points: pts(r.plain.init), color: '#d62728' },
      { name: `ResNet ${r.steps} steps`, points: pts(r.resnet.trained), color: '#1f77b4', dashed: true },
      { name: `plain ${r.steps} steps`, points: pts(r.plain.trained), color: '#d62728', dashed: true },
    ],
    { title: `Gradient at each block's output: ResNet-${suffix(r)} vs plain (${r.layers} layers, width ${r.width})` },
  );
}

/** The header of gradflow.csv (one row per model, phase and block; see {@link gradflowRows}). */
export const GRADFLOW_CSV_COLUMNS = [
  'model', 'phase', 'block', 'path', 'output', 'sum', 'branch', 'shortcut', 'input', 'input_via_branch', 'input_via_shortcut',
] as const;

/** One row per (model, phase, block) with every norm of the report; empty cells where there is none. */
export function gradflowRows(r: GradflowResult): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const run of [r.resnet, r.plain]) {
    for (const phase of ['init', 'trained'] as const) {
      for (const b of run[phase]) {
        const n = (v: number | null) => (v === null ? '' : Number(v.toPrecision(7)));
        rows.push([
          run.model, phase, b.depth, b.path, n(b.output), n(b.sum), n(b.branch), n(b.shortcut), n(b.input), n(b.inputViaBranch), n(b.inputViaShortcut),
        ]);
      }
    }
  }
  return rows;
}

/** The header of gradflow-params.csv (one row per model, phase and parameter; see {@link gradflowParamRows}). */
export const GRADFLOW_PARAMS_CSV_COLUMNS = ['model', 'phase', 'name', 'grad_norm', 'weight_norm', 'ratio'] as const;

/** One row per (model, phase, parameter) in depth order. */
export function gradflowParamRows(r: GradflowResult): (string | number)[][] {
  const n = (v: number | null) => (v === null ? '' : Number(v.toPrecision(7)));
  return [r.resnet, r.plain].flatMap((run) =>
    (['init', 'trained'] as const).flatMap((phase) =>
      run[phase === 'init' ? 'initParams' : 'trainedParams'].map((p) => [run.model, phase, p.name, n(p.gradNorm), n(p.weightNorm), n(p.ratio)]),
    ),
  );
}

function writeCsv(path: string, rows: (string | number)[][]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    writeToPath(path, rows)
      .on('error', reject)
      .on('finish', () => resolve());
  });
}

/** Writes gradflow.svg, gradflow.csv (blocks) and gradflow-params.csv (with fast-csv) into `dir`, which must exist. */
export async function writeGradflowFiles(dir: string, r: GradflowResult): Promise<{ svg: string; csv: string; paramsCsv: string }> {
  const svg = join(dir, 'gradflow.svg');
  const csv = join(dir, 'gradflow.csv');
  const paramsCsv = join(dir, 'gradflow-params.csv');
  await writeFile(svg, gradflowSvg(r));
  await writeCsv(csv, [GRADFLOW_CSV_COLUMNS as unknown as string[], ...gradflowRows(r)]);
  await writeCsv(paramsCsv, [GRADFLOW_PARAMS_CSV_COLUMNS as unknown as string[], ...gradflowParamRows(r)]);
  return { svg, csv, paramsCsv };
}
