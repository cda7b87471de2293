// Gradient-flow report: how much gradient reaches each residual block, and whether it arrives
// through the block's convolutions or through its shortcut. Built only from public hooks (module
// forward/full-backward hooks and tensor hooks), which are all removed before returning.
//
// For a block computing out = relu(S), S = Y + X' with Y = bn2(conv2(relu(bn1(conv1 X)))) and
// X' = conv3(X) or X (S = Y in a plain block), the report gives these gradient L2 norms:
//   output            ‖∂L/∂out‖  at the block's output, after the final relu
//   sum               ‖∂L/∂S‖    entering the add (the final relu's input). add passes its
//                                gradient unchanged to both operands, so sum = branch = shortcut
//   branch            ‖∂L/∂Y‖    into the residual branch (bn2's output)
//   shortcut          ‖∂L/∂X'‖   into the shortcut (conv3's output, or X itself); null if plain
//   input             ‖∂L/∂X‖    at the block's input, both paths together
//   inputViaBranch    the part of ∂L/∂X that came back through conv1
//   inputViaShortcut  the part that came through the shortcut (conv3's input gradient, or
//                     ∂L/∂X' itself for an identity); null if plain
// ∂L/∂X = viaBranch + viaShortcut elementwise: viaShortcut is the signal the skip path carries.

import { crossEntropy } from '../autograd/ops/loss.js';
import { Tensor, type RemovableHandle } from '../autograd/tensor.js';
import { fmt } from '../kernels/shape.js';
import { Residual } from '../models/resnet.js';
import type { Module } from '../nn/module.js';

/**
 * One residual block's gradient L2 norms (see the file's header for what each is): where the gradient arrives and
 * how it splits between the convolutions and the shortcut. A norm is null where the block has no such path.
 */
export interface BlockGradients {
  /** Dotted module path, e.g. `2.0` (stage b3's first block in the seed's ResNet-18). */
  path: string;
  /** 1-based position among the residual blocks, in the order forward ran them. */
  depth: number;
  /** Whether the block adds its shortcut (false for `skip: false` plain blocks). */
  skip: boolean;
  /** Whether the shortcut is the 1×1 convolution conv3. */
  projection: boolean;
  output: number | null;
  sum: number | null;
  branch: number | null;
  shortcut: number | null;
  input: number | null;
  inputViaBranch: number | null;
  inputViaShortcut: number | null;
}

/** One parameter's gradient norm, weight norm and their ratio. */
export interface ParameterGradients {
  name: string;
  shape: readonly number[];
  /** ‖grad‖, null when the parameter got no gradient (e.g. a plain block's unused conv3). */
  gradNorm: number | null;
  weightNorm: number;
  /** gradNorm / weightNorm: the relative change one SGD step of lr 1 would make; null for a zero weight. */
  ratio: number | null;
}

/** What {@link inspectGradients} returns: the batch's loss, every residual block's norms and every parameter's. */
export interface GradientReport {
  loss: number;
  /** Residual blocks in depth (forward) order. */
  blocks: BlockGradients[];
  /** Every parameter, in the order forward first used its module; unused ones last. */
  params: ParameterGradients[];
}

/** Options of {@link inspectGradients}. */
export interface InspectOptions {
  /** Loss from the model's output and batch.y (default crossEntropy). */
  lossFn?: (output: Tensor, y: Tensor) => Tensor;
}

/** L2 norm accumulated in float64. */
export function l2norm(t: Tensor | null): number | null {
  if (t === null) return null;
  let s = 0;
  for (let i = 0; i < t.data.length; i++) s += t.data[i] * t.data[i];
  return Math.sqrt(s);
}

export interface Probe {
  path: string;
  block: Residual;
  calls: number;
  output: Tensor | null;
  branch: Tensor | null;
  shortcut: Tensor | null;
  input: Tensor | null;
  viaBranch: Tensor | null;
  viaShortcut: Tensor | null;
}

/**
 * Runs one forward and backward pass of `model` on `batch` (in the model's current mode) and
 * reports gradient norms per residual block and per parameter. Parameter gradients are zeroed
 * first and left in `.grad` afterwards, so an optimizer step may follow.
 */
