/**
 * Data loading, as `torch.utils.data` and `torchvision.datasets`/`transforms`: map-style datasets,
 * a seeded `DataLoader`, Fashion-MNIST from the embedded subset, IDX files or a Kaggle CSV, and
 * per-sample image transforms. `sg.DataLoader`, `sg.TensorDataset` and `sg.FashionMNIST` are
 * also exported at the top level.
 *
 * @module
 */
export { readIdx, readIdxImages, readIdxLabels, writeIdx, type IdxArray, type IdxImages } from './idx.js';
export { readFashionCsv, writeFashionCsv, type LabeledImages, type FashionCsvOptions } from './csv.js';
export {
  FASHION_MNIST_CLASSES, FASHION_MNIST_FILES, FASHION_MNIST_MIRROR,
  embeddedDataDir, loadFashionSplit, downloadFashionMnist, type FashionSplitOptions,
} from './fashion_files.js';
export { FashionMNIST, type FashionMNISTOptions } from './fashion_mnist.js';
export { TensorDataset, ByteImageDataset, Subset, type Dataset, type Sample, type ImageSample } from './dataset.js';
export { DataLoader, type DataLoaderOptions, type Batch } from './dataloader.js';
export { compose, resize, normalize, randomCrop, randomHorizontalFlip, type Transform } from './transforms.js';
