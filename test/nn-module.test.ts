// The Module system: discovery, names, modes, state dicts, hooks, reprs, and the built-in layers.

import { describe, expect, it } from 'vitest';
import {
  AnomalyError, Tensor, conv2d, currentModulePath, detectAnomaly, log, manualSeed, ones, rand, randn, tensor, zeros,
} from '../src/index.js';
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d,
  Module, Parameter, ReLU, Sequential,
} from '../src/nn/index.js';

/** A user layer written the way the seed writes one: fields assigned in the constructor. */
class Block extends Module {
  scale: Parameter;
  lin: Linear;
  skip: Module | null;
  act: ReLU;
  plain: Tensor; // a plain tensor property is neither a parameter nor a buffer

  constructor() {
    super();
    this.scale = new Parameter(ones([2]));
    this.lin = new Linear(2, 2);
    this.skip = null;
    this.act = new ReLU();
    this.plain = zeros([1]);
    this.registerBuffer('steps', zeros([1]));
    this.registerBuffer('cache', zeros([2]), { persistent: false });
  }

  forward(x: Tensor): Tensor {
    return this.act.call(this.lin.call(x.mul(this.scale)));
  }
}

const names = (entries: [string, unknown][]) => entries.map(([n]) => n);

describe('discovery and names', () => {
  it('finds parameters, children and buffers from own properties in insertion order', () => {
    const b = new Block();
    expect(names(b.namedChildren())).toEqual(['lin', 'act']); // skip = null is not a child
    expect(names(b.namedParameters())).toEqual(['scale', 'lin.weight', 'lin.bias']);
    expect(names(b.namedBuffers())).toEqual(['steps', 'cache']);
    expect(names(b.namedModules())).toEqual(['', 'lin', 'act']);
    expect(b.modules()[0]).toBe(b);
    expect(b.parameters()[0]).toBe(b.scale);
    // Own params, own persistent buffers, then children; the non-persistent buffer is left out.
    expect(Object.keys(b.stateDict())).toEqual(['scale', 'steps', 'lin.weight', 'lin.bias']);
  });

  it('a child assigned later joins in its property order, replacing null', () => {
    const b = new Block();
    b.skip = new Identity();
    expect(names(b.namedChildren())).toEqual(['lin', 'skip', 'act']);
  });

  it('names Sequential children by index and nests names with dots', () => {
    const net = new Sequential(new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2)), new ReLU(), new Linear(4, 3));
    expect(net.length).toBe(3);
    expect(net.at(-1)).toBeInstanceOf(Linear);
    expect([...net].map((m) => m.className)).toEqual(['Sequential', 'ReLU', 'Linear']);
    expect(names(net.namedModules())).toEqual(['', '0', '0.0', '0.1', '1', '2']);
    expect(names(net.namedParameters())).toEqual(['0.0.weight', '0.0.bias', '0.1.weight', '0.1.bias', '2.weight', '2.bias']);
    expect(names(net.namedBuffers())).toEqual(['0.1.running_mean', '0.1.running_var', '0.1.num_batches_tracked']);
    expect(Object.keys(net.stateDict())).toEqual([
      '0.0.weight', '0.0.bias', '0.1.weight', '0.1.bias', '0.1.running_mean', '0.1.running_var',
      '0.1.num_batches_tracked', '2.weight', '2.bias',
    ]);
    expect(() => net.at(3)).toThrow('Sequential: index 3 is out of range for 3 modules');
    expect(() => new Sequential(null as unknown as Module)).toThrow('Sequential: every entry must be a Module, got null at index 0');
  });

  it('lists a shared parameter once, but the state dict under every name (as PyTorch)', () => {
    const a = new Linear(2, 2);
    const b = new Linear(2, 2);
    b.weight = a.weight;
    const net = new Sequential(a, b);
    expect(names(net.namedParameters())).toEqual(['0.weight', '0.bias', '1.bias']);
    expect(Object.keys(net.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
  });

  it('the state dict shares storage with the parameters but is cut from the graph', () => {
    const lin = new Linear(3, 2);
    const sd = lin.stateDict();
    expect(sd.weight.data).toBe(lin.weight.data);
    expect(sd.weight.requiresGrad).toBe(false);
    expect(sd.weight).not.toBe(lin.weight);
  });

  it('registerBuffer refuses names of children and parameters, and dotted names', () => {
    const b = new Block();
    expect(() => b.registerBuffer('lin', zeros([1]))).toThrow("registerBuffer: 'lin' is already a child module of Block");
    expect(() => b.registerBuffer('scale', zeros([1]))).toThrow("registerBuffer: 'scale' is already a parameter of Block");
    expect(() => b.registerBuffer('a.b', zeros([1]))).toThrow("registerBuffer: name must be a non-empty string without '.', got \"a.b\"");
  });
});

