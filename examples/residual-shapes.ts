// The seed's residual-block demo: Residual(3, 3) keeps its input's shape; with a 1×1 shortcut
// convolution and stride 2, Residual(3, 6) changes the channels to 6 and halves height and width.
// Run: node dist/examples/residual-shapes.js

import { pathToFileURL } from 'node:url';
import { manualSeed, rand, models } from '../src/index.js';

const { Residual } = models;

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

export function main(): string[] {
  manualSeed(0);
  const X = rand([4, 3, 6, 6]);
  const blk = new Residual(3, 3);
  const Y = blk.call(X);
  const blk2 = new Residual(3, 6, { use1x1conv: true, strides: 2 });
  return [
    `Residual(3, 3) on ${fmt(X.shape)}: ${fmt(Y.shape)}`,
    `Residual(3, 6, {use1x1conv: true, strides: 2}) on ${fmt(X.shape)}: ${fmt(blk2.call(X).shape)}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of main()) console.log(line);
}