export function inspectGradients(model: Module, batch: { x: Tensor; y: Tensor }, options: InspectOptions = {}): GradientReport {
  const { x, y } = batch;
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new Error('inspectGradients: batch must be {x: Tensor, y: Tensor}');
  const lossFn = options.lossFn ?? crossEntropy;
  const handles: RemovableHandle[] = [];
  const used: Module[] = [];
  const probes: Probe[] = [];
  try {
    for (const [path, m] of model.namedModules()) {
      if (m.namedParameters().some(([n]) => !n.includes('.'))) {
        handles.push(m.registerForwardPreHook((mod) => void (used.includes(mod) || used.push(mod))));
      }
      if (m instanceof Residual) handles.push(...probeBlock(path, m, probes));
    }
    model.zeroGrad();
    // A float input that requires grad lets a model that starts with a block report its input gradient.
    const input = x.requiresGrad || x.dtype === 'int32' ? x : x.detach().requiresGrad_();
    const loss = lossFn(model.call(input) as Tensor, y);
    if (loss.size !== 1) throw new Error(`inspectGradients: lossFn must return one value, got shape ${fmt(loss.shape)}`);
    loss.backward();
    return { loss: loss.item(), blocks: probes.map(blockReport), params: paramReport(model, used) };
  } finally {
    for (const h of handles) h.remove();
  }
}

export function probeBlock(path: string, block: Residual, probes: Probe[]): RemovableHandle[] {
  const p: Probe = { path, block, calls: 0, output: null, branch: null, shortcut: null, input: null, viaBranch: null, viaShortcut: null };
  const hs = [
    block.registerForwardPreHook(() => {
      if (++p.calls > 1) throw new Error(`inspectGradients: block '${path}' ran twice in one forward; the report needs each block once`);
      probes.push(p);
    }),
    block.registerFullBackwardHook((_m, gin, gout) => {
      p.input = gin[0];
      p.output = gout[0];
    }),
    block.conv1.registerFullBackwardHook((_m, gin) => void (p.viaBranch = gin[0])),
    // Y is bn2's output; a tensor hook sees the gradient arriving at it.
    block.bn2.registerForwardHook((_m, _args, out) => {
      if (out instanceof Tensor && out.requiresGrad) out.registerHook((g) => void (p.branch = g));
    }),
  ];
  if (block.conv3 && block.skip) {
    hs.push(
      block.conv3.registerFullBackwardHook((_m, gin, gout) => {
        p.viaShortcut = gin[0];
        p.shortcut = gout[0];
      }),
    );
  }
  return hs;
}

export function blockReport(p: Probe, i: number): BlockGradients {
  const { block } = p;
  const projection = block.skip && block.conv3 !== null;
  // An identity shortcut hands ∂L/∂S, which equals ∂L/∂Y, straight to the input.
  const shortcut = !block.skip ? null : projection ? p.shortcut : p.branch;
  const viaShortcut = !block.skip ? null : projection ? p.viaShortcut : p.branch;
  return {
    path: p.path,
    depth: i + 1,
    skip: block.skip,
    projection,
    output: l2norm(p.output),
    sum: l2norm(p.branch),
    branch: l2norm(p.branch),
    shortcut: l2norm(shortcut),
    input: l2norm(p.input),
    inputViaBranch: l2norm(p.viaBranch),
    inputViaShortcut: l2norm(viaShortcut),
  };
}

export function paramReport(model: Module, used: Module[]): ParameterGradients[] {
  const nameOf = new Map(model.namedParameters().map(([n, t]) => [t as Tensor, n]));
  const ordered: Tensor[] = [];
  for (const m of used) for (const [n, t] of m.namedParameters()) if (!n.includes('.') && !ordered.includes(t)) ordered.push(t);
  for (const t of nameOf.keys()) if (!ordered.includes(t)) ordered.push(t);
  return ordered
    .filter((t) => nameOf.has(t))
    .map((t) => {
      const gradNorm = l2norm(t.grad);
      const weightNorm = l2norm(t)!;
      return {
        name: nameOf.get(t)!,
        shape: t.shape,
        gradNorm,
        weightNorm,
        ratio: gradNorm === null || weightNorm === 0 ? null : gradNorm / weightNorm,
      };
    });
}
