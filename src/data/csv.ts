// Fashion-MNIST as CSV in Kaggle's layout: a header `label,pixel1,...,pixel784`, then one image per
// line. Reading streams row by row into a growing buffer (the training CSV is ~130 MB of text);
// errors name the file and the 1-based line (the header is line 1). fast-csv takes ~45 s for the
// 60,000-row file, so decoded files are cached (csv_cache.ts) and a second read takes well under 1 s.

import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { format, parse } from 'fast-csv';
import { readCsvCache, writeCsvCache } from './csv_cache.js';
import { writeAtomically } from './idx.js';

/** 8-bit grayscale images with one byte label each, as read from IDX or CSV files. */
export interface LabeledImages {
  /** Number of images. */
  count: number;
  /** Image height in pixels. */
  rows: number;
  /** Image width in pixels. */
  cols: number;
  /** count * rows * cols bytes, image after image, row-major. */
  pixels: Uint8Array;
  /** `count` class labels. */
  labels: Uint8Array;
}

/** Options of `readFashionCsv` (Fashion-MNIST's 10 classes and 28×28 images by default). */
export interface FashionCsvOptions {
  /** Labels must lie in [0, numClasses) (default 10). */
  numClasses?: number;
  /** Image width (default 28); with `height` it fixes the header's `pixel1..pixelN` columns. */
  width?: number;
  /** Image height (default 28). */
  height?: number;
}

/** Marks errors we raised ourselves, so the catch-all below does not prefix the path twice. */
class CsvInputError extends Error {}

function headerFor(numPixels: number): string[] {
  const header = ['label'];
  for (let i = 1; i <= numPixels; i++) header.push(`pixel${i}`);
  return header;
}

/** A cell as it appears in a message: quoted, and cut short so one huge cell cannot flood it. */
function quoteCell(cell: string): string {
  return JSON.stringify(cell.length > 24 ? `${cell.slice(0, 20)}...` : cell) + (cell.length > 24 ? ` (${cell.length} characters)` : '');
}

/** Parses one cell as an integer in lo..hi (spaces around it allowed), or returns why it is not one. */
function parseIntIn(raw: string, lo: number, hi: number): number | string {
  const cell = raw.trim();
  if (/^[+-]?\d+$/.test(cell)) {
    const v = Number(cell);
    return v >= lo && v <= hi ? v : `${cell.length > 24 ? quoteCell(cell) : cell} is outside ${lo}..${hi}`;
  }
  if (cell !== '' && Number.isFinite(Number(cell))) return `${quoteCell(raw)} is not an integer`;
  return `${quoteCell(raw)} is not a number`;
}

/**
 * fast-csv's time grows faster than linearly with a line's length (an 8.9 MB line took 72 s), and
 * no valid row is longer than a few characters per cell: stop at the first line over the cap.
 */
class LineLengthGuard extends Transform {
  private line = 1;
  private length = 0;
  constructor(private readonly path: string, private readonly cap: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); ; nl = chunk.indexOf(10, start)) {
      const end = nl < 0 ? chunk.length : nl;
      this.length += end - start;
      if (this.length > this.cap) {
        return done(new CsvInputError(`${this.path}: line ${this.line} is over ${this.cap} characters; not a Fashion-MNIST CSV row`));
      }
      if (nl < 0) break;
      this.line++;
      this.length = 0;
      start = nl + 1;
    }
    done(null, chunk);
  }
}

/**
 * Reads a Kaggle-layout Fashion-MNIST CSV (a `label,pixel1,...,pixel784` header, then one image a
 * line). Errors name the file and the 1-based line. The decoded result is cached outside the data
 * folder (`SKIPGRAD_CACHE_DIR`, else `$XDG_CACHE_HOME/skipgrad` or `~/.cache/skipgrad`; `off` disables
 * it), so a second read of the 60,000-row file takes well under a second instead of ~45 s.
 */
export async function readFashionCsv(path: string, options: FashionCsvOptions = {}): Promise<LabeledImages> {
  const { numClasses = 10, width = 28, height = 28 } = options;
  const key = { numClasses, width, height };
  const cached = await readCsvCache(path, key);
  if (cached) return cached;
  const images = await parseFashionCsv(path, numClasses, width, height);
  await writeCsvCache(path, key, images);
  return images;
}

