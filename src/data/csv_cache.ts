// A cache of decoded Fashion-MNIST CSV files: parsing the 60,000-row Kaggle CSV takes ~45 s, reading
// its decoded bytes back well under 1 s. Entries live outside the user's data folder, in
// $SKIPGRAD_CACHE_DIR, else $XDG_CACHE_HOME/skipgrad, else ~/.cache/skipgrad
// (SKIPGRAD_CACHE_DIR=off turns the cache off). An entry is keyed by the CSV's absolute path, size
// and modification time and the reader's options, so an edited file is parsed again. A missing,
// stale or damaged entry is ignored; failing to write one never fails the read.

import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LabeledImages } from './csv.js';
import { writeAtomically } from './idx.js';

export interface CsvCacheKey {
  numClasses: number;
  width: number;
  height: number;
}

const MAGIC = 'SGCSV001';
const HEADER_BYTES = 8 + 4 * 4;

/** The cache folder, or null when SKIPGRAD_CACHE_DIR=off. */
export function csvCacheDir(): string | null {
  const env = process.env.SKIPGRAD_CACHE_DIR;
  if (env === 'off') return null;
  if (env) return resolve(env);
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'skipgrad');
}

async function entryPath(csvPath: string, key: CsvCacheKey): Promise<string | null> {
  const dir = csvCacheDir();
  if (dir === null) return null;
  const info = await stat(csvPath).catch(() => null);
  if (info === null || !info.isFile()) return null;
  const id = JSON.stringify([resolve(csvPath), info.size, info.mtimeMs, key.numClasses, key.width, key.height]);
  return join(dir, `csv-${createHash('sha256').update(id).digest('hex').slice(0, 32)}.bin`);
}

/** The decoded images of `csvPath` if a valid entry for its current contents exists, else null. */
export async function readCsvCache(csvPath: string, key: CsvCacheKey): Promise<LabeledImages | null> {
  const path = await entryPath(csvPath, key);
  if (path === null) return null;
  const bytes = await readFile(path).catch(() => null);
  if (bytes === null || bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) return null;
  const [count, rows, cols, numClasses] = [8, 12, 16, 20].map((o) => bytes.readUInt32LE(o));
  if (rows !== key.height || cols !== key.width || numClasses !== key.numClasses || count === 0) return null;
  const pixelBytes = count * rows * cols;
  if (bytes.length !== HEADER_BYTES + count + pixelBytes) return null;
  const labels = new Uint8Array(bytes.subarray(HEADER_BYTES, HEADER_BYTES + count));
  if (labels.some((l) => l >= numClasses)) return null;
  const pixels = new Uint8Array(bytes.subarray(HEADER_BYTES + count));
  return { count, rows, cols, pixels, labels };
}

/** Stores decoded images for `csvPath`; best effort (a read-only home must not fail training). */
export async function writeCsvCache(csvPath: string, key: CsvCacheKey, images: LabeledImages): Promise<void> {
  try {
    const path = await entryPath(csvPath, key);
    if (path === null) return;
    const head = Buffer.alloc(HEADER_BYTES);
    head.write(MAGIC, 0, 'latin1');
    [images.count, images.rows, images.cols, key.numClasses].forEach((v, i) => head.writeUInt32LE(v, 8 + 4 * i));
    await mkdir(csvCacheDir()!, { recursive: true });
    await writeAtomically(path, (tmp) => writeFile(tmp, Buffer.concat([head, images.labels, images.pixels])));
  } catch {
    // The cache only saves time; the decoded images are returned either way.
  }
}
