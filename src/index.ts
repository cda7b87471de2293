// skipgrad's public entry: `import * as sg from 'skipgrad'`.
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
export { reclaimMemory, kernelMemoryStats } from './kernels/memory/arena.js';
export * as inspect from './inspect/index.js';
export { inspectGradients } from './inspect/index.js';
// --- issue 13 (watch it learn): pictures, evaluation helpers, the dashboard ---
export * as plot from './plot/index.js';
export * as dashboard from './dashboard/index.js';
export { GradflowRecorder } from './inspect/index.js';
export { confusionMatrix, perClassAccuracy } from './train/confusion.js';
export { predict, writeEvaluationFiles } from './train/predictions.js';
