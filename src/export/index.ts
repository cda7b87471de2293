// skipgrad.exporters: PyTorch (model.py, weights, optimizer and scheduler state, train_ddp.py) and
// ONNX (the inference graph). Not part of the core: nothing in kernels/autograd/nn imports this.

export { ExportError } from './modules.js';
export { modelPy, torchModelCode, TORCH_LAYERS } from './torch_model.js';
export { exportRunToPytorch, importPytorchCheckpoint, findTorchCheckpoint, TORCH_CHECKPOINT_FORMAT, type TorchCheckpointState } from './pytorch.js';
export { exportOnnx, type OnnxExportOptions } from './onnx/export.js';
export { ONNX_LAYERS } from './onnx/layers.js';
export { OPSET as ONNX_OPSET } from './onnx/graph.js';
