// Careless-user trials of the library: fit/evaluate/DataLoader/optimizers given options of the
// wrong type or name. Each must fail at once with a short error naming the option, never with a
// raw JavaScript error from deep inside (`callbacks.some is not a function`) or by ignoring it.

import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';

const quiet = { write: () => true };
const model = () => new sg.nn.Sequential(new sg.nn.Flatten(), new sg.nn.Linear(4, 3));
const data = (n: number) => new sg.TensorDataset(sg.randn([n, 1, 2, 2]), sg.tensor(Int32Array.from({ length: n }, (_, i) => i % 3)));

function fitWith(over: Record<string, unknown>): Promise<sg.FitResult> {
  const m = model();
  const options = { train: new sg.DataLoader(data(8), { batchSize: 4 }), optimizer: new sg.SGD(m.parameters(), { lr: 0.1 }), epochs: 1, log: quiet, progress: quiet, ...over };
  return sg.fit(m, options as unknown as sg.FitOptions);
}

describe('fit refuses option values of the wrong type, naming the option', () => {
  it.each([
    ['epochs as a string', { epochs: '2' }, "fit: epochs must be a positive integer, got the string '2'"],
    ['test that is not a DataLoader', { test: {} }, 'fit: options.test must be a DataLoader, got an object'],
    ['test as an empty array', { test: [] }, 'fit: options.test must be a DataLoader, got an array of length 0'],
    ['lossFn as a name', { lossFn: 'mse' }, "fit: options.lossFn must be a function (logits, labels) => loss, got the string 'mse'"],
    ['scheduler without step()', { scheduler: {} }, 'fit: options.scheduler must be an LR scheduler (step, stateDict, loadStateDict), got an object'],
    ['metrics as a string', { metrics: 'accuracy' }, "fit: metrics must be an array, e.g. ['accuracy', {topK: 5}], got \"accuracy\""],
    ['an unknown metric', { metrics: ['bogus'] }, 'fit: unknown metric "bogus"'],
    ['metrics without test data', { metrics: ['accuracy'] }, 'fit: options.metrics apply to the per-epoch test evaluation: give options.test too'],
    ['callbacks as one object', { callbacks: { onEpochEnd() {} } }, 'fit: options.callbacks must be an array of callback objects, got an object'],
    ['a null callback', { callbacks: [null] }, 'fit: options.callbacks[0] must be an object of hooks (onBatchEnd, onEpochEnd, …), got null'],
    ['pointsPerEpoch 0', { pointsPerEpoch: 0 }, 'fit: options.pointsPerEpoch must be an integer >= 1, got 0'],
    ['pointsPerEpoch NaN', { pointsPerEpoch: Number.NaN }, 'fit: options.pointsPerEpoch must be an integer >= 1, got NaN'],
    ['outDir as a number', { outDir: 5 }, 'fit: options.outDir must be a non-empty folder path, got 5'],
    ['outDir empty', { outDir: '' }, "fit: options.outDir must be a non-empty folder path, got the string ''"],
    ['resume as a string', { resume: 'yes', outDir: '/nonexistent-skipgrad-qa' }, "fit: options.resume must be true or false, got the string 'yes'"],
    ['signal that is not an AbortSignal', { signal: {} }, 'fit: options.signal must be an AbortSignal, got an object'],
    ['config as a string', { config: 'abc' }, "fit: options.config must be a plain object (saved with the run), got the string 'abc'"],
    ['log as a name', { log: 'stdout' }, "fit: options.log must be a stream with write() (e.g. process.stdout), got the string 'stdout'"],
    ['progress null', { progress: null }, 'fit: options.progress must be a stream with write() (e.g. process.stderr), got null'],
  ])('%s', async (_name, over, message) => {
    await expect(fitWith(over)).rejects.toThrow(message);
  });

  it.each([
    // Were: 'loss.backward is not a function', "Cannot read properties of undefined (reading 'join')".
    ['a lossFn returning a number', { lossFn: () => 1 }, 'fit: lossFn returned 1; it must return a one-element Tensor (e.g. crossEntropy(logits, y))'],
    ['a lossFn without reduction', { lossFn: (l: sg.Tensor, y: sg.Tensor) => sg.crossEntropy(l, y, { reduction: 'none' }) },
      "fit: lossFn returned a tensor of shape [4]; it must be one element (reduction 'mean' or 'sum')"],
    ['a loss cut off from the model', { lossFn: () => sg.tensor(1) }, 'fit: the loss does not require grad: it must be computed from the model output, outside noGrad'],
  ])('%s is named at the first step', async (_name, over, message) => {
    await expect(fitWith(over)).rejects.toThrow(message);
  });

  it('a model whose forward returns no tensor is named', async () => {
    class NoLogits extends sg.nn.Module {
      readonly l = new sg.nn.Linear(4, 3);
      forward(): sg.Tensor {
        return 5 as unknown as sg.Tensor;
      }
    }
    const m = new NoLogits();
    const options = { train: new sg.DataLoader(data(8), { batchSize: 4 }), optimizer: new sg.SGD(m.parameters(), { lr: 0.1 }), epochs: 1, log: quiet, progress: quiet };
    await expect(sg.fit(m, options)).rejects.toThrow('fit: the model returned 5, not a Tensor of logits');
  });

  it('still trains with every option given correctly', async () => {
    const r = await fitWith({ test: new sg.DataLoader(data(4), { batchSize: 4 }), metrics: ['accuracy'], pointsPerEpoch: 2, callbacks: [{}], config: { a: 1 } });
    expect(r.epochsDone).toBe(1);
    expect(Number.isFinite(r.trainLoss)).toBe(true);
  });
});

