/**
 * skipgrad's public entry: `import * as sg from 'skipgrad'`. A deep-learning framework for
 * Node.js with PyTorch's semantics: `Tensor` with reverse-mode autodiff and the ops at the top
 * level (`sg.tensor`, `sg.conv2d`, `sg.crossEntropy`, …, `defineOp` for new ones), and the
 * namespaces `nn` (modules and layers), `models` (ResNets), `optim` (optimizers and schedulers),
 * `data` (datasets, `DataLoader`, Fashion-MNIST) and `inspect` (gradient-flow reports), plus
 * safetensors checkpoints and the kernel controls (`setKernelMode`, `setNumThreads`).
 *
 * @packageDocumentation
 */
export * from './autograd/index.js';
export type { DType, TypedArray } from './kernels/dtype.js';
export * as data from './data/index.js';
export { DataLoader, TensorDataset, FashionMNIST } from './data/index.js';
export * as optim from './optim/index.js';
export { SGD, Adam, AdamW, clipGradNorm, clipGradValue } from './optim/index.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export { saveSafetensors, loadSafetensors, saveStateDict, loadStateDictFile } from './io/tensors.js';
export { gemm, gemmReference } from './kernels/gemm.js';
export { setKernelMode, getKernelMode, type KernelMode } from './kernels/mode.js';
export { setNumThreads, getNumThreads } from './kernels/threads/pool.js';
export { reclaimMemory, kernelMemoryStats, type ArenaStats } from './kernels/memory/arena.js';
export * as inspect from './inspect/index.js';
export { inspectGradients } from './inspect/index.js';
// The training loop as a library: fit, evaluate and their metrics, callbacks and checkpoints (src/train).
export { fit, type FitOptions, type FitResult } from './train/fit.js';
export {
  evaluate, ttaLogits, countCorrect, countTopK, predictClasses,
  type EvaluateOptions, type EvaluateResult, type EvalMetric, type EvalData, type TrainableModule, type LossFn, type TestTimeAugmentation,
} from './train/evaluate.js';
export { confusionMatrix, perClassAccuracy } from './train/confusion.js';
export type {
  Callback, CallbackReturn, FitState, AfterBackwardState, BatchEndState, EpochEndState, OptimizerLike, SchedulerLike,
} from './train/callbacks.js';
export { saveCheckpoint, loadCheckpoint, type Checkpoint } from './train/checkpoint.js';
export { saveTrainingCheckpoint, loadTrainingCheckpoint, type TrainingObjects } from './train/training_checkpoint.js';
export { validateTrainingState, validateModelTensors, CheckpointError, type TrainingState, type Position } from './train/training_state.js';
export { ProgressBar, type ProgressStream, type ProgressState } from './train/progress.js';
export type { MetricRow } from './train/metrics.js';
export {
  setBackend, getBackend, defaultBackend, listBackends, kernelTable, formatKernelTable, registerBackend, registerKernel, unregisterBackend,
  KERNEL_NAMES, type Kernels, type KernelName, type BackendInfo, type KernelTableRow,
} from './kernels/backend.js';
export { systemInfo, formatSystemInfo, type SystemInfo } from './kernels/system_info.js';
// Issue 11 (nn branch): torch.nn.functional as `F` (also `nn.functional`).
export * as F from './nn/functional.js';
export * as exporters from './export/index.js';
export { exportOnnx, exportRunToPytorch, importPytorchCheckpoint } from './export/index.js';
// --- issue 13 (watch it learn): pictures, evaluation helpers, the dashboard ---
export * as plot from './plot/index.js';
export * as dashboard from './dashboard/index.js';
export { GradflowRecorder } from './inspect/index.js';
export { predict, writeEvaluationFiles } from './train/predictions.js';
// Types the exported kernels, system info, train and CLI helpers reference, so the API reference includes them.
export type { UnaryFn, BinaryFn, TernaryFn } from './kernels/backend.js';
export type { CpuInfo } from './kernels/system_info.js';
export type { NativeStatus } from './kernels/native/index.js';
export type { SgdHyperParams, AdamHyperParams } from './kernels/optim.js';
export type { Pool2dParams, AvgPoolOptions, AdaptivePool2dParams } from './kernels/pool.js';
export type { Conv2dParams } from './kernels/conv.js';
export type { ConvGradArrays } from './kernels/conv_dispatch.js';
export type { ArithOp } from './kernels/fast/elementwise_module.js';
export type { Predictions, EvaluationFiles } from './train/predictions.js';
export type { TrainConfig } from './cli/train_config.js';
