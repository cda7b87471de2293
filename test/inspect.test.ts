// inspectGradients: per-block gradient norms through the branch and the shortcut, checked against
// gradients taken independently with retainGrad on a hand-unrolled copy of the same forward.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../src/cli/args.js';
import { GRADFLOW_HELP, gradflowCommand } from '../src/cli/gradflow.js';
import { Tensor, add, crossEntropy, manualSeed, randint, randn, relu } from '../src/index.js';
import { inspectGradients, l2norm } from '../src/inspect/index.js';
import { Residual, resnet18 } from '../src/models/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, Module, ReLU, Sequential } from '../src/nn/index.js';

/** stem, an identity-shortcut block, a projection block, head: small enough to unroll by hand. */
function smallNet(): Sequential {
  return new Sequential(
    new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU()),
    new Residual(4, 4),
    new Residual(4, 8, { use1x1conv: true, strides: 2 }),
    new AdaptiveAvgPool2d([1, 1]),
    new Flatten(),
    new Linear(8, 3),
  );
}

function batch() {
  manualSeed(3);
  return { x: randn([4, 1, 6, 6]), y: randint(0, 3, [4], { dtype: 'int32' }) };
}

interface Retained {
  out: Tensor;
  sum: Tensor;
  Y: Tensor;
  Xs: Tensor;
  X: Tensor;
  Xa: Tensor;
  Xb: Tensor;
}

/** The block's forward with every tensor of interest kept: Xa feeds only conv1, Xb only the shortcut. */
function unrolledBlock(blk: Residual, X: Tensor, keep: Retained[]): Tensor {
  const Xa = X.clone();
  const Xb = X.clone();
  const Y = blk.bn2.call(blk.conv2.call(relu(blk.bn1.call(blk.conv1.call(Xa)))));
  const Xs = blk.conv3 ? blk.conv3.call(Xb) : Xb;
  const sum = add(Y, Xs);
  const out = relu(sum);
  const r = { out, sum, Y, Xs, X, Xa, Xb };
  for (const t of Object.values(r)) t.retainGrad();
  keep.push(r);
  return out;
}

const rel = (a: number | null, b: number) => Math.abs(a! - b) / Math.max(Math.abs(b), 1e-30);

