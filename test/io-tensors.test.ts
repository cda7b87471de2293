// Tensor-level safetensors (src/io/tensors.ts) and state-dict files. The byte-level codec and its
// hostile-file checks are tested in io-safetensors.test.ts.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, manualSeed, tensor } from '../src/index.js';
import { loadSafetensorsFile, saveSafetensorsFile } from '../src/io/safetensors.js';
import { loadSafetensors, loadStateDictFile, saveSafetensors, saveStateDict } from '../src/io/tensors.js';
import { resnet18 } from '../src/models/index.js';
import { BatchNorm2d, Linear, Sequential } from '../src/nn/index.js';

const dir = mkdtempSync(join(tmpdir(), 'skipgrad-io-tensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const values = (t: Tensor) => Array.from(t.data);

describe('saveSafetensors / loadSafetensors', () => {
  it('round-trips float32, float64 and int32 tensors of any rank, in order, atomically', async () => {
    const path = join(dir, 'mixed.safetensors');
    const tensors = {
      'b.f32': tensor([[1.5, -2], [3.25, 1e-8]]),
      'a.f64': tensor([1 / 3, -0], { dtype: 'float64' }),
      'c.i32': tensor([-(2 ** 31), 2 ** 31 - 1, 7], { dtype: 'int32' }),
      scalar: new Tensor(new Float32Array([4.25]), []),
      empty: new Tensor(new Float32Array(0), [2, 0]),
    };
    await saveSafetensors(path, tensors, { producer: 'skipgrad' });
    await saveSafetensors(path, tensors); // overwriting an existing file is fine
    expect(readdirSync(dir)).toEqual(['mixed.safetensors']); // no temp file left behind
    const back = await loadSafetensors(path);
    expect(Object.keys(back)).toEqual(Object.keys(tensors));
    for (const [name, t] of Object.entries(tensors)) {
      expect(back[name].dtype, name).toBe(t.dtype);
      expect(back[name].shape, name).toEqual(t.shape);
      expect(values(back[name]), name).toEqual(values(t));
    }
    expect(Object.is(back['a.f64'].data[1], -0)).toBe(true);
  });

  it('writes num_batches_tracked as I64 (PyTorch dtype) and other int32 tensors as I32', async () => {
    const path = join(dir, 'ints.safetensors');
    await saveSafetensors(path, { '0.1.num_batches_tracked': tensor(3, { dtype: 'int32' }), steps: tensor([1, 2], { dtype: 'int32' }) });
    const raw = (await loadSafetensorsFile(path)).tensors;
    expect(raw['0.1.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data: new BigInt64Array([3n]) });
    expect(raw.steps.dtype).toBe('I32');
    const back = await loadSafetensors(path);
    expect(back['0.1.num_batches_tracked'].dtype).toBe('int32');
    expect(back['0.1.num_batches_tracked'].item()).toBe(3);
  });

  it('reads I64 as int32 only when every value fits, naming the file, tensor and value otherwise', async () => {
    const path = join(dir, 'big.safetensors');
    await saveSafetensorsFile(path, { ok: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n]) } });
    expect(values((await loadSafetensors(path)).ok)).toEqual([-(2 ** 31), 2 ** 31 - 1]);
    await saveSafetensorsFile(path, { big: { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, 2n ** 40n]) } });
    await expect(loadSafetensors(path)).rejects.toThrow(
      `${path}: tensor "big" [2] I64 value 1099511627776 at flat index 1 does not fit in int32`,
    );
  });

  it('reads U8 and BOOL as int32, F16 as float32', async () => {
    const path = join(dir, 'narrow.safetensors');
    await saveSafetensorsFile(path, {
      u8: { dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) },
      flags: { dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
    });
    const back = await loadSafetensors(path);
    expect([back.u8.dtype, values(back.u8)]).toEqual(['int32', [0, 128, 255]]);
    expect([back.flags.dtype, values(back.flags)]).toEqual(['int32', [1, 0]]);
    // F16 cannot be written by the codec; build the file by hand: 1.0 = 0x3C00, -2.0 = 0xC000.
    const header = Buffer.from('{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}'.padEnd(56, ' '));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const f16 = join(dir, 'half.safetensors');
    writeFileSync(f16, Buffer.concat([len, header, Buffer.from([0x00, 0x3c, 0x00, 0xc0])]));
    const half = (await loadSafetensors(f16)).h;
    expect([half.dtype, values(half)]).toEqual(['float32', [1, -2]]);
  });

  it('refuses something that is not a tensor, naming the file and key', async () => {
    const path = join(dir, 'bad.safetensors');
    await expect(saveSafetensors(path, { w: [1, 2] as unknown as Tensor })).rejects.toThrow(`${path}: "w" is not a Tensor`);
  });
});

describe('state-dict files', () => {
  it('saveStateDict then loadStateDictFile restores every parameter and buffer', async () => {
    const path = join(dir, 'resnet.safetensors');
    manualSeed(1);
    const src = resnet18({ baseChannels: 4 });
    src.call(tensor(Array.from({ length: 2 * 32 * 32 }, (_, i) => Math.sin(i)), { dtype: 'float32' }).reshape([2, 1, 32, 32]));
    await saveStateDict(src, path, { format: 'pt' });
    manualSeed(2);
    const dst = resnet18({ baseChannels: 4 });
    expect(await loadStateDictFile(dst, path)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const want = src.stateDict();
    for (const [key, t] of Object.entries(dst.stateDict())) {
      expect(t.dtype, key).toBe(want[key].dtype);
      expect(values(t), key).toEqual(values(want[key]));
    }
    expect(values(dst.stateDict()['0.1.num_batches_tracked'])).toEqual([1]);
    // Another width does not fit: strict loading lists the mismatches.
    await expect(loadStateDictFile(resnet18({ baseChannels: 8 }), path)).rejects.toThrow(
      'size mismatch for 0.0.weight: copying a param with shape [4,1,7,7] from checkpoint, the shape in current model is [8,1,7,7].',
    );
  });

  it('non-strict loading reports what did not match', async () => {
    const path = join(dir, 'small.safetensors');
    await saveStateDict(new Sequential(new Linear(2, 3)), path);
    const dst = new Sequential(new Linear(2, 3), new BatchNorm2d(3));
    expect(await loadStateDictFile(dst, path, { strict: false })).toEqual({
      missingKeys: ['1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked'],
      unexpectedKeys: [],
    });
  });

  // Opt-in (the suite never needs Python): SKIPGRAD_TORCH_PYTHON=/usr/bin/python3 checks that the
  // seed's PyTorch model loads a skipgrad state dict with load_state_dict(strict=True).
  const python = process.env.SKIPGRAD_TORCH_PYTHON;
  it.skipIf(!python)('a state dict saved by skipgrad loads into the seed PyTorch model', async () => {
    const path = join(dir, 'for-torch.safetensors');
    await saveStateDict(resnet18({ baseChannels: 8 }), path);
    const script = fileURLToPath(new URL('../scripts/fixtures/check_state_dict.py', import.meta.url));
    expect(execFileSync(python!, [script, path], { encoding: 'utf8' })).toMatch(/^OK: 127 tensors loaded with strict=True/);
  });
});
