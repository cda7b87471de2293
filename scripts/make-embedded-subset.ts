// Cuts the Fashion-MNIST subset embedded in data/fashion-mnist from the full official files
// (Debian's dataset-fashion-mnist package installs them in /usr/share/datasets/fashion-mnist).
//
//   npm run build && node dist/scripts/make-embedded-subset.js [--source DIR] [--out DIR]
//
// Rule: from the training split, the first 600 images of each class in file order (6,000); from
// the test split, the first 100 of each class (1,000). Selected images keep their file order.

import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { embeddedDataDir, FASHION_MNIST_CLASSES, FASHION_MNIST_FILES } from '../src/data/fashion_files.js';
import { readIdxImages, readIdxLabels, writeIdx } from '../src/data/idx.js';

const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';
const TRAIN_PER_CLASS = 600;
const TEST_PER_CLASS = 100;

/** Indices (ascending) of the first `perClass` examples of each class. */
function firstPerClass(labels: Uint8Array, perClass: number, numClasses: number): number[] {
  const seen = new Array<number>(numClasses).fill(0);
  const picked: number[] = [];
  labels.forEach((label, i) => {
    if (seen[label] < perClass) {
      seen[label]++;
      picked.push(i);
    }
  });
  const short = seen.findIndex((n) => n < perClass);
  if (short >= 0) throw new Error(`class ${short} has only ${seen[short]} examples, need ${perClass}`);
  return picked;
}

async function cutSplit(source: string, out: string, images: string, labels: string, perClass: number): Promise<number[]> {
  const src = await readIdxImages(join(source, `${images}.gz`));
  const srcLabels = await readIdxLabels(join(source, `${labels}.gz`));
  const picked = firstPerClass(srcLabels, perClass, FASHION_MNIST_CLASSES.length);
  const size = src.rows * src.cols;
  const pixels = new Uint8Array(picked.length * size);
  picked.forEach((from, to) => pixels.set(src.pixels.subarray(from * size, (from + 1) * size), to * size));
  await writeIdx(join(out, `${images}.gz`), [picked.length, src.rows, src.cols], pixels);
  await writeIdx(join(out, `${labels}.gz`), [picked.length], Uint8Array.from(picked, (i) => srcLabels[i]));
  return picked;
}

const LICENSE = `Fashion-MNIST subset embedded in skipgrad: the first ${TRAIN_PER_CLASS} training images and the
first ${TEST_PER_CLASS} test images of each class, cut from the official Fashion-MNIST files
(https://github.com/zalandoresearch/fashion-mnist, as packaged by Debian's dataset-fashion-mnist).

The MIT License (MIT)

Copyright (c) 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;

function readme(trainPicked: number[], testPicked: number[]): string {
  const classes = FASHION_MNIST_CLASSES.map((name, i) => `${i} ${name}`).join(', ');
  return `# Fashion-MNIST subset

A small, class-balanced slice of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist)
(28x28 grayscale images of clothing, 10 classes), shipped so that examples and tests run offline.
Licence: MIT, Copyright (c) 2017 Zalando SE; see LICENSE in this directory.

| file | contents |
| --- | --- |
| ${FASHION_MNIST_FILES.trainImages}.gz | ${trainPicked.length} images, ${TRAIN_PER_CLASS} per class, from the official training split |
| ${FASHION_MNIST_FILES.trainLabels}.gz | their labels |
| ${FASHION_MNIST_FILES.testImages}.gz | ${testPicked.length} images, ${TEST_PER_CLASS} per class, from the official test split |
| ${FASHION_MNIST_FILES.testLabels}.gz | their labels |

The files use the official IDX format and names (gzip level 9), so any MNIST reader opens them.
Labels: ${classes}.

## How it was cut

From each official split, walk the labels in file order and keep an image while fewer than N
images of its class have been kept (N = ${TRAIN_PER_CLASS} for training, ${TEST_PER_CLASS} for test).
Kept images stay in their original file order. Original indices of the first and last kept image:
training ${trainPicked[0]} and ${trainPicked[trainPicked.length - 1]}, test ${testPicked[0]} and ${testPicked[testPicked.length - 1]}.

Source: the official files as installed by Debian's \`dataset-fashion-mnist\` package in
${DEBIAN_DIR} (upstream: zalandoresearch/fashion-mnist). To regenerate:

    npm run build && node dist/scripts/make-embedded-subset.js [--source DIR] [--out DIR]
`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { source: { type: 'string' }, out: { type: 'string' } } });
  const source = values.source ?? DEBIAN_DIR;
  const out = values.out ?? embeddedDataDir();
  await stat(source).catch(() => {
    throw new Error(`${source} not found; install Debian's dataset-fashion-mnist or pass --source DIR`);
  });
  await mkdir(out, { recursive: true });
  const f = FASHION_MNIST_FILES;
  const trainPicked = await cutSplit(source, out, f.trainImages, f.trainLabels, TRAIN_PER_CLASS);
  const testPicked = await cutSplit(source, out, f.testImages, f.testLabels, TEST_PER_CLASS);
  await writeFile(join(out, 'LICENSE'), LICENSE);
  await writeFile(join(out, 'README.md'), readme(trainPicked, testPicked));
  console.log(`wrote ${trainPicked.length} training and ${testPicked.length} test images to ${out}`);
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
