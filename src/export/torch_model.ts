// model.py: a PyTorch nn.Module tree generated from a skipgrad module, module for module, so the
// state-dict keys are the same. ResNets use the seed's own Residual / resnet_block code (D2L 8.6,
// verbatim); everything else goes through TORCH_LAYERS, one entry per built-in skipgrad class.
// A module with no entry (a user-defined one, or a built-in subclass) is refused by path and class.

import { Module, pyFloat, pyValue } from '../nn/module.js';
import { Sequential } from '../nn/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/layers/batchnorm.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '../nn/layers/pooling.js';
import { Dropout, Flatten, Identity, ReLU } from '../nn/layers/activation.js';
import { GroupNorm, LayerNorm } from '../nn/layers/norm.js';
import { Embedding } from '../nn/layers/embedding.js';
import { Conv1d } from '../nn/layers/conv1d.js';
import { ConvTranspose2d } from '../nn/layers/conv_transpose.js';
import { Upsample } from '../nn/layers/upsample.js';
import { Dropout2d } from '../nn/layers/dropout2d.js';
import { ModuleDict, ModuleList } from '../nn/container.js';
import { ELU, GELU, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, Mish, ReLU6, SiLU, Softplus } from '../nn/layers/nonlinearities.js';
import { Residual } from '../models/resnet.js';
import { child, isExactly, pairOf, refuse } from './modules.js';

const TARGET = 'PyTorch';

/** `3` for a square pair, `(3, 5)` otherwise, as torch's constructors take them. */
function size(v: number | readonly number[]): string {
  const [a, b] = pairOf(v);
  return a === b ? String(a) : `(${a}, ${b})`;
}

/** `name=value` arguments that differ from torch's defaults, in order. */
function kwargs(entries: Array<[string, string, string]>): string {
  return entries.filter(([, v, d]) => v !== d).map(([k, v]) => `, ${k}=${v}`).join('');
}

function float(x: number): string {
  return pyFloat(x);
}

/** How one layer class is written as PyTorch code: the constructor expression of `m`, or null if `m` is not of that class. */
export type Emit = (m: Module, path: string) => string | null;

function conv(m: Conv2d): string {
  const padding = typeof m.padding === 'string' ? `'${m.padding}'` : size(m.padding);
  return `nn.Conv2d(${m.inChannels}, ${m.outChannels}, kernel_size=${size(m.kernelSize)}` +
    kwargs([['stride', size(m.stride), '1'], ['padding', padding, '0'], ['dilation', size(m.dilation), '1'],
      ['groups', String(m.groups), '1'], ['bias', m.bias ? 'True' : 'False', 'True']]) + ')';
}

function batchNorm(m: BatchNorm1d | BatchNorm2d, cls: string): string {
  return `nn.${cls}(${m.numFeatures}` +
    kwargs([['eps', float(m.eps), '1e-05'], ['momentum', m.momentum === null ? 'None' : float(m.momentum), '0.1'],
      ['affine', pyValue(m.affine), 'True'], ['track_running_stats', pyValue(m.trackRunningStats), 'True']]) + ')';
}

/**
 * One entry per translatable class: returns the torch constructor call, or null when `m` is not
 * exactly that class (a subclass may compute something else, so it is refused).
 */
