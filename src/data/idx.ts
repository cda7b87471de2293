// IDX files (the MNIST / Fashion-MNIST container): a 4-byte magic, one big-endian uint32 per
// dimension, then the values. Only the unsigned-byte type is supported, which is all those data
// sets use. Every error starts with the file's path so a user can tell which of four files is bad.

import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count * rows * cols bytes, image after image, row-major. */
  pixels: Uint8Array;
}

const UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex = (b: number): string => '0x' + b.toString(16).padStart(2, '0');

/** Reads an IDX file of unsigned bytes; gunzips it first when the name ends in `.gz`. */
export async function readIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array = await readFile(path);
  if (path.endsWith('.gz')) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (e) {
      throw new Error(`${path}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  return parseIdx(path, bytes);
}

function parseIdx(path: string, bytes: Uint8Array): IdxArray {
  if (bytes.length < 4) throw new Error(`${path}: file is ${bytes.length} bytes, too short for the 4-byte IDX magic`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    // A common slip: a gzipped file saved without its .gz suffix.
    const hint = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (it looks gzip-compressed; name it *.gz)' : '';
    throw new Error(`${path}: not an IDX file: magic starts ${hex(bytes[0])} ${hex(bytes[1])}, expected 0x00 0x00${hint}`);
  }
  const type = bytes[2];
  if (type !== UBYTE) {
    const name = TYPE_NAMES[type] ? `${TYPE_NAMES[type]}` : 'unknown type';
    throw new Error(`${path}: IDX type byte ${hex(type)} (${name}) is not supported; only 0x08 (unsigned byte) is`);
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new Error(`${path}: IDX header declares 0 dimensions`);
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) {
    throw new Error(`${path}: file is ${bytes.length} bytes, too short for the ${headerLen}-byte header of ${ndims} dimensions`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const found = bytes.length - headerLen;
  if (found !== expected) {
    const what = ndims === 3 ? 'image data' : ndims === 1 ? 'label data' : 'data';
    throw new Error(
      `${path}: expected ${expected} bytes of ${what} after the header (dims ${dims.join('x')}), found ${found}`,
    );
  }
  // Copy out of the (possibly pooled) Buffer so callers own a tight, plain Uint8Array.
  const data = new Uint8Array(expected);
  data.set(bytes.subarray(headerLen));
  return { dims, data };
}

/** Reads a 3-dimensional IDX file: count x rows x cols images. */
export async function readIdxImages(path: string): Promise<IdxImages> {
  const { dims, data } = await readIdx(path);
  if (dims.length !== 3) {
    throw new Error(`${path}: expected 3 dimensions (count, rows, cols) for images, found ${dims.length} (${dims.join('x')})`);
  }
  const [count, rows, cols] = dims;
  return { count, rows, cols, pixels: data };
}

/** Reads a 1-dimensional IDX file of class labels, each checked to be below numClasses. */
export async function readIdxLabels(path: string, numClasses = 10): Promise<Uint8Array> {
  const { dims, data } = await readIdx(path);
  if (dims.length !== 1) {
    throw new Error(`${path}: expected 1 dimension for labels, found ${dims.length} (${dims.join('x')})`);
  }
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= numClasses) {
      throw new Error(`${path}: label ${data[i]} at index ${i} is outside 0..${numClasses - 1}`);
    }
  }
  return data;
}

/** Writes an unsigned-byte IDX file (gzip level 9 when the name ends in `.gz`), atomically. */
export async function writeIdx(path: string, dims: readonly number[], data: Uint8Array): Promise<void> {
  if (dims.length < 1 || dims.length > 255) throw new Error(`${path}: IDX needs 1..255 dimensions, got ${dims.length}`);
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new Error(`${path}: dimension ${d} is not a uint32`);
  }
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new Error(`${path}: dims ${dims.join('x')} need ${expected} bytes, data has ${data.length}`);
  }
  const headerLen = 4 + 4 * dims.length;
  const bytes = new Uint8Array(headerLen + data.length);
  const view = new DataView(bytes.buffer);
  bytes[2] = UBYTE;
  bytes[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  bytes.set(data, headerLen);
  const out = path.endsWith('.gz') ? await gzipAsync(bytes, { level: 9 }) : bytes;
  await writeAtomically(path, (tmp) => writeFile(tmp, out));
}

/**
 * Runs `write` against a hidden temp file beside `path`, then renames it over `path`, so a crash or
 * error never leaves a half-written file under the real name. The temp name keeps `path`'s basename
 * as its suffix (so `.gz` still reads as gzip), and is removed on failure.
 */
export async function writeAtomically(path: string, write: (tmpPath: string) => Promise<void>): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${process.pid}-${randomBytes(4).toString('hex')}-${basename(path)}`);
  try {
    await write(tmp);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
