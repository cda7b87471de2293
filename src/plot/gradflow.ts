// The gradient-flow figure: a norm per residual block against depth on a log axis with decade
// ticks, one tick per block named by its module path, and dashed boundaries between stages.

import { lineChart, type Series } from './svg.js';

/** One residual block of a gradient-flow chart: its depth and module path. */
export interface GradflowChartBlock {
  /** 1-based position in forward order. */
  depth: number;
  /** Module path, e.g. `2.0`: the first number is the stage (D2L's b2 … b5 are 1 … 4). */
  path: string;
}

/** Options of {@link gradflowChartSvg}. */
export interface GradflowChartOptions {
  title?: string;
  yLabel?: string;
  width?: number;
  height?: number;
}

/** Stage boundaries between consecutive blocks whose paths start with different stage indices. */
export function stageBoundaries(blocks: readonly GradflowChartBlock[]): { x: number; label: string }[] {
  const out: { x: number; label: string }[] = [];
  let prev: string | null = null;
  for (const b of blocks) {
    const stage = b.path.includes('.') ? b.path.slice(0, b.path.lastIndexOf('.')) : '';
    if (stage !== prev) {
      const n = Number(stage);
      out.push({ x: b.depth - 0.5, label: Number.isInteger(n) && stage !== '' ? `b${n + 1}` : stage });
      prev = stage;
    }
  }
  return out;
}

/** `series` hold one [depth, norm] point per block (null/NaN/<=0 norms are left out). */
export function gradflowChartSvg(blocks: readonly GradflowChartBlock[], series: readonly Series[], options: GradflowChartOptions = {}): string {
  const last = blocks.length ? blocks[blocks.length - 1].depth : 1;
  return lineChart(series, {
    title: options.title,
    xLabel: 'residual block (input side → output side); dashed lines: stage boundaries',
    yLabel: options.yLabel ?? '‖∂L/∂block output‖',
    logY: true,
    width: options.width ?? 820,
    height: options.height ?? 460,
    xMin: 0.2,
    xMax: last + 0.6,
    vLines: stageBoundaries(blocks),
    xTickLabels: blocks.map((b) => ({ x: b.depth, label: b.path })),
  });
}
