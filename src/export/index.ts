/**
 * skipgrad.exporters: PyTorch (model.py, weights, optimizer and scheduler state, train_ddp.py) and
 * ONNX (the inference graph). Not part of the core: nothing in kernels/autograd/nn imports this.
 *
 * @module
 */

export { ExportError } from './modules.js';
export { modelPy, torchModelCode, TORCH_LAYERS } from './torch_model.js';
export { exportRunToPytorch, importPytorchCheckpoint, findTorchCheckpoint, TORCH_CHECKPOINT_FORMAT, type TorchCheckpointState } from './pytorch.js';
export { exportOnnx, type OnnxExportOptions } from './onnx/export.js';
export { ONNX_LAYERS } from './onnx/layers.js';
export { OPSET as ONNX_OPSET } from './onnx/graph.js';
export type { TorchOptimizerJson, TorchSchedulerJson } from './torch_state.js';
export type { Emit, Generated } from './torch_model.js';
export type { Lower } from './onnx/layers.js';
export type { TorchOptimizerClass, TorchSchedulerClass } from './torch_state.js';
export type { GraphBuilder, Value, AttrValue, Node, Initializer } from './onnx/graph.js';
