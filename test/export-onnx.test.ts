// skipgrad export --to onnx: the file passes onnx.checker and onnxruntime gives skipgrad's logits
// (within 1e-4) on embedded test images, for the seed's ResNet-18 and for models with the other
// built-in layers ONNX has (LayerNorm, GELU, SiLU, …, Conv1d, ConvTranspose2d, Upsample).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as sg from '../src/index.js';
import { main } from '../src/cli/main.js';
import { ProtoWriter } from '../src/export/onnx/protobuf.js';

const PY = '/usr/bin/python3';
const hasOnnx = spawnSync(PY, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
// CI installs python3-onnx: there the checker test must run, not skip.
const runChecker = hasOnnx || Boolean(process.env.CI);
if (!runChecker) console.warn('export-onnx: /usr/bin/python3 cannot import onnx; skipping the onnx.checker test');

const dir = mkdtempSync(join(tmpdir(), 'skipgrad-onnx-'));
let images: sg.Tensor;

beforeAll(async () => {
  const test = await sg.FashionMNIST.load({ train: false });
  const n = 16;
  const per = 28 * 28;
  const x = new Float32Array(n * per);
  for (let i = 0; i < n; i++) x.set(test.get(i).x.data, i * per);
  images = new sg.Tensor(x, [n, 1, 28, 28]);
});

afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logitsOf(model: sg.nn.Module, x: sg.Tensor): Float32Array {
  model.eval();
  return sg.noGrad(() => model.call(x)).data as Float32Array;
}

async function onnxLogits(bytes: Uint8Array, x: sg.Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  // A copy: onnxruntime-node refuses a view into a larger buffer (as randn's may be).
  const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), x.shape.slice()) });
  return { data: out.logits.data as Float32Array, dims: out.logits.dims };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Non-trivial BatchNorm statistics and LayerNorm affine parameters, so eval mode is really tested. */
function perturb(model: sg.nn.Module, seed: number): void {
  const rng = new sg.Generator(seed);
  for (const [name, t] of [...model.namedBuffers(), ...model.namedParameters()]) {
    if (name.endsWith('running_mean')) t.data.forEach((_, i) => (t.data[i] = 0.2 * rng.normal()));
    else if (name.endsWith('running_var')) t.data.forEach((_, i) => (t.data[i] = 0.5 + rng.random()));
    else if (/\.(weight|bias)$/.test(name) && t.shape.length === 1) t.data.forEach((_, i) => (t.data[i] += 0.1 * rng.normal()));
  }
}

