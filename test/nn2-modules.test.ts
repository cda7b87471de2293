// Containers (ModuleList, ModuleDict, ParameterList), the plain-array/object guard, activation and
// loss modules: state-dict keys and reprs against PyTorch (fixture: scripts/fixtures/gen_nn2_modules.py
// → test/fixtures/nn2_modules.json), list/dict semantics, and modules agreeing with their functionals.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import type { Tensor } from '../src/index.js';

const { nn, F } = sg;
const fixture: Record<string, { keys: [string, number[]][]; repr: string }> = JSON.parse(
  readFileSync(fileURLToPath(new URL('./fixtures/nn2_modules.json', import.meta.url)), 'utf8'),
).cases;
const keysOf = (m: sg.nn.Module) => Object.entries(m.stateDict()).map(([k, t]) => [k, [...t.shape]]);

class ListNet extends nn.Module {
  layers = new nn.ModuleList([new nn.Linear(2, 3), new nn.Linear(3, 4)]);
  head = new nn.Linear(4, 1);
  constructor() {
    super();
    this.layers.append(new nn.BatchNorm1d(4));
    this.layers.insert(1, new nn.ReLU());
  }
  forward(x: Tensor): Tensor {
    for (const layer of this.layers) x = layer.call(x);
    return this.head.call(x);
  }
}

class DictNet extends nn.Module {
  blocks = new nn.ModuleDict({ enc: new nn.Linear(2, 3), dec: new nn.Linear(3, 2) });
  constructor() {
    super();
    this.blocks.set('10', new nn.Linear(2, 2));
    this.blocks.set('act', new nn.GELU({ approximate: 'tanh' }));
  }
  forward(x: Tensor): Tensor {
    return this.blocks.get('dec').call(this.blocks.get('act').call(this.blocks.get('enc').call(x)));
  }
}

class ParamNet extends nn.Module {
  scale = new nn.Parameter(sg.ones([2]));
  ps = new nn.ParameterList([new nn.Parameter(sg.zeros([2, 3])), sg.zeros([3])]);
  stages = new nn.ModuleList([new nn.ModuleList([new nn.Linear(1, 1)]), new nn.Sequential(new nn.Linear(1, 2), new nn.SiLU())]);
  constructor() {
    super();
    this.ps.append(sg.zeros([4]));
  }
  forward(x: Tensor): Tensor {
    return x;
  }
}

const MODELS: Record<string, () => sg.nn.Module> = {
  list_net: () => new ListNet(),
  dict_net: () => new DictNet(),
  param_net: () => new ParamNet(),
  param_list: () => new nn.ParameterList([sg.zeros([2, 3]), sg.zeros([3])]),
  activations: () =>
    new nn.Sequential(
      new nn.GELU(), new nn.GELU({ approximate: 'tanh' }), new nn.SiLU(), new nn.LeakyReLU(), new nn.LeakyReLU(0.2), new nn.ELU(),
      new nn.ELU(0.5), new nn.Softplus(), new nn.Softplus(2, 5), new nn.Softplus(0.5), new nn.Hardtanh(), new nn.Hardtanh(-2, 0.5),
      new nn.ReLU6(), new nn.Hardswish(), new nn.Mish(), new nn.LogSigmoid(),
    ),
  losses: () =>
    new nn.Sequential(
      new nn.CrossEntropyLoss({ weight: sg.ones([3]), labelSmoothing: 0.1 }), new nn.NLLLoss(), new nn.MSELoss(), new nn.L1Loss(),
      new nn.SmoothL1Loss({ beta: 0.5 }), new nn.HuberLoss({ delta: 2 }), new nn.BCELoss({ weight: sg.ones([2]) }),
      new nn.BCEWithLogitsLoss({ posWeight: sg.ones([4]) }), new nn.KLDivLoss({ reduction: 'batchmean', logTarget: true }),
    ),
};

describe('containers and modules: state-dict keys and reprs as PyTorch', () => {
  it('the fixture and the model table name the same cases', () => {
    expect(Object.keys(MODELS).sort()).toEqual(Object.keys(fixture).sort());
  });
  it.each(Object.keys(fixture))('%s', (name) => {
    const m = MODELS[name]();
    expect(keysOf(m)).toEqual(fixture[name].keys);
    expect(String(m)).toBe(fixture[name].repr);
  });

  it('a ListNet trains: every parameter in the list is found and gets a gradient', () => {
    sg.manualSeed(0);
    const net = new ListNet();
    expect(net.parameters()).toHaveLength(8);
    net.call(sg.randn([5, 2])).sum().backward();
    for (const [name, p] of net.namedParameters()) expect(p.grad, name).not.toBeNull();
  });

  it('state dicts round-trip through loadStateDict with the list keys', () => {
    sg.manualSeed(1);
    const a = new ListNet();
    sg.manualSeed(2);
    const b = new ListNet();
    b.loadStateDict(a.stateDict());
    const x = sg.randn([3, 2]);
    a.eval();
    b.eval();
    expect(Array.from(b.call(x).data)).toEqual(Array.from(a.call(x).data));
  });
});

