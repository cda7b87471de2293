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

interface SplitRoots {
  /** undefined: the embedded subset. */
  trainRoot?: string;
  testRoot?: string;
  source: string;
  testSource: string;
}

/** Where each split comes from: the embedded subset, an IDX directory, or CSV files. Checks paths only. */
function splitRoots(command: string, data?: string, testData?: string): SplitRoots {
  if (data !== undefined && !existsSync(data)) throw new UsageError(`skipgrad ${command}: --data ${data}: no such file or directory`);
  if (testData !== undefined && !existsSync(testData)) throw new UsageError(`skipgrad ${command}: --test-data ${testData}: no such file`);
  if (data && statSync(data).isFile()) {
    if (!data.toLowerCase().endsWith('.csv')) throw new UsageError(`skipgrad ${command}: --data ${data}: expected a directory of IDX files or a .csv file`);
    // Kaggle ships fashion-mnist_train.csv beside fashion-mnist_test.csv.
    const candidates = testCsvCandidates(data);
    const test = testData ?? candidates.find((c) => existsSync(c));
    if (!test) {
      throw new UsageError(`skipgrad ${command}: --data ${data} is a CSV file and no test CSV is beside it (looked for ${candidates.map((c) => basename(c)).join(', ')}); pass --test-data FILE.csv`);
    }
    return { trainRoot: data, testRoot: test, source: data, testSource: test };
  }
  const source = data ?? 'embedded Fashion-MNIST subset (6,000 train / 1,000 test)';
  return { trainRoot: data, testRoot: testData ?? data, source, testSource: testData ?? source };
}

/** Loads the train and test splits from the embedded subset, an IDX directory, or CSV files. */
export async function loadSplits(command: string, data?: string, testData?: string): Promise<Splits> {
  const r = splitRoots(command, data, testData);
  const train = await FashionMNIST.load({ root: r.trainRoot, train: true });
  const test = await FashionMNIST.load({ root: r.testRoot, train: false });
  return { train, test, source: r.source, testSource: r.testSource };
}

/** The test split alone (what `evaluate` needs): the training files are not read. */
export async function loadTestSplit(command: string, data?: string, testData?: string): Promise<Pick<Splits, 'test' | 'testSource'>> {
  const r = splitRoots(command, data, testData);
  return { test: await FashionMNIST.load({ root: r.testRoot, train: false }), testSource: r.testSource };
}
