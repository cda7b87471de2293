// Batches a Dataset into {x: float32 N×C×H×W, y: int32 [N]}. Order and augmentation are seeded
// per epoch from (seed, epoch), so a resumed run sees exactly the batches an uninterrupted one does.

import { Generator as RandomGenerator } from '../autograd/random.js';
import { Tensor } from '../autograd/tensor.js';
import type { Dataset, ImageSample } from './dataset.js';
import type { Transform } from './transforms.js';

/** Options of `DataLoader`, as torch.utils.data.DataLoader's keywords. */
export interface DataLoaderOptions {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Reshuffle the samples every epoch, seeded by (`seed`, epoch) (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Seeds the shuffle and the transforms' generators (default 0). */
  seed?: number;
  /** Applied to each sample as it is batched, with a generator seeded per (seed, epoch, batch). */
  transform?: Transform;
}

/** Every option the constructor reads; others (e.g. a Python-style batch_size) are refused by name. */
const LOADER_OPTIONS = ['batchSize', 'shuffle', 'dropLast', 'seed', 'transform'];

/** One batch: images `x` float32 [N, C, H, W] and class labels `y` int32 [N]. */
export interface Batch {
  x: Tensor;
  y: Tensor;
}

/**
 * Batches a `Dataset` into `{x, y}` tensors, as `torch.utils.data.DataLoader` (in-process, no
 * workers). Shuffling and augmentation are seeded from (seed, epoch[, batch]), so a run resumed at a
 * batch sees exactly the batches an uninterrupted one would.
 *
 * @example
 * ```ts
 * const train = await sg.FashionMNIST.load();
 * const loader = new sg.DataLoader(train, { batchSize: 64, shuffle: true });
 * for (const { x, y } of loader) console.log(x.shape, y.shape); // [64, 1, 28, 28] [64]
 * ```
 */
export class DataLoader implements Iterable<Batch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly transform: Transform | undefined;
  /** Epoch used by the next iteration; advanced after each full pass. */
  epoch = 0;

  constructor(
    readonly dataset: Dataset,
    options: DataLoaderOptions = {},
  ) {
    const unknown = Object.keys(options ?? {}).filter((k) => !LOADER_OPTIONS.includes(k));
    if (unknown.length) {
      throw new TypeError(`DataLoader: unknown option(s) ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${LOADER_OPTIONS.join(', ')})`);
    }
    this.batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${options.batchSize}`);
    }
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.seed = options.seed ?? 0;
    this.transform = options.transform;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The sample order of `epoch` (a seeded Fisher–Yates shuffle, or 0..N-1). */
  order(epoch: number): Int32Array {
    const n = this.dataset.length;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    if (this.shuffle) {
      const rng = new RandomGenerator(this.seed * 1_000_003 + epoch);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.randint(0, i + 1);
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
      }
    }
    return idx;
  }

  /**
   * Iterates one epoch (`epoch` defaults to the loader's counter, which then advances), from
   * batch `startBatch` on. Each batch augments with its own generator seeded by (seed, epoch,
   * batch), so skipping batches on resume leaves the later ones unchanged.
   */
  *batches(epoch?: number, startBatch = 0): Generator<Batch> {
    const e = epoch ?? this.epoch;
    if (epoch === undefined) this.epoch++;
    const order = this.order(e);
    for (let b = startBatch; b < this.length; b++) {
      const ids = order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize));
      const augment = new RandomGenerator(((this.seed * 7_919 + e) * 104_729 + b) % 2 ** 52);
      yield this.collate(Array.from(ids, (i) => this.dataset.get(i)), augment);
    }
  }

  /** Iterates the next epoch (`batches()` with the loader's epoch counter, which then advances). */
  [Symbol.iterator](): Iterator<Batch> {
    return this.batches();
  }

  private collate(samples: { x: ImageSample; y: number }[], rng: RandomGenerator): Batch {
    const imgs = samples.map((s) => (this.transform ? this.transform(s.x, rng) : s.x));
    const { channels: c, height: h, width: w } = imgs[0];
    const per = c * h * w;
    const x = new Float32Array(imgs.length * per);
    imgs.forEach((img, i) => {
      if (img.channels !== c || img.height !== h || img.width !== w) {
        throw new Error(`DataLoader: sample ${i} is ${img.channels}×${img.height}×${img.width}, the batch is ${c}×${h}×${w}`);
      }
      x.set(img.data, i * per);
    });
    const y = Int32Array.from(samples, (s) => s.y);
    return { x: new Tensor(x, [imgs.length, c, h, w]), y: new Tensor(y, [imgs.length]) };
  }
}
