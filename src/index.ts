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
export { reclaimMemory, kernelMemoryStats } from './kernels/memory/arena.js';
export * as inspect from './inspect/index.js';
export { inspectGradients } from './inspect/index.js';
