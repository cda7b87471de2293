// The pictures: ticks, downsampling, the training curves at any run length, the gradient-flow
// figure's decade ticks and stage boundaries, the PNG encoder and the confusion helpers.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { type MetricRow, writeTrainingPlot } from '../src/train/metrics.js';
import { describe, expect, it } from 'vitest';
import { trainingCurvesSvg, type CurveRow } from '../src/plot/curves.js';
import { gradflowChartSvg, stageBoundaries } from '../src/plot/gradflow.js';
import { confusionSvg, misclassifiedSvg } from '../src/plot/confusion.js';
import { crc32, encodePng } from '../src/plot/png.js';
import { MAX_DRAWN_POINTS, decadeTicks, downsample, extent, fmtLogTick } from '../src/plot/svg.js';
import { confusionMatrix, perClassAccuracy } from '../src/train/confusion.js';

function rows(n: number, epochs: number): CurveRow[] {
  return Array.from({ length: n }, (_, i) => {
    const epoch = ((i + 1) / n) * epochs;
    return { epoch, step: i + 1, lr: 0.1 * (1 - i / n), loss: 2 / (1 + epoch), trainAcc: 0.5 + 0.4 * (i / n), testAcc: null };
  });
}

const attr = (tag: string, name: string) => Number(new RegExp(`${name}="([-\\d.]+)"`).exec(tag)![1]);

describe('svg primitives', () => {
  it('extent and downsample handle 200k points without a spread, keeping spikes and ends', () => {
    const pts = Array.from({ length: 200_000 }, (_, i) => [i, i === 123_457 ? 50 : Math.sin(i / 1000)] as const);
    const [lo, hi] = extent(pts.map((p) => p[1]))!;
    expect(lo).toBeCloseTo(-1, 6);
    expect(hi).toBe(50);
    expect(extent([NaN, Infinity])).toBeNull();
    const d = downsample(pts);
    expect(d.length).toBeLessThanOrEqual(MAX_DRAWN_POINTS + 1);
    expect(d[0]).toBe(pts[0]);
    expect(d.at(-1)).toBe(pts.at(-1));
    expect(d.some((p) => p[1] === 50)).toBe(true);
    for (let i = 1; i < d.length; i++) expect(d[i][0]).toBeGreaterThan(d[i - 1][0]);
    expect(downsample(pts.slice(0, 10))).toEqual(pts.slice(0, 10));
  });

  it('decade ticks: every power of ten, 1-2-5 inside a narrow range', () => {
    expect(decadeTicks(-4.2, -0.1)).toEqual([-4, -3, -2, -1]);
    expect(decadeTicks(-4.2, -0.1).map(fmtLogTick)).toEqual(['1e-4', '1e-3', '1e-2', '0.1']);
    const narrow = decadeTicks(Math.log10(0.15), Math.log10(0.6)).map((t) => Number((10 ** t).toPrecision(3)));
    expect(narrow).toEqual([0.2, 0.5]);
    expect(decadeTicks(-20, 0).length).toBeLessThanOrEqual(8);
  });
});

describe('training curves', () => {
  it('a 1-epoch run shows its test accuracy as a marker inside the frame', () => {
    const r = rows(5, 1);
    r[4].testAcc = 0.61;
    const svg = trainingCurvesSvg(r, { title: 'ResNet-18 (width 8) on the embedded subset' });
    expect(svg).toContain('>ResNet-18 (width 8) on the embedded subset</text>');
    expect(svg).toContain('epoch 1: train loss 1.000, train acc 0.820, test acc 0.610');
    for (const label of ['>loss</text>', '>accuracy</text>', '>lr</text>', '>epoch</text>', '>learning rate</text>']) expect(svg).toContain(label);
    const green = [...svg.matchAll(/<circle [^>]*fill="#2ca02c"[^>]*>/g)].map((m) => m[0]);
    expect(green.length).toBe(2); // the point and its legend swatch
    const frames = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="none" stroke="#333"\/>/g)].map((m) => m[0]);
    expect(frames).toHaveLength(3);
    const acc = frames[1];
    const [x0, w] = [attr(acc, 'x'), attr(acc, 'width')];
    const cx = attr(green[0], 'cx');
    expect(cx).toBeGreaterThan(x0 + 5);
    expect(cx).toBeLessThan(x0 + w - 5);
    expect(attr(green[0], 'r')).toBeGreaterThanOrEqual(4);
  });

  it('150,000 history rows draw without overflowing the stack, downsampled', () => {
    const r = rows(150_000, 30);
    for (let e = 1; e <= 30; e++) r[e * 5000 - 1].testAcc = 0.8;
    const svg = trainingCurvesSvg(r);
    const paths = [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1].split('L').length);
    expect(paths.length).toBe(4); // loss, train acc, test acc, lr
    for (const n of paths) expect(n).toBeLessThanOrEqual(MAX_DRAWN_POINTS + 1);
    expect(svg.length).toBeLessThan(400_000);
  });
});

describe('curves.svg of a long run (issue 12: a stack overflow at ~100k history rows)', () => {
  it('writeTrainingPlot draws 120,000 rows and names the run from config.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skipgrad-curves-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ width: 64, optimizer: 'sgd', lr: 0.1, scheduler: 'onecycle', batchSize: 128, data: '/data/fm' }));
    const r: MetricRow[] = rows(120_000, 20).map((x) => ({ ...x, examplesPerSec: 300, seconds: x.step }));
    r[r.length - 1].testAcc = 0.9;
    await writeTrainingPlot(join(dir, 'curves.svg'), r);
    const svg = readFileSync(join(dir, 'curves.svg'), 'utf8');
    expect(svg).toContain('>ResNet-18 (width 64, sgd lr 0.1, onecycle, batch 128) on /data/fm</text>');
    expect(svg).toContain('epoch 20: train loss 0.095, train acc 0.900, test acc 0.900');
  });
});

