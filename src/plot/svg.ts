// Dependency-free SVG charts: line panels with nice or decade ticks, shared by the training curves,
// the gradient-flow figure and the confusion matrix. Long series are downsampled and extents are
// found with loops (a spread into Math.max overflows the stack at ~100k points).

/** One line of a {@link lineChart}: its name and [x, y] points. */
export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  color?: string;
  dashed?: boolean;
  /** Draw a marker at every point (default: only when the series has at most 40 points). */
  markers?: boolean;
}

/** Options of {@link lineChart}: title, axis labels, log-y and size. */
export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis with decade ticks (values <= 0 are dropped). */
  logY?: boolean;
  width?: number;
  height?: number;
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  /** Vertical guide lines (e.g. stage boundaries), labelled at the top of the plot. */
  vLines?: ReadonlyArray<{ x: number; label?: string }>;
  /** Named x ticks instead of numeric ones (e.g. block names), drawn rotated. */
  xTickLabels?: ReadonlyArray<{ x: number; label: string }>;
  /** Fixed left/right margins (so stacked panels line up); default: fitted to the labels. */
  marginLeft?: number;
  marginRight?: number;
}

export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** Most points a drawn series keeps; more would only slow the viewer down. */
export const MAX_DRAWN_POINTS = 1500;

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** [min, max] of the finite values, or null when there are none; a loop, safe for any length. */
export function extent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * At most `max` points that keep the series' shape: the range is cut into buckets and each keeps
 * its first, lowest and highest point (so spikes survive), in x order; short series come back as is.
 */
export function downsample<P extends readonly [number, number]>(points: readonly P[], max = MAX_DRAWN_POINTS): P[] {
  if (points.length <= max) return points.slice();
  const buckets = Math.max(1, Math.floor(max / 3));
  const size = points.length / buckets;
  const out: P[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(points.length, Math.floor((b + 1) * size));
    let lo = start;
    let hi = start;
    for (let i = start; i < end; i++) {
      if (points[i][1] < points[lo][1]) lo = i;
      if (points[i][1] > points[hi][1]) hi = i;
    }
    for (const i of [...new Set([start, lo, hi])].sort((a, b) => a - b)) out.push(points[i]);
  }
  if (out.at(-1) !== points.at(-1)) out.push(points.at(-1)!);
  return out;
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

/** Ticks of a log axis spanning 10^lo..10^hi (exponents): every decade, thinned to ~8, or 1-2-5 within a narrow range. */
export function decadeTicks(lo: number, hi: number): number[] {
  const first = Math.ceil(lo - 1e-9);
  const last = Math.floor(hi + 1e-9);
  if (last - first >= 1) {
    const stride = Math.max(1, Math.ceil((last - first + 1) / 8));
    const out: number[] = [];
    for (let e = first; e <= last; e += stride) out.push(e);
    return out;
  }
  const out: number[] = [];
  for (let e = Math.floor(lo) - 1; e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const t = e + Math.log10(m);
      if (t >= lo - 1e-9 && t <= hi + 1e-9) out.push(t);
    }
  }
  return out;
}

export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/** A log tick label: 1e-3, 1e-2, 0.1, 1, 10 … (or 2e-3 for 1-2-5 ticks). */
export function fmtLogTick(exponent: number): string {
  const v = 10 ** exponent;
  if (exponent >= -1 && exponent <= 3) return String(Number(v.toPrecision(3)));
  return v.toExponential(0).replace('e+', 'e');
}

