// Tensor-level safetensors: name → Tensor records on top of the raw codec in safetensors.ts,
// with PyTorch's dtypes on disk (num_batches_tracked as I64), plus state-dict file helpers.

import { Tensor } from '../autograd/tensor.js';
import type { LoadStateDictResult, Module } from '../nn/module.js';
import { loadSafetensorsFile, saveSafetensorsFile, SafetensorsError, type RawTensor } from './safetensors.js';

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

function toRaw(name: string, t: Tensor): RawTensor {
  const shape = [...t.shape];
  if (t.data instanceof Float32Array) return { dtype: 'F32', shape, data: t.data };
  if (t.data instanceof Float64Array) return { dtype: 'F64', shape, data: t.data };
  // PyTorch's BatchNorm counter is int64; writing it as such lets torch's load_state_dict take it as is.
  if (name.endsWith('num_batches_tracked')) return { dtype: 'I64', shape, data: BigInt64Array.from(t.data, (v) => BigInt(v)) };
  return { dtype: 'I32', shape, data: t.data };
}

function fromRaw(path: string, name: string, r: RawTensor): Tensor {
  const { shape, data } = r;
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) return new Tensor(data, shape);
  if (data instanceof BigInt64Array) {
    // int64 becomes int32, skipgrad's only integer dtype, when every value fits.
    const out = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v < I32_MIN || v > I32_MAX) {
        throw new SafetensorsError(`${path}: tensor ${JSON.stringify(name)} [${shape.join(',')}] I64 value ${v} at flat index ${i} does not fit in int32`);
      }
      out[i] = Number(v);
    }
    return new Tensor(out, shape);
  }
  // U8 and BOOL widen to int32 (exact); the codec already widened F16/BF16 to F32.
  return new Tensor(Int32Array.from(data), shape);
}

/**
 * Writes tensors to a safetensors file atomically (temp file + rename). float32 → F32,
 * float64 → F64, int32 → I32, except keys ending in `num_batches_tracked`, which are I64 as in PyTorch.
 */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<void> {
  const raw: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t instanceof Tensor)) throw new SafetensorsError(`${path}: ${JSON.stringify(name)} is not a Tensor`);
    raw[name] = toRaw(name, t);
  }
  await saveSafetensorsFile(path, raw, metadata);
}

/**
 * Reads a safetensors file as name → Tensor, in the file's order. F32/F64/I32 load as they are;
 * I64 becomes int32 (an error names the first value that does not fit); U8 and BOOL become int32;
 * F16 and BF16 come back as float32.
 */
export async function loadSafetensors(path: string): Promise<Record<string, Tensor>> {
  const { tensors } = await loadSafetensorsFile(path);
  const out: Record<string, Tensor> = {};
  for (const [name, r] of Object.entries(tensors)) out[name] = fromRaw(path, name, r);
  return out;
}

/** Saves `model.stateDict()` to a safetensors file (loadable by PyTorch's load_state_dict after safetensors.torch.load_file). */
export async function saveStateDict(model: Module, path: string, metadata?: Record<string, string>): Promise<void> {
  await saveSafetensors(path, model.stateDict(), metadata);
}

/** Loads a safetensors state dict (e.g. exported from PyTorch) into `model` with loadStateDict. */
export async function loadStateDictFile(model: Module, path: string, options: { strict?: boolean } = {}): Promise<LoadStateDictResult> {
  return model.loadStateDict(await loadSafetensors(path), options);
}