export const TORCH_LAYERS: ReadonlyArray<{ name: string; emit: Emit }> = [
  { name: 'Conv2d', emit: (m) => (isExactly(m, Conv2d) ? conv(m) : null) },
  { name: 'BatchNorm2d', emit: (m) => (isExactly(m, BatchNorm2d) ? batchNorm(m, 'BatchNorm2d') : null) },
  { name: 'BatchNorm1d', emit: (m) => (isExactly(m, BatchNorm1d) ? batchNorm(m, 'BatchNorm1d') : null) },
  {
    name: 'Linear',
    emit: (m) => (isExactly(m, Linear) ? `nn.Linear(${m.inFeatures}, ${m.outFeatures}${m.bias ? '' : ', bias=False'})` : null),
  },
  { name: 'ReLU', emit: (m) => (isExactly(m, ReLU) ? 'nn.ReLU()' : null) },
  { name: 'Identity', emit: (m) => (isExactly(m, Identity) ? 'nn.Identity()' : null) },
  {
    name: 'Flatten',
    emit: (m) => (isExactly(m, Flatten) ? `nn.Flatten(${kwargs([['start_dim', String(m.startDim), '1'], ['end_dim', String(m.endDim), '-1']]).slice(2)})` : null),
  },
  { name: 'Dropout', emit: (m) => (isExactly(m, Dropout) ? `nn.Dropout(p=${float(m.p)})` : null) },
  {
    name: 'MaxPool2d',
    emit: (m) =>
      isExactly(m, MaxPool2d)
        ? `nn.MaxPool2d(kernel_size=${size(m.kernelSize)}, stride=${size(m.stride)}` +
          kwargs([['padding', size(m.padding), '0'], ['dilation', size(m.dilation), '1'], ['ceil_mode', pyValue(m.ceilMode), 'False']]) + ')'
        : null,
  },
  {
    name: 'AvgPool2d',
    emit: (m) =>
      isExactly(m, AvgPool2d)
        ? `nn.AvgPool2d(kernel_size=${size(m.kernelSize)}, stride=${size(m.stride)}` +
          kwargs([['padding', size(m.padding), '0'], ['ceil_mode', pyValue(m.ceilMode), 'False'],
            ['count_include_pad', pyValue(m.countIncludePad), 'True'],
            ['divisor_override', m.divisorOverride === undefined ? 'None' : String(m.divisorOverride), 'None']]) + ')'
        : null,
  },
  {
    name: 'AdaptiveAvgPool2d',
    emit: (m) => (isExactly(m, AdaptiveAvgPool2d) ? `nn.AdaptiveAvgPool2d(${pyValue(pairOf(m.outputSize))})` : null),
  },
  {
    name: 'LayerNorm',
    emit: (m, path) => {
      if (!isExactly(m, LayerNorm)) return null;
      if (m.elementwiseAffine && m.bias === null) refuse(TARGET, path, m, 'has no bias, which torch 1.13\'s LayerNorm cannot express');
      return `nn.LayerNorm(${pyValue(m.normalizedShape)}` +
        kwargs([['eps', float(m.eps), '1e-05'], ['elementwise_affine', pyValue(m.elementwiseAffine), 'True']]) + ')';
    },
  },
  {
    name: 'GroupNorm',
    emit: (m) => (isExactly(m, GroupNorm)
      ? `nn.GroupNorm(${m.numGroups}, ${m.numChannels}` + kwargs([['eps', float(m.eps), '1e-05'], ['affine', pyValue(m.affine), 'True']]) + ')'
      : null),
  },
  {
    name: 'GELU',
    emit: (m) => (isExactly(m, GELU) ? (m.approximate === 'tanh' ? "nn.GELU(approximate='tanh')" : 'nn.GELU()') : null),
  },
  { name: 'SiLU', emit: (m) => (isExactly(m, SiLU) ? 'nn.SiLU()' : null) },
  {
    name: 'LeakyReLU',
    emit: (m) => (isExactly(m, LeakyReLU) ? `nn.LeakyReLU(${kwargs([['negative_slope', float(m.negativeSlope), '0.01']]).slice(2)})` : null),
  },
  { name: 'ELU', emit: (m) => (isExactly(m, ELU) ? `nn.ELU(${kwargs([['alpha', float(m.alpha), '1.0']]).slice(2)})` : null) },
  {
    name: 'Softplus',
    emit: (m) => (isExactly(m, Softplus) ? `nn.Softplus(${kwargs([['beta', pyValue(m.beta), '1'], ['threshold', pyValue(m.threshold), '20']]).slice(2)})` : null),
  },
  {
    name: 'Hardtanh',
    emit: (m) => (isExactly(m, Hardtanh) ? `nn.Hardtanh(${kwargs([['min_val', float(m.minVal), '-1.0'], ['max_val', float(m.maxVal), '1.0']]).slice(2)})` : null),
  },
  { name: 'ReLU6', emit: (m) => (isExactly(m, ReLU6) ? 'nn.ReLU6()' : null) },
  { name: 'Hardswish', emit: (m) => (isExactly(m, Hardswish) ? 'nn.Hardswish()' : null) },
  { name: 'Mish', emit: (m) => (isExactly(m, Mish) ? 'nn.Mish()' : null) },
  { name: 'LogSigmoid', emit: (m) => (isExactly(m, LogSigmoid) ? 'nn.LogSigmoid()' : null) },
  { name: 'Dropout2d', emit: (m) => (isExactly(m, Dropout2d) ? `nn.Dropout2d(p=${float(m.p)})` : null) },
  {
    name: 'Conv1d',
    emit: (m) => {
      if (!isExactly(m, Conv1d)) return null;
      const padding = typeof m.padding === 'string' ? `'${m.padding}'` : String(m.padding[0]);
      return `nn.Conv1d(${m.inChannels}, ${m.outChannels}, kernel_size=${m.kernelSize[0]}` +
        kwargs([['stride', String(m.stride[0]), '1'], ['padding', padding, '0'], ['dilation', String(m.dilation[0]), '1'],
          ['groups', String(m.groups), '1'], ['bias', m.bias ? 'True' : 'False', 'True']]) + ')';
    },
  },
  {
    name: 'ConvTranspose2d',
    emit: (m) => (isExactly(m, ConvTranspose2d)
      ? `nn.ConvTranspose2d(${m.inChannels}, ${m.outChannels}, kernel_size=${size(m.kernelSize)}` +
        kwargs([['stride', size(m.stride), '1'], ['padding', size(m.padding), '0'], ['output_padding', size(m.outputPadding), '0'],
          ['groups', String(m.groups), '1'], ['bias', m.bias ? 'True' : 'False', 'True'], ['dilation', size(m.dilation), '1']]) + ')'
      : null),
  },
  {
    name: 'Embedding',
    emit: (m) => (isExactly(m, Embedding)
      ? `nn.Embedding(${m.numEmbeddings}, ${m.embeddingDim}` +
        kwargs([['padding_idx', m.paddingIdx === null ? 'None' : String(m.paddingIdx), 'None'],
          ['max_norm', m.maxNorm === null ? 'None' : float(m.maxNorm), 'None'], ['norm_type', float(m.normType), '2.0'],
          ['scale_grad_by_freq', pyValue(m.scaleGradByFreq), 'False']]) + ')'
      : null),
  },
  {
    name: 'Upsample',
    emit: (m) => {
      if (!isExactly(m, Upsample)) return null;
      const sf = m.scaleFactor;
      const what = sf !== null ? `scale_factor=${typeof sf === 'number' ? float(sf) : `(${sf.map(float).join(', ')})`}` : `size=${pyValue(m.size as number | readonly number[])}`;
      return `nn.Upsample(${what}, mode='${m.mode}'` +
        kwargs([['align_corners', m.alignCorners === null ? 'None' : pyValue(m.alignCorners), 'None'],
          ['recompute_scale_factor', m.recomputeScaleFactor === null ? 'None' : pyValue(m.recomputeScaleFactor), 'None']]) + ')';
    },
  },
];

