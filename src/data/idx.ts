// IDX files (the MNIST / Fashion-MNIST container): a 4-byte magic, one big-endian uint32 per
// dimension, then the values. Only the unsigned-byte type is supported, which is all those data
// sets use. Every error starts with the file's path so a user can tell which of four files is bad.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import { createGunzip, gzip } from 'node:zlib';
const gzipAsync = promisify(gzip);

/** The contents of an unsigned-byte IDX file. */
export interface IdxArray {
  /** The size of each dimension, outermost first. */
  dims: number[];
  /** The values, row-major. */
  data: Uint8Array;
}

/** A 3-dimensional IDX file read as `count` images of `rows`×`cols` bytes. */
export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count * rows * cols bytes, image after image, row-major. */
  pixels: Uint8Array;
}

const UBYTE = 0x08;
/** Largest data part readIdx accepts (the full training set is 47 MB). */
export const MAX_IDX_BYTES = 2 ** 31 - 1;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const hex = (b: number): string => '0x' + b.toString(16).padStart(2, '0');

/** Dims as `60000x28x28`; a long (corrupt) list is cut short so it cannot flood a message. */
const dimsText = (dims: readonly number[]): string =>
  dims.length <= 6 ? dims.join('x') : `${dims.slice(0, 4).join('x')}x... (${dims.length} dimensions)`;

/**
 * Reads an IDX file of unsigned bytes; gunzips it first when the name ends in `.gz`. Streams: the
 * header is checked as soon as its bytes arrive, the data is kept in a buffer that grows with what
 * actually arrived (never past what the header implies), and reading stops at the first byte past
 * that size, so a lying header or a gzip bomb costs no more memory than a valid file.
 */
export async function readIdx(path: string): Promise<IdxArray> {
  const gz = path.endsWith('.gz');
  const file = createReadStream(path);
  const stream: Readable = gz ? file.pipe(createGunzip()) : file;
  if (gz) file.on('error', (e) => stream.destroy(e));
  const header = new IdxHeaderReader(path);
  let data: Uint8Array | null = null;
  let filled = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let bytes: Uint8Array = chunk;
      if (data === null) {
        const rest = header.push(bytes);
        if (rest === null) continue;
        data = new Uint8Array(Math.min(header.expected, Math.max(rest.length, 1 << 16)));
        bytes = rest;
      }
      if (filled + bytes.length > header.expected) {
        // Uncompressed, the file's size says exactly how much is there; compressed, stop inflating.
        const found = gz ? null : (await stat(path)).size - header.length;
        throw new IdxInputError(header.tooMuch(filled + bytes.length, found));
      }
      if (filled + bytes.length > data.length) {
        const grown: Uint8Array = new Uint8Array(Math.min(header.expected, Math.max(2 * data.length, filled + bytes.length)));
        grown.set(data.subarray(0, filled));
        data = grown;
      }
      (data as Uint8Array).set(bytes, filled);
      filled += bytes.length;
    }
  } catch (e) {
    if (e instanceof IdxInputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (gz && err.code?.startsWith('Z_')) throw new Error(`${path}: corrupt gzip data (${err.message})`);
    throw new Error(`${path}: cannot read (${err.message})`);
  } finally {
    file.destroy();
    stream.destroy();
  }
  if (data === null) return header.failShort();
  if (filled !== header.expected) throw new Error(header.tooFew(filled));
  return { dims: header.dims, data: data.length === filled ? data : data.slice(0, filled) };
}

/** Errors raised by our own checks, kept apart from stream errors in readIdx's catch. */
class IdxInputError extends Error {}

/** Collects the magic and dimension words from the stream's first chunks and checks them. */
class IdxHeaderReader {
  dims: number[] = [];
  expected = 0;
  private head: number[] = [];
  constructor(private readonly path: string) {}

  private complete(): boolean {
    return this.head.length >= 4 && this.head.length >= 4 + 4 * this.head[3];
  }

