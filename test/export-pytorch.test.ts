// skipgrad export --to pytorch / skipgrad import: a run exported after N steps and continued in
// PyTorch (train_ddp.py, one process) gives the losses of skipgrad's own --resume step for step;
// the optimizer and scheduler state survive export → torch's load_state_dict/state_dict → import;
// torchrun --nproc_per_node 2 (gloo) writes a run folder that skipgrad evaluate reads.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as sg from '../src/index.js';
import { main } from '../src/cli/main.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';

const PY = '/usr/bin/python3';
const TORCHRUN = '/usr/bin/torchrun';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
// CI installs python3-torch: there these tests must run, not skip.
const runTorch = hasTorch || Boolean(process.env.CI);
if (!runTorch) console.warn("export-pytorch: /usr/bin/python3 cannot import torch; skipping the PyTorch tests");

const root = mkdtempSync(join(tmpdir(), 'skipgrad-torch-'));
const at = (...p: string[]) => join(root, ...p);

/** Runs the CLI in-process; returns its exit code and what it printed with console.log. */
async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(argv), out: out.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

function python(args: string[], cmd = PY): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

type Row = { step: number; loss: number; lr: number; testAcc: number | null };

async function historyOf(ckpt: string): Promise<Row[]> {
  return ((await loadCheckpoint(ckpt)).state as { history: Row[] }).history;
}

function torchHistory(dir: string): Row[] {
  return (JSON.parse(readFileSync(join(dir, 'checkpoint', 'state.json'), 'utf8')) as { history: Row[] }).history;
}

// A width-8 ResNet-18 on 256 embedded images, batch 32: 8 steps an epoch.
const RECIPE = ['--limit', '256', '--width', '8', '--batch-size', '32', '--threads', '1'];

afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!runTorch)('export to PyTorch and back', () => {
  beforeAll(async () => {
    // SGD with momentum, a per-step cosine schedule, label smoothing and augmentation; 1 epoch (N = 8 steps).
    const sgd = await cli('train', ...RECIPE, '--epochs', '1', '--scheduler', 'cosine', '--label-smoothing', '0.1', '--augment', '--out', at('sgd'));
    expect(sgd.code).toBe(0);
    // Adam with OneCycleLR (beta1 cycled), for the round trip of moments, step counts and the schedule.
    expect((await cli('train', ...RECIPE, '--epochs', '1', '--optimizer', 'adam', '--lr', '0.01', '--out', at('adam'))).code).toBe(0);
    for (const run of ['sgd', 'adam']) expect((await cli('export', at(run), '--to', 'pytorch', at(`${run}-torch`))).code).toBe(0);
  }, 120_000);

  /** Run `run` (1 epoch, exported to `${run}-torch`) continued to 2 epochs by skipgrad --resume and by train_ddp.py: steps 9-16 of each. */
  async function continuedInBoth(run: string) {
    cpSync(at(run), at(`${run}-resumed`), { recursive: true });
    expect((await cli('train', '--resume', at(`${run}-resumed`), '--epochs', '2', '--threads', '1')).code).toBe(0);
    python([at(`${run}-torch`, 'train_ddp.py'), '--out', at(`${run}-continued`), '--epochs', '2', '--threads', '1']);
    const mine = (await historyOf(at(`${run}-resumed`, 'checkpoint.safetensors'))).filter((r) => r.step > 8);
    const theirs = torchHistory(at(`${run}-continued`)).filter((r) => r.step > 8);
    expect(theirs.map((r) => r.step)).toEqual([9, 10, 11, 12, 13, 14, 15, 16]);
    return { mine, theirs };
  }

  it('continued K = 8 steps in PyTorch, the losses are those of skipgrad --resume, step for step', async () => {
    const { mine, theirs } = await continuedInBoth('sgd');
    expect(mine.map((r) => r.step)).toEqual(theirs.map((r) => r.step));
    // The first continued step: within 1e-4 relative (the losses are the epoch's running means).
    expect(Math.abs(theirs[0].loss - mine[0].loss) / mine[0].loss).toBeLessThan(1e-4);
    theirs.forEach((r, i) => {
      expect(Math.abs(r.loss - mine[i].loss) / mine[i].loss).toBeLessThan(1e-4);
      expect(r.lr).toBeCloseTo(mine[i].lr, 12);
    });
    // Test accuracy after the epoch: the same up to an image whose top two logits lie within
    // float32 rounding of each other (1 of 1,000).
    expect(Math.abs(theirs.at(-1)!.testAcc! - mine.at(-1)!.testAcc!)).toBeLessThanOrEqual(0.001 + 1e-12);
  }, 180_000);

  it('a --flip run (flips without crops) continued in PyTorch: the losses of skipgrad --resume, step for step', async () => {
    expect((await cli('train', ...RECIPE, '--epochs', '1', '--scheduler', 'cosine', '--flip', '--out', at('flip'))).code).toBe(0);
    expect((await cli('export', at('flip'), '--to', 'pytorch', at('flip-torch'))).code).toBe(0);
    const { mine, theirs } = await continuedInBoth('flip');
    theirs.forEach((r, i) => expect(Math.abs(r.loss - mine[i].loss) / mine[i].loss).toBeLessThan(1e-4));
  }, 180_000);

  it('extending a one-cycle SGD run (--momentum 0.9 as the top of the cycle): PyTorch rebuilds the schedule as skipgrad does', async () => {
    // skipgrad's default schedule; Adam's (no momentum cycle) is extended the same way.
    for (const [run, flags] of [['onecycle', ['--momentum', '0.9']], ['adam', null]] as const) {
      if (flags) expect((await cli('train', ...RECIPE, '--epochs', '1', ...flags, '--out', at(run))).code).toBe(0);
      if (flags) expect((await cli('export', at(run), '--to', 'pytorch', at(`${run}-torch`))).code).toBe(0);
      cpSync(at(run), at(`${run}-x`), { recursive: true });
      const r = await cli('train', '--resume', at(`${run}-x`), '--epochs', '3', '--threads', '1');
      expect(r.code).toBe(0);
      const out = python([at(`${run}-torch`, 'train_ddp.py'), '--out', at(`${run}-x-torch`), '--epochs', '3', '--threads', '1']);
      expect(out).toContain('extending 1 -> 3 epochs: OneCycleLR schedule rebuilt for 3 epochs (24 steps), continuing at step 8');
      const mine = (await historyOf(at(`${run}-x`, 'checkpoint.safetensors'))).filter((x) => x.step > 8);
      const theirs = torchHistory(at(`${run}-x-torch`)).filter((x) => x.step > 8);
      expect(theirs.map((x) => x.step)).toEqual(mine.map((x) => x.step));
      expect(theirs.at(-1)!.step).toBe(24);
      theirs.forEach((x, i) => {
        expect(Math.abs(x.loss - mine[i].loss) / mine[i].loss, `${run} step ${x.step}`).toBeLessThan(1e-4);
        expect(x.lr).toBeCloseTo(mine[i].lr, 12);
      });
    }
    const st = JSON.parse(readFileSync(join(at('onecycle-x-torch'), 'checkpoint', 'state.json'), 'utf8'));
    expect(st.optimizer.param_groups[0]).toMatchObject({ max_momentum: 0.9, base_momentum: 0.8 });
    expect(st.scheduler.state.total_steps).toBe(24);
    expect(st.epochs).toBe(3);
  }, 240_000);

  it('the optimizer and scheduler state round-trip through torch and import', async () => {
    for (const run of ['sgd', 'adam']) {
      // PyTorch loads the exported state into torch.optim / lr_scheduler and writes its own state_dicts back (no step).
      python([at(`${run}-torch`, 'train_ddp.py'), '--out', at(`${run}-back`), '--threads', '1']);
      expect((await cli('import', at(`${run}-back`), '--out', at(`${run}-imported`))).code).toBe(0);
      const a = await loadCheckpoint(at(run, 'checkpoint.safetensors'));
      const b = await loadCheckpoint(at(`${run}-imported`, 'checkpoint.safetensors'));
      for (const [k, t] of Object.entries(a.model)) expect(Array.from(b.model[k].data), k).toEqual(Array.from(t.data));
      const sa = a.state as Record<string, unknown>;
      const sb = b.state as Record<string, unknown>;
      for (const key of ['optimizer', 'scheduler', 'position', 'rng', 'history', 'config']) {
        expect(JSON.parse(JSON.stringify(sb[key])), `${run}: ${key}`).toEqual(JSON.parse(JSON.stringify(sa[key])));
      }
    }
    const adam = (await loadCheckpoint(at('adam-imported', 'checkpoint.safetensors'))).state as { optimizer: { state: Record<string, { step: number; expAvg: Float32Array }> }; scheduler: { lastEpoch: number } };
    expect(adam.optimizer.state['0'].step).toBe(8);
    expect(adam.optimizer.state['0'].expAvg.some((v) => v !== 0)).toBe(true);
    expect(adam.scheduler.lastEpoch).toBe(8);
  }, 180_000);

  it('stopped mid-epoch in PyTorch (--max-steps 3), imported and resumed by skipgrad: the losses of an unbroken resume', async () => {
    python([at('sgd-torch', 'train_ddp.py'), '--out', at('sgd-3'), '--epochs', '2', '--max-steps', '3', '--threads', '1']);
    expect((await cli('import', at('sgd-3'), '--out', at('sgd-home'))).code).toBe(0);
    expect((await cli('train', '--resume', at('sgd-home'), '--threads', '1')).code).toBe(0);
    const home = (await historyOf(at('sgd-home', 'checkpoint.safetensors'))).filter((r) => r.step > 8);
    const mine = (await historyOf(at('sgd-resumed', 'checkpoint.safetensors'))).filter((r) => r.step > 8);
    expect(home.map((r) => r.step)).toEqual([9, 10, 11, 12, 13, 14, 15, 16]);
    // Steps 9–11 ran in PyTorch, 12–16 in skipgrad, continuing the epoch's running means.
    home.forEach((r, i) => expect(Math.abs(r.loss - mine[i].loss) / mine[i].loss).toBeLessThan(1e-4));
    // And a run PyTorch finished is continued for a third epoch.
    expect((await cli('import', at('sgd-continued'), '--out', at('sgd-home2'))).code).toBe(0);
    expect((await cli('train', '--resume', at('sgd-home2'), '--epochs', '3', '--threads', '1')).code).toBe(0);
    const rows = await historyOf(at('sgd-home2', 'checkpoint.safetensors'));
    expect(rows.at(-1)!.step).toBe(24);
    expect(rows.filter((r) => r.step > 16).every((r) => Number.isFinite(r.loss))).toBe(true);
  }, 180_000);

  it('torchrun --nproc_per_node 2 (gloo) on the embedded data; skipgrad evaluate reports the accuracy PyTorch reports', async () => {
    const out = at('ddp');
    // Debian's torchrun 1.13 under Python 3.11 cannot parse its default --redirects/--tee of 0;
    // 2 and 1 (stderr to the log dir, stdout teed) are values it can parse.
    const stdout = python(
      ['--nproc_per_node', '2', '--master_addr', '127.0.0.1', '--master_port', String(29500 + (process.pid % 400)),
        '--redirects', '2', '--tee', '1', '--log_dir', at('ddp-logs'),
        at('sgd-torch', 'train_ddp.py'), '--data', 'data/fashion-mnist', '--out', out, '--epochs', '2', '--max-steps', '3', '--threads', '1'],
      TORCHRUN,
    );
    expect(stdout).toContain('on 2 processes (gloo, cpu)');
    const acc = /final: test acc (\d\.\d{4}) on 1000 images after step 11/.exec(stdout);
    expect(acc, stdout).not.toBeNull();
    const header = readFileSync(join(out, 'metrics.csv'), 'utf8').split('\n')[0];
    expect(header).toBe('epoch,step,lr,loss,train_acc,test_acc,examples_per_sec,seconds');
    expect(existsSync(join(out, 'checkpoint', 'state.json'))).toBe(true);
    const ev = await cli('evaluate', '--checkpoint', out);
    expect(ev.code).toBe(0);
    expect(ev.out).toMatch(new RegExp(`^test acc ${acc![1]}, .* on 1000 images`));
  }, 240_000);

  it('--data takes the Kaggle CSVs: AdamW with StepLR continues on the same batches', async () => {
    // 128 train and 64 test rows of the embedded subset in Kaggle's layout (label,pixel1..pixel784).
    const { writeFileSync } = await import('node:fs');
    const header = ['label', ...Array.from({ length: 784 }, (_, i) => `pixel${i + 1}`)].join(',');
    for (const [split, n] of [['train', 128], ['test', 64]] as const) {
      const ds = await sg.FashionMNIST.load({ train: split === 'train' });
      const lines = [header];
      for (let i = 0; i < n; i++) {
        const { x, y } = ds.get(i);
        lines.push([y, ...Array.from(x.data, (v) => Math.round(v * 255))].join(','));
      }
      writeFileSync(at(`fashion-mnist_${split}.csv`), lines.join('\n') + '\n');
    }
    const csv = at('fashion-mnist_train.csv');
    const common = ['--width', '8', '--batch-size', '32', '--threads', '1'];
    expect((await cli('train', '--data', csv, ...common, '--epochs', '1', '--optimizer', 'adamw', '--scheduler', 'step', '--out', at('csv'))).code).toBe(0);
    cpSync(at('csv'), at('csv-resumed'), { recursive: true });
    expect((await cli('train', '--resume', at('csv-resumed'), '--epochs', '2', '--threads', '1')).code).toBe(0);
    expect((await cli('export', at('csv'), '--to', 'pytorch', at('csv-torch'))).code).toBe(0);
    python([at('csv-torch', 'train_ddp.py'), '--data', csv, '--out', at('csv-continued'), '--epochs', '2', '--threads', '1']);
    const mine = (await historyOf(at('csv-resumed', 'checkpoint.safetensors'))).filter((r) => r.step > 4);
    const theirs = torchHistory(at('csv-continued')).filter((r) => r.step > 4);
    expect(theirs.map((r) => r.step)).toEqual([5, 6, 7, 8]);
    theirs.forEach((r, i) => {
      expect(Math.abs(r.loss - mine[i].loss) / mine[i].loss).toBeLessThan(1e-4);
      expect(r.lr).toBeCloseTo(mine[i].lr, 12);
    });
  }, 180_000);

  /** Writes model.py and the weights, input and skipgrad's eval output; torch loads with strict=True and compares. */
  async function torchMaxDiff(name: string, model: sg.nn.Module, x: sg.Tensor): Promise<number> {
    const dir = at(name);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.py'), sg.exporters.modelPy(model, 'a test model'));
    model.eval();
    await sg.saveSafetensors(join(dir, 'weights.safetensors'), { ...model.stateDict(), input: x, output: sg.noGrad(() => model.call(x)) });
    const check = [
      'import sys, torch; sys.path.insert(0, sys.argv[1])',
      'from model import build_model',
      'from train_ddp import load_safetensors',
      't, _ = load_safetensors(sys.argv[1] + "/weights.safetensors")',
      'x, want = t.pop("input"), t.pop("output")',
      'm = build_model(); m.load_state_dict(t, strict=True); m.eval()',
      'print("maxdiff %.3g" % (m(x) - want).abs().max().item())',
    ].join('\n');
    cpSync(at('sgd-torch', 'train_ddp.py'), join(dir, 'train_ddp.py'));
    return Number(/maxdiff (\S+)/.exec(python(['-c', check, dir]))![1]);
  }

  it('model.py of a model with LayerNorm, GELU, SiLU, LeakyReLU, Hardtanh, LogSigmoid, pools and BatchNorm1d: same keys, same outputs', async () => {
    const { Sequential, Linear, Flatten, BatchNorm1d, Dropout, Conv2d, AvgPool2d, MaxPool2d, LayerNorm, GELU, SiLU, LeakyReLU, Hardtanh, LogSigmoid } = sg.nn;
    sg.manualSeed(5);
    const model = new Sequential(
      new Conv2d(1, 4, 4, { padding: 'same', bias: false }), new Hardtanh(-0.5, 0.7), new AvgPool2d(2, { countIncludePad: false }),
      new MaxPool2d(2, { stride: 1, dilation: 1 }), new LogSigmoid(), new Flatten(), new Linear(4 * 13 * 13, 32), new BatchNorm1d(32, { eps: 1e-3, momentum: 0.2 }), new LayerNorm(32, { eps: 1e-4 }),
      new GELU({ approximate: 'tanh' }), new Linear(32, 16, { bias: false }), new LayerNorm([16], { elementwiseAffine: false }),
      new GELU(), new SiLU(), new Dropout(0.25), new Linear(16, 16), new LeakyReLU(0.2), new Linear(16, 10),
    );
    expect(await torchMaxDiff('layers', model, sg.randn([4, 1, 28, 28]))).toBeLessThan(1e-5);
  });

  it('model.py of GroupNorm, ConvTranspose2d, Upsample, Dropout2d, ELU, Softplus, Hardswish, Mish, ReLU6; Conv1d; Embedding', async () => {
    const { Sequential, Conv2d, ConvTranspose2d, Upsample, Dropout2d, GroupNorm, MaxPool2d, Flatten, Linear, ELU, Hardswish, Mish, Softplus, ReLU6, Conv1d, GELU, Embedding } = sg.nn;
    sg.manualSeed(9);
    const images = new Sequential(
      new Conv2d(1, 4, 3, { padding: 1 }), new GroupNorm(2, 4, { eps: 1e-4 }), new ELU(0.5),
      new ConvTranspose2d(4, 4, 3, { stride: 2, padding: 1, outputPadding: 1, bias: false }), new Hardswish(), new Dropout2d(0.4),
      new MaxPool2d(4), new Upsample({ scaleFactor: 2 }), new Conv2d(4, 4, 3, { stride: 3 }), new GroupNorm(4, 4, { affine: false }), new Mish(),
      new Flatten(), new Linear(4 * 9 * 9, 16), new Softplus(2, 1), new ReLU6(), new Linear(16, 10),
    );
    expect(await torchMaxDiff('images', images, sg.randn([3, 1, 28, 28]))).toBeLessThan(1e-5);
    const seq = new Sequential(new Conv1d(4, 8, 4, { padding: 'same' }), new GELU(), new Conv1d(8, 4, 3, { stride: 2, dilation: 2, padding: 1 }), new Flatten(), new Linear(60, 10));
    expect(await torchMaxDiff('seq', seq, sg.randn([3, 4, 32]))).toBeLessThan(1e-5);
    const ids = sg.tensor([[1, 0, 4], [2, 0, 3]], { dtype: 'int32' });
    const emb = new Sequential(new Embedding(5, 4, { paddingIdx: 0 }), new Flatten(), new Linear(12, 3));
    expect(await torchMaxDiff('emb', emb, ids)).toBeLessThan(1e-5);
  });

});

