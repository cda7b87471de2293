// Seeded fuzz of resuming from mutated checkpoints: every outcome is a clean resume (finite
// weights) or an Error that names the checkpoint file, is at most 300 characters, and is not a
// bare JavaScript error from deep inside (x.toFixed is not a function, …).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as sg from '../src/index.js';
import { loadSafetensorsFile, saveSafetensorsFile, type RawTensor } from '../src/io/safetensors.js';

const sink = { write: () => true };
const BARE = /is not a function|Cannot read propert|is not iterable|undefined undefined|Cannot convert|Invalid array length|Maximum call stack|is not defined|of undefined|of null/;

/** mulberry32: the fuzz is reproducible from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function setup() {
  sg.manualSeed(0);
  const xs = sg.randn([24, 1, 4, 4]);
  const ys = sg.tensor(Array.from({ length: 24 }, (_, i) => i % 3), { dtype: 'int32' });
  const train = new sg.DataLoader(new sg.TensorDataset(xs, ys), { batchSize: 8, shuffle: true, seed: 1 });
  const test = new sg.DataLoader(new sg.TensorDataset(xs, ys), { batchSize: 12 });
  const model = new sg.nn.Sequential(new sg.nn.Flatten(), new sg.nn.Linear(16, 6), new sg.nn.BatchNorm1d(6), new sg.nn.ReLU(), new sg.nn.Linear(6, 3));
  const optimizer = new sg.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const scheduler = new sg.optim.OneCycleLR(optimizer as never, { maxLr: 0.05, totalSteps: 2 * train.length });
  return { model, opts: { train, test, optimizer, scheduler, schedulerInterval: 'step' as const, epochs: 2, progress: sink, log: sink } };
}

const VALUES: unknown[] = [-1, 0, 1.5, 7, 2 ** 40, 1e300, -1e-300, '3', '', null, true, [], {}, [1, 2], { a: 1 }, NaN, Infinity, -Infinity];

/** Every path into the JSON state (objects and arrays, typed arrays as leaves). */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof sg.Tensor) && prefix.length < 6) {
    for (const [k, c] of Object.entries(v)) paths(c, [...prefix, Array.isArray(v) ? Number(k) : k], out);
  }
  return out;
}

function setPath(root: Record<string, unknown>, path: (string | number)[], value: unknown, remove: boolean): void {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (remove) delete o[last];
  else o[last] = value;
}

describe('resuming from mutated checkpoints', () => {
  it('300 seeded mutations: 0 bare JS errors, every message names the file and is <= 300 chars', async () => {
    const base = mkdtempSync(join(tmpdir(), 'skipgrad-fuzz-'));
    const good = join(base, 'good');
    {
      const s = await setup();
      const controller = new AbortController();
      // Interrupted in the middle of epoch 2: position, momentum buffers, scheduler all non-trivial.
      await sg.fit(s.model, { ...s.opts, outDir: good, signal: controller.signal, callbacks: [{ onBatchEnd: ({ step }) => void (step === 4 && controller.abort()) }] });
    }
    const goodFile = join(good, 'checkpoint.safetensors');
    const goodBytes = readFileSync(goodFile);
    const goodRaw = await loadSafetensorsFile(goodFile);
    const rand = rng(Number(process.env.SKIPGRAD_FUZZ_SEED ?? 12345));
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    const outcomes = { resumed: 0, refused: 0 };
    const problems: string[] = [];
    let peakHeap = 0;
    for (let i = 0; i < 300; i++) {
      const dir = join(base, `m${i}`);
      mkdirSync(dir);
      const file = join(dir, 'checkpoint.safetensors');
      const kind = i % 4;
      let what = '';
      if (kind === 0) {
        // A field of the training state set to a wrong value, or deleted.
        const ckpt = await sg.loadCheckpoint(goodFile);
        const all = paths(ckpt.state).filter((p) => p.length > 0);
        const p = pick(all);
        const remove = rand() < 0.2;
        const value = pick(VALUES);
        setPath(ckpt.state as Record<string, unknown>, p, value, remove);
        what = `${p.join('.')} ${remove ? 'deleted' : `= ${String(value)}`}`;
        await sg.saveCheckpoint(file, ckpt);
      } else if (kind === 1) {
        // A tensor's values, shape or dtype changed, or the tensor dropped.
        const tensors: Record<string, RawTensor> = { ...goodRaw.tensors };
        const key = pick(Object.keys(tensors));
        const t = tensors[key];
        const r = rand();
        if (r < 0.4 && t.data.length > 0 && !(t.data instanceof BigInt64Array)) {
          const data = t.data.slice() as Float32Array;
          data[Math.floor(rand() * data.length)] = pick([NaN, Infinity, -Infinity]);
          tensors[key] = { ...t, data };
          what = `${key} non-finite`;
        } else if (r < 0.6) {
          tensors[key] = { ...t, shape: [t.data.length, 1].slice(0, 1 + Math.floor(rand() * 2)).map((d, j) => (j === 0 ? d : 1)).concat(t.shape.length === 1 ? [1] : []) };
          what = `${key} reshaped`;
        } else if (r < 0.8) {
          tensors[key] = { dtype: 'F64', shape: t.shape, data: Float64Array.from(t.data as Float32Array, Number) };
          what = `${key} as F64`;
        } else {
          delete tensors[key];
          what = `${key} dropped`;
        }
        await saveSafetensorsFile(file, tensors, goodRaw.metadata);
      } else if (kind === 2) {
        // The metadata JSON text damaged.
        const json = goodRaw.metadata['skipgrad.checkpoint'];
        const at = Math.floor(rand() * json.length);
        const damaged = rand() < 0.5 ? json.slice(0, at) : json.slice(0, at) + pick(['"', '}', ']', ',', '1', '-', 'null', '{"$tensor":"x"}']) + json.slice(at + 1);
        await saveSafetensorsFile(file, goodRaw.tensors, { ...goodRaw.metadata, 'skipgrad.checkpoint': damaged });
        what = `metadata damaged at ${at}`;
      } else {
        // Raw bytes flipped anywhere in the file.
        const bytes = Buffer.from(goodBytes);
        for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) bytes[Math.floor(rand() * (rand() < 0.5 ? 2000 : bytes.length))] = Math.floor(rand() * 256);
        writeFileSync(file, bytes);
        what = 'bytes flipped';
      }
      const s = await setup();
      try {
        await sg.fit(s.model, { ...s.opts, outDir: dir, resume: true });
        outcomes.resumed++;
        for (const [k, t] of Object.entries(s.model.stateDict())) {
          if (!Array.from(t.data as Float32Array).every(Number.isFinite)) problems.push(`#${i} ${what}: resumed with non-finite ${k}`);
        }
      } catch (e) {
        outcomes.refused++;
        const msg = e instanceof Error ? e.message : `non-Error ${String(e)}`;
        const named = msg.includes(file) || msg.startsWith('fit: the loss became');
        if (!(e instanceof Error) || !named || msg.length > 300 || BARE.test(msg)) problems.push(`#${i} ${what}: ${msg.slice(0, 400)}`);
      }
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    copyFileSync(goodFile, join(base, 'keep')); // the good checkpoint was never touched
    expect(problems).toEqual([]);
    expect(outcomes.refused).toBeGreaterThan(150);
    expect(outcomes.resumed).toBeGreaterThan(0);
    expect(peakHeap).toBeLessThan(512 * 2 ** 20);
  }, 180_000);
});
