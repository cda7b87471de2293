// D2L's training-curve figure, on separate panels so nothing squashes anything: loss, accuracies
// (train as a line, test as a marker per epoch) and the learning rate, against epochs, under a
// title naming the model, the data and the final figures.

import { chartPanel, esc, svgDocument } from './svg.js';

/** The fields of a metrics row the figure draws (structurally the train loop's MetricRow). */
export interface CurveRow {
  epoch: number;
  step: number;
  lr: number;
  loss: number;
  trainAcc: number;
  testAcc: number | null;
}

/** Options of {@link trainingCurvesSvg}. */
export interface CurvesOptions {
  /** What was trained on what, e.g. "ResNet-18 (width 64) on Fashion-MNIST, 6,000 images". */
  title?: string;
  width?: number;
  height?: number;
}

/** "ResNet-18 (width 64, sgd lr 0.05, onecycle) on <data>" from a run's config.json, when it has the fields. */
export function curvesTitleFromConfig(config: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof config.width === 'number') parts.push(`width ${config.width}`);
  if (typeof config.optimizer === 'string') parts.push(`${config.optimizer}${typeof config.lr === 'number' ? ` lr ${config.lr}` : ''}`);
  if (typeof config.scheduler === 'string' && config.scheduler !== 'none') parts.push(config.scheduler);
  if (typeof config.batchSize === 'number') parts.push(`batch ${config.batchSize}`);
  const data = typeof config.data === 'string' ? config.data : 'the embedded Fashion-MNIST subset';
  const extra = [typeof config.limit === 'number' ? `first ${config.limit} images` : '', typeof config.resize === 'number' ? `${config.resize}×${config.resize}` : '']
    .filter(Boolean)
    .join(', ');
  return `ResNet-18 (${parts.join(', ')}) on ${data}${extra ? ` (${extra})` : ''}`;
}

/** "epoch 3: train loss 0.312, train acc 0.887, test acc 0.861". */
export function finalFigures(rows: readonly CurveRow[]): string {
  const last = rows.at(-1);
  if (!last) return 'no steps yet';
  let test: number | null = null;
  for (let i = rows.length - 1; i >= 0 && test === null; i--) test = rows[i].testAcc;
  return `epoch ${Number(last.epoch.toFixed(2))}: train loss ${last.loss.toFixed(3)}, train acc ${last.trainAcc.toFixed(3)}` +
    (test === null ? '' : `, test acc ${test.toFixed(3)}`);
}

/** The training curves of a run (loss, accuracies and learning rate against epoch, from metrics.csv rows) as an SVG document. */
export function trainingCurvesSvg(rows: readonly CurveRow[], options: CurvesOptions = {}): string {
  const width = options.width ?? 760;
  const height = options.height ?? 680;
  const head = 50;
  const avail = height - head;
  const heights = [0.37, 0.37, 0.26].map((f) => Math.floor(avail * f));
  const tests = rows.filter((r) => r.testAcc !== null).map((r) => [r.epoch, r.testAcc as number] as const);
  const xMax = rows.length ? rows[rows.length - 1].epoch : 1;
  // Same x range on every panel, from 0, so the panels line up.
  const x = { xMin: 0, xMax: Math.max(xMax, 1e-9) * 1.03, marginLeft: 80, marginRight: 130 };
  const title = options.title ?? 'training curves';
  // A long title (a long --data path) shrinks to fit rather than running off the edges.
  const titleSize = Math.max(9, Math.min(14, Math.floor((width - 24) / (0.62 * title.length))));
  const body: string[] = [
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="${titleSize}" font-weight="bold">${esc(title)}</text>`,
    `<text x="${width / 2}" y="40" text-anchor="middle" font-size="13">${esc(finalFigures(rows))}</text>`,
  ];
  let y = head;
  body.push(
    ...chartPanel([{ name: 'train loss', points: rows.map((r) => [r.epoch, r.loss] as const), color: '#1f77b4' }], { ...x, yLabel: 'loss', yMin: 0 }, {
      x: 0, y, width, height: heights[0],
    }),
  );
  y += heights[0];
  body.push(
    ...chartPanel(
      [
        { name: 'train acc', points: rows.map((r) => [r.epoch, r.trainAcc] as const), color: '#ff7f0e', dashed: true },
        { name: 'test acc', points: tests, color: '#2ca02c', markers: true },
      ],
      { ...x, yLabel: 'accuracy' },
      { x: 0, y, width, height: heights[1] },
    ),
  );
  y += heights[1];
  body.push(
    ...chartPanel([{ name: 'learning rate', points: rows.map((r) => [r.epoch, r.lr] as const), color: '#9467bd' }], { ...x, yLabel: 'lr', xLabel: 'epoch', yMin: 0 }, {
      x: 0, y, width, height: heights[2],
    }),
  );
  return svgDocument(width, height, body);
}
