// The README's "Containers, F and loss modules" snippet, run as written.
import { expect, it } from 'vitest';
import * as sg from '../src/index.js';

it('README: containers, F and loss modules', () => {
  const { nn, F } = sg;
  class MLP extends nn.Module {
    layers = new nn.ModuleList([new nn.Linear(4, 16), new nn.Linear(16, 3)]);
    act = new nn.GELU({ approximate: 'tanh' });
    forward(x: sg.Tensor) {
      for (const [i, layer] of [...this.layers].entries()) x = i ? layer.call(this.act.call(x)) : layer.call(x);
      return x;
    }
  }
  const mlp = new MLP();
  const lossFn = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
  const loss = lossFn.call(mlp.call(sg.randn([8, 4])), sg.randint(0, 3, [8], { dtype: 'int32' }));
  const bce = F.binaryCrossEntropyWithLogits(sg.randn([8]), sg.rand([8]), { posWeight: sg.tensor([2]) });
  expect(Object.keys(mlp.stateDict())).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
  loss.backward();
  expect(mlp.parameters().every((p) => p.grad !== null)).toBe(true);
  expect(Number.isFinite(loss.item()) && Number.isFinite(bce.item())).toBe(true);
});
