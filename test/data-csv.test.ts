import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFashionCsv, writeFashionCsv, type LabeledImages } from '../src/data/csv.js';
import { loadFashionSplit } from '../src/data/fashion_files.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skipgrad-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Small 2x2 images keep the bad-input cases readable.
const SMALL = { width: 2, height: 2, numClasses: 3 };
const HEADER = 'label,pixel1,pixel2,pixel3,pixel4';

/** toEqual walks typed arrays element by element (minutes for millions); compare bytes instead. */
function expectSame(actual: LabeledImages, expected: LabeledImages): void {
  expect([actual.count, actual.rows, actual.cols]).toEqual([expected.count, expected.rows, expected.cols]);
  expect(Buffer.from(actual.labels).equals(Buffer.from(expected.labels)), 'labels').toBe(true);
  expect(Buffer.from(actual.pixels).equals(Buffer.from(expected.pixels)), 'pixels').toBe(true);
  expect([actual.pixels.constructor, actual.labels.constructor]).toEqual([Uint8Array, Uint8Array]);
}

function firstImages(s: LabeledImages, count: number): LabeledImages {
  const size = s.rows * s.cols;
  return { ...s, count, pixels: s.pixels.slice(0, count * size), labels: s.labels.slice(0, count) };
}

async function csvFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('readFashionCsv / writeFashionCsv', () => {
  it('round-trips images exactly', async () => {
    // 1,500 rows: more than the reader's first buffer (1,024 rows), so growth is exercised too;
    // fast-csv parses ~1 µs per cell, so the whole subset would only slow the suite down.
    const source = firstImages(await loadFashionSplit({ train: true }), 1500);
    const path = join(dir, 'train.csv');
    await writeFashionCsv(path, source);
    const back = await readFashionCsv(path);
    expectSame(back, source);
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe(['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`)].join(','));
    expect(lines[1].split(',').map(Number)).toEqual([source.labels[0], ...source.pixels.subarray(0, 784)]);
    expect(lines.length).toBe(source.count + 2); // header, rows, and the empty string after the final newline
    expect((await readdir(dir)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('reads other sizes and class counts', async () => {
    const path = await csvFile('small.csv', `${HEADER}\n2,0,255,7,8\r\n0,1,2,3,4\n`);
    expect(await readFashionCsv(path, SMALL)).toEqual({
      count: 2,
      rows: 2,
      cols: 2,
      pixels: Uint8Array.of(0, 255, 7, 8, 1, 2, 3, 4),
      labels: Uint8Array.of(2, 0),
    });
  });

  it('loadFashionSplit reads a .csv root', async () => {
    const source = firstImages(await loadFashionSplit({ train: false }), 50);
    const path = join(dir, 'test.csv');
    await writeFashionCsv(path, source);
    expectSame(await loadFashionSplit({ root: path, train: false }), source);
  });

  it('writeFashionCsv rejects pixels that do not match the labels', async () => {
    await expect(
      writeFashionCsv(join(dir, 'bad.csv'), { pixels: new Uint8Array(7), labels: Uint8Array.of(1, 2), rows: 2, cols: 2 }),
    ).rejects.toThrow('bad.csv: 2 labels need 8 pixels (2x2 each), got 7');
  });

  const bad: Array<[string, string, string]> = [
    ['empty.csv', '', 'empty.csv: file is empty (expected the header label,pixel1,...)'],
    ['header-only.csv', `${HEADER}\n`, 'header-only.csv: has a header but no data rows'],
    ['no-header.csv', '1,2,3,4,5\n', 'no-header.csv: line 1: missing header row (expected label,pixel1,...,pixel4, found data)'],
    ['short-header.csv', 'label,pixel1\n1,2,3,4,5\n', 'short-header.csv: line 1: header has 2 columns, expected 5 (label,pixel1,...,pixel4)'],
    ['odd-header.csv', 'label,pixel1,pixel2,px3,pixel4\n', 'odd-header.csv: line 1: header column 4 is "px3", expected "pixel3"'],
    ['few-columns.csv', `${HEADER}\n1,2,3,4,5\n1,2,3,4\n`, 'few-columns.csv: line 3: expected 5 columns (label + 2x2 pixels), found 4'],
    ['many-columns.csv', `${HEADER}\n1,2,3,4,5,6\n`, 'many-columns.csv: line 2: expected 5 columns (label + 2x2 pixels), found 6'],
    ['blank-line.csv', `${HEADER}\n1,2,3,4,5\n\n1,2,3,4,5\n`, 'blank-line.csv: line 3: blank line inside the data (blank lines are allowed only at the end)'],
    ['blank-first.csv', `\n${HEADER}\n1,2,3,4,5\n`, 'blank-first.csv: line 1: blank line inside the data'],
    ['only-blank.csv', `\n\n`, 'only-blank.csv: file is empty'],
    ['huge-cell.csv', `${HEADER}\n0,1,2,${'9'.repeat(30_000)}x,4\n`, 'huge-cell.csv: line 2: pixel3 (column 4): "99999999999999999999..." (30001 characters) is not a number'],
    ['not-number.csv', `${HEADER}\n1,2,3,4,5\n0,1,x,3,4\n`, 'not-number.csv: line 3: pixel2 (column 3): "x" is not a number'],
    ['empty-cell.csv', `${HEADER}\n0,1,2,,4\n`, 'empty-cell.csv: line 2: pixel3 (column 4): "" is not a number'],
    ['fraction.csv', `${HEADER}\n0,1,2,3,4\n0,1,2,3,4.5\n`, 'fraction.csv: line 3: pixel4 (column 5): "4.5" is not an integer'],
    ['bright.csv', `${HEADER}\n0,256,2,3,4\n`, 'bright.csv: line 2: pixel1 (column 2): 256 is outside 0..255'],
    ['negative.csv', `${HEADER}\n0,1,-1,3,4\n`, 'negative.csv: line 2: pixel2 (column 3): -1 is outside 0..255'],
    ['label-high.csv', `${HEADER}\n0,1,2,3,4\n1,1,2,3,4\n3,1,2,3,4\n`, 'label-high.csv: line 4: label: 3 is outside 0..2'],
    ['label-text.csv', `${HEADER}\ncoat,1,2,3,4\n`, 'label-text.csv: line 2: label: "coat" is not a number'],
    ['label-float.csv', `${HEADER}\n1.0,1,2,3,4\n`, 'label-float.csv: line 2: label: "1.0" is not an integer'],
  ];
  for (const [name, text, message] of bad) {
    it(`rejects ${name}`, async () => {
      const path = await csvFile(name, text);
      await expect(readFashionCsv(path, SMALL)).rejects.toThrow(join(dir, message));
    });
  }

  it('rejects a label beyond the default 10 classes, with its line', async () => {
    const header = ['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`)].join(',');
    const row = (label: number) => [label, ...new Array(784).fill(0)].join(',');
    const path = await csvFile('ten.csv', [header, row(9), row(0), row(10)].join('\n'));
    await expect(readFashionCsv(path)).rejects.toThrow(`${path}: line 4: label: 10 is outside 0..9`);
  });

  it('names the file when it is missing or its quoting is broken', async () => {
    const missing = join(dir, 'missing.csv');
    await expect(readFashionCsv(missing)).rejects.toThrow(`${missing}: near line 1: ENOENT`);
    const path = await csvFile('quote.csv', `${HEADER}\n0,1,2,3,4\n0,"1,2,3,4\n`);
    await expect(readFashionCsv(path, SMALL)).rejects.toThrow(`${path}: near line 3: Parse Error: missing closing`);
  });

  it('accepts trailing blank lines (LF and CRLF) and spaces around numbers', async () => {
    const expected = { count: 2, rows: 2, cols: 2, pixels: Uint8Array.of(12, 0, 7, 8, 1, 2, 3, 4), labels: Uint8Array.of(2, 0) };
    const lf = await csvFile('trailing.csv', `${HEADER}\n2, 12,0 ,7,8\n0,1,2,3,4\n\n\n`);
    expect(await readFashionCsv(lf, SMALL)).toEqual(expected);
    const crlf = await csvFile('trailing-crlf.csv', `${HEADER}\r\n2, 12,0 ,7,8\r\n0,1,2,3,4\r\n\r\n`);
    expect(await readFashionCsv(crlf, SMALL)).toEqual(expected);
  });

  it('stops at an overlong line with a short message, before fast-csv spends seconds on it', async () => {
    const header = await csvFile('long-header.csv', `label,${'pixel1'.repeat(400_000)}\n0,1,2,3,4\n`);
    const err = await readFashionCsv(header, SMALL).catch((e: Error) => e);
    expect((err as Error).message).toBe(`${header}: line 1 is over 65536 characters; not a Fashion-MNIST CSV row`);
    const row = await csvFile('long-row.csv', `${HEADER}\n0,1,2,3,4\n${'1,'.repeat(50_000)}\n`);
    await expect(readFashionCsv(row, SMALL)).rejects.toThrow(`${row}: line 3 is over 65536 characters`);
  });
});

describe('the decoded-CSV cache', () => {
  it('reads a file back from the cache, keyed by its size and mtime, outside the data folder', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'skipgrad-csv-cache-'));
    process.env.SKIPGRAD_CACHE_DIR = cacheDir;
    try {
      const path = await csvFile('cached.csv', `${HEADER}\n2,0,255,7,8\n0,1,2,3,4\n`);
      const first = await readFashionCsv(path, SMALL);
      const entries = (await readdir(cacheDir)).filter((n) => n.endsWith('.bin'));
      expect(entries.length).toBe(1);
      // Same bytes back, and really from the cache: damage the entry's payload and it shows.
      expect(await readFashionCsv(path, SMALL)).toEqual(first);
      const entry = join(cacheDir, entries[0]);
      const bytes = await readFile(entry);
      bytes[bytes.length - 1] = 99;
      await writeFile(entry, bytes);
      expect(Array.from((await readFashionCsv(path, SMALL)).pixels)).toEqual([0, 255, 7, 8, 1, 2, 3, 99]);
      // Other options are another entry; a changed file is parsed again.
      await expect(readFashionCsv(path, { ...SMALL, numClasses: 2 })).rejects.toThrow('label: 2 is outside 0..1');
      await writeFile(path, `${HEADER}\n1,9,9,9,9\n`);
      expect(Array.from((await readFashionCsv(path, SMALL)).labels)).toEqual([1]);
      // A truncated entry is ignored, not trusted.
      for (const n of await readdir(cacheDir)) await writeFile(join(cacheDir, n), 'SGCSV001');
      expect(Array.from((await readFashionCsv(path, SMALL)).pixels)).toEqual([9, 9, 9, 9]);
    } finally {
      process.env.SKIPGRAD_CACHE_DIR = 'off';
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
