// A new residual block: ResNet-50's bottleneck (1×1 → 3×3 → 1×1 with expansion 4, torchvision's
// layout and state-dict names), assembled into a small ResNet-50-style net and trained for a few
// SGD steps on the embedded Fashion-MNIST subset. Then a new buffer-only layer, FrozenBatchNorm2d,
// takes over the trained BatchNorms' statistics for fine-tuning.
// Run: node dist/examples/custom-block.js

import { pathToFileURL } from 'node:url';
import { Tensor, add, crossEntropy, manualSeed, relu, noGrad, DataLoader, FashionMNIST, SGD, data, nn } from '../src/index.js';

const { Module, Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Flatten, Linear } = nn;

/** relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1 x)))))) + shortcut(x)), stride on the 3×3 (ResNet v1.5). */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  // Children are discovered from these fields in this order: conv1.weight, bn1.weight, …, downsample.0.weight.
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  conv2: nn.Conv2d;
  bn2: nn.BatchNorm2d;
  conv3: nn.Conv2d;
  bn3: nn.BatchNorm2d;
  downsample: nn.Sequential | null;

  constructor(inChannels: number, width: number, stride = 1) {
    super();
    const out = width * Bottleneck.expansion;
    this.conv1 = new Conv2d(inChannels, width, 1, { bias: false });
    this.bn1 = new BatchNorm2d(width);
    this.conv2 = new Conv2d(width, width, 3, { stride, padding: 1, bias: false });
    this.bn2 = new BatchNorm2d(width);
    this.conv3 = new Conv2d(width, out, 1, { bias: false });
    this.bn3 = new BatchNorm2d(out);
    // A projection only where the shape changes; null is skipped by discovery and the state dict.
    this.downsample =
      stride !== 1 || inChannels !== out
        ? new Sequential(new Conv2d(inChannels, out, 1, { stride, bias: false }), new BatchNorm2d(out))
        : null;
  }

  forward(x: Tensor): Tensor {
    let y = relu(this.bn1.call(this.conv1.call(x)));
    y = relu(this.bn2.call(this.conv2.call(y)));
    y = this.bn3.call(this.conv3.call(y));
    return relu(add(y, this.downsample ? this.downsample.call(x) : x));
  }
}

/** The seed's stem, then stages of bottlenecks (3, 4, 6, 3 is ResNet-50); stage i has width base·2^i. */
export function resnet50Style({ base = 4, stages = [3, 4, 6, 3], numClasses = 10, zeroInitResidual = true } = {}): nn.Sequential {
  const stem = new Sequential(
    new Conv2d(1, base, 7, { stride: 2, padding: 3 }),
    new BatchNorm2d(base),
    new ReLU(),
    new MaxPool2d(3, { stride: 2, padding: 1 }),
  );
  let inC = base;
  const body = stages.map((n, i) => {
    const width = base * 2 ** i;
    const blocks = Array.from({ length: n }, (_, k) => new Bottleneck(k === 0 ? inC : width * Bottleneck.expansion, width, k === 0 && i > 0 ? 2 : 1));
    inC = width * Bottleneck.expansion;
    return new Sequential(...blocks);
  });
  const net = new Sequential(stem, ...body, new AdaptiveAvgPool2d([1, 1]), new Flatten(), new Linear(inC, numClasses));
  // torchvision's zero_init_residual: bn3 scales the branch to 0, so every block starts as its shortcut.
  if (zeroInitResidual) net.apply((m) => m instanceof Bottleneck && m.bn3.weight!.data.fill(0));
  return net;
}

/** BatchNorm with fixed statistics and affine (torchvision's FrozenBatchNorm2d): four buffers, no parameters. */
export class FrozenBatchNorm2d extends Module {
  declare weight: Tensor;
  declare bias: Tensor;
  declare running_mean: Tensor;
  declare running_var: Tensor;

  constructor(readonly numFeatures: number, readonly eps = 1e-5) {
    super();
    // Buffers: in the state dict under these names (BatchNorm2d's), never handed to an optimizer.
    const vec = (v: number) => new Tensor(new Float32Array(numFeatures).fill(v), [numFeatures]);
    this.registerBuffer('weight', vec(1));
    this.registerBuffer('bias', vec(0));
    this.registerBuffer('running_mean', vec(0));
    this.registerBuffer('running_var', vec(1));
  }

  forward(x: Tensor): Tensor {
    const c = this.numFeatures;
    const scale = new Float32Array(c);
    const shift = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      scale[i] = this.weight.data[i] / Math.sqrt(this.running_var.data[i] + this.eps);
      shift[i] = this.bias.data[i] - this.running_mean.data[i] * scale[i];
    }
    return x.mul(new Tensor(scale, [1, c, 1, 1])).add(new Tensor(shift, [1, c, 1, 1]));
  }
}

/** Replaces every BatchNorm2d under `m` by a FrozenBatchNorm2d holding its statistics. */
export function freezeBatchNorm(m: nn.Module): void {
  for (const [name, child] of m.namedChildren()) {
    if (child instanceof BatchNorm2d) {
      const frozen = new FrozenBatchNorm2d(child.numFeatures, child.eps);
      // Same key names; BatchNorm2d's num_batches_tracked has no place here.
      frozen.loadStateDict(child.stateDict(), { strict: false });
      m.registerModule(name, frozen);
    } else {
      freezeBatchNorm(child);
    }
  }
}

export interface CustomBlockOptions {
  base?: number;
  stages?: number[];
  images?: number;
  batchSize?: number;
  steps?: number;
}

export async function main({ base = 4, stages = [3, 4, 6, 3], images = 64, batchSize = 16, steps = 8 }: CustomBlockOptions = {}): Promise<string[]> {
  manualSeed(0);
  const net = resnet50Style({ base, stages });
  const params = net.parameters().reduce((n, p) => n + p.size, 0);
  const layers = 2 + 3 * stages.reduce((a, b) => a + b, 0);
  const block = Object.keys(net.stateDict()).filter((k) => k.startsWith('2.0.') && k.endsWith('weight'));

  const train = await FashionMNIST.load();
  const subset = new data.Subset(train, Array.from({ length: images }, (_, i) => i));
  const loader = new DataLoader(subset, { batchSize, shuffle: true, seed: 0 });
  const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
  const losses: number[] = [];
  for (let epoch = 0; losses.length < steps; epoch++) {
    for (const { x, y } of loader.batches(epoch)) {
      if (losses.length === steps) break;
      opt.zeroGrad();
      const loss = crossEntropy(net.call(x), y);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
  }

  net.eval();
  const probe = loader.batches(0).next().value!.x;
  const before = noGrad(() => net.call(probe));
  freezeBatchNorm(net);
  const after = noGrad(() => net.call(probe));
  // Relative to the largest logit: after so few steps the running statistics lag and eval logits are large.
  const diff = Math.max(...Array.from(after.data, (v, i) => Math.abs(v - before.data[i]))) / Math.max(...Array.from(before.data, Math.abs));
  return [
    `ResNet-${layers}-style net of bottlenecks, stages [${stages.join(', ')}], base width ${base}: ${params.toLocaleString('en-US')} parameters`,
    `stage 2, block 0 weights: ${block.join(', ')}`,
    `${steps} SGD steps on ${images} images, batch ${batchSize}: loss ${losses.map((l) => l.toFixed(3)).join(' ')}`,
    `frozen BatchNorm: ${net.buffers().length} buffers, ${net.parameters().length} parameters left; ` +
      `eval logits changed by ${diff.toExponential(1)} (relative)`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await main()) console.log(line);
}
