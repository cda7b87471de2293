import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  downloadFashionMnist,
  embeddedDataDir,
  FASHION_MNIST_CLASSES,
  loadFashionSplit,
} from '../src/data/fashion_files.js';
import { readIdx, readIdxImages, readIdxLabels, writeIdx } from '../src/data/idx.js';

const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';
const hasDebian = existsSync(join(DEBIAN_DIR, 'train-images-idx3-ubyte.gz'));
const IMAGE_SIZE = 28 * 28;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skipgrad-idx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An IDX header for unsigned bytes with the given dims, followed by `payload`. */
function idxBytes(dims: number[], payload: Uint8Array, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

function imageSum(pixels: Uint8Array, k: number): number {
  return pixels.subarray(k * IMAGE_SIZE, (k + 1) * IMAGE_SIZE).reduce((a, b) => a + b, 0);
}

function total(values: Uint8Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** The embedding rule, restated independently of the script: first `perClass` of each class. */
function firstPerClass(labels: Uint8Array, perClass: number): number[] {
  const seen = new Array(10).fill(0);
  const picked: number[] = [];
  labels.forEach((label, i) => {
    if (seen[label]++ < perClass) picked.push(i);
  });
  return picked;
}

describe('embedded Fashion-MNIST subset', () => {
  // Read off once from the real data; they hold without /usr/share/datasets.
  const facts = {
    train: { count: 6000, perClass: 600, firstLabel: 9, lastLabel: 0, firstSum: 76247, lastSum: 89530, pixelTotal: 344160204 },
    test: { count: 1000, perClass: 100, firstLabel: 9, lastLabel: 5, firstSum: 33456, lastSum: 22553, pixelTotal: 56973981 },
  };

  for (const train of [true, false]) {
    const f = train ? facts.train : facts.test;
    it(`${train ? 'train' : 'test'} split: counts, balance and known values`, async () => {
      const s = await loadFashionSplit({ train });
      expect([s.count, s.rows, s.cols]).toEqual([f.count, 28, 28]);
      expect(s.pixels.length).toBe(f.count * IMAGE_SIZE);
      expect(s.labels.length).toBe(f.count);
      const perClass = new Array(10).fill(0);
      for (const l of s.labels) perClass[l]++;
      expect(perClass).toEqual(new Array(10).fill(f.perClass));
      expect([s.labels[0], s.labels[f.count - 1]]).toEqual([f.firstLabel, f.lastLabel]);
      expect([imageSum(s.pixels, 0), imageSum(s.pixels, f.count - 1)]).toEqual([f.firstSum, f.lastSum]);
      expect(total(s.pixels)).toBe(f.pixelTotal);
    });

    it.skipIf(!hasDebian)(`${train ? 'train' : 'test'} split: equals Debian's images at the rule's indices`, async () => {
      const name = train ? 'train' : 't10k';
      const orig = await readIdxImages(join(DEBIAN_DIR, `${name}-images-idx3-ubyte.gz`));
      const origLabels = await readIdxLabels(join(DEBIAN_DIR, `${name}-labels-idx1-ubyte.gz`));
      const picked = firstPerClass(origLabels, f.perClass);
      expect(picked.length).toBe(f.count);
      const s = await loadFashionSplit({ train });
      const origImage = (i: number) => orig.pixels.subarray(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE);
      const ours = (k: number) => s.pixels.subarray(k * IMAGE_SIZE, (k + 1) * IMAGE_SIZE);
      const last = f.count - 1;
      expect(ours(0)).toEqual(origImage(picked[0]));
      expect(ours(last)).toEqual(origImage(picked[last]));
      // And the whole subset, since it is cheap.
      picked.forEach((i, k) => {
        if (s.labels[k] !== origLabels[i] || !Buffer.from(ours(k)).equals(Buffer.from(origImage(i)))) {
          expect.fail(`embedded image ${k} differs from original ${i}`);
        }
      });
    });
  }

  it('lives in the package data directory, with its licence', () => {
    const d = embeddedDataDir();
    expect(d.replaceAll('\\', '/')).toMatch(/\/data\/fashion-mnist$/);
    expect(existsSync(join(d, '..', '..', 'package.json'))).toBe(true);
    expect(existsSync(join(d, 'LICENSE'))).toBe(true);
  });

  it('names the ten classes as D2L does', () => {
    expect(FASHION_MNIST_CLASSES).toEqual([
      't-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot',
    ]);
  });

  it('offers a download function (not run: no network in tests)', () => {
    expect(typeof downloadFashionMnist).toBe('function');
  });
});

describe('loadFashionSplit on a directory', () => {
  it.skipIf(!hasDebian)("reads Debian's full files", async () => {
    const test = await loadFashionSplit({ root: DEBIAN_DIR, train: false });
    expect([test.count, test.rows, test.cols, test.labels.length]).toEqual([10000, 28, 28, 10000]);
    const train = await loadFashionSplit({ root: DEBIAN_DIR, train: true });
    expect([train.count, train.pixels.length]).toEqual([60000, 60000 * IMAGE_SIZE]);
  });

  it('accepts uncompressed files and reports missing ones', async () => {
    const sub = await mkdtemp(join(dir, 'plain-'));
    const pixels = Uint8Array.from({ length: 3 * 4 }, (_, i) => i * 20);
    await writeIdx(join(sub, 't10k-images-idx3-ubyte'), [3, 2, 2], pixels);
    await writeIdx(join(sub, 't10k-labels-idx1-ubyte'), [3], Uint8Array.of(4, 0, 9));
    const s = await loadFashionSplit({ root: sub, train: false });
    expect(s).toEqual({ count: 3, rows: 2, cols: 2, pixels, labels: Uint8Array.of(4, 0, 9) });
    await expect(loadFashionSplit({ root: sub, train: true })).rejects.toThrow(
      `Fashion-MNIST file missing in ${sub}: looked for train-images-idx3-ubyte.gz and train-images-idx3-ubyte`,
    );
  });

  it('rejects images and labels of different lengths', async () => {
    const sub = await mkdtemp(join(dir, 'mismatch-'));
    await writeIdx(join(sub, 't10k-images-idx3-ubyte.gz'), [2, 1, 1], Uint8Array.of(1, 2));
    await writeIdx(join(sub, 't10k-labels-idx1-ubyte.gz'), [3], Uint8Array.of(1, 2, 3));
    await expect(loadFashionSplit({ root: sub, train: false })).rejects.toThrow(/has 2 images but .* has 3 labels/);
  });

  it('rejects a root that is neither a directory nor a .csv', async () => {
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'hello');
    await expect(loadFashionSplit({ root: file, train: true })).rejects.toThrow(/is a file but not a \.csv/);
    await expect(loadFashionSplit({ root: join(dir, 'nowhere'), train: true })).rejects.toThrow(/does not exist/);
  });
});

describe('readIdx / writeIdx', () => {
  it('round-trips gzipped and plain files', async () => {
    const data = Uint8Array.from({ length: 2 * 3 * 5 }, (_, i) => (i * 37) % 256);
    for (const name of ['a-idx3-ubyte.gz', 'a-idx3-ubyte']) {
      const path = join(dir, name);
      await writeIdx(path, [2, 3, 5], data);
      expect(await readIdx(path)).toEqual({ dims: [2, 3, 5], data });
      expect(await readIdxImages(path)).toEqual({ count: 2, rows: 3, cols: 5, pixels: data });
    }
    // The gzip magic proves the .gz path really was compressed.
    expect([...(await readFile(join(dir, 'a-idx3-ubyte.gz'))).subarray(0, 2)]).toEqual([0x1f, 0x8b]);
  });

  it('writeIdx rejects data that does not fit the dims and leaves no file behind', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-'));
    await expect(writeIdx(join(sub, 'x.gz'), [2, 2], new Uint8Array(3))).rejects.toThrow(
      'x.gz: dims 2x2 need 4 bytes, data has 3',
    );
    // A write that fails after the temp file exists (the target is a directory) cleans up too.
    await mkdir(join(sub, 'target'));
    await expect(writeIdx(join(sub, 'target'), [1], Uint8Array.of(1))).rejects.toThrow();
    expect(await readdir(sub)).toEqual(['target']);
  });

  const bad: Array<[string, Uint8Array, string | RegExp]> = [
    ['magic.idx', Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), 'magic.idx: not an IDX file: magic starts 0x01 0x00, expected 0x00 0x00'],
    ['gz-no-suffix', gzipSync(idxBytes([1], Uint8Array.of(1))), /gz-no-suffix: not an IDX file: .*looks gzip-compressed/],
    ['float.idx', idxBytes([1], new Uint8Array(4), 0x0d), 'float.idx: IDX type byte 0x0d (float32) is not supported; only 0x08 (unsigned byte) is'],
    ['odd-type.idx', idxBytes([1], new Uint8Array(1), 0x42), 'odd-type.idx: IDX type byte 0x42 (unknown type) is not supported'],
    ['zero-dims.idx', Uint8Array.of(0, 0, 8, 0), 'zero-dims.idx: IDX header declares 0 dimensions'],
    ['tiny.idx', Uint8Array.of(0, 0), 'tiny.idx: file is 2 bytes, too short for the 4-byte IDX magic'],
    ['short-header.idx', Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 5), 'short-header.idx: file is 8 bytes, too short for the 16-byte header of 3 dimensions'],
    ['truncated-idx3-ubyte', idxBytes([60000, 28, 28], new Uint8Array(1000)), 'truncated-idx3-ubyte: expected 47040000 bytes of image data after the header (dims 60000x28x28), found 1000'],
    ['long-idx1-ubyte', idxBytes([3], new Uint8Array(4)), 'long-idx1-ubyte: expected 3 bytes of label data after the header (dims 3), found 4'],
    ['long-2d.idx', idxBytes([2, 2], new Uint8Array(5)), 'long-2d.idx: expected 4 bytes of data after the header (dims 2x2), found 5'],
    ['garbage.gz', new TextEncoder().encode('this is not gzip at all'), /^garbage\.gz: corrupt gzip data \(incorrect header check\)$/],
    ['zero-size.idx', idxBytes([0, 28, 28], new Uint8Array(0)), 'zero-size.idx: IDX dimension 1 of 0x28x28 is 0 (no data)'],
    ['zero-cols.gz', gzipSync(idxBytes([5, 28, 0], new Uint8Array(0))), 'zero-cols.gz: IDX dimension 3 of 5x28x0 is 0 (no data)'],
    ['short-gz-header.gz', gzipSync(Uint8Array.of(0, 0, 8, 3, 0, 0)), 'short-gz-header.gz: file is 6 bytes, too short for the 16-byte header of 3 dimensions'],
    ['cut.gz', gzipSync(idxBytes([100], new Uint8Array(100).fill(7))).subarray(0, 20), /^cut\.gz: corrupt gzip data \(unexpected end of file\)$/],
  ];
  for (const [name, bytes, message] of bad) {
    it(`rejects ${name}`, async () => {
      const path = join(dir, name);
      await writeFile(path, bytes);
      // Errors name the file by the path given; match from the directory on.
      const expected = typeof message === 'string' ? join(dir, message) : new RegExp(message.source.replace('^', '^.*'));
      await expect(readIdx(path)).rejects.toThrow(expected);
    });
  }

  it('readIdxImages and readIdxLabels check the number of dimensions', async () => {
    const path = join(dir, 'two-d.idx');
    await writeIdx(path, [2, 2], new Uint8Array(4));
    await expect(readIdxImages(path)).rejects.toThrow(`${path}: expected 3 dimensions (count, rows, cols) for images, found 2 (2x2)`);
    await expect(readIdxLabels(path)).rejects.toThrow(`${path}: expected 1 dimension for labels, found 2 (2x2)`);
  });

  it('readIdxLabels names the index of a label out of range', async () => {
    const path = join(dir, 'bad-labels-idx1-ubyte.gz');
    await writeIdx(path, [5], Uint8Array.of(0, 9, 3, 10, 2));
    await expect(readIdxLabels(path)).rejects.toThrow(`${path}: label 10 at index 3 is outside 0..9`);
    expect(await readIdxLabels(path, 11)).toEqual(Uint8Array.of(0, 9, 3, 10, 2));
  });

  it('checks a .gz header first and stops inflating at the size it implies (a gzip bomb costs nothing)', async () => {
    // A header claiming 5 labels, followed by 200 MB of zeros that gzip to ~200 KB.
    const path = join(dir, 'bomb-idx1-ubyte.gz');
    await writeFile(path, gzipSync(idxBytes([5], new Uint8Array(200 * 1024 * 1024)), { level: 1 }));
    const before = process.memoryUsage().arrayBuffers;
    const err = (await readIdx(path).catch((e: Error) => e)) as Error;
    const m = /^(.*): expected 5 bytes of label data after the header \(dims 5\), it decompresses to at least (\d+)$/.exec(err.message);
    expect(m?.[1]).toBe(path);
    // It stopped at the first chunk past the 5 bytes, not after inflating 200 MB.
    expect(Number(m?.[2])).toBeLessThanOrEqual(1 << 20);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50 * 1024 * 1024);
  });

  it('reads a valid .gz whose data spans many chunks exactly', async () => {
    const pixels = new Uint8Array(300 * 28 * 28).map((_, i) => (i * 7) % 251);
    const path = join(dir, 'many-chunks-idx3-ubyte.gz');
    await writeIdx(path, [300, 28, 28], pixels);
    const back = await readIdxImages(path);
    expect([back.count, back.rows, back.cols]).toEqual([300, 28, 28]);
    expect(Buffer.from(back.pixels).equals(Buffer.from(pixels))).toBe(true);
    expect(back.pixels.buffer.byteLength).toBe(pixels.length); // a tight array, not the growth buffer
  });
});