describe('ModuleList', () => {
  const lin = (n: number) => new nn.Linear(n, n);
  it('append, extend, insert, at/[i], set, pop, slice, indexOf, length and iteration', () => {
    const [a, b, c, d] = [lin(1), lin(2), lin(3), lin(4)];
    const l = new nn.ModuleList([a]);
    l.extend([b, c]).append(d);
    expect(l.length).toBe(4);
    expect([...l]).toEqual([a, b, c, d]);
    expect([l[0], l.at(-1)]).toEqual([a, d]);
    l.insert(0, d).insert(-1, a).insert(99, b); // Python's insert: negative from the end, clamped
    expect([...l]).toEqual([d, a, b, c, a, d, b]);
    expect(l.pop()).toBe(b);
    expect(l.pop(1)).toBe(a);
    expect([...l]).toEqual([d, b, c, a, d]);
    l.set(-1, c);
    expect(l.indexOf(c)).toBe(2);
    expect([...l.slice(1, 3)]).toEqual([b, c]);
    expect(l.namedChildren().map(([k]) => k)).toEqual(['0', '1', '2', '3', '4']);
    expect(Object.keys(l.stateDict())).toContain('4.weight');
    expect(Object.keys(l.stateDict())).not.toContain('5.weight');
  });
  it('refuses non-modules, bad indices and being called', () => {
    const l = new nn.ModuleList([lin(1)]);
    expect(() => l.append(3 as never)).toThrow('ModuleList: every entry must be a Module, got number at index 1');
    expect(() => l.at(1)).toThrow('ModuleList: index 1 is out of range for 1 entries');
    expect(() => l.set(-2, lin(1))).toThrow('ModuleList: index -2 is out of range for 1 entries');
    expect(() => new nn.ModuleList(null as never)).toThrow('ModuleList: extend expects an iterable of modules, got null');
    expect(() => (l as sg.nn.Module).call()).toThrow('ModuleList: a ModuleList is not callable; iterate over it in your forward()');
  });
  it('follows train()/eval() and zeroGrad() of its owner', () => {
    const net = new ListNet();
    net.eval();
    expect([...net.layers].map((m) => m.training)).toEqual([false, false, false, false]);
  });
});

describe('ModuleDict', () => {
  it('set/get/has/pop/keys/values/entries/size in insertion order; iteration yields keys', () => {
    const [a, b, c] = [new nn.ReLU(), new nn.SiLU(), new nn.Mish()];
    const d = new nn.ModuleDict(new Map<string, sg.nn.Module>([['x', a], ['2', b]]));
    d.update({ y: c });
    expect([...d]).toEqual(['x', '2', 'y']);
    expect(d.values()).toEqual([a, b, c]);
    expect(d.size).toBe(3);
    d.set('x', c); // replacing keeps the place
    expect(d.entries()).toEqual([['x', c], ['2', b], ['y', c]]);
    expect(d.pop('2')).toBe(b);
    expect([d.has('2'), d.keys()]).toEqual([false, ['x', 'y']]);
    expect(new nn.ModuleDict(d).entries()).toEqual(d.entries()); // from another ModuleDict, as PyTorch's update
    d.clear();
    expect(d.size).toBe(0);
  });
  it('refuses bad keys, shadowing keys, non-modules, missing keys and being called', () => {
    const d = new nn.ModuleDict();
    expect(() => d.set('a.b', new nn.ReLU())).toThrow("ModuleDict: a key must be a non-empty string without '.', got \"a.b\"");
    expect(() => d.set('training', new nn.ReLU())).toThrow("ModuleDict: key 'training' would shadow the attribute 'training' of ModuleDict");
    expect(() => d.set('forward', new nn.ReLU())).toThrow("ModuleDict: key 'forward' would shadow");
    expect(() => d.set('a', {} as never)).toThrow("ModuleDict: every entry must be a Module, got object for key 'a'");
    expect(() => d.get('nope')).toThrow("ModuleDict: no module under key 'nope' (keys: none)");
    expect(() => (d as sg.nn.Module).call()).toThrow('ModuleDict: a ModuleDict is not callable');
  });
});

