// Pictures of an evaluation: the confusion matrix as a heat map (row-normalized shade, counts
// written in), and a grid of misclassified images with their true and predicted class names.

import { encodePng, toBytes } from './png.js';
import { esc, svgDocument } from './svg.js';

/** White → dark blue by the share of the row (the true class) a cell holds. */
function shade(share: number): string {
  const t = Number.isFinite(share) ? Math.min(1, Math.max(0, share)) : 0;
  const c = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${c(255, 8)},${c(255, 48)},${c(255, 107)})`;
}

/**
 * The confusion matrix (rows true class, columns predicted) as an SVG heat map with counts, each cell shaded by its
 * share of the row.
 */
export function confusionSvg(confusion: readonly number[][], classNames: readonly string[], options: { title?: string } = {}): string {
  const k = confusion.length;
  const names = confusion.map((_, i) => classNames[i] ?? String(i));
  const labelW = Math.max(...names.map((n) => n.length)) * 7 + 12;
  const cell = Math.max(30, Math.min(52, Math.floor(520 / k)));
  const left = labelW + 30;
  const top = 60 + labelW * 0.75;
  const accW = 64;
  const width = Math.ceil(left + k * cell + accW + 20);
  const height = Math.ceil(top + k * cell + 40);
  const body: string[] = [];
  body.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(options.title ?? 'confusion matrix')}</text>`);
  body.push(`<text x="${left + (k * cell) / 2}" y="42" text-anchor="middle">predicted class</text>`);
  body.push(`<text transform="translate(14 ${top + (k * cell) / 2}) rotate(-90)" text-anchor="middle">true class</text>`);
  body.push(`<text x="${left + k * cell + accW / 2 + 6}" y="${top - 8}" text-anchor="middle">accuracy</text>`);
  names.forEach((n, j) => {
    const x = left + j * cell + cell / 2;
    body.push(`<text transform="translate(${x + 4} ${top - 6}) rotate(-45)" font-size="11">${esc(n)}</text>`);
  });
  confusion.forEach((row, i) => {
    let total = 0;
    for (const v of row) total += v;
    const y = top + i * cell;
    body.push(`<text x="${left - 6}" y="${y + cell / 2 + 4}" text-anchor="end" font-size="11">${esc(names[i])}</text>`);
    row.forEach((v, j) => {
      const share = total ? v / total : NaN;
      const x = left + j * cell;
      body.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${shade(share)}" stroke="#ddd"><title>true ${esc(names[i])}, predicted ${esc(names[j])}: ${v}</title></rect>`);
      if (v > 0) body.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="11" fill="${share > 0.5 ? 'white' : '#222'}">${v}</text>`);
    });
    const acc = total ? row[i] / total : NaN;
    body.push(`<text x="${left + k * cell + accW / 2 + 6}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="11">${Number.isNaN(acc) ? '—' : acc.toFixed(3)}</text>`);
  });
  body.push(`<rect x="${left}" y="${top}" width="${k * cell}" height="${k * cell}" fill="none" stroke="#333"/>`);
  return svgDocument(width, height, body);
}

/** One misclassified test image for {@link misclassifiedSvg}: its pixels and true and predicted class. */
export interface MisclassifiedImage {
  /** Gray values in [0, 1], row-major. */
  pixels: ArrayLike<number>;
  width: number;
  height: number;
  trueName: string;
  predictedName: string;
  /** Softmax probability of the prediction, when known. */
  confidence?: number;
}

/** A grid of images (each a PNG inside the SVG, drawn 3× with crisp pixels) under "true → predicted" captions. */
export function misclassifiedSvg(images: readonly MisclassifiedImage[], options: { title?: string; columns?: number; scale?: number } = {}): string {
  const cols = Math.max(1, Math.min(options.columns ?? 8, images.length || 1));
  const scale = options.scale ?? 3;
  const iw = Math.max(28, ...images.map((im) => im.width)) * scale;
  const ih = Math.max(28, ...images.map((im) => im.height)) * scale;
  const cw = Math.max(iw, 118) + 12;
  const chh = ih + 44;
  const rows = Math.ceil(images.length / cols);
  const width = cols * cw + 20;
  const height = 40 + Math.max(1, rows) * chh + 10;
  const body: string[] = [
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(options.title ?? 'misclassified test images')}</text>`,
  ];
  if (!images.length) body.push(`<text x="${width / 2}" y="70" text-anchor="middle">none: every image was classified correctly</text>`);
  images.forEach((im, n) => {
    const x0 = 10 + (n % cols) * cw;
    const y0 = 40 + Math.floor(n / cols) * chh;
    const png = encodePng(toBytes(im.pixels), im.width, im.height).toString('base64');
    const x = x0 + (cw - im.width * scale) / 2;
    body.push(`<image x="${x}" y="${y0}" width="${im.width * scale}" height="${im.height * scale}" style="image-rendering:pixelated" href="data:image/png;base64,${png}"/>`);
    const conf = im.confidence === undefined ? '' : ` (${Math.round(im.confidence * 100)}%)`;
    body.push(`<text x="${x0 + cw / 2}" y="${y0 + ih + 15}" text-anchor="middle" font-size="11">true: ${esc(im.trueName)}</text>`);
    body.push(`<text x="${x0 + cw / 2}" y="${y0 + ih + 30}" text-anchor="middle" font-size="11" fill="#c62828">pred: ${esc(im.predictedName)}${conf}</text>`);
  });
  return svgDocument(width, height, body);
}
