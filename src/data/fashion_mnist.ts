// Fashion-MNIST as a Dataset: the embedded class-balanced subset by default, the official IDX
// files from a directory (Debian's /usr/share/datasets/fashion-mnist works as is), a Kaggle-layout
// CSV file, or — only when asked — a download of the official files into a cache directory.

import { ByteImageDataset } from './dataset.js';
import { FASHION_MNIST_CLASSES, downloadFashionMnist, loadFashionSplit } from './fashion_files.js';

/** Options of `FashionMNIST.load`, as torchvision's `FashionMNIST(root, train, download)`. */
export interface FashionMNISTOptions {
  /** Directory of IDX files or a .csv file; the embedded subset when omitted. */
  root?: string;
  /** The 60,000-image training split (default true) or the 10,000-image test split. */
  train?: boolean;
  /** Download the official files into `root` (a cache directory) first, skipping those present. */
  download?: boolean;
}

/**
 * Fashion-MNIST (28×28 grayscale, 10 classes) as a `Dataset`, as torchvision's `FashionMNIST`:
 * the class-balanced subset embedded in this package by default, the official IDX files from a
 * directory (Debian's /usr/share/datasets/fashion-mnist works as is), a Kaggle-layout CSV, or, only
 * with `download`, the official files fetched into a cache directory. Samples are [1, 28, 28] in [0, 1].
 */
export class FashionMNIST extends ByteImageDataset {
  /** Class names in label order (`FASHION_MNIST_CLASSES`). */
  readonly classes = FASHION_MNIST_CLASSES;

  private constructor(
    pixels: Uint8Array,
    labels: Uint8Array,
    height: number,
    width: number,
    readonly source: string,
    readonly train: boolean,
  ) {
    super(pixels, labels, height, width);
  }

  /** Loads a split (see `FashionMNISTOptions`); errors name the file that is missing or malformed. */
  static async load(options: FashionMNISTOptions = {}): Promise<FashionMNIST> {
    const train = options.train ?? true;
    let root = options.root;
    if (options.download) {
      if (!root) throw new Error('FashionMNIST: download needs `root`, the cache directory to download into');
      root = await downloadFashionMnist(root);
    }
    const split = await loadFashionSplit({ root, train });
    return new FashionMNIST(split.pixels, split.labels, split.rows, split.cols, root ?? 'embedded subset', train);
  }
}