describe('inspectGradients', () => {
  it('matches gradients taken with retainGrad on the same tensors, block by block and per parameter', () => {
    manualSeed(0);
    const net = smallNet();
    const { x, y } = batch();
    const report = inspectGradients(net, { x, y });

    net.zeroGrad();
    const keep: Retained[] = [];
    let h = net.at(0).call(x.detach().requiresGrad_());
    h = unrolledBlock(net.at(1) as Residual, h, keep);
    h = unrolledBlock(net.at(2) as Residual, h, keep);
    const loss = crossEntropy(net.at(5).call(net.at(4).call(net.at(3).call(h))), y);
    loss.backward();

    expect(report.loss).toBe(loss.item());
    expect(report.blocks.map((b) => [b.path, b.depth, b.skip, b.projection])).toEqual([
      ['1', 1, true, false],
      ['2', 2, true, true],
    ]);
    // Float32 gradients summed in a possibly different order where X fans out; 1e-5 relative covers that.
    const tol = 1e-5;
    report.blocks.forEach((b, i) => {
      const r = keep[i];
      const want = {
        output: l2norm(r.out.grad)!, sum: l2norm(r.sum.grad)!, branch: l2norm(r.Y.grad)!, shortcut: l2norm(r.Xs.grad)!,
        input: l2norm(r.X.grad)!, inputViaBranch: l2norm(r.Xa.grad)!, inputViaShortcut: l2norm(r.Xb.grad)!,
      };
      for (const [k, v] of Object.entries(want)) {
        expect(v, `${b.path}.${k}`).toBeGreaterThan(0);
        expect(rel(b[k as keyof typeof want], v), `${b.path}.${k}: ${b[k as keyof typeof want]} vs ${v}`).toBeLessThan(tol);
      }
    });
    for (const p of report.params) {
      const t = net.namedParameters().find(([n]) => n === p.name)![1];
      expect(rel(p.gradNorm, l2norm(t.grad)!), p.name).toBeLessThan(tol);
      // BN biases start at 0: no ratio for a zero weight.
      if (p.weightNorm === 0) expect(p.ratio, p.name).toBeNull();
      else expect(p.ratio, p.name).toBeCloseTo(p.gradNorm! / l2norm(t)!, 12);
    }
  });

  it('lists parameters in depth order (conv3 after bn2, as forward runs them) and leaves no hooks behind', () => {
    manualSeed(0);
    const net = smallNet();
    const { x, y } = batch();
    const countNodes = () => {
      const seen = new Set<unknown>();
      const stack = [net.call(x).sum().gradFn];
      while (stack.length) {
        const n = stack.pop();
        if (!n || seen.has(n)) continue;
        seen.add(n);
        for (const e of n.edges) if (e?.node) stack.push(e.node);
      }
      return seen.size;
    };
    const before = countNodes();
    const report = inspectGradients(net, { x, y });
    expect(countNodes()).toBe(before);
    expect(report.params.map((p) => p.name).slice(4, 18)).toEqual([
      '1.conv1.weight', '1.conv1.bias', '1.bn1.weight', '1.bn1.bias', '1.conv2.weight', '1.conv2.bias', '1.bn2.weight', '1.bn2.bias',
      '2.conv1.weight', '2.conv1.bias', '2.bn1.weight', '2.bn1.bias', '2.conv2.weight', '2.conv2.bias',
    ]);
    expect(report.params.map((p) => p.name).slice(18)).toEqual([
      '2.bn2.weight', '2.bn2.bias', '2.conv3.weight', '2.conv3.bias', '5.weight', '5.bias',
    ]);
    // The gradients stay in .grad, as after a plain backward.
    const g = net.parameters().map((p) => Array.from(p.grad!.data));
    net.zeroGrad();
    crossEntropy(net.call(x), y).backward();
    expect(net.parameters().map((p) => Array.from(p.grad!.data))).toEqual(g);
  });

  it('on blocks whose branch weights are zero, all gradient at the input comes through the shortcut', () => {
    manualSeed(0);
    const net = smallNet();
    for (const blk of [net.at(1), net.at(2)] as Residual[]) {
      blk.conv2.weight.data.fill(0);
      blk.bn2.weight!.data.fill(0);
    }
    const report = inspectGradients(net, batch());
    for (const b of report.blocks) {
      expect(b.inputViaBranch, b.path).toBe(0);
      expect(b.inputViaShortcut, b.path).toBeGreaterThan(0);
      expect(b.input, b.path).toBe(b.inputViaShortcut);
    }
  });

  it('reports a plain (skip: false) net: no shortcut, all input gradient through the branch, unused conv3 without gradient', () => {
    manualSeed(0);
    const net = resnet18({ baseChannels: 4, skip: false });
    manualSeed(1);
    const report = inspectGradients(net, { x: randn([2, 1, 28, 28]), y: randint(0, 10, [2], { dtype: 'int32' }) });
    expect(report.blocks.map((b) => b.path)).toEqual(['1.0', '1.1', '2.0', '2.1', '3.0', '3.1', '4.0', '4.1']);
    expect(report.blocks.map((b) => b.depth)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const b of report.blocks) {
      expect([b.skip, b.projection, b.shortcut, b.inputViaShortcut]).toEqual([false, false, null, null]);
      expect(b.input).toBe(b.inputViaBranch);
      expect(b.output).toBeGreaterThan(0);
    }
    const conv3 = report.params.filter((p) => p.name.includes('conv3'));
    expect(conv3.map((p) => p.name)).toContain('2.0.conv3.weight');
    for (const p of conv3) expect([p.gradNorm, p.ratio]).toEqual([null, null]);
  });

  it('reports the input gradient of a model that starts with a block, and uses a given lossFn', () => {
    manualSeed(0);
    class Head extends Module {
      blk = new Residual(2, 2);
      forward(x: Tensor): Tensor {
        return this.blk.call(x);
      }
    }
    const net = new Head();
    manualSeed(2);
    const x = randn([2, 2, 3, 3]);
    const report = inspectGradients(net, { x, y: x }, { lossFn: (out) => out.sum() });
    expect(report.blocks).toHaveLength(1);
    expect(report.blocks[0].path).toBe('blk');
    expect(report.blocks[0].output).toBeCloseTo(Math.sqrt(x.size), 12); // ∂(Σ out)/∂out = 1
    expect(report.blocks[0].input).toBeGreaterThan(0);
    expect(x.grad).toBeNull(); // the caller's tensor is not touched
  });

  it('rejects a loss that is not one value, naming the shape', () => {
    const net = smallNet();
    expect(() => inspectGradients(net, batch(), { lossFn: (out) => out })).toThrow(
      'inspectGradients: lossFn must return one value, got shape [4,3]',
    );
  });
});

