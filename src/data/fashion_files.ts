// Where Fashion-MNIST comes from: the subset embedded in this package, a directory of the four
// official IDX files, a Kaggle-style CSV, or a download from the original mirror.

import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { readFashionCsv, type LabeledImages } from './csv.js';
import { readIdx, readIdxImages, readIdxLabels, writeAtomically } from './idx.js';

/** Class names in label order, spelled as in D2L. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  't-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot',
]);

/** The official file names, without `.gz`. */
export const FASHION_MNIST_FILES = Object.freeze({
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
});

/** The original repository's mirror; S3 website endpoints serve plain http only. */
export const FASHION_MNIST_MIRROR = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

let cachedDataDir: string | undefined;

/**
 * Absolute path of the package's `data/fashion-mnist`. Found by walking up from this module to the
 * package.json named "skipgrad", so it holds for src/ under vitest, dist/ after tsc, and node_modules.
 */
export function embeddedDataDir(): string {
  if (cachedDataDir) return cachedDataDir;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'skipgrad') {
          return (cachedDataDir = join(dir, 'data', 'fashion-mnist'));
        }
      } catch {
        // An unreadable package.json on the way up is not ours; keep climbing.
      }
    }
    if (dirname(dir) === dir) throw new Error(`no package.json named "skipgrad" above ${start}`);
  }
}

/** Options of `loadFashionSplit`. */
export interface FashionSplitOptions {
  /** undefined: the embedded subset; a directory: the official IDX files; a `.csv` file: Kaggle layout. */
  root?: string;
  /** The training split (true) or the test split; picks which IDX files of a directory are read. */
  train: boolean;
}

/**
 * Reads one Fashion-MNIST split from `root`: the embedded subset when it is undefined, the official
 * IDX files (`.gz` or not) from a directory, or a Kaggle-layout `.csv` file, which holds a single
 * split and is read as is whatever `train` says.
 */
export async function loadFashionSplit(options: FashionSplitOptions): Promise<LabeledImages> {
  const root = options.root ?? embeddedDataDir();
  const info = await stat(root).catch(() => {
    throw new Error(`Fashion-MNIST root ${root} does not exist`);
  });
  if (info.isFile()) {
    if (!root.toLowerCase().endsWith('.csv')) {
      throw new Error(`Fashion-MNIST root ${root} is a file but not a .csv; pass a directory of IDX files or a .csv`);
    }
    return readFashionCsv(root);
  }
  const names = options.train
    ? [FASHION_MNIST_FILES.trainImages, FASHION_MNIST_FILES.trainLabels]
    : [FASHION_MNIST_FILES.testImages, FASHION_MNIST_FILES.testLabels];
  const [imagesPath, labelsPath] = names.map((name) => findIdxFile(root, name));
  const images = await readIdxImages(imagesPath);
  const labels = await readIdxLabels(labelsPath);
  if (labels.length !== images.count) {
    throw new Error(`${root}: ${imagesPath} has ${images.count} images but ${labelsPath} has ${labels.length} labels`);
  }
  return { ...images, labels };
}

/** Accepts `name.gz` or uncompressed `name`, preferring the compressed one as distributed. */
function findIdxFile(dir: string, name: string): string {
  const candidates = [`${name}.gz`, name];
  for (const c of candidates) {
    if (existsSync(join(dir, c))) return join(dir, c);
  }
  throw new Error(`Fashion-MNIST file missing in ${dir}: looked for ${candidates.join(' and ')}`);
}

/**
 * Downloads the four official gzipped IDX files into cacheDir (created if needed), skipping files
 * already there. Each download lands in a temp file, is parsed with readIdx, then renamed into
 * place. Returns cacheDir's absolute path, ready to pass as `root` to loadFashionSplit.
 */
export async function downloadFashionMnist(cacheDir: string, mirror = FASHION_MNIST_MIRROR): Promise<string> {
  const dir = resolve(cacheDir);
  await mkdir(dir, { recursive: true });
  for (const name of Object.values(FASHION_MNIST_FILES)) {
    const file = `${name}.gz`;
    const dest = join(dir, file);
    if (existsSync(dest)) continue;
    const url = new URL(file, mirror);
    await writeAtomically(dest, async (tmp) => {
      await fetchToFile(url, tmp);
      // A truncated or wrong download fails here and never takes the real name.
      await readIdx(tmp).catch((e: Error) => {
        throw new Error(`${url}: download is not a valid IDX file: ${e.message}`);
      });
    });
  }
  return dir;
}

function fetchToFile(url: URL, dest: string, redirectsLeft = 5): Promise<void> {
  // node:https refuses http: URLs, and the mirror is http-only, so pick the client by protocol.
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolvePromise, reject) => {
    const req = client.get(url, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirectsLeft > 0) {
        res.resume();
        fetchToFile(new URL(res.headers.location, url), dest, redirectsLeft - 1).then(resolvePromise, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`${url}: HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      pipeline(res, createWriteStream(dest)).then(resolvePromise, (e: Error) =>
        reject(new Error(`${url}: download failed (${e.message})`)),
      );
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no data for 60 s')));
    req.on('error', (e) => reject(new Error(`${url}: ${e.message}`)));
  });
}
