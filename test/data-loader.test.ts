import { describe, expect, it } from 'vitest';
import { Generator, tensor, arange } from '../src/index.js';
import {
  DataLoader, TensorDataset, ByteImageDataset, Subset, FashionMNIST, compose, normalize, randomCrop,
  randomHorizontalFlip, resize, type ImageSample,
} from '../src/data/index.js';
import { decode, expectClose, loadFixture } from './helpers/fixtures.js';

function toyDataset(n: number): TensorDataset {
  // Sample i is a 1×2×2 image filled with i, so batches reveal which samples they hold.
  const x = new Float32Array(n * 4).map((_, k) => Math.floor(k / 4));
  return new TensorDataset(tensor(x, { shape: [n, 1, 2, 2] }), tensor(Int32Array.from({ length: n }, (_, i) => i % 3)));
}

function sampleIds(batchX: { data: ArrayLike<number>; shape: readonly number[] }): number[] {
  const per = batchX.shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: batchX.shape[0] }, (_, i) => batchX.data[i * per]);
}

describe('DataLoader', () => {
  it('covers every sample exactly once per epoch, in a seeded order', () => {
    const loader = new DataLoader(toyDataset(10), { batchSize: 4, shuffle: true, seed: 7 });
    expect(loader.length).toBe(3);
    const epoch0 = [...loader.batches(0)].flatMap((b) => sampleIds(b.x));
    expect([...epoch0].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch0).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again = [...new DataLoader(toyDataset(10), { batchSize: 4, shuffle: true, seed: 7 }).batches(0)].flatMap((b) => sampleIds(b.x));
    expect(again).toEqual(epoch0);
    const epoch1 = [...loader.batches(1)].flatMap((b) => sampleIds(b.x));
    expect(epoch1).not.toEqual(epoch0);
    const otherSeed = [...new DataLoader(toyDataset(10), { batchSize: 4, shuffle: true, seed: 8 }).batches(0)].flatMap((b) => sampleIds(b.x));
    expect(otherSeed).not.toEqual(epoch0);
  });

  it('yields float32 N×C×H×W and int32 labels; dropLast drops the short batch', () => {
    const loader = new DataLoader(toyDataset(10), { batchSize: 4, dropLast: true });
    const batches = [...loader];
    expect(batches.length).toBe(2);
    expect(batches[1].x.shape).toEqual([4, 1, 2, 2]);
    expect(batches[1].x.dtype).toBe('float32');
    expect(batches[1].y.dtype).toBe('int32');
    expect(Array.from(batches[1].y.data)).toEqual([1, 2, 0, 1]);
    const all = [...new DataLoader(toyDataset(10), { batchSize: 4 })];
    expect(all.map((b) => b.x.shape[0])).toEqual([4, 4, 2]);
  });

  it('starting at a later batch gives the same batches as a full pass', () => {
    const aug = compose(randomCrop(2, 1), randomHorizontalFlip());
    const loader = new DataLoader(toyDataset(12), { batchSize: 3, shuffle: true, seed: 3, transform: aug });
    const full = [...loader.batches(2)].map((b) => Array.from(b.x.data));
    const tail = [...loader.batches(2, 2)].map((b) => Array.from(b.x.data));
    expect(tail).toEqual(full.slice(2));
  });

  it('rejects a bad batch size', () => {
    expect(() => new DataLoader(toyDataset(3), { batchSize: 0 })).toThrow('DataLoader: batchSize must be a positive integer, got 0');
  });
});

describe('datasets', () => {
  it('ByteImageDataset scales bytes to [0, 1]; Subset and TensorDataset check indices and shapes', () => {
    const ds = new ByteImageDataset(Uint8Array.from([0, 255, 51, 102]), Uint8Array.from([3, 4]), 1, 2);
    expect(Array.from(ds.get(1).x.data)).toEqual([0.2, 0.4].map((v) => Math.fround(v)));
    expect(ds.get(1).y).toBe(4);
    expect(() => ds.get(2)).toThrow('ByteImageDataset: index 2 is out of range for 2 samples');
    expect(new Subset(ds, [1]).get(0).y).toBe(4);
    expect(() => new TensorDataset(arange(0, 6, 1, { dtype: 'float32' }).reshape([2, 3]), tensor([1, 2], { dtype: 'int32' }))).toThrow(
      'TensorDataset: x must be N×C×H×W or N×H×W, got [2,3]',
    );
  });

  it('FashionMNIST loads the embedded subset by default', async () => {
    const train = await FashionMNIST.load();
    const test = await FashionMNIST.load({ train: false });
    expect(train.length).toBe(6000);
    expect(test.length).toBe(1000);
    expect(train.classes[9]).toBe('ankle boot');
    const first = train.get(0);
    expect(first.y).toBe(9);
    expect(first.x.height).toBe(28);
    // Pixel sum of the first training image is 76247 (read off the real file, see data-idx tests).
    expect(Math.round(first.x.data.reduce((a, b) => a + b, 0) * 255)).toBe(76247);
  });
});

describe('transforms', () => {
  const img = (h: number, w: number, values?: number[]): ImageSample => ({
    data: Float32Array.from(values ?? Array.from({ length: h * w }, (_, i) => i)),
    channels: 1,
    height: h,
    width: w,
  });

  it('resize matches torch bilinear interpolation (align_corners=False)', () => {
    for (const [name, c] of Object.entries(loadFixture('data'))) {
      const x = decode(c.x);
      const [ch, h, w] = x.shape;
      const [, oh, ow] = c.y.shape;
      const out = resize([oh, ow])({ data: x.data as Float32Array, channels: ch, height: h, width: w }, new Generator(0));
      expectClose(tensor(out.data, { shape: [ch, oh, ow] }), c.y, `resize ${name}`);
    }
  });

  it('normalize, flip and crop move pixels where they should', () => {
    expect(Array.from(normalize(1, 2)(img(1, 2, [3, 5]), new Generator(0)).data)).toEqual([1, 2]);
    expect(Array.from(randomHorizontalFlip(1)(img(1, 3), new Generator(0)).data)).toEqual([2, 1, 0]);
    expect(Array.from(randomHorizontalFlip(0)(img(1, 3), new Generator(0)).data)).toEqual([0, 1, 2]);
    // A 3×3 crop of a 3×3 image padded by 1: every crop keeps the image centre value somewhere.
    const seen = new Set<string>();
    const g = new Generator(1);
    for (let i = 0; i < 50; i++) {
      const out = randomCrop(3, 1)(img(3, 3), g);
      expect(out.height).toBe(3);
      expect(Array.from(out.data)).toContain(4);
      seen.add(Array.from(out.data).join(','));
    }
    expect(seen.size).toBe(9); // all 9 offsets occur
    expect(() => randomCrop(9, 1)(img(3, 3), g)).toThrow('randomCrop: crop 9 is larger than the padded image 5×5');
  });
});