describe('skipgrad gradflow', () => {
  it('prints the table and writes the chart (4 series) and the CSVs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gradflow-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const code = await gradflowCommand(['--width', '4', '--steps', '1', '--batch-size', '4', '--seed', '1', '--out', dir]);
      expect(code).toBe(0);
      const out = log.mock.calls.map((c) => String(c[0]));
      expect(out[0]).toMatch(/^gradflow: ResNet vs plain, width 4, depth multiplier 1, 1 SGD steps \(batch 4, lr 0\.05\), seed 1, \d+ threads -> /);
      expect(out[1]).toBe("gradient norm at each block's output, ResNet-18 vs plain-18 (18 layers, width 4, batch 4)");
      const svg = readFileSync(join(dir, 'gradflow.svg'), 'utf8');
      for (const name of ['ResNet-18 init', 'plain-18 init', 'ResNet 1 steps', 'plain 1 steps']) expect(svg).toContain(`>${name}</text>`);
      expect(svg.match(/<path /g)).toHaveLength(4);
      const csv = readFileSync(join(dir, 'gradflow.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe('model,phase,block,path,output,sum,branch,shortcut,input,input_via_branch,input_via_shortcut');
      expect(csv).toHaveLength(1 + 2 * 2 * 8);
      expect(csv[1]).toMatch(/^resnet,init,1,1\.0,[\d.e-]+,/);
      expect(csv.at(-1)).toMatch(/^plain,trained,8,4\.1,[\d.e-]+,[\d.e-]+,[\d.e-]+,,[\d.e-]+,[\d.e-]+,$/); // no shortcut in a plain block
      const params = readFileSync(join(dir, 'gradflow-params.csv'), 'utf8').trim().split('\n');
      expect(params[0]).toBe('model,phase,name,grad_norm,weight_norm,ratio');
      expect(params[1]).toMatch(/^resnet,init,0\.0\.weight,/);
    } finally {
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad flags with a usage error and prints its help', async () => {
    await expect(gradflowCommand(['--width', '0'])).rejects.toThrow(new UsageError("skipgrad gradflow: --width expects an integer >= 1, got '0'"));
    await expect(gradflowCommand(['--depth-multiplier', 'x'])).rejects.toThrow("skipgrad gradflow: --depth-multiplier expects a number, got 'x'");
    await expect(gradflowCommand(['--batch-size', '1'])).rejects.toThrow("skipgrad gradflow: --batch-size expects an integer >= 2, got '1'");
    await expect(gradflowCommand(['--depth', '3'])).rejects.toBeInstanceOf(UsageError);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await gradflowCommand(['--help'])).toBe(0);
      expect(log).toHaveBeenCalledWith(GRADFLOW_HELP);
    } finally {
      log.mockRestore();
    }
  });
});