describe('gradient-flow figure', () => {
  it('has decade tick labels, block names and stage boundaries', () => {
    const blocks = ['1.0', '1.1', '2.0', '2.1', '3.0', '3.1', '4.0', '4.1'].map((path, i) => ({ depth: i + 1, path }));
    expect(stageBoundaries(blocks).map((b) => b.label)).toEqual(['b2', 'b3', 'b4', 'b5']);
    const svg = gradflowChartSvg(blocks, [{ name: 'plain', points: blocks.map((b) => [b.depth, 0.3 * 0.25 ** b.depth] as const) }]);
    for (const t of ['1e-5', '1e-4', '1e-3', '1e-2']) expect(svg).toContain(`>${t}</text>`);
    expect(svg).not.toMatch(/>0\.\d{3,}<\/text>/); // no 0.5623-style ticks
    for (const p of blocks) expect(svg).toContain(`>${p.path}</text>`);
    for (const s of ['b2', 'b3', 'b4', 'b5']) expect(svg).toContain(`>${s}</text>`);
    // The rotated y title sits left of every y tick label.
    const titleX = Number(/translate\(([\d.]+) [\d.]+\) rotate\(-90\)/.exec(svg)![1]);
    const tickXs = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="end">/g)].map((m) => Number(m[1]));
    const longest = 4 * 12 * 0.6;
    for (const x of tickXs) expect(x - longest).toBeGreaterThan(titleX + 6);
  });
});

describe('PNG encoder', () => {
  it('writes a valid grayscale PNG: signature, chunk CRCs, and the pixels back from IDAT', () => {
    const pixels = Uint8Array.from({ length: 6 * 4 }, (_, i) => i * 10);
    const png = encodePng(pixels, 6, 4);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    let off = 8;
    const chunks: Record<string, Buffer> = {};
    while (off < png.length) {
      const len = png.readUInt32BE(off);
      const type = png.subarray(off + 4, off + 8).toString('latin1');
      const data = png.subarray(off + 8, off + 8 + len);
      expect(png.readUInt32BE(off + 8 + len), type).toBe(crc32(png.subarray(off + 4, off + 8 + len)));
      chunks[type] = data;
      off += 12 + len;
    }
    expect(Object.keys(chunks)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([chunks.IHDR.readUInt32BE(0), chunks.IHDR.readUInt32BE(4), chunks.IHDR[8], chunks.IHDR[9]]).toEqual([6, 4, 8, 0]);
    const raw = inflateSync(chunks.IDAT);
    expect(raw.length).toBe(4 * 7);
    for (let y = 0; y < 4; y++) {
      expect(raw[y * 7]).toBe(0);
      expect([...raw.subarray(y * 7 + 1, y * 7 + 7)]).toEqual([...pixels.subarray(y * 6, y * 6 + 6)]);
    }
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926); // the standard CRC-32 check value
    expect(() => encodePng(pixels, 5, 4)).toThrow('encodePng: 24 bytes do not hold 5×4×1 pixels');
  });
});

describe('confusion helpers', () => {
  it('rows are true classes, columns predictions; per-class accuracy is NaN without samples', () => {
    const m = confusionMatrix([0, 1, 1, 2, 0, 1], [0, 1, 2, 2, 1, 1], 4);
    expect(m).toEqual([[1, 0, 0, 0], [1, 2, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]]);
    const acc = perClassAccuracy(m);
    expect(acc.slice(0, 3)).toEqual([1, 2 / 3, 0.5]);
    expect(acc[3]).toBeNaN();
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow('confusionMatrix: predicted[1] is 3; expected an integer class in [0, 2]');
    expect(() => confusionMatrix([0], [-1], 3)).toThrow('confusionMatrix: labels[0] is -1; expected an integer class in [0, 2]');
    expect(() => confusionMatrix([0, 1], [0], 3)).toThrow('confusionMatrix: 2 predictions but 1 labels');
    expect(() => confusionMatrix([0.5], [0], 3)).toThrow(/predicted\[0\] is 0.5/);
    expect(() => perClassAccuracy([[1, 2], [3]])).toThrow(/row 1 has 1 columns; expected a square 2×2 matrix/);
  });

  it('the pictures name the classes and hold the counts and images', () => {
    const svg = confusionSvg([[5, 1], [2, 0]], ['coat', 'shirt']);
    for (const s of ['>coat</text>', '>shirt</text>', '>5</text>', '>2</text>', '>0.833</text>', '>0.000</text>', '>true class</text>', '>predicted class</text>']) {
      expect(svg).toContain(s);
    }
    const grid = misclassifiedSvg([
      { pixels: new Float32Array(784).fill(0.5), width: 28, height: 28, trueName: 'coat', predictedName: 'shirt', confidence: 0.7 },
    ]);
    expect(grid.match(/<image [^>]*href="data:image\/png;base64,/g)).toHaveLength(1);
    expect(grid).toContain('true: coat');
    expect(grid).toContain('pred: shirt (70%)');
  });
});
