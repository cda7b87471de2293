// The inference graph of a skipgrad module in ONNX: eval-mode semantics (BatchNorm with running
// statistics, Dropout as identity), one entry of ONNX_LAYERS per module class. Sequential and the
// seed's Residual are walked; anything without an entry is refused by path and class.

import type { Module } from '../../nn/module.js';
import { Sequential } from '../../nn/container.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Linear } from '../../nn/layers/linear.js';
import { BatchNorm1d, BatchNorm2d } from '../../nn/layers/batchnorm.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '../../nn/layers/pooling.js';
import { Dropout, Flatten, Identity, ReLU } from '../../nn/layers/activation.js';
import { LayerNorm } from '../../nn/layers/norm.js';
import { Conv1d } from '../../nn/layers/conv1d.js';
import { ConvTranspose2d } from '../../nn/layers/conv_transpose.js';
import { Upsample } from '../../nn/layers/upsample.js';
import { Dropout2d } from '../../nn/layers/dropout2d.js';
import { ELU, GELU, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, Mish, ReLU6, SiLU, Softplus } from '../../nn/layers/nonlinearities.js';
import { Residual } from '../../models/resnet.js';
import type { Tensor } from '../../autograd/tensor.js';
import { child, isExactly, pairOf, refuse } from '../modules.js';
import type { GraphBuilder, Value } from './graph.js';

const TARGET = 'ONNX';

/**
 * How one module class is lowered to ONNX: adds `m`'s nodes to the graph and returns its output, or null if `m` is
 * not of that class.
 */
export type Lower = (g: GraphBuilder, m: Module, path: string, x: Value) => Value | null;

/** [top, left, bottom, right] pads of ONNX from torch's symmetric [h, w] padding. */
function pads(p: number | readonly number[]): number[] {
  const [h, w] = pairOf(p);
  return [h, w, h, w];
}

function weight(g: GraphBuilder, path: string, name: string, t: Tensor | null, fill?: { n: number; v: number }): string {
  if (t) return g.initializer(child(path, name), t.shape, t.data);
  return g.initializer(child(path, name), [fill!.n], new Float32Array(fill!.n).fill(fill!.v));
}

function rank(x: Value, r: number, g: Value['shape'] = x.shape): Value['shape'] {
  return g.length === r ? g : new Array<number | null>(r).fill(null);
}

