// Resolving --data into train and test datasets.

import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FashionMNIST } from '../data/fashion_mnist.js';
import { UsageError } from './args.js';

/** Loads the train and test splits from the embedded subset, an IDX directory, or CSV files. */
export async function loadSplits(command: string, data?: string, testData?: string): Promise<{ train: FashionMNIST; test: FashionMNIST; source: string }> {
  if (data !== undefined && !existsSync(data)) throw new UsageError(`skipgrad ${command}: --data ${data}: no such file or directory`);
  if (data && statSync(data).isFile()) {
    if (!data.toLowerCase().endsWith('.csv')) throw new UsageError(`skipgrad ${command}: --data ${data}: expected a directory of IDX files or a .csv file`);
    // Kaggle ships fashion-mnist_train.csv beside fashion-mnist_test.csv.
    const sibling = join(dirname(data), basename(data).replace(/train/i, 'test'));
    const test = testData ?? (sibling !== data && existsSync(sibling) ? sibling : undefined);
    if (!test) throw new UsageError(`skipgrad ${command}: --data ${data} is a CSV file; pass the test split with --test-data FILE.csv`);
    return { train: await FashionMNIST.load({ root: data, train: true }), test: await FashionMNIST.load({ root: test, train: false }), source: data };
  }
  if (testData !== undefined && !existsSync(testData)) throw new UsageError(`skipgrad ${command}: --test-data ${testData}: no such file`);
  const train = await FashionMNIST.load({ root: data, train: true });
  const test = testData ? await FashionMNIST.load({ root: testData, train: false }) : await FashionMNIST.load({ root: data, train: false });
  return { train, test, source: data ?? 'embedded Fashion-MNIST subset (6,000 train / 1,000 test)' };
}
