// Resolving --data into train and test datasets.

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FashionMNIST } from '../data/fashion_mnist.js';
import { UsageError } from './args.js';

export interface Splits {
  train: FashionMNIST;
  test: FashionMNIST;
  /** Where the training split came from (a folder, a CSV file, or the embedded subset). */
  source: string;
  /** Where the test split came from: another file than `source` when the data are CSV files. */
  testSource: string;
}

/** Test CSVs a train CSV may have beside it: Kaggle's pair first, then the same name with train → test. */
function testCsvCandidates(trainCsv: string): string[] {
  const dir = dirname(trainCsv);
  const swapped = basename(trainCsv).replace(/train/i, (m) => (m === 'TRAIN' ? 'TEST' : m[0] === 'T' ? 'Test' : 'test'));
  const names = [swapped, 'fashion-mnist_test.csv', 'test.csv'].filter((n) => n !== basename(trainCsv));
  return [...new Set(names)].map((n) => join(dir, n));
}

/** Loads the train and test splits from the embedded subset, an IDX directory, or CSV files. */
export async function loadSplits(command: string, data?: string, testData?: string): Promise<Splits> {
  if (data !== undefined && !existsSync(data)) throw new UsageError(`skipgrad ${command}: --data ${data}: no such file or directory`);
  if (data && statSync(data).isFile()) {
    if (!data.toLowerCase().endsWith('.csv')) throw new UsageError(`skipgrad ${command}: --data ${data}: expected a directory of IDX files or a .csv file`);
    // Kaggle ships fashion-mnist_train.csv beside fashion-mnist_test.csv.
    if (testData !== undefined && !existsSync(testData)) throw new UsageError(`skipgrad ${command}: --test-data ${testData}: no such file`);
    const candidates = testCsvCandidates(data);
    const test = testData ?? candidates.find((c) => existsSync(c));
    if (!test) {
      throw new UsageError(`skipgrad ${command}: --data ${data} is a CSV file and no test CSV is beside it (looked for ${candidates.map((c) => basename(c)).join(', ')}); pass --test-data FILE.csv`);
    }
    return { train: await FashionMNIST.load({ root: data, train: true }), test: await FashionMNIST.load({ root: test, train: false }), source: data, testSource: test };
  }
  if (testData !== undefined && !existsSync(testData)) throw new UsageError(`skipgrad ${command}: --test-data ${testData}: no such file`);
  const train = await FashionMNIST.load({ root: data, train: true });
  const test = testData ? await FashionMNIST.load({ root: testData, train: false }) : await FashionMNIST.load({ root: data, train: false });
  const source = data ?? 'embedded Fashion-MNIST subset (6,000 train / 1,000 test)';
  return { train, test, source, testSource: testData ?? source };
}