describe('modes and utilities', () => {
  it('train/eval reach every descendant and return the module', () => {
    const net = new Sequential(new Block(), new Sequential(new Dropout(0.5)));
    expect(net.eval()).toBe(net);
    expect(net.modules().map((m) => m.training)).toEqual([false, false, false, false, false, false]);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.train(false);
    expect(net.modules().some((m) => m.training)).toBe(false);
  });

  it('zeroGrad sets every gradient to null', () => {
    const b = new Block();
    b.call(tensor([[1, -2]])).sum().backward();
    expect(b.parameters().every((p) => p.grad !== null)).toBe(true);
    b.zeroGrad();
    expect(b.parameters().map((p) => p.grad)).toEqual([null, null, null]);
  });

  it('apply visits children before their parent, depth first', () => {
    const net = new Sequential(new Sequential(new ReLU(), new Identity()), new Linear(1, 1));
    const seen: string[] = [];
    expect(net.apply((m) => seen.push(m.className))).toBe(net);
    expect(seen).toEqual(['ReLU', 'Identity', 'Sequential', 'Linear', 'Sequential']);
  });
});

describe('loadStateDict', () => {
  const make = () => new Sequential(new Linear(3, 2), new BatchNorm1d(2));

  it('copies values in place, converting dtype', () => {
    const src = make();
    manualSeed(5);
    src.apply((m) => m instanceof Linear && m.resetParameters());
    const sd = src.stateDict();
    sd['0.weight'] = new Tensor(Float64Array.from(sd['0.weight'].data), sd['0.weight'].shape);
    sd['1.num_batches_tracked'] = tensor(7, { dtype: 'int32' });
    const dst = make();
    const weight = dst.at(0) as Linear;
    const storage = weight.weight.data;
    expect(dst.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(weight.weight.data).toBe(storage); // in place: views and optimizers keep seeing it
    expect(weight.weight.dtype).toBe('float32');
    expect(Array.from(weight.weight.data)).toEqual(Array.from((src.at(0) as Linear).weight.data));
    expect((dst.at(1) as BatchNorm1d).num_batches_tracked!.item()).toBe(7);
  });

  it('strict: lists missing, unexpected and mis-shaped keys together and changes nothing', () => {
    const dst = make();
    const before = Array.from((dst.at(0) as Linear).weight.data);
    const sd = make().stateDict();
    delete sd['0.bias'];
    delete sd['1.running_var'];
    sd['2.weight'] = zeros([1]);
    sd['1.weight'] = zeros([3]);
    sd['0.weight'] = ones([2, 3]);
    let message = '';
    try {
      dst.loadStateDict(sd);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      'loadStateDict: error(s) in loading state_dict for Sequential:\n' +
        '\tMissing key(s) in state_dict: "0.bias", "1.running_var".\n' +
        '\tUnexpected key(s) in state_dict: "2.weight".\n' +
        '\tsize mismatch for 1.weight: copying a param with shape [3] from checkpoint, the shape in current model is [2].',
    );
    expect(Array.from((dst.at(0) as Linear).weight.data)).toEqual(before);
  });

  it('non-strict: returns missing and unexpected keys and loads the rest', () => {
    const dst = make();
    const sd = make().stateDict();
    delete sd['0.bias'];
    sd['extra'] = zeros([1]);
    sd['0.weight'] = ones([2, 3]);
    expect(dst.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ['0.bias'], unexpectedKeys: ['extra'] });
    expect(Array.from((dst.at(0) as Linear).weight.data)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('non-strict still fails on a shape mismatch, as PyTorch', () => {
    const sd = make().stateDict();
    sd['0.weight'] = ones([3, 2]);
    expect(() => make().loadStateDict(sd, { strict: false })).toThrow(
      'size mismatch for 0.weight: copying a param with shape [3,2] from checkpoint, the shape in current model is [2,3].',
    );
  });
});

describe('toString (PyTorch 1.13 reprs)', () => {
  it('prints each layer as PyTorch does', () => {
    const cases: [Module, string][] = [
      [new Conv2d(4, 8, 3, { stride: [1, 2], padding: [0, 1], dilation: 2, groups: 2, bias: false }),
        'Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 2), padding=(0, 1), dilation=(2, 2), groups=2, bias=False)'],
      [new Conv2d(4, 8, [3, 5]), 'Conv2d(4, 8, kernel_size=(3, 5), stride=(1, 1))'],
      [new Conv2d(4, 8, 3, { padding: 'same' }), 'Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=same)'],
      [new BatchNorm1d(5, { eps: 1e-3, momentum: null, affine: false, trackRunningStats: false }),
        'BatchNorm1d(5, eps=0.001, momentum=None, affine=False, track_running_stats=False)'],
      [new BatchNorm2d(3, { eps: 1e-7, momentum: 0.01 }), 'BatchNorm2d(3, eps=1e-07, momentum=0.01, affine=True, track_running_stats=True)'],
      [new Linear(3, 2, { bias: false }), 'Linear(in_features=3, out_features=2, bias=False)'],
      [new Dropout(0.25), 'Dropout(p=0.25, inplace=False)'],
      [new AvgPool2d(2), 'AvgPool2d(kernel_size=2, stride=2, padding=0)'],
      [new AvgPool2d([2, 3], { stride: 1, padding: [1, 0] }), 'AvgPool2d(kernel_size=(2, 3), stride=1, padding=(1, 0))'],
      [new MaxPool2d([2, 2]), 'MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=0, dilation=1, ceil_mode=False)'],
      [new AdaptiveAvgPool2d(3), 'AdaptiveAvgPool2d(output_size=3)'],
      [new Identity(), 'Identity()'],
      [new Flatten(0, 2), 'Flatten(start_dim=0, end_dim=2)'],
      [new Sequential(), 'Sequential()'],
    ];
    for (const [m, repr] of cases) expect(String(m)).toBe(repr);
  });

  it('indents nested children, and a user module shows its class name', () => {
    expect(String(new Sequential(new Block(), new ReLU()))).toBe(
      'Sequential(\n' +
        '  (0): Block(\n' +
        '    (lin): Linear(in_features=2, out_features=2, bias=True)\n' +
        '    (act): ReLU()\n' +
        '  )\n' +
        '  (1): ReLU()\n' +
        ')',
    );
  });
});

describe('hooks', () => {
  it('a forward hook sees the input and output and can replace the output', () => {
    const relu = new ReLU();
    const seen: unknown[] = [];
    const h = relu.registerForwardHook((m, args, out) => {
      seen.push(m, args[0], out);
      return (out as Tensor).mul(10);
    });
    const x = tensor([-1, 2]);
    expect(Array.from(relu.call(x).data)).toEqual([0, 20]);
    expect(seen[0]).toBe(relu);
    expect(seen[1]).toBe(x);
    h.remove();
    expect(Array.from(relu.call(x).data)).toEqual([0, 2]);
  });

  it('a pre-hook can replace the input (one value or an argument array); hooks run in order', () => {
    const id = new Identity();
    const order: string[] = [];
    const h1 = id.registerForwardPreHook((_m, args) => {
      order.push('pre1');
      return (args[0] as Tensor).add(1);
    });
    const h2 = id.registerForwardPreHook((_m, args) => {
      order.push('pre2');
      return [(args[0] as Tensor).mul(2)];
    });
    id.registerForwardHook(() => void order.push('post'));
    expect(Array.from(id.call(tensor([1, 2])).data)).toEqual([4, 6]);
    expect(order).toEqual(['pre1', 'pre2', 'post']);
    h1.remove();
    h2.remove();
    h2.remove(); // removing twice is harmless
    expect(Array.from(id.call(tensor([1, 2])).data)).toEqual([1, 2]);
  });

  it('pushes the dotted module path while a module runs, for anomaly reports', () => {
    const paths: string[] = [];
    class Probe extends Module {
      forward(x: Tensor): Tensor {
        paths.push(currentModulePath());
        return x;
      }
    }
    const inner = new Probe();
    const net = new Sequential(new Sequential(new ReLU(), inner), new Probe());
    net.call(tensor([1]));
    inner.call(tensor([1])); // called on its own it is the outermost module
    expect(paths).toEqual(['0.1', '1', '']);
    expect(currentModulePath()).toBe('');
  });

  it('anomaly mode names the module whose op produced a NaN', () => {
    class Log extends Module {
      forward(x: Tensor): Tensor {
        return log(x);
      }
    }
    const net = new Sequential(new Linear(2, 2), new Sequential(new ReLU(), new Log()));
    net.apply((m) => m instanceof Linear && (m.weight.data.set([1, 0, 0, -1]), m.bias!.data.fill(0)));
    const err = (() => {
      try {
        detectAnomaly(() => net.call(tensor([[-1, 1]])).sum());
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AnomalyError);
    // relu(-1)=0 → log 0 = -Inf in module 1.1 (the path stack is unwound afterwards)
    expect((err as AnomalyError).modulePath).toBe('1.1');
    expect(currentModulePath()).toBe('');
  });
});

describe('layers', () => {
  it('Conv2d and Linear create PyTorch-shaped parameters and call the functional ops', () => {
    const conv = new Conv2d(4, 6, 3, { groups: 2, stride: 2, padding: 1 });
    expect(conv.weight.shape).toEqual([6, 2, 3, 3]);
    expect(conv.bias!.shape).toEqual([6]);
    expect(conv.weight.requiresGrad).toBe(true);
    const x = randn([2, 4, 5, 5]);
    const expected = conv2d(x, conv.weight, conv.bias, { stride: 2, padding: 1, groups: 2 });
    expect(Array.from(conv.call(x).data)).toEqual(Array.from(expected.data));
    const lin = new Linear(3, 2);
    lin.weight.data.set([1, 2, 3, 4, 5, 6]);
    lin.bias!.data.set([0.5, -1]);
    expect(Array.from(lin.call(tensor([[1, 0, -1]])).data)).toEqual([-1.5, -3]);
    expect(new Linear(3, 2, { bias: false }).bias).toBeNull();
    expect(new Linear(3, 2, { dtype: 'float64' }).weight.dtype).toBe('float64');
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow('Conv2d: inChannels must be divisible by groups in Conv2d(3, 4, kernelSize=3, groups=2)');
  });

  it('pooling, flatten and identity layers', () => {
    const x = tensor([[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]]);
    expect(Array.from(new MaxPool2d(2).call(x).data)).toEqual([6, 8, 14, 16]);
    expect(Array.from(new AvgPool2d(2).call(x).data)).toEqual([3.5, 5.5, 11.5, 13.5]);
    expect(new AdaptiveAvgPool2d([1, 1]).call(x).data[0]).toBe(8.5);
    expect(new Flatten().call(x).shape).toEqual([1, 16]);
    expect(new Identity().call(x)).toBe(x);
  });

  it('Dropout drops in train mode only', () => {
    manualSeed(0);
    const d = new Dropout(0.5);
    const y = d.call(ones([1000]));
    const kept = Array.from(y.data).filter((v) => v !== 0);
    expect(kept.every((v) => v === 2)).toBe(true);
    expect(kept.length).toBeGreaterThan(420); // Binomial(1000, 0.5): ±5σ is ±79
    expect(kept.length).toBeLessThan(580);
    d.eval();
    const x = ones([3]);
    expect(d.call(x)).toBe(x);
    expect(() => new Dropout(1.5)).toThrow('Dropout: probability has to be between 0 and 1, but got 1.5');
  });
});

describe('BatchNorm modules', () => {
  it('counts training batches, moves running statistics in train mode only', () => {
    const bn = new BatchNorm2d(2);
    const x = tensor([[[[1, 3]], [[10, 20]]], [[[5, 7]], [[30, 40]]]]); // [2, 2, 1, 2]
    bn.call(x);
    expect(bn.num_batches_tracked!.item()).toBe(1);
    expect(bn.num_batches_tracked!.dtype).toBe('int32');
    // channel 0: mean 4, unbiased var 20/3; running = 0.9·init + 0.1·batch
    expect(bn.running_mean!.data[0]).toBeCloseTo(0.4, 6);
    expect(bn.running_var!.data[0]).toBeCloseTo(0.9 + (0.1 * 20) / 3, 6);
    bn.eval();
    const y = bn.call(x);
    expect(bn.num_batches_tracked!.item()).toBe(1);
    const expected0 = (1 - 0.4) / Math.sqrt(0.9 + (0.1 * 20) / 3 + 1e-5);
    expect(y.data[0]).toBeCloseTo(expected0, 5);
  });

  it('momentum null keeps the cumulative average of the batch statistics', () => {
    const bn = new BatchNorm1d(1, { momentum: null });
    bn.call(tensor([[1], [3]])); // mean 2
    bn.call(tensor([[10], [20]])); // mean 15
    bn.call(tensor([[-4], [-2]])); // mean -3
    expect(bn.running_mean!.data[0]).toBeCloseTo((2 + 15 - 3) / 3, 5);
    expect(bn.num_batches_tracked!.item()).toBe(3);
  });

  it('without tracked statistics: no buffers, batch statistics in eval mode too', () => {
    const bn = new BatchNorm1d(2, { trackRunningStats: false, affine: false });
    expect(bn.parameters()).toEqual([]);
    expect(bn.namedBuffers()).toEqual([]);
    expect(Object.keys(bn.stateDict())).toEqual([]);
    bn.eval();
    const y = bn.call(tensor([[1, 5], [3, 9]]));
    expect(Array.from(y.data).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([-1, -1, 1, 1]);
  });

  it('checks the input rank, naming the shape', () => {
    expect(() => new BatchNorm2d(3).call(rand([3, 4, 4]))).toThrow('BatchNorm2d: expected 4D input [N, C, H, W], got 3D input of shape [3,4,4]');
    expect(() => new BatchNorm1d(3).call(rand([3]))).toThrow('BatchNorm1d: expected 2D or 3D input [N, C] or [N, C, L], got 1D input of shape [3]');
  });
});
