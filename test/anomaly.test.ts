// Anomaly mode on the seed's ResNet: the first op to produce NaN/Inf is named with its module path
// and the shapes involved, in the forward pass and in the backward pass.

import { describe, expect, it } from 'vitest';
import { AnomalyError, Tensor, crossEntropy, detectAnomaly, log, manualSeed, rand, randint, sqrt, relu } from '../src/index.js';
import { resnet18, type Residual } from '../src/models/index.js';
import { Module, type Sequential } from '../src/nn/index.js';

function setup() {
  manualSeed(0);
  const net = resnet18({ baseChannels: 4 });
  const x = rand([2, 1, 28, 28]);
  const y = randint(0, 10, [2], { dtype: 'int32' });
  return { net, x, y };
}

function anomalyOf(fn: () => unknown): AnomalyError {
  try {
    detectAnomaly(fn);
  } catch (e) {
    expect(e).toBeInstanceOf(AnomalyError);
    return e as AnomalyError;
  }
  throw new Error('expected an AnomalyError');
}

const block = (net: Sequential, stage: number, i: number) => (net.at(stage) as Sequential).at(i) as Residual;

class LogShifted extends Module {
  forward(x: Tensor): Tensor {
    return log(x.sub(1)); // relu outputs below 1 make negative arguments: NaN
  }
}

class SqrtRelu extends Module {
  forward(x: Tensor): Tensor {
    return sqrt(relu(x)); // finite forward; d sqrt/dx = 0.5/sqrt(0) is Inf where relu clipped
  }
}

describe('detectAnomaly on ResNet-18', () => {
  it('names batchNorm in 3.0.bn2 when its output overflows to Inf in forward, with the input shapes', () => {
    const { net, x } = setup();
    const bn2 = block(net, 3, 0).bn2;
    bn2.weight!.data[0] = 3e38; // finite parameters whose product overflows float32
    bn2.bias!.data[0] = 3e38;
    const err = anomalyOf(() => net.call(x));
    expect([err.op, err.modulePath, err.phase]).toEqual(['batchNorm', '3.0.bn2', 'forward']);
    expect(err.message).toMatch(/^anomaly: batchNorm in module 3\.0\.bn2 produced Inf in its forward output at flat index \d+/);
    expect(err.message).toContain('(input shapes [2,16,2,2], [16], [16]'); // x (stage b4 is 16 channels at 2×2), weight, bias
  });

  it('names log in a layer added to a stage (2.2) on a log of negative numbers', () => {
    const { net, x } = setup();
    (net.at(2) as Sequential).append(new LogShifted());
    const err = anomalyOf(() => net.call(x));
    expect([err.op, err.modulePath, err.phase]).toEqual(['log', '2.2', 'forward']);
    expect(err.message).toContain('produced NaN in its forward output');
    expect(err.message).toContain('(input shapes [2,8,4,4])');
  });

  it('names sqrt in the stem (0.2) when its backward gives an Inf gradient at 0, with the gradient and output shapes', () => {
    const { net, x, y } = setup();
    (net.at(0) as Sequential).registerModule('2', new SqrtRelu()); // replaces the stem's ReLU
    const loss = detectAnomaly(() => crossEntropy(net.call(x), y)); // the forward is finite
    expect(Number.isFinite(loss.item())).toBe(true);
    const err = anomalyOf(() => loss.backward());
    expect([err.op, err.modulePath, err.phase]).toEqual(['sqrt', '0.2', 'backward']);
    expect(err.message).toMatch(/^anomaly: sqrt in module 0\.2 produced (Inf|NaN) in its backward gradient for argument 0/);
    expect(err.message).toContain('(input shapes [2,4,14,14], [2,4,14,14])');
  });

  it('names the first op that reads a NaN parameter (3.0.bn2 weight), and which argument it was', () => {
    const { net, x } = setup();
    block(net, 3, 0).bn2.weight!.data[3] = NaN;
    const err = anomalyOf(() => net.call(x));
    expect([err.op, err.modulePath, err.phase]).toEqual(['batchNorm', '3.0.bn2', 'forward']);
    expect(err.message).toBe(
      'anomaly: batchNorm in module 3.0.bn2 received NaN in its forward input (argument 1, a leaf tensor) at flat index 3 ' +
        '(input shapes [2,16,2,2], [16], [16])', // the op's tensor arguments: x, weight, bias
    );
  });

  it('is silent and changes nothing when every value is finite', () => {
    const { net, x, y } = setup();
    const plain = crossEntropy(net.call(x), y).item();
    const checked = detectAnomaly(() => {
      const loss = crossEntropy(net.call(x), y);
      loss.backward();
      return loss.item();
    });
    expect(checked).toBe(plain);
  });
});
