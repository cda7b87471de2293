// exportOnnx: a module's inference graph as ONNX bytes (opset 17), input `input` of shape
// [batch, C, H, W] with a symbolic batch size, output `logits`. The module tree is walked, never
// run, so nothing about the model changes.

import type { Module } from '../../nn/module.js';
import { GraphBuilder, encodeModel } from './graph.js';
import { lower } from './layers.js';

/** Options of {@link exportOnnx}: the input shape and the graph's names. */
export interface OnnxExportOptions {
  /** The input's shape without the batch dim, e.g. [1, 28, 28]. */
  inputShape: readonly number[];
  /** Names of the graph's input and output (default 'input', 'logits'). */
  inputName?: string;
  outputName?: string;
  graphName?: string;
}

/**
 * The ONNX model (serialized protobuf bytes) of `model`'s inference graph, eval mode (BatchNorm with running
 * statistics, Dropout as identity), with a dynamic batch dim; throws an ExportError naming any module it cannot
 * lower.
 */
export function exportOnnx(model: Module, options: OnnxExportOptions): Uint8Array {
  const { inputShape, inputName = 'input', outputName = 'logits', graphName = 'skipgrad' } = options;
  if (!inputShape.length || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`exportOnnx: inputShape must be positive integers without the batch dim, got [${inputShape.join(', ')}]`);
  }
  for (const [name, p] of model.namedParameters()) {
    if (p.dtype !== 'float32') throw new Error(`export to ONNX: parameter '${name}' is ${p.dtype}; only float32 models are exported`);
  }
  const g = new GraphBuilder();
  const out = lower(g, model, '', { name: inputName, shape: [null, ...inputShape] });
  // The output must be a node's own output (a model ending in Identity/Dropout returns its input).
  const last = g.nodes.at(-1);
  if (!last || last.outputs[0] !== out.name) g.node('Identity', [out.name], 'output');
  const dims = out.shape.every((d, i) => i === 0 || d !== null) ? out.shape.map((d, i) => (i === 0 ? 'batch' : (d as number))) : null;
  return encodeModel(g, {
    graphName,
    input: { name: inputName, dims: ['batch', ...inputShape] },
    output: { name: outputName, dims },
    producerVersion: '0.1.0',
    docString: 'exported by skipgrad: inference graph (BatchNorm with running statistics, Dropout as identity)',
  });
}
