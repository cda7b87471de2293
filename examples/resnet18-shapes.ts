// The seed's ResNet-18 demo: the output shape of each top-level layer for one 1×224×224 image,
// as `for layer in net: X = layer(X); print(layer.__class__.__name__, 'output shape:\t', X.shape)`
// prints it, then the parameter counts.
// Run: node dist/examples/resnet18-shapes.js

import { pathToFileURL } from 'node:url';
import { models } from '../src/index.js';

const { resnet18, summary } = models;

export function main(): string[] {
  return summary(resnet18(), [1, 1, 224, 224]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of main()) console.log(line);
}