/** The plot area of a chart panel in SVG pixels. */
export interface Frame {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Roughly how wide a 12 px sans-serif label is. */
const textWidth = (s: string, px = 12) => s.length * px * 0.6;

/**
 * One chart into `frame` of a larger SVG: axes, grid, ticks, labels, series and a legend on the
 * right. Returns the SVG elements (no <svg> wrapper).
 */
export function chartPanel(series: readonly Series[], options: ChartOptions, frame: Frame): string[] {
  const logY = options.logY ?? false;
  const ty = (y: number) => (logY ? Math.log10(y) : y);
  const usable = (y: number) => Number.isFinite(y) && (!logY || y > 0);
  const drawn = series.map((s) => downsample(s.points.filter(([x, y]) => Number.isFinite(x) && usable(y))));
  const xe = extent(drawn.flatMap((p) => p.map(([x]) => x)));
  const ye = extent(drawn.flatMap((p) => p.map(([, y]) => ty(y))));
  let xMin = options.xMin ?? xe?.[0] ?? 0;
  let xMax = options.xMax ?? xe?.[1] ?? 1;
  let yMin = options.yMin !== undefined ? ty(options.yMin) : ye?.[0] ?? 0;
  let yMax = options.yMax !== undefined ? ty(options.yMax) : ye?.[1] ?? 1;
  if (!(xMax > xMin)) xMax = xMin + 1;
  if (!(yMax > yMin)) {
    yMax += logY ? 0.5 : Math.max(0.5, Math.abs(yMax) * 0.1);
    yMin -= logY ? 0.5 : Math.max(0.5, Math.abs(yMin) * 0.1);
  }
  // Padding, so no point or line sits on the frame.
  const xPad = (xMax - xMin) * 0.03;
  const yPad = (yMax - yMin) * 0.06;
  if (options.xMin === undefined) xMin -= xPad;
  if (options.xMax === undefined) xMax += xPad;
  if (options.yMin === undefined) yMin -= yPad;
  if (options.yMax === undefined) yMax += yPad;

  const yTicks = logY ? decadeTicks(yMin, yMax) : niceTicks(yMin, yMax);
  const yTickText = yTicks.map((t) => (logY ? fmtLogTick(t) : fmtTick(t)));
  const tickW = Math.max(0, ...yTickText.map((s) => textWidth(s)));
  const legendW = Math.max(0, ...series.map((s) => textWidth(s.name))) + 44;
  const rotatedX = options.xTickLabels !== undefined;
  const xTickH = rotatedX ? Math.max(0, ...options.xTickLabels!.map((t) => textWidth(t.label))) * 0.72 + 10 : 16;
  const m = {
    left: Math.max(options.marginLeft ?? 0, tickW + 12 + (options.yLabel ? 22 : 4)),
    right: options.marginRight ?? legendW + 8,
    top: (options.title ? 26 : 8) + (options.vLines?.some((v) => v.label) ? 16 : 0),
    bottom: xTickH + (options.xLabel ? 26 : 8),
  };
  const pw = Math.max(10, frame.width - m.left - m.right);
  const ph = Math.max(10, frame.height - m.top - m.bottom);
  const X0 = frame.x + m.left;
  const Y0 = frame.y + m.top;
  const px = (x: number) => X0 + ((x - xMin) / (xMax - xMin)) * pw;
  const pyRaw = (t: number) => Y0 + ph - ((t - yMin) / (yMax - yMin)) * ph;
  const py = (y: number) => pyRaw(ty(y));
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [];
  if (options.title) out.push(`<text x="${f(frame.x + frame.width / 2)}" y="${f(frame.y + 16)}" text-anchor="middle" font-size="13" font-weight="bold">${esc(options.title)}</text>`);
  out.push(`<rect x="${f(X0)}" y="${f(Y0)}" width="${f(pw)}" height="${f(ph)}" fill="#fcfcfc" stroke="none"/>`);
  if (rotatedX) {
    for (const t of options.xTickLabels!) {
      const x = px(t.x);
      out.push(`<line x1="${f(x)}" y1="${f(Y0 + ph)}" x2="${f(x)}" y2="${f(Y0 + ph + 4)}" stroke="#333"/>`);
      out.push(`<text transform="translate(${f(x + 4)} ${f(Y0 + ph + 10)}) rotate(45)" font-size="11">${esc(t.label)}</text>`);
    }
  } else {
    for (const t of niceTicks(xMin, xMax)) {
      const x = px(t);
      out.push(`<line x1="${f(x)}" y1="${f(Y0)}" x2="${f(x)}" y2="${f(Y0 + ph)}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${f(x)}" y="${f(Y0 + ph + 15)}" text-anchor="middle">${fmtTick(t)}</text>`);
    }
  }
  yTicks.forEach((t, i) => {
    const y = pyRaw(t);
    out.push(`<line x1="${f(X0)}" y1="${f(y)}" x2="${f(X0 + pw)}" y2="${f(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f(X0 - 6)}" y="${f(y + 4)}" text-anchor="end">${yTickText[i]}</text>`);
  });
  for (const v of options.vLines ?? []) {
    const x = px(v.x);
    out.push(`<line x1="${f(x)}" y1="${f(Y0)}" x2="${f(x)}" y2="${f(Y0 + ph)}" stroke="#999" stroke-dasharray="3 3"/>`);
    if (v.label) out.push(`<text x="${f(x + 3)}" y="${f(Y0 - 4)}" font-size="11" fill="#555">${esc(v.label)}</text>`);
  }
  out.push(`<rect x="${f(X0)}" y="${f(Y0)}" width="${f(pw)}" height="${f(ph)}" fill="none" stroke="#333"/>`);
  if (options.xLabel) out.push(`<text x="${f(X0 + pw / 2)}" y="${f(frame.y + frame.height - 8)}" text-anchor="middle">${esc(options.xLabel)}</text>`);
  if (options.yLabel) {
    out.push(`<text transform="translate(${f(frame.x + 14)} ${f(Y0 + ph / 2)}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
  }
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const good = drawn[i];
    if (good.length > 1) {
      const d = good.map(([x, y], k) => `${k ? 'L' : 'M'}${f(px(x))} ${f(py(y))}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    }
    if (s.markers ?? good.length <= 40) {
      for (const [x, y] of good) out.push(`<circle cx="${f(px(x))}" cy="${f(py(y))}" r="4" fill="${color}" stroke="white" stroke-width="1"/>`);
    }
    const lx = X0 + pw + 12;
    const ly = Y0 + 12 + i * 18;
    out.push(`<line x1="${f(lx)}" y1="${f(ly - 4)}" x2="${f(lx + 24)}" y2="${f(ly - 4)}" stroke="${color}" stroke-width="2"${dash}/>`);
    if (s.markers ?? good.length <= 40) out.push(`<circle cx="${f(lx + 12)}" cy="${f(ly - 4)}" r="3.5" fill="${color}"/>`);
    out.push(`<text x="${f(lx + 30)}" y="${f(ly)}">${esc(s.name)}</text>`);
  });
  return out;
}

/** A standalone SVG document of the given size, white background, holding `body`. */
export function svgDocument(width: number, height: number, body: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...body,
    '</svg>',
  ].join('\n') + '\n';
}

/** A line chart of `series` as a standalone SVG document, with axes, ticks and a legend. */
export function lineChart(series: readonly Series[], options: ChartOptions = {}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  return svgDocument(width, height, chartPanel(series, options, { x: 0, y: 0, width, height }));
}
