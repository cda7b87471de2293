// Test-time augmentation ('flip') in evaluate, predict and `skipgrad evaluate --tta flip`.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

/** A model that sees left from right: Flatten + Linear(2·3 → 3) on [N, 1, 2, 3] images, fixed weights. */
function model() {
  sg.manualSeed(3);
  const m = new sg.nn.Sequential(new sg.nn.Flatten(), new sg.nn.Linear(6, 3));
  return m;
}

/** float64 log of the mean of the two softmaxes, row by row. */
function expected(a: ArrayLike<number>, b: ArrayLike<number>, c: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length / c; i++) {
    const pa = Array.from({ length: c }, (_, k) => a[i * c + k]);
    const pb = Array.from({ length: c }, (_, k) => b[i * c + k]);
    const sa = pa.reduce((s, v) => s + Math.exp(v), 0);
    const sb = pb.reduce((s, v) => s + Math.exp(v), 0);
    for (let k = 0; k < c; k++) out.push(Math.log((Math.exp(pa[k]) / sa + Math.exp(pb[k]) / sb) / 2));
  }
  return out;
}

describe("tta 'flip'", () => {
  const x = sg.tensor(Float32Array.of(0.5, -1, 2, 0, 1, -0.5, 3, 0.25, -2, 1, 1, 0), { shape: [2, 1, 2, 3] });
  const mirrored = sg.tensor(Float32Array.of(2, -1, 0.5, -0.5, 1, 0, -2, 0.25, 3, 0, 1, 1), { shape: [2, 1, 2, 3] });

  it('gives the log of the mean of the softmaxes of x and of x mirrored along W', () => {
    const m = model();
    const plain = sg.noGrad(() => m.call(x));
    const flipped = sg.noGrad(() => m.call(mirrored));
    const got = sg.noGrad(() => sg.ttaLogits(m, x, 'flip'));
    expect(got.shape).toEqual([2, 3]);
    const want = expected(plain.data, flipped.data, 3);
    got.data.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    expect(sg.noGrad(() => sg.ttaLogits(m, x, 'none')).data).toEqual(plain.data);
  });

  it('stays finite where both views are certain (log-sum-exp: a float32 softmax would underflow to log 0)', () => {
    const lin = new sg.nn.Linear(6, 2);
    sg.noGrad(() => { lin.weight.data.fill(0); lin.weight.data.set([200, 0, 200]); lin.bias!.data.fill(0); });
    const m = new sg.nn.Sequential(new sg.nn.Flatten(), lin);
    const one = sg.tensor(Float32Array.of(1, 0, 0, 0, 0, 0), { shape: [1, 1, 2, 3] }); // logits [200, 0], mirrored the same
    const got = sg.noGrad(() => sg.ttaLogits(m, one, 'flip')).data;
    expect(got[0]).toBeCloseTo(0, 6);
    expect(got[1]).toBeCloseTo(-200, 4);
  });

  it('evaluate and predict count against the averaged probabilities', () => {
    const m = model();
    const y = sg.tensor([0, 2], { dtype: 'int32' });
    const logits = sg.noGrad(() => sg.ttaLogits(m, x, 'flip'));
    const want = sg.predictClasses(logits);
    const correct = (want[0] === 0 ? 1 : 0) + (want[1] === 2 ? 1 : 0);
    const r = sg.evaluate(m, [{ x, y }], { tta: 'flip' });
    expect(r.accuracy).toBe(correct / 2);
    expect(r.loss).toBeCloseTo(sg.crossEntropy(logits, y).item(), 6);
    const loader = new sg.DataLoader(new sg.TensorDataset(x, y), { batchSize: 2 });
    const p = sg.predict(m, loader, undefined, 'flip');
    expect(Array.from(p.predicted)).toEqual(Array.from(want));
    expect(p.confidence[0]).toBeCloseTo(Math.exp(Math.max(...Array.from(logits.data.subarray(0, 3)))), 6);
  });

  it('refuses other values by name', () => {
    const m = model();
    const y = sg.tensor([0, 2], { dtype: 'int32' });
    expect(() => sg.evaluate(m, [{ x, y }], { tta: 'crop' as never })).toThrow(`evaluate: tta must be 'none' or 'flip', got "crop"`);
    expect(() => sg.ttaLogits(m, x, 'mirror' as never)).toThrow(`ttaLogits: tta must be 'none' or 'flip', got "mirror"`);
    expect(() => sg.evaluate(m, [{ x, y }], { tda: 'flip' } as never)).toThrow("evaluate: unknown option(s) 'tda' (known: metrics, lossFn, tta)");
  });
});
