// A new op with a hand-written backward: Mish(x) = x·tanh(softplus(x)) (Misra, 2019), written
// from scratch (the library's own is F.mish / nn.Mish). Forward and backward sit side by side in one defineOp; gradcheck compares the
// backward with central differences in float64. Then hypot, an op of two inputs that computes
// only the gradients asked for, and a stateless layer around mish.
// Run: node dist/examples/custom-op.js

import { pathToFileURL } from 'node:url';
import { Tensor, defineOp, exp, gradcheck, log, manualSeed, randn, tanh, tensor, nn } from '../src/index.js';

/** softplus(x) = log(1 + eˣ), computed without overflow for large x. */
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export const mish = defineOp({
  name: 'mish',
  forward(ctx, x: Tensor) {
    if (x.dtype === 'int32') throw new Error(`mish: expects a float tensor, got int32 of shape [${x.shape.join(', ')}]`);
    ctx.saveForBackward(x); // backward recomputes from x rather than keeping a second buffer
    const out = x.data.slice(); // same dtype as x
    for (let i = 0; i < out.length; i++) out[i] = x.data[i] * Math.tanh(softplus(x.data[i]));
    return new Tensor(out, x.shape);
  },
  backward(ctx, g) {
    if (!ctx.needsInputGrad[0]) return [null];
    const [x] = ctx.savedTensors;
    // d/dx x·tanh(sp(x)) = tanh(sp) + x·(1 − tanh²(sp))·sigmoid(x), since sp'(x) = sigmoid(x).
    const gx = x.data.slice();
    for (let i = 0; i < gx.length; i++) {
      const v = x.data[i];
      const t = Math.tanh(softplus(v));
      gx[i] = g.data[i] * (t + v * (1 - t * t) * sigmoid(v));
    }
    return [new Tensor(gx, x.shape)];
  },
});

/** √(a² + b²) elementwise (same shapes): two inputs, each gradient computed only when needed. */
export const hypot = defineOp({
  name: 'hypot',
  forward(ctx, a: Tensor, b: Tensor) {
    if (a.shape.join() !== b.shape.join()) throw new Error(`hypot: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
    const h = a.data.slice();
    for (let i = 0; i < h.length; i++) h[i] = Math.hypot(a.data[i], b.data[i]);
    const out = new Tensor(h, a.shape);
    ctx.saveForBackward(a, b, out); // ∂h/∂a = a/h reuses the output
    return out;
  },
  backward(ctx, g) {
    const [a, b, h] = ctx.savedTensors;
    const gh = g.div(h);
    return [ctx.needsInputGrad[0] ? gh.mul(a) : null, ctx.needsInputGrad[1] ? gh.mul(b) : null];
  },
});

/** The op as a layer: no parameters, so nothing else to declare. */
export class Mish extends nn.Module {
  forward(x: Tensor): Tensor {
    return mish(x);
  }
}

export function main(): string[] {
  const x = tensor([-3, -1, 0, 1, 3], { dtype: 'float64' });
  const y = mish(x);
  // The same function composed from built-in ops, whose gradients the engine derives.
  const composed = x.mul(tanh(log(exp(x).add(1))));
  const diff = Math.max(...Array.from(y.data, (v, i) => Math.abs(v - composed.data[i])));

  manualSeed(0);
  const a = randn([3, 4], { dtype: 'float64' }).mul(3).requiresGrad_();
  const check = gradcheck(mish, [a]);
  const b = tensor([-2, 0.5, 4], { dtype: 'float64', requiresGrad: true });
  const check2 = gradcheck((t) => new Mish().call(t).mul(t), [b]);

  const p = tensor([3, -1, 0.5], { dtype: 'float64', requiresGrad: true });
  const q = tensor([4, 2, -2], { dtype: 'float64', requiresGrad: true });
  const check3 = gradcheck(hypot, [p, q]);

  const leaf = tensor([1, 2], { requiresGrad: true });
  mish(leaf).sum().backward();
  const fmt = (t: Tensor) => `[${Array.from(t.data, (v) => v.toFixed(6)).join(', ')}]`;
  return [
    `mish(${fmt(x)}) = ${fmt(y)}`,
    `max |mish - x·tanh(log(1 + eˣ))| = ${diff.toExponential(1)}`,
    `gradcheck mish on a random 3×4 float64 tensor: ${check.ok ? 'ok' : 'FAILED'}`,
    `gradcheck Mish layer inside mish(t)·t: ${check2.ok ? 'ok' : 'FAILED'}`,
    `d mish/dx at [1, 2] (float32): ${fmt(leaf.grad!)}`,
    `hypot(${fmt(p)}, ${fmt(q)}) = ${fmt(hypot(p, q))}; gradcheck: ${check3.ok ? 'ok' : 'FAILED'}`,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of main()) console.log(line);
}