describe('export to PyTorch: what cannot be translated', () => {
  it('refuses a user-defined module, naming its path and class', () => {
    class Gate extends sg.nn.Module {
      forward(x: sg.Tensor): sg.Tensor {
        return sg.mul(x, sg.sigmoid(x));
      }
    }
    const { Sequential, Linear } = sg.nn;
    expect(() => sg.exporters.modelPy(new Sequential(new Linear(2, 2), new Sequential(new Gate())), 'x')).toThrow(
      /export to PyTorch: module '1\.0' \(Gate\) has no PyTorch translation/,
    );
    const plain = sg.models.resnet18({ baseChannels: 4, skip: false });
    expect(() => sg.exporters.modelPy(plain, 'x')).toThrow(/module '1\.0' \(Residual\) is a plain block/);
  });

  it('ModuleList and ModuleDict become nn.ModuleList / nn.ModuleDict with the same keys', () => {
    const { Sequential, Linear, ReLU, ModuleList, ModuleDict } = sg.nn;
    const model = new Sequential(new ModuleList([new Linear(2, 3), new ReLU()]), new ModuleDict({ head: new Linear(3, 1), 'act': new ReLU() }));
    const code = sg.exporters.modelPy(model, 'x');
    expect(code).toContain('nn.ModuleList([\n');
    expect(code).toContain('"head": nn.Linear(3, 1),');
    expect(() => sg.exporters.modelPy(new Sequential(new sg.nn.InstanceNorm2d(3)), 'x')).toThrow(/module '0' \(InstanceNorm2d\) has no PyTorch translation/);
  });

  it("a ResNet's model.py uses the seed's Residual and resnet_block", () => {
    const code = sg.exporters.modelPy(sg.models.resnet18({ baseChannels: 8 }), 'x');
    expect(code).toContain('class Residual(nn.Module):  #@save');
    expect(code).toContain('nn.Sequential(*resnet_block(8, 8, 2, first_block=True)),');
    expect(code).toContain('nn.Sequential(*resnet_block(32, 64, 2)),');
    expect(code).toContain('nn.Conv2d(1, 8, kernel_size=7, stride=2, padding=3),');
    expect(code).toContain('nn.MaxPool2d(kernel_size=3, stride=2, padding=1),');
    expect(code).toContain('nn.AdaptiveAvgPool2d((1, 1)),');
    expect(code).toContain('nn.Linear(64, 10),');
  });
});

describe('skipgrad export / import: usage errors are one line', () => {
  it.each([
    [['export', 'runs/x'], "skipgrad export: --to must be pytorch or onnx, got nothing"],
    [['export', 'runs/x', '--to', 'tflite', 'out'], "skipgrad export: --to must be pytorch or onnx, got 'tflite'"],
    [['export', 'runs/x', '--to', 'onnx'], 'skipgrad export: expected RUN_DIR and FILE.onnx, got 1 paths'],
    [['export', '/no/such/run', '--to', 'pytorch', 'out'], 'skipgrad export: /no/such/run: no config.json there (not a run folder)'],
    [['import', '/no/such/dir', '--out', 'x'], 'skipgrad import: /no/such/dir: no state.json there or in /no/such/dir/checkpoint'],
    [['import', 'a'], 'skipgrad import: --out RUN_DIR is required'],
  ])('%j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBeGreaterThan(0);
    expect(r.out.split('\n')).toHaveLength(1);
    expect(r.out).toContain(message);
  });
});
