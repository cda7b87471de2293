// Checkpoints: one safetensors file holding the model's state dict and every large array of the
// training state (optimizer buffers), with the rest of the state as JSON in the metadata.
// Written to a temporary file and renamed, so an interrupted save never leaves half a checkpoint.

import { Tensor } from '../autograd/tensor.js';
import { loadSafetensorsFile, saveSafetensorsFile, type RawTensor } from '../io/safetensors.js';

const MODEL_PREFIX = 'model.';
const STATE_PREFIX = 'state.';
const META_KEY = 'skipgrad.checkpoint';

/** A model's weights and JSON-like training state, as saved in one safetensors file. */
export interface Checkpoint {
  model: Record<string, Tensor>;
  /** JSON-like training state; typed arrays and Tensors inside it are stored as tensors. */
  state: unknown;
}

type Ref = { $tensor: string; kind: 'Float32Array' | 'Float64Array' | 'Int32Array' | 'Tensor'; shape?: number[] };

function rawOf(t: Tensor): RawTensor {
  const dtype = t.dtype === 'float64' ? 'F64' : t.dtype === 'int32' ? 'I32' : 'F32';
  return { dtype, shape: t.shape.slice(), data: t.data };
}

function rawArray(a: Float32Array | Float64Array | Int32Array): RawTensor {
  const dtype = a instanceof Float64Array ? 'F64' : a instanceof Int32Array ? 'I32' : 'F32';
  return { dtype, shape: [a.length], data: a };
}

/** Replaces typed arrays and tensors in `value` by references, collecting them in `out`. */
function split(value: unknown, path: string, out: Record<string, RawTensor>): unknown {
  if (value instanceof Tensor) {
    const key = STATE_PREFIX + path;
    out[key] = rawOf(value);
    return { $tensor: key, kind: 'Tensor', shape: value.shape.slice() } satisfies Ref;
  }
  if (value instanceof Float32Array || value instanceof Float64Array || value instanceof Int32Array) {
    const key = STATE_PREFIX + path;
    out[key] = rawArray(value);
    return { $tensor: key, kind: value.constructor.name as Ref['kind'] } satisfies Ref;
  }
  if (Array.isArray(value)) return value.map((v, i) => split(v, `${path}.${i}`, out));
  if (value && typeof value === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) o[k] = split(v, path ? `${path}.${k}` : k, out);
    return o;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

function join(value: unknown, tensors: Record<string, RawTensor>, file: string): unknown {
  if (Array.isArray(value)) return value.map((v) => join(v, tensors, file));
  if (value && typeof value === 'object') {
    const ref = value as Partial<Ref> & { $number?: string };
    if (typeof ref.$number === 'string') return Number(ref.$number);
    if (typeof ref.$tensor === 'string') {
      const raw = tensors[ref.$tensor];
      if (!raw) throw new Error(`${file}: checkpoint state refers to missing tensor '${ref.$tensor}'`);
      const data = raw.data;
      if (ref.kind === 'Tensor') {
        if (!(data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array)) {
          throw new Error(`${file}: tensor '${ref.$tensor}' has unsupported dtype ${raw.dtype}`);
        }
        return new Tensor(data, ref.shape ?? raw.shape);
      }
      if (data.constructor.name !== ref.kind) {
        throw new Error(`${file}: tensor '${ref.$tensor}' is ${raw.dtype}, expected ${ref.kind}`);
      }
      return data;
    }
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) o[k] = join(v, tensors, file);
    return o;
  }
  return value;
}

/** Writes `checkpoint` to `path` as safetensors: the weights as tensors, the state as metadata JSON (its arrays as tensors). */
export async function saveCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const tensors: Record<string, RawTensor> = {};
  for (const [k, t] of Object.entries(checkpoint.model)) tensors[MODEL_PREFIX + k] = rawOf(t);
  const state = split(checkpoint.state, '', tensors);
  await saveSafetensorsFile(path, tensors, { [META_KEY]: JSON.stringify(state) });
}

/** Reads a checkpoint written by {@link saveCheckpoint}; throws naming the file if it is not one. */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const { tensors, metadata } = await loadSafetensorsFile(path);
  const json = metadata[META_KEY];
  if (json === undefined) throw new Error(`${path}: not a skipgrad checkpoint (no '${META_KEY}' metadata)`);
  let state: unknown;
  try {
    state = JSON.parse(json);
  } catch (e) {
    throw new Error(`${path}: checkpoint metadata is not valid JSON (${(e as Error).message})`);
  }
  const model: Record<string, Tensor> = {};
  for (const [k, raw] of Object.entries(tensors)) {
    if (!k.startsWith(MODEL_PREFIX)) continue;
    const d = raw.data;
    let data: Float32Array | Float64Array | Int32Array;
    if (d instanceof Float32Array || d instanceof Float64Array || d instanceof Int32Array) data = d;
    else if (d instanceof BigInt64Array) data = Int32Array.from(d, (v) => Number(v));
    else throw new Error(`${path}: model tensor '${k}' has unsupported dtype ${raw.dtype}`);
    model[k.slice(MODEL_PREFIX.length)] = new Tensor(data, raw.shape);
  }
  return { model, state: join(state, tensors, path) };
}