/** The seed's code, verbatim (scripts/fixtures/seed_resnet.py). */
const SEED_RESIDUAL = `class Residual(nn.Module):  #@save
    def __init__(self, input_channels, num_channels,
                 use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels,
                               kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels,
                               kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels,
                                   kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def resnet_block(input_channels, num_channels, num_residuals,
                 first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels,
                                use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk
`;

/** The seed's Residual(in, out, use_1x1conv, strides) exactly, or null when `r` is any other configuration. */
function residualArgs(r: Residual): { inC: number; outC: number; use1x1: boolean; strides: number } | null {
  if (!isExactly(r, Residual) || !r.skip) return null;
  const inC = r.conv1.inChannels;
  const outC = r.conv1.outChannels;
  const strides = r.conv1.stride[0];
  const same = (m: Module, expected: string): boolean => TORCH_LAYERS.some((l) => l.emit(m, '') === expected);
  const s = strides === 1 ? '' : `, stride=${strides}`;
  const ok =
    same(r.conv1, `nn.Conv2d(${inC}, ${outC}, kernel_size=3${s}, padding=1)`) &&
    same(r.conv2, `nn.Conv2d(${outC}, ${outC}, kernel_size=3, padding=1)`) &&
    (r.conv3 === null || same(r.conv3, `nn.Conv2d(${inC}, ${outC}, kernel_size=1${s})`)) &&
    same(r.bn1, `nn.BatchNorm2d(${outC})`) && same(r.bn2, `nn.BatchNorm2d(${outC})`) &&
    r.namedChildren().length === (r.conv3 ? 5 : 4);
  return ok ? { inC, outC, use1x1: r.conv3 !== null, strides } : null;
}