function checker(path: string): string {
  const r = spawnSync(PY, ['-c', 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print("ok", m.opset_import[0].version)', path], { encoding: 'utf8' });
  return (r.stdout + r.stderr).trim();
}

function lnGeluModel(): sg.nn.Module {
  const { Sequential, Conv2d, ReLU, Flatten, Linear, Dropout, AvgPool2d, MaxPool2d, LayerNorm, GELU, SiLU, LeakyReLU, Hardtanh, LogSigmoid } = sg.nn;
  return new Sequential(
    // 'same' with an even kernel pads 1 before and 2 after; AvgPool2d without counting the padding.
    new Conv2d(1, 4, 4, { padding: 'same', bias: false }), new Hardtanh(-0.5, 0.7), new Conv2d(4, 4, 3, { stride: 2, dilation: 2 }),
    new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), new MaxPool2d(2, { stride: 1 }), new LogSigmoid(),
    new ReLU(), new Flatten(), new Linear(4 * 5 * 5, 32),
    new LayerNorm(32), new GELU(), new Linear(32, 16), new LayerNorm([16], { eps: 1e-3, elementwiseAffine: false }),
    new GELU({ approximate: 'tanh' }), new SiLU(), new Linear(16, 16), new LeakyReLU(0.1), new Dropout(0.3), new Linear(16, 10),
  );
}

/** ConvTranspose2d, Upsample (nearest), Dropout2d and the other activations, on images. */
function upModel(): sg.nn.Module {
  const { Sequential, Conv2d, ConvTranspose2d, Upsample, Dropout2d, MaxPool2d, Flatten, Linear, ELU, Hardswish, Mish, Softplus, ReLU6, Hardtanh } = sg.nn;
  return new Sequential(
    new Conv2d(1, 4, 3, { padding: 1 }), new ELU(0.5), new ConvTranspose2d(4, 3, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    new Hardswish(), new Dropout2d(0.4), new MaxPool2d(4), new Upsample({ scaleFactor: 2 }), new Conv2d(3, 4, 3, { stride: 3 }),
    new Mish(), new Flatten(), new Linear(4 * 9 * 9, 16), new Softplus(2, 1), new Linear(16, 16), new Hardtanh(-0.3, 0.4),
    new ReLU6(), new Linear(16, 10),
  );
}

/** Conv1d ('same', strided and dilated) on [4, 32] sequences. */
function seqModel(): sg.nn.Module {
  const { Sequential, Conv1d, GELU, Flatten, Linear } = sg.nn;
  return new Sequential(
    new Conv1d(4, 8, 4, { padding: 'same' }), new GELU(), new Conv1d(8, 4, 3, { stride: 2, dilation: 2, padding: 1, bias: false }),
    new Flatten(), new Linear(4 * 15, 10),
  );
}

describe('export to ONNX', () => {
  it("the seed's ResNet-18: onnxruntime gives skipgrad's logits within 1e-4, for any batch size", async () => {
    sg.manualSeed(1);
    const model = sg.models.resnet18();
    perturb(model, 2);
    const bytes = sg.exportOnnx(model, { inputShape: [1, 28, 28] });
    writeFileSync(join(dir, 'resnet18.onnx'), bytes);
    const want = logitsOf(model, images);
    const got = await onnxLogits(bytes, images);
    expect(got.dims).toEqual([16, 10]);
    expect(maxAbsDiff(got.data, want)).toBeLessThan(1e-4);
    // The batch size is symbolic: the same file takes 3 images.
    const three = new sg.Tensor((images.data as Float32Array).slice(0, 3 * 28 * 28), [3, 1, 28, 28]);
    expect(maxAbsDiff((await onnxLogits(bytes, three)).data, want.subarray(0, 30))).toBeLessThan(1e-4);
  });

  it('a model with LayerNorm, GELU (exact and tanh), SiLU, LeakyReLU, Hardtanh, LogSigmoid, AvgPool2d and \'same\' padding', async () => {
    sg.manualSeed(3);
    const model = lnGeluModel();
    perturb(model, 4);
    const bytes = sg.exportOnnx(model, { inputShape: [1, 28, 28] });
    writeFileSync(join(dir, 'layers.onnx'), bytes);
    const got = await onnxLogits(bytes, images);
    expect(got.dims).toEqual([16, 10]);
    expect(maxAbsDiff(got.data, logitsOf(model, images))).toBeLessThan(1e-4);
  });

  it('a model with ConvTranspose2d, Upsample, Dropout2d, ELU, Hardswish, Mish, Softplus, Hardtanh, ReLU6', async () => {
    sg.manualSeed(6);
    const model = upModel();
    perturb(model, 7);
    const bytes = sg.exportOnnx(model, { inputShape: [1, 28, 28] });
    writeFileSync(join(dir, 'up.onnx'), bytes);
    const got = await onnxLogits(bytes, images);
    expect(got.dims).toEqual([16, 10]);
    expect(maxAbsDiff(got.data, logitsOf(model, images))).toBeLessThan(1e-4);
  });

  it('a model with Conv1d on sequences', async () => {
    sg.manualSeed(8);
    const model = seqModel();
    const x = sg.randn([5, 4, 32]);
    const bytes = sg.exportOnnx(model, { inputShape: [4, 32] });
    writeFileSync(join(dir, 'seq.onnx'), bytes);
    const got = await onnxLogits(bytes, x);
    expect(got.dims).toEqual([5, 10]);
    expect(maxAbsDiff(got.data, logitsOf(model, x))).toBeLessThan(1e-4);
  });

  it('skipgrad export RUN_DIR --to onnx writes the run\'s model', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const run = join(dir, 'run');
    expect(await main(['train', '--limit', '64', '--width', '8', '--batch-size', '32', '--epochs', '1', '--out', run])).toBe(0);
    const file = join(dir, 'run.onnx');
    expect(await main(['export', run, '--to', 'onnx', file])).toBe(0);
    vi.restoreAllMocks();
    const model = sg.models.resnet18({ baseChannels: 8 });
    await sg.loadStateDictFile(model, join(run, 'model.safetensors'));
    const got = await onnxLogits(readFileSync(file), images);
    expect(maxAbsDiff(got.data, logitsOf(model, images))).toBeLessThan(1e-4);
  });

  it.skipIf(!runChecker)('the files pass onnx.checker (full check, opset 17)', () => {
    for (const f of ['resnet18.onnx', 'layers.onnx', 'up.onnx', 'seq.onnx', 'run.onnx']) expect(checker(join(dir, f))).toBe('ok 17');
  });

  it('refuses a module it cannot translate, naming its path and class', () => {
    class Swish2 extends sg.nn.Module {
      forward(x: sg.Tensor): sg.Tensor {
        return sg.mul(x, sg.sigmoid(sg.mul(x, 2)));
      }
    }
    const { Sequential, Linear, ReLU, BatchNorm1d } = sg.nn;
    const model = new Sequential(new Linear(4, 4), new Sequential(new ReLU(), new Swish2()));
    expect(() => sg.exportOnnx(model, { inputShape: [4] })).toThrow(/export to ONNX: module '1\.1' \(Swish2\) has no ONNX translation/);
    // A subclass of a built-in may compute something else: refused too.
    class MyReLU extends ReLU {}
    expect(() => sg.exportOnnx(new Sequential(new MyReLU()), { inputShape: [4] })).toThrow(/module '0' \(MyReLU\)/);
    const noStats = new Sequential(new BatchNorm1d(4, { trackRunningStats: false }));
    expect(() => sg.exportOnnx(noStats, { inputShape: [4] })).toThrow(/module '0' \(BatchNorm1d\) keeps no running statistics/);
    // Built-ins without an ONNX entry here are refused by name too.
    expect(() => sg.exportOnnx(new Sequential(new sg.nn.GroupNorm(2, 4)), { inputShape: [4, 3, 3] })).toThrow(/module '0' \(GroupNorm\) has no ONNX translation/);
    expect(() => sg.exportOnnx(new Sequential(new sg.nn.Upsample({ scaleFactor: 2, mode: 'bilinear' })), { inputShape: [1, 4, 4] }))
      .toThrow(/module '0' \(Upsample\) has mode 'bilinear'; only 'nearest' is exported/);
  });

  it('protobuf writer: varints, negative int64, length-delimited fields', () => {
    expect(Array.from(new ProtoWriter().varint(1, 300).finish())).toEqual([0x08, 0xac, 0x02]);
    expect(Array.from(new ProtoWriter().varint(3, -1).finish())).toEqual([0x18, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1]);
    expect(Array.from(new ProtoWriter().string(2, 'ab').finish())).toEqual([0x12, 2, 97, 98]);
    expect(Array.from(new ProtoWriter().packedVarints(8, [1, 150]).finish())).toEqual([0x42, 3, 1, 0x96, 1]);
    expect(Array.from(new ProtoWriter().float(2, 1).finish())).toEqual([0x15, 0, 0, 0x80, 0x3f]);
  });
});