async function parseFashionCsv(path: string, numClasses: number, width: number, height: number): Promise<LabeledImages> {
  const numPixels = width * height;
  const header = headerFor(numPixels);
  let capacity = 1024;
  let pixels = new Uint8Array(capacity * numPixels);
  let labels = new Uint8Array(capacity);
  let count = 0;
  let line = 0;
  const fail = (msg: string): never => {
    throw new CsvInputError(`${path}: line ${line}: ${msg}`);
  };

  let blankFrom = 0; // first line of a run of blank lines: allowed at the end of the file only
  const source = createReadStream(path);
  const guard = new LineLengthGuard(path, Math.max(1 << 16, 16 * header.length));
  const parser = parse<string[], string[]>({ headers: false });
  source.on('error', (e) => parser.destroy(e));
  guard.on('error', (e) => parser.destroy(e));
  try {
    for await (const row of source.pipe(guard).pipe(parser) as AsyncIterable<string[]>) {
      line++;
      if (row.length === 0 || (row.length === 1 && row[0].trim() === '')) {
        if (blankFrom === 0) blankFrom = line;
        continue;
      }
      if (blankFrom !== 0) {
        line = blankFrom;
        fail('blank line inside the data (blank lines are allowed only at the end)');
      }
      if (line === 1) {
        checkHeader(row, header, fail);
        continue;
      }
      if (row.length !== header.length) {
        fail(`expected ${header.length} columns (label + ${height}x${width} pixels), found ${row.length}`);
      }
      if (count === capacity) {
        capacity *= 2;
        const grownPixels = new Uint8Array(capacity * numPixels);
        grownPixels.set(pixels);
        pixels = grownPixels;
        const grownLabels = new Uint8Array(capacity);
        grownLabels.set(labels);
        labels = grownLabels;
      }
      const label = parseIntIn(row[0], 0, numClasses - 1);
      if (typeof label === 'string') fail(`label: ${label}`);
      labels[count] = label as number;
      const base = count * numPixels;
      for (let i = 1; i <= numPixels; i++) {
        const v = parseIntIn(row[i], 0, 255);
        if (typeof v === 'string') fail(`pixel${i} (column ${i + 1}): ${v}`);
        pixels[base + i - 1] = v as number;
      }
      count++;
    }
  } catch (e) {
    if (e instanceof CsvInputError) throw e;
    // fast-csv and fs errors carry no line of ours; point at the line after the last good one.
    // fast-csv quotes the rest of the file into some messages: keep the first words only.
    const message = (e as Error).message;
    throw new Error(`${path}: near line ${line + 1}: ${message.length > 120 ? `${message.slice(0, 100)}...` : message}`);
  } finally {
    source.destroy(); // leaving the loop early destroys only the parser
  }
  if (line === 0 || blankFrom === 1) throw new Error(`${path}: file is empty (expected the header ${header[0]},${header[1]},...)`);
  if (count === 0) throw new Error(`${path}: has a header but no data rows`);
  return { count, rows: height, cols: width, pixels: pixels.slice(0, count * numPixels), labels: labels.slice(0, count) };
}

function checkHeader(row: string[], header: string[], fail: (msg: string) => never): void {
  const expected = `${header[0]},${header[1]},...,${header[header.length - 1]}`;
  if (row.length > 0 && /^\s*\d+\s*$/.test(row[0])) fail(`missing header row (expected ${expected}, found data)`);
  if (row.length !== header.length) fail(`header has ${row.length} columns, expected ${header.length} (${expected})`);
  for (let i = 0; i < header.length; i++) {
    if (row[i] !== header[i]) fail(`header column ${i + 1} is ${quoteCell(row[i])}, expected "${header[i]}" (${expected})`);
  }
}

/** Writes images and labels in Kaggle's CSV layout, atomically (temp file + rename). */
export async function writeFashionCsv(
  path: string,
  images: { pixels: Uint8Array; labels: Uint8Array; rows: number; cols: number },
): Promise<void> {
  const { pixels, labels, rows, cols } = images;
  const numPixels = rows * cols;
  const count = labels.length;
  if (pixels.length !== count * numPixels) {
    throw new Error(`${path}: ${count} labels need ${count * numPixels} pixels (${rows}x${cols} each), got ${pixels.length}`);
  }
  if (count === 0) throw new Error(`${path}: nothing to write (0 images); readFashionCsv would reject the file`);

  function* csvRows(): Generator<Array<number | string>> {
    yield headerFor(numPixels);
    for (let n = 0; n < count; n++) {
      yield [labels[n], ...pixels.subarray(n * numPixels, (n + 1) * numPixels)];
    }
  }
  await writeAtomically(path, (tmp) =>
    pipeline(Readable.from(csvRows()), format({ includeEndRowDelimiter: true }), createWriteStream(tmp)),
  );
}