  /** Feeds bytes; returns the bytes after the header once it is complete, else null. */
  push(bytes: Uint8Array): Uint8Array | null {
    let i = 0;
    while (i < bytes.length && !this.complete()) {
      this.head.push(bytes[i++]);
      if (this.head.length === 4) this.checkMagic();
    }
    if (!this.complete()) return null;
    if (this.dims.length === 0) this.checkDims();
    return bytes.subarray(i);
  }

  private fail(msg: string): never {
    throw new IdxInputError(`${this.path}: ${msg}`);
  }

  private checkMagic(): void {
    const [b0, b1, type, ndims] = this.head;
    if (b0 !== 0 || b1 !== 0) {
      // A common slip: a gzipped file saved without its .gz suffix.
      const hint = b0 === 0x1f && b1 === 0x8b ? ' (it looks gzip-compressed; name it *.gz)' : '';
      this.fail(`not an IDX file: magic starts ${hex(b0)} ${hex(b1)}, expected 0x00 0x00${hint}`);
    }
    if (type !== UBYTE) {
      const name = TYPE_NAMES[type] ? `${TYPE_NAMES[type]}` : 'unknown type';
      this.fail(`IDX type byte ${hex(type)} (${name}) is not supported; only 0x08 (unsigned byte) is`);
    }
    if (ndims === 0) this.fail('IDX header declares 0 dimensions');
  }

  private checkDims(): void {
    const h = this.head;
    for (let d = 0; d < h[3]; d++) {
      const o = 4 + 4 * d;
      this.dims.push(h[o] * 2 ** 24 + (h[o + 1] << 16) + (h[o + 2] << 8) + h[o + 3]);
    }
    const zero = this.dims.indexOf(0);
    if (zero >= 0) this.fail(`IDX dimension ${zero + 1} of ${dimsText(this.dims)} is 0 (no data)`);
    this.expected = this.dims.reduce((a, b) => a * b, 1);
    if (this.expected > MAX_IDX_BYTES) {
      this.fail(`IDX dims ${dimsText(this.dims)} describe ${this.expected} bytes, over the ${MAX_IDX_BYTES}-byte limit`);
    }
  }

  private what(): string {
    return this.dims.length === 3 ? 'image data' : this.dims.length === 1 ? 'label data' : 'data';
  }

  failShort(): never {
    if (this.head.length < 4) this.fail(`file is ${this.head.length} bytes, too short for the 4-byte IDX magic`);
    const need = 4 + 4 * this.head[3];
    this.fail(`file is ${this.head.length} bytes, too short for the ${need}-byte header of ${this.head[3]} dimensions`);
  }

  tooFew(found: number): string {
    return `${this.path}: expected ${this.expected} bytes of ${this.what()} after the header (dims ${dimsText(this.dims)}), found ${found}`;
  }

  get length(): number {
    return this.head.length;
  }

  tooMuch(atLeast: number, found: number | null): string {
    const what = found === null ? `it decompresses to at least ${atLeast}` : `found ${found}`;
    return `${this.path}: expected ${this.expected} bytes of ${this.what()} after the header (dims ${dimsText(this.dims)}), ${what}`;
  }
}

/** Reads a 3-dimensional IDX file: count x rows x cols images. */
export async function readIdxImages(path: string): Promise<IdxImages> {
  const { dims, data } = await readIdx(path);
  if (dims.length !== 3) {
    throw new Error(`${path}: expected 3 dimensions (count, rows, cols) for images, found ${dims.length} (${dimsText(dims)})`);
  }
  const [count, rows, cols] = dims;
  return { count, rows, cols, pixels: data };
}

/** Reads a 1-dimensional IDX file of class labels, each checked to be below numClasses. */
export async function readIdxLabels(path: string, numClasses = 10): Promise<Uint8Array> {
  const { dims, data } = await readIdx(path);
  if (dims.length !== 1) {
    throw new Error(`${path}: expected 1 dimension for labels, found ${dims.length} (${dimsText(dims)})`);
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
