// Fashion-MNIST as a Dataset: the embedded class-balanced subset by default, the official IDX
// files from a directory (Debian's /usr/share/datasets/fashion-mnist works as is), a Kaggle-layout
// CSV file, or — only when asked — a download of the official files into a cache directory.

import { ByteImageDataset } from './dataset.js';
import { FASHION_MNIST_CLASSES, downloadFashionMnist, loadFashionSplit } from './fashion_files.js';

export interface FashionMNISTOptions {
  /** Directory of IDX files or a .csv file; the embedded subset when omitted. */
  root?: string;
  train?: boolean;
  /** Download the official files into `root` (a cache directory) first, skipping those present. */
  download?: boolean;
}

export class FashionMNIST extends ByteImageDataset {
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