/** `resnet_block(in, out, n, first_block)` when a Sequential is exactly what that call builds. */
function resnetBlockCall(seq: Sequential): string | null {
  const blocks = seq.children();
  if (!blocks.length || !blocks.every((b) => b instanceof Residual)) return null;
  const args = blocks.map((b) => residualArgs(b as Residual));
  if (args.some((a) => a === null)) return null;
  const [first, ...rest] = args as NonNullable<(typeof args)[number]>[];
  const out = first.outC;
  const firstBlock = !first.use1x1 && first.strides === 1 && first.inC === out;
  if (!firstBlock && !(first.use1x1 && first.strides === 2)) return null;
  if (!rest.every((a) => !a.use1x1 && a.strides === 1 && a.inC === out && a.outC === out)) return null;
  return `nn.Sequential(*resnet_block(${first.inC}, ${out}, ${blocks.length}${firstBlock ? ', first_block=True' : ''}))`;
}

/** PyTorch code for a model, and whether it uses the generated `Residual` class. */
export interface Generated {
  code: string;
  usesResidual: boolean;
}

function expression(m: Module, path: string, indent: string, used: { residual: boolean }): string {
  if (isExactly(m, Sequential)) {
    const call = resnetBlockCall(m);
    if (call) {
      used.residual = true;
      return call;
    }
    const items = m.namedChildren().map(([name, c]) => `${indent}    ${expression(c, child(path, name), indent + '    ', used)},`);
    return items.length ? `nn.Sequential(\n${items.join('\n')}\n${indent})` : 'nn.Sequential()';
  }
  if (isExactly(m, ModuleList) || isExactly(m, ModuleDict)) {
    // Containers without a forward of their own: the same keys, for a model.py the user extends.
    const list = isExactly(m, ModuleList);
    const items = m.namedChildren().map(([name, c]) => `${indent}    ${list ? '' : `${JSON.stringify(name)}: `}${expression(c, child(path, name), indent + '    ', used)},`);
    const [open, close] = list ? ['[', ']'] : ['{', '}'];
    return items.length ? `nn.${list ? 'ModuleList' : 'ModuleDict'}(${open}\n${items.join('\n')}\n${indent}${close})` : `nn.${list ? 'ModuleList' : 'ModuleDict'}()`;
  }
  if (m instanceof Residual) {
    const a = residualArgs(m);
    if (!a) refuse(TARGET, path, m, m.skip ? 'is configured unlike the seed\'s Residual' : 'is a plain block (skip: false), which the seed\'s code has no form for');
    used.residual = true;
    return `Residual(${a.inC}, ${a.outC}${a.use1x1 ? ', use_1x1conv=True' : ''}${a.strides !== 1 ? `, strides=${a.strides}` : ''})`;
  }
  for (const layer of TORCH_LAYERS) {
    const code = layer.emit(m, path);
    if (code !== null) {
      if (m.namedChildren().length) refuse(TARGET, path, m, 'has child modules of its own');
      return code;
    }
  }
  refuse(TARGET, path, m, `has no PyTorch translation (translatable: Sequential, ModuleList, ModuleDict, Residual, ${TORCH_LAYERS.map((l) => l.name).join(', ')})`);
}

/** The nn.Module constructor expression of `model` (throws ExportError naming what it cannot translate). */
export function torchModelCode(model: Module): Generated {
  for (const [name, p] of model.namedParameters()) {
    if (p.dtype !== 'float32') throw new Error(`export to PyTorch: parameter '${name}' is ${p.dtype}; only float32 models are exported`);
  }
  const used = { residual: false };
  const code = expression(model, '', '    ', used);
  return { code, usesResidual: used.residual };
}

/** The whole model.py: imports, the seed's Residual code where used, and build_model(). */
export function modelPy(model: Module, source: string): string {
  const { code, usesResidual } = torchModelCode(model);
  return [
    `"""PyTorch model generated by \`skipgrad export\` from ${source}.`,
    '',
    'build_model() returns the same module tree as the skipgrad model, with the same state-dict keys',
    '(load model.safetensors into it with strict=True)."""',
    'import torch',
    'from torch import nn',
    'from torch.nn import functional as F',
    '',
    '',
    ...(usesResidual ? ["# ---- the seed's code (Dive into Deep Learning 8.6), verbatim", '', SEED_RESIDUAL, ''] : []),
    'def build_model():',
    `    return ${code}`,
    '',
  ].join('\n');
}
