// A small dependency-free SVG line chart, enough for D2L's training curves and gradient-flow plots.

export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  color?: string;
  dashed?: boolean;
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis (values <= 0 are dropped). */
  logY?: boolean;
  width?: number;
  height?: number;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

export function lineChart(series: readonly Series[], options: ChartOptions = {}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const m = { left: 64, right: 150, top: options.title ? 36 : 16, bottom: 48 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const logY = options.logY ?? false;
  const ty = (y: number) => (logY ? Math.log10(y) : y);
  const pts = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!logY || y > 0));
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, y]) => ty(y));
  let xMin = options.xMin ?? (xs.length ? Math.min(...xs) : 0);
  let xMax = options.xMax ?? (xs.length ? Math.max(...xs) : 1);
  let yMin = options.yMin !== undefined ? ty(options.yMin) : ys.length ? Math.min(...ys) : 0;
  let yMax = options.yMax !== undefined ? ty(options.yMax) : ys.length ? Math.max(...ys) : 1;
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) {
    yMax += 0.5;
    yMin -= 0.5;
  } else if (options.yMax === undefined) {
    yMax += (yMax - yMin) * 0.05; // headroom, so the highest point does not sit on the frame
  }
  const px = (x: number) => m.left + ((x - xMin) / (xMax - xMin)) * pw;
  const py = (y: number) => m.top + ph - ((ty(y) - yMin) / (yMax - yMin)) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) out.push(`<text x="${m.left + pw / 2}" y="20" text-anchor="middle" font-size="14">${esc(options.title)}</text>`);
  // Grid and ticks.
  for (const t of niceTicks(xMin, xMax)) {
    const x = px(t);
    out.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle">${fmtTick(t)}</text>`);
  }
  for (const t of niceTicks(yMin, yMax)) {
    const y = m.top + ph - ((t - yMin) / (yMax - yMin)) * ph;
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${y + 4}" text-anchor="end">${fmtTick(logY ? 10 ** t : t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  if (options.xLabel) out.push(`<text x="${m.left + pw / 2}" y="${height - 10}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  if (options.yLabel) {
    out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  }
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const good = s.points.filter(([, y]) => Number.isFinite(y) && (!logY || y > 0));
    if (good.length > 1) {
      const d = good.map(([x, y], k) => `${k ? 'L' : 'M'}${px(x).toFixed(2)} ${py(y).toFixed(2)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    }
    for (const [x, y] of good.length <= 40 ? good : []) out.push(`<circle cx="${px(x).toFixed(2)}" cy="${py(y).toFixed(2)}" r="2.5" fill="${color}"/>`);
    const ly = m.top + 12 + i * 18;
    out.push(`<line x1="${m.left + pw + 12}" y1="${ly - 4}" x2="${m.left + pw + 36}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${m.left + pw + 42}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
