// The README's tour, run as written.
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

describe('README tour', () => {
  it('tensors, backward, retainGrad and hooks', () => {
    const x = sg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
    const y = x.mul(x).add(x).sum();
    y.backward();
    expect(x.grad!.toArray()).toEqual([[3, 5], [7, 9]]);
    const h = x.relu();
    h.retainGrad();
    const handle = h.registerHook((g) => g.mul(2));
    h.sum().backward();
    expect(h.grad!.toArray()).toEqual([[2, 2], [2, 2]]);
    expect(x.grad!.toArray()).toEqual([[5, 7], [9, 11]]);
    handle.remove();
  });

  it('defining an op', () => {
    const cube = sg.defineOp({
      name: 'cube',
      forward(ctx, x: sg.Tensor) {
        ctx.saveForBackward(x);
        return x.mul(x).mul(x);
      },
      backward(ctx, g) {
        const [x] = ctx.savedTensors;
        return [ctx.needsInputGrad[0] ? g.mul(x.mul(x)).mul(3) : null];
      },
    });
    expect(sg.gradcheck((t) => cube(t), [sg.randn([3, 4], { dtype: 'float64', requiresGrad: true })]).ok).toBe(true);
  });

  it('the seed residual demos', () => {
    const { Residual } = sg.models;
    expect(new Residual(3, 3).call(sg.rand([4, 3, 6, 6])).shape).toEqual([4, 3, 6, 6]);
    expect(new Residual(3, 6, { use1x1conv: true, strides: 2 }).call(sg.rand([4, 3, 6, 6])).shape).toEqual([4, 6, 3, 3]);
  });

  it('a training loop step', async () => {
    const net = sg.models.resnet18({ baseChannels: 4 });
    const train = await sg.FashionMNIST.load();
    const loader = new sg.DataLoader(train, { batchSize: 16, shuffle: true, seed: 0 });
    const opt = new sg.SGD(net.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    const { x, y } = loader.batches(0).next().value!;
    opt.zeroGrad();
    const loss = sg.crossEntropy(net.call(x), y);
    loss.backward();
    opt.step();
    await sg.reclaimMemory();
    expect(Number.isFinite(loss.item())).toBe(true);
  });
});