describe('ParameterList', () => {
  it('wraps tensors as parameters sharing storage, with at/set/length/iteration', () => {
    const t = sg.zeros([2]);
    const ps = new nn.ParameterList([t]);
    expect(ps.at(0)).toBeInstanceOf(nn.Parameter);
    expect(ps.at(0).data).toBe(t.data);
    expect(ps[0].requiresGrad).toBe(true);
    ps.append(new nn.Parameter(sg.ones([3]))).set(0, sg.ones([1]));
    expect([...ps].map((p) => p.shape)).toEqual([[1], [3]]);
    expect(ps.parameters()).toHaveLength(2);
    expect(() => ps.append([1, 2] as never)).toThrow('ParameterList: every entry must be a Parameter or Tensor, got object at index 2');
  });
});

describe('modules in plain arrays or objects are refused by field name', () => {
  class ArrayNet extends nn.Module {
    layers = [new nn.Linear(2, 2), new nn.Linear(2, 2)];
    forward(x: Tensor): Tensor {
      for (const l of this.layers) x = l.call(x);
      return x;
    }
  }
  class ObjectNet extends nn.Module {
    heads: Record<string, sg.nn.Module> = { a: new nn.Linear(2, 2) };
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  class ParamArrayNet extends nn.Module {
    weights = [new nn.Parameter(sg.ones([2]))];
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  class NestedNet extends nn.Module {
    stages = [[new nn.ReLU()], []];
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  class FineNet extends nn.Module {
    sizes = [3, 3];
    opts = { eps: 1e-5, names: ['a'] };
    tensors = [sg.zeros([1])]; // plain tensors are neither parameters nor buffers, as before
    #shared: sg.nn.Module[] = [new nn.ReLU()]; // private fields are not discovered
    forward(x: Tensor): Tensor {
      return this.#shared[0].call(x);
    }
  }

  it.each([
    ['a plain array of modules', () => new ArrayNet().parameters(),
      "ArrayNet: field 'layers' holds modules in a plain array, where they are not registered (their parameters would not be trained or saved); use nn.ModuleList instead"],
    ['a plain object of modules', () => new ObjectNet().stateDict(), "ObjectNet: field 'heads' holds modules in a plain object, where they are not registered"],
    ['a plain array of parameters', () => new ParamArrayNet().parameters(), "ParamArrayNet: field 'weights' holds parameters in a plain array"],
    ['nested arrays', () => String(new NestedNet()), "NestedNet: field 'stages' holds modules in a plain array"],
    ['inside a container', () => new nn.Sequential(new ArrayNet()).train(), "ArrayNet: field 'layers'"],
    ['calling a hidden module from forward', () => new ArrayNet().call(sg.zeros([1, 2])), "ArrayNet: field 'layers' holds modules in a plain array"],
  ])('%s', (_what, fn, message) => {
    expect(fn).toThrow(message);
  });
  it('suggests the right container', () => {
    expect(() => new ObjectNet().parameters()).toThrow('use nn.ModuleDict instead');
    expect(() => new ParamArrayNet().parameters()).toThrow('use nn.ParameterList instead');
  });
  it('leaves plain data, plain tensors and #private fields alone', () => {
    const net = new FineNet();
    expect(net.parameters()).toEqual([]);
    expect(Object.keys(net.stateDict())).toEqual([]);
    expect(net.call(sg.tensor([-1, 2])).toArray()).toEqual([0, 2]);
  });
});

describe('activation and loss modules call their functionals', () => {
  sg.manualSeed(3);
  const x = sg.randn([4, 3]);
  const same = (a: Tensor, b: Tensor) => expect(Array.from(a.data)).toEqual(Array.from(b.data));
  it.each([
    ['GELU', new nn.GELU(), F.gelu(x)],
    ['GELU tanh', new nn.GELU({ approximate: 'tanh' }), F.gelu(x, { approximate: 'tanh' })],
    ['SiLU', new nn.SiLU(), F.silu(x)],
    ['LeakyReLU', new nn.LeakyReLU(0.3), F.leakyRelu(x, 0.3)],
    ['ELU', new nn.ELU(0.7), F.elu(x, 0.7)],
    ['Softplus', new nn.Softplus(2, 1), F.softplus(x, 2, 1)],
    ['Hardtanh', new nn.Hardtanh(-0.5, 0.5), F.hardtanh(x, -0.5, 0.5)],
    ['ReLU6', new nn.ReLU6(), F.relu6(x.mul(4))],
    ['Hardswish', new nn.Hardswish(), F.hardswish(x)],
    ['Mish', new nn.Mish(), F.mish(x)],
    ['LogSigmoid', new nn.LogSigmoid(), F.logSigmoid(x)],
  ] as const)('%s', (name, m, expected) => {
    same(m.call(name === 'ReLU6' ? x.mul(4) : x), expected);
  });

  it('loss modules pass every option through', () => {
    const logits = sg.randn([4, 3]);
    const y = sg.tensor([0, 2, 1, 2], { dtype: 'int32' });
    const w = sg.tensor([0.2, 1, 3]);
    same(new nn.CrossEntropyLoss({ weight: w, ignoreIndex: 1, labelSmoothing: 0.2, reduction: 'sum' }).call(logits, y),
      F.crossEntropy(logits, y, { weight: w, ignoreIndex: 1, labelSmoothing: 0.2, reduction: 'sum' }));
    const logp = logits.logSoftmax(1);
    same(new nn.NLLLoss({ weight: w, ignoreIndex: 2, reduction: 'none' }).call(logp, y), F.nllLoss(logp, y, { weight: w, ignoreIndex: 2, reduction: 'none' }));
    const t = sg.rand([4, 3]);
    same(new nn.MSELoss({ reduction: 'sum' }).call(x, t), F.mseLoss(x, t, { reduction: 'sum' }));
    same(new nn.L1Loss({ reduction: 'none' }).call(x, t), F.l1Loss(x, t, { reduction: 'none' }));
    same(new nn.SmoothL1Loss({ beta: 0.3 }).call(x, t), F.smoothL1Loss(x, t, { beta: 0.3 }));
    same(new nn.HuberLoss({ delta: 0.3, reduction: 'sum' }).call(x, t), F.huberLoss(x, t, { delta: 0.3, reduction: 'sum' }));
    same(new nn.BCELoss({ weight: w }).call(t, t.mul(0.5)), F.binaryCrossEntropy(t, t.mul(0.5), { weight: w }));
    same(new nn.BCEWithLogitsLoss({ weight: w, posWeight: w.add(1), reduction: 'none' }).call(x, t),
      F.binaryCrossEntropyWithLogits(x, t, { weight: w, posWeight: w.add(1), reduction: 'none' }));
    same(new nn.KLDivLoss({ reduction: 'batchmean', logTarget: true }).call(logp, logp.mul(0.5)),
      F.klDiv(logp, logp.mul(0.5), { reduction: 'batchmean', logTarget: true }));
    // Probability targets through the module (its default ignoreIndex is PyTorch's -100).
    const probs = sg.rand([4, 3]).softmax(1);
    same(new nn.CrossEntropyLoss().call(logits, probs), F.crossEntropy(logits, probs));
    expect(new nn.BCEWithLogitsLoss({ posWeight: w }).posWeight).toBe(w);
  });

  it('refuse bad options at construction, naming the class', () => {
    expect(() => new nn.GELU({ approximate: 'x' as never })).toThrow("GELU: approximate must be 'none' or 'tanh', got 'x'");
    expect(() => new nn.Hardtanh(1, 1)).toThrow('Hardtanh: maxVal 1 must be greater than minVal 1');
    expect(() => new nn.MSELoss({ reduction: 'avg' as never })).toThrow("MSELoss: reduction must be 'mean', 'sum' or 'none', got 'avg'");
    expect(() => new nn.KLDivLoss({ reduction: 'avg' as never })).toThrow("KLDivLoss: reduction must be 'mean', 'batchmean', 'sum' or 'none'");
    expect(() => new nn.CrossEntropyLoss({ labelSmoothing: 2 })).toThrow('CrossEntropyLoss: labelSmoothing must be in [0, 1], got 2');
    expect(() => new nn.HuberLoss({ delta: -1 })).toThrow('HuberLoss: delta must be > 0, got -1');
    expect(() => new nn.SmoothL1Loss({ beta: -1 })).toThrow('SmoothL1Loss: beta must be >= 0, got -1');
    expect(() => new nn.BCELoss({ weight: [1, 2] as never })).toThrow('BCELoss: weight must be a Tensor, got object');
  });
});

describe('exports', () => {
  it('F is nn.functional, and holds the existing functional ops too', () => {
    expect(sg.F).toBe(sg.nn.functional);
    for (const name of ['conv2d', 'maxPool2d', 'avgPool2d', 'adaptiveAvgPool2d', 'batchNorm', 'linear', 'dropout', 'relu', 'softmax', 'logSoftmax', 'crossEntropy', 'mseLoss']) {
      expect(typeof (sg.F as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(sg.F.relu).toBe(sg.relu);
    expect(sg.F.gelu).toBe(sg.gelu);
  });
});
