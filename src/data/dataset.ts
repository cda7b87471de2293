// Datasets: indexable collections of (image, label) samples, PyTorch's map-style Dataset.

import { fmt } from '../kernels/shape.js';
import type { Tensor } from '../autograd/tensor.js';

/** One image in CHW float32 layout, values usually in [0, 1]. */
export interface ImageSample {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** One (image, label) pair of a `Dataset`. */
export interface Sample {
  x: ImageSample;
  /** The class index. */
  y: number;
}

/** A map-style dataset, as PyTorch's `Dataset`: `length` samples, read by index. */
export interface Dataset {
  readonly length: number;
  /** The sample at `index` (an integer in [0, length)); out-of-range indices throw. */
  get(index: number): Sample;
}

/** Samples are the first-dim slices of `x` (N×C×H×W or N×H×W) with labels `y` (int32 [N]). */
export class TensorDataset implements Dataset {
  private readonly channels: number;
  private readonly height: number;
  private readonly width: number;
  private readonly stride: number;

  constructor(
    readonly x: Tensor,
    readonly y: Tensor,
  ) {
    if (x.ndim !== 4 && x.ndim !== 3) throw new Error(`TensorDataset: x must be N×C×H×W or N×H×W, got ${fmt(x.shape)}`);
    if (y.ndim !== 1 || y.shape[0] !== x.shape[0]) {
      throw new Error(`TensorDataset: y ${fmt(y.shape)} must be [${x.shape[0]}] to match x ${fmt(x.shape)}`);
    }
    if (y.dtype !== 'int32') throw new Error(`TensorDataset: y must hold int32 class indices, got ${y.dtype}`);
    [this.channels, this.height, this.width] = x.ndim === 4 ? x.shape.slice(1) : [1, ...x.shape.slice(1)];
    this.stride = this.channels * this.height * this.width;
  }

  get length(): number {
    return this.x.shape[0];
  }

  /** Sample `index`: a copy of `x`'s slice as a float32 CHW image (an N×H×W `x` gives one channel), and its label. */
  get(index: number): Sample {
    checkIndex('TensorDataset', index, this.length);
    const start = index * this.stride;
    const data = Float32Array.from(this.x.data.subarray(start, start + this.stride));
    return { x: { data, channels: this.channels, height: this.height, width: this.width }, y: this.y.data[index] };
  }
}

/** 8-bit grayscale images (N×H×W bytes) with byte labels, decoded to [0, 1] on access. */
export class ByteImageDataset implements Dataset {
  constructor(
    readonly pixels: Uint8Array,
    readonly labels: Uint8Array,
    readonly height: number,
    readonly width: number,
  ) {
    if (pixels.length !== labels.length * height * width) {
      throw new Error(`ByteImageDataset: ${pixels.length} pixel bytes do not hold ${labels.length} images of ${height}×${width}`);
    }
  }

  get length(): number {
    return this.labels.length;
  }

  /** Sample `index`: its bytes decoded to a one-channel float32 image in [0, 1], and its label. */
  get(index: number): Sample {
    checkIndex('ByteImageDataset', index, this.length);
    const n = this.height * this.width;
    const data = new Float32Array(n);
    const base = index * n;
    for (let i = 0; i < n; i++) data[i] = this.pixels[base + i] / 255;
    return { x: { data, channels: 1, height: this.height, width: this.width }, y: this.labels[index] };
  }
}

/** A view of `dataset` restricted to `indices` (PyTorch's Subset). */
export class Subset implements Dataset {
  constructor(
    readonly dataset: Dataset,
    readonly indices: readonly number[],
  ) {}

  get length(): number {
    return this.indices.length;
  }

  /** Sample `indices[index]` of the underlying dataset. */
  get(index: number): Sample {
    checkIndex('Subset', index, this.length);
    return this.dataset.get(this.indices[index]);
  }
}

function checkIndex(what: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new Error(`${what}: index ${index} is out of range for ${length} samples`);
  }
}
