// Stand-ins for LayerNorm, GELU, SiLU and LeakyReLU, which other branches ('layers', 'nn') add to
// skipgrad.nn with torch's field names in camelCase. The exporters read those fields by name; these
// classes exist only so the export tests can run on this branch. At merge, point the tests at the
// real modules (sg.nn.LayerNorm, sg.nn.GELU, …) and delete this file.

import * as sg from '../../src/index.js';

const { Module, Parameter } = sg.nn;

export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  weight: InstanceType<typeof Parameter> | null;
  bias: InstanceType<typeof Parameter> | null;

  constructor(normalizedShape: number | number[], readonly options: { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape.slice();
    this.weight = this.elementwiseAffine ? new Parameter(sg.ones(this.normalizedShape)) : null;
    this.bias = this.elementwiseAffine ? new Parameter(sg.zeros(this.normalizedShape)) : null;
  }

  get eps(): number {
    return this.options.eps ?? 1e-5;
  }

  get elementwiseAffine(): boolean {
    return this.options.elementwiseAffine ?? true;
  }

  forward(x: sg.Tensor): sg.Tensor {
    const dims = this.normalizedShape.map((_, i) => x.shape.length - this.normalizedShape.length + i);
    const mu = sg.mean(x, dims, { keepdim: true });
    const centered = sg.sub(x, mu);
    const v = sg.mean(sg.mul(centered, centered), dims, { keepdim: true });
    let y = sg.div(centered, sg.sqrt(sg.add(v, this.eps)));
    if (this.weight && this.bias) y = sg.add(sg.mul(y, this.weight), this.bias);
    return y;
  }
}

/** erf to ~1e-15 (series for small |x|, continued fraction for large), enough for a reference. */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz), accurate for ax >= 3.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const geluExact = sg.pointwiseOp('gelu_standin', (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), () => {
  throw new Error('the GELU stand-in has no backward');
});

export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor({ approximate = 'none' }: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    this.approximate = approximate;
  }

  forward(x: sg.Tensor): sg.Tensor {
    if (this.approximate === 'none') return geluExact(x);
    const inner = sg.mul(sg.add(x, sg.mul(sg.mul(sg.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return sg.mul(sg.mul(x, sg.add(sg.tanh(inner), 1)), 0.5);
  }
}

export class SiLU extends Module {
  forward(x: sg.Tensor): sg.Tensor {
    return sg.mul(x, sg.sigmoid(x));
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }

  /** relu(x) − slope·relu(−x). */
  forward(x: sg.Tensor): sg.Tensor {
    return sg.sub(sg.relu(x), sg.mul(sg.relu(sg.neg(x)), this.negativeSlope));
  }
}

export class Tanh extends Module {
  forward(x: sg.Tensor): sg.Tensor {
    return sg.tanh(x);
  }
}

export class Sigmoid extends Module {
  forward(x: sg.Tensor): sg.Tensor {
    return sg.sigmoid(x);
  }
}