describe('evaluate refuses what it would otherwise ignore or misread', () => {
  const loader = () => new sg.DataLoader(data(8), { batchSize: 4 });
  it.each([
    ['a misspelt option', () => sg.evaluate(model(), loader(), { metric: ['accuracy'] } as never), "evaluate: unknown option(s) 'metric' (known: metrics, lossFn, tta)"],
    ['options that are not an object', () => sg.evaluate(model(), loader(), 'flip' as never), 'evaluate: the third argument must be the options {metrics, lossFn, tta}'],
    // Iterating the string gave 'unknown metric "a"'.
    ['metrics as a string', () => sg.evaluate(model(), loader(), { metrics: 'accuracy' } as never), 'evaluate: metrics must be an array'],
    ['lossFn as a string', () => sg.evaluate(model(), loader(), { lossFn: 'ce' } as never), 'evaluate: lossFn must be a function'],
    ['data that is not a loader', () => sg.evaluate(model(), {} as never), 'evaluate: data must be a DataLoader (or an iterable of {x, y} batches)'],
  ])('%s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });
});

describe('DataLoader and the optimizers refuse unknown options by name (as torch raises on an unexpected keyword)', () => {
  it.each([
    ['DataLoader batch_size', () => new sg.DataLoader(data(8), { batch_size: 4 } as never), "DataLoader: unknown option(s) 'batch_size' (known: batchSize, shuffle, dropLast, seed, transform)"],
    ['SGD moment', () => new sg.SGD(model().parameters(), { lr: 0.1, moment: 0.9 } as never), "SGD: unknown option(s) 'moment' in options (known: lr, momentum, dampening, weightDecay, nesterov, maximize)"],
    ['SGD weight_decay', () => new sg.SGD(model().parameters(), { lr: 0.1, weight_decay: 1e-4 } as never), "SGD: unknown option(s) 'weight_decay'"],
    ['Adam beta1', () => new sg.Adam(model().parameters(), { beta1: 0.9 } as never), "Adam: unknown option(s) 'beta1' in options (known: lr, betas, eps, weightDecay, amsgrad, maximize)"],
    ['AdamW decay', () => new sg.AdamW(model().parameters(), { decay: 0.1 } as never), "AdamW: unknown option(s) 'decay'"],
    // Was "didn't specify a value of the required hyper-parameter lr".
    ['SGD lr as a string', () => new sg.SGD(model().parameters(), { lr: '0.1' } as never), 'SGD: parameter group 0: lr must be a number, got string 0.1'],
  ])('%s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });

  it('a parameter group may still carry extra keys (torch keeps them)', () => {
    const m = model();
    const opt = new sg.SGD([{ params: m.parameters(), name: 'all' } as never], { lr: 0.1 });
    expect((opt.paramGroups[0] as unknown as { name: string }).name).toBe('all');
  });
});