function spatialOut(size: number | null, k: number, s: number, p: number, d: number): number | null {
  return size === null ? null : Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function conv(g: GraphBuilder, m: Conv2d, path: string, x: Value): Value {
  const [kh, kw] = m.kernelSize;
  const [dh, dw] = m.dilation;
  let pd: number[];
  if (m.padding === 'valid') pd = [0, 0, 0, 0];
  else if (m.padding === 'same') {
    // torch puts the odd pixel of 'same' padding at the bottom/right.
    const th = dh * (kh - 1);
    const tw = dw * (kw - 1);
    pd = [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
  } else pd = pads(m.padding);
  const inputs = [x.name, weight(g, path, 'weight', m.weight)];
  if (m.bias) inputs.push(weight(g, path, 'bias', m.bias));
  const name = g.node('Conv', inputs, path, {
    kernel_shape: [kh, kw], strides: [...m.stride], pads: pd, dilations: [...m.dilation], group: m.groups,
  });
  const [n, , h, w] = rank(x, 4);
  const oh = h === null ? null : Math.floor((h + pd[0] + pd[2] - dh * (kh - 1) - 1) / m.stride[0]) + 1;
  const ow = w === null ? null : Math.floor((w + pd[1] + pd[3] - dw * (kw - 1) - 1) / m.stride[1]) + 1;
  return { name, shape: [n, m.outChannels, oh, ow] };
}

function batchNorm(g: GraphBuilder, m: BatchNorm1d | BatchNorm2d, path: string, x: Value): Value {
  if (!m.trackRunningStats || !m.running_mean || !m.running_var) {
    refuse(TARGET, path, m, 'keeps no running statistics, so its eval mode normalises with batch statistics, which ONNX inference does not');
  }
  const c = m.numFeatures;
  const inputs = [
    x.name,
    weight(g, path, 'weight', m.weight, { n: c, v: 1 }),
    weight(g, path, 'bias', m.bias, { n: c, v: 0 }),
    weight(g, path, 'running_mean', m.running_mean),
    weight(g, path, 'running_var', m.running_var),
  ];
  return { name: g.node('BatchNormalization', inputs, path, { epsilon: { float: m.eps } }), shape: x.shape };
}

function pool(g: GraphBuilder, m: MaxPool2d | AvgPool2d, path: string, x: Value): Value {
  if (m.ceilMode) refuse(TARGET, path, m, 'has ceilMode, whose last-window rule differs between PyTorch and ONNX runtimes');
  const k = pairOf(m.kernelSize);
  const s = pairOf(m.stride);
  const p = pairOf(m.padding);
  const d = m instanceof MaxPool2d ? pairOf(m.dilation) : [1, 1];
  let name: string;
  if (m instanceof MaxPool2d) {
    name = g.node('MaxPool', [x.name], path, { kernel_shape: k, strides: s, pads: pads(p), dilations: d });
  } else {
    if (m.divisorOverride !== undefined) refuse(TARGET, path, m, 'has divisorOverride, which ONNX AveragePool has no attribute for');
    name = g.node('AveragePool', [x.name], path, { kernel_shape: k, strides: s, pads: pads(p), count_include_pad: m.countIncludePad ? 1 : 0 });
  }
  const [n, c, h, w] = rank(x, 4);
  return { name, shape: [n, c, spatialOut(h, k[0], s[0], p[0], d[0]), spatialOut(w, k[1], s[1], p[1], d[1])] };
}

function linear(g: GraphBuilder, m: Linear, path: string, x: Value): Value {
  const [out, inF] = m.weight.shape;
  const shape = [...x.shape.slice(0, -1), out];
  if (x.shape.length === 2) {
    const inputs = [x.name, weight(g, path, 'weight', m.weight)];
    if (m.bias) inputs.push(weight(g, path, 'bias', m.bias));
    return { name: g.node('Gemm', inputs, path, { transB: 1 }), shape };
  }
  // Any other rank: MatMul with Wᵀ (stored transposed), then the bias.
  const wt = new Float32Array(inF * out);
  for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) wt[i * out + o] = m.weight.data[o * inF + i];
  let y = g.node('MatMul', [x.name, g.initializer(child(path, 'weight_t'), [inF, out], wt)], path);
  if (m.bias) y = g.node('Add', [y, weight(g, path, 'bias', m.bias)], `${path}.bias_add`);
  return { name: y, shape };
}

function gelu(g: GraphBuilder, approximate: string, path: string, x: Value): Value {
  const half = g.scalar(child(path, 'half'), 0.5);
  const one = g.scalar(child(path, 'one'), 1);
  let inner: string;
  if (approximate === 'tanh') {
    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    const cube = g.node('Mul', [x.name, g.node('Mul', [x.name, x.name], `${path}.sq`)], `${path}.cube`);
    const poly = g.node('Add', [x.name, g.node('Mul', [cube, g.scalar(child(path, 'c'), 0.044715)], `${path}.c_cube`)], `${path}.poly`);
    inner = g.node('Tanh', [g.node('Mul', [poly, g.scalar(child(path, 'k'), Math.sqrt(2 / Math.PI))], `${path}.scaled`)], `${path}.tanh`);
  } else {
    // 0.5·x·(1 + erf(x/√2))
    inner = g.node('Erf', [g.node('Div', [x.name, g.scalar(child(path, 'sqrt2'), Math.SQRT2)], `${path}.div`)], `${path}.erf`);
  }
  const y = g.node('Mul', [g.node('Mul', [x.name, g.node('Add', [inner, one], `${path}.plus1`)], `${path}.xmul`), half], path);
  return { name: y, shape: x.shape };
}

const same = (name: string, x: Value): Value => ({ name, shape: x.shape });

function conv1d(g: GraphBuilder, m: Conv1d, path: string, x: Value): Value {
  const k = m.kernelSize[0];
  const d = m.dilation[0];
  let pd: number[];
  if (m.padding === 'valid') pd = [0, 0];
  else if (m.padding === 'same') {
    const t = d * (k - 1); // torch puts the odd pixel at the end
    pd = [Math.floor(t / 2), t - Math.floor(t / 2)];
  } else pd = [m.padding[0], m.padding[0]];
  const inputs = [x.name, weight(g, path, 'weight', m.weight)];
  if (m.bias) inputs.push(weight(g, path, 'bias', m.bias));
  const name = g.node('Conv', inputs, path, { kernel_shape: [k], strides: [m.stride[0]], pads: pd, dilations: [d], group: m.groups });
  const [n, , l] = rank(x, 3);
  return { name, shape: [n, m.outChannels, l === null ? null : Math.floor((l + pd[0] + pd[1] - d * (k - 1) - 1) / m.stride[0]) + 1] };
}

function convTranspose(g: GraphBuilder, m: ConvTranspose2d, path: string, x: Value): Value {
  const inputs = [x.name, weight(g, path, 'weight', m.weight)];
  if (m.bias) inputs.push(weight(g, path, 'bias', m.bias));
  const name = g.node('ConvTranspose', inputs, path, {
    kernel_shape: [...m.kernelSize], strides: [...m.stride], pads: pads(m.padding), dilations: [...m.dilation],
    output_padding: [...m.outputPadding], group: m.groups,
  });
  const [n, , h, w] = rank(x, 4);
  const out = (s: number | null, i: 0 | 1): number | null =>
    s === null ? null : (s - 1) * m.stride[i] - 2 * m.padding[i] + m.dilation[i] * (m.kernelSize[i] - 1) + m.outputPadding[i] + 1;
  return { name, shape: [n, m.outChannels, out(h, 0), out(w, 1)] };
}

function upsample(g: GraphBuilder, m: Upsample, path: string, x: Value): Value {
  if (m.mode !== 'nearest') refuse(TARGET, path, m, `has mode '${m.mode}'; only 'nearest' is exported`);
  if (m.scaleFactor === null) refuse(TARGET, path, m, 'has a size instead of a scaleFactor; only scaleFactor is exported');
  const r = x.shape.length;
  const sf = typeof m.scaleFactor === 'number' ? new Array<number>(r - 2).fill(m.scaleFactor) : [...m.scaleFactor];
  if (sf.length !== r - 2) refuse(TARGET, path, m, `has ${sf.length} scale factors for a rank-${r} input`);
  if (m.recomputeScaleFactor && !sf.every(Number.isInteger)) refuse(TARGET, path, m, 'recomputes a fractional scale factor');
  // torch's 'nearest': src = floor(dst / scale), which is ONNX's asymmetric transform with floor.
  const scales = g.initializer(child(path, 'scales'), [r], [1, 1, ...sf]);
  const name = g.node('Resize', [x.name, '', scales], path, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  return { name, shape: x.shape.map((s, i) => (i < 2 || s === null ? s : Math.floor(s * sf[i - 2]))) };
}


/** One entry per translatable class: lowers `m` onto `g`, or returns null when `m` is not of that class. */
export const ONNX_LAYERS: ReadonlyArray<{ name: string; lower: Lower }> = [
  { name: 'Conv2d', lower: (g, m, p, x) => (isExactly(m, Conv2d) ? conv(g, m, p, x) : null) },
  { name: 'BatchNorm2d', lower: (g, m, p, x) => (isExactly(m, BatchNorm2d) ? batchNorm(g, m, p, x) : null) },
  { name: 'BatchNorm1d', lower: (g, m, p, x) => (isExactly(m, BatchNorm1d) ? batchNorm(g, m, p, x) : null) },
  { name: 'ReLU', lower: (g, m, p, x) => (isExactly(m, ReLU) ? same(g.node('Relu', [x.name], p), x) : null) },
  { name: 'MaxPool2d', lower: (g, m, p, x) => (isExactly(m, MaxPool2d) ? pool(g, m, p, x) : null) },
  { name: 'AvgPool2d', lower: (g, m, p, x) => (isExactly(m, AvgPool2d) ? pool(g, m, p, x) : null) },
  {
    name: 'AdaptiveAvgPool2d',
    lower: (g, m, p, x) => {
      if (!isExactly(m, AdaptiveAvgPool2d)) return null;
      const [oh, ow] = pairOf(m.outputSize);
      if (oh !== 1 || ow !== 1) refuse(TARGET, p, m, `has outputSize [${oh}, ${ow}]; only [1, 1] (GlobalAveragePool) is exported`);
      const [n, c] = rank(x, 4);
      return { name: g.node('GlobalAveragePool', [x.name], p), shape: [n, c, 1, 1] };
    },
  },
  {
    name: 'Flatten',
    lower: (g, m, p, x) => {
      if (!isExactly(m, Flatten)) return null;
      const r = x.shape.length;
      const start = m.startDim < 0 ? m.startDim + r : m.startDim;
      const end = m.endDim < 0 ? m.endDim + r : m.endDim;
      if (end !== r - 1) refuse(TARGET, p, m, `flattens dims ${m.startDim}..${m.endDim} of a rank-${r} input; only through the last dim is exported`);
      const lead = x.shape.slice(0, start);
      const tail = x.shape.slice(start).reduce<number | null>((a, b) => (a === null || b === null ? null : a * b), 1);
      if (start !== 1) refuse(TARGET, p, m, `has startDim ${m.startDim}; ONNX Flatten keeps one leading dim, so only startDim 1 is exported`);
      return { name: g.node('Flatten', [x.name], p, { axis: 1 }), shape: [...lead, tail] };
    },
  },
  { name: 'Linear', lower: (g, m, p, x) => (isExactly(m, Linear) ? linear(g, m, p, x) : null) },
  { name: 'Identity', lower: (_g, m, _p, x) => (isExactly(m, Identity) ? x : null) },
  { name: 'Dropout', lower: (_g, m, _p, x) => (isExactly(m, Dropout) ? x : null) },
  {
    name: 'LayerNorm',
    lower: (g, m, p, x) => {
      if (!isExactly(m, LayerNorm)) return null;
      const shape = m.normalizedShape;
      const n = shape.reduce((a, b) => a * b, 1);
      const w = m.elementwiseAffine ? m.weight : null;
      const b = m.elementwiseAffine ? m.bias : null;
      const inputs = [
        x.name,
        w ? g.initializer(child(p, 'weight'), shape, w.data) : g.initializer(child(p, 'weight'), shape, new Float32Array(n).fill(1)),
        b ? g.initializer(child(p, 'bias'), shape, b.data) : g.initializer(child(p, 'bias'), shape, new Float32Array(n)),
      ];
      return same(g.node('LayerNormalization', inputs, p, { axis: -shape.length, epsilon: { float: m.eps } }), x);
    },
  },
  { name: 'GELU', lower: (g, m, p, x) => (isExactly(m, GELU) ? gelu(g, m.approximate, p, x) : null) },
  {
    name: 'SiLU',
    lower: (g, m, p, x) => (isExactly(m, SiLU) ? same(g.node('Mul', [x.name, g.node('Sigmoid', [x.name], `${p}.sigmoid`)], p), x) : null),
  },
  {
    name: 'LeakyReLU',
    lower: (g, m, p, x) => (isExactly(m, LeakyReLU) ? same(g.node('LeakyRelu', [x.name], p, { alpha: { float: m.negativeSlope } }), x) : null),
  },
  { name: 'ELU', lower: (g, m, p, x) => (isExactly(m, ELU) ? same(g.node('Elu', [x.name], p, { alpha: { float: m.alpha } }), x) : null) },
  {
    name: 'Softplus',
    lower: (g, m, p, x) => {
      if (!isExactly(m, Softplus)) return null;
      // torch: x where beta·x > threshold, else log(1 + exp(beta·x)) / beta.
      const bx = g.node('Mul', [x.name, g.scalar(child(p, 'beta'), m.beta)], `${p}.bx`);
      const soft = g.node('Div', [g.node('Softplus', [bx], `${p}.softplus`), g.scalar(child(p, 'beta_div'), m.beta)], `${p}.div`);
      const linear = g.node('Greater', [bx, g.scalar(child(p, 'threshold'), m.threshold)], `${p}.linear`);
      return same(g.node('Where', [linear, x.name, soft], p), x);
    },
  },
  {
    name: 'Hardtanh',
    lower: (g, m, p, x) => (isExactly(m, Hardtanh) || isExactly(m, ReLU6)
      ? same(g.node('Clip', [x.name, g.scalar(child(p, 'min'), m.minVal), g.scalar(child(p, 'max'), m.maxVal)], p), x)
      : null),
  },
  { name: 'ReLU6', lower: () => null }, // lowered by the Hardtanh entry (ReLU6 is Hardtanh(0, 6)); listed for the error message
  { name: 'Hardswish', lower: (g, m, p, x) => (isExactly(m, Hardswish) ? same(g.node('HardSwish', [x.name], p), x) : null) },
  {
    name: 'Mish',
    lower: (g, m, p, x) => (isExactly(m, Mish)
      ? same(g.node('Mul', [x.name, g.node('Tanh', [g.node('Softplus', [x.name], `${p}.softplus`)], `${p}.tanh`)], p), x)
      : null),
  },
  {
    name: 'LogSigmoid',
    lower: (g, m, p, x) => (isExactly(m, LogSigmoid)
      ? same(g.node('Neg', [g.node('Softplus', [g.node('Neg', [x.name], `${p}.neg`)], `${p}.softplus`)], p), x)
      : null),
  },
  { name: 'Dropout2d', lower: (_g, m, _p, x) => (isExactly(m, Dropout2d) ? x : null) },
  { name: 'Conv1d', lower: (g, m, p, x) => (isExactly(m, Conv1d) ? conv1d(g, m, p, x) : null) },
  { name: 'ConvTranspose2d', lower: (g, m, p, x) => (isExactly(m, ConvTranspose2d) ? convTranspose(g, m, p, x) : null) },
  { name: 'Upsample', lower: (g, m, p, x) => (isExactly(m, Upsample) ? upsample(g, m, p, x) : null) },
];

function residual(g: GraphBuilder, m: Residual, path: string, x: Value): Value {
  const at = (name: string) => child(path, name);
  let y = lower(g, m.conv1, at('conv1'), x);
  y = lower(g, m.bn1, at('bn1'), y);
  y = same(g.node('Relu', [y.name], `${path}.relu1`), y);
  y = lower(g, m.conv2, at('conv2'), y);
  y = lower(g, m.bn2, at('bn2'), y);
  if (m.skip) {
    const shortcut = m.conv3 ? lower(g, m.conv3, at('conv3'), x) : x;
    y = same(g.node('Add', [y.name, shortcut.name], `${path}.add`), y);
  }
  return same(g.node('Relu', [y.name], `${path}.relu2`), y);
}

/** Lowers `m` (at module path `path`) applied to `x`; throws ExportError for what has no translation. */
export function lower(g: GraphBuilder, m: Module, path: string, x: Value): Value {
  if (isExactly(m, Sequential)) {
    return m.namedChildren().reduce((v, [name, c]) => lower(g, c, child(path, name), v), x);
  }
  if (isExactly(m, Residual)) return residual(g, m, path, x);
  for (const layer of ONNX_LAYERS) {
    const out = layer.lower(g, m, path, x);
    if (out !== null) {
      if (m.namedChildren().length) refuse(TARGET, path, m, 'has child modules of its own');
      return out;
    }
  }
  refuse(TARGET, path, m, `has no ONNX translation (translatable: Sequential, Residual, ${ONNX_LAYERS.map((l) => l.name).join(', ')})`);
}
