// What `train --gradflow-every N` costs on the default run (ResNet-18 width 64, batch 64, 28×28
// embedded Fashion-MNIST, SGD momentum 0.9).
//
//   node dist/bench/gradflow_overhead.js [--every 50] [--pairs 20] [--width 64] [--batch 64] [--json]
//
// A recorder only works on the steps it records (1 in N; the other steps run without hooks), so
// the overhead is (extra time of a recorded step) / N / (time of a plain step). The extra time is
// the median difference over pairs of adjacent plain and recorded steps on one continuing model,
// which holds up on a machine shared with other jobs better than comparing long stretches.

import {
  DataLoader, FashionMNIST, GradflowRecorder, SGD, crossEntropy, getNumThreads, manualSeed, models, reclaimMemory,
} from '../src/index.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`gradflow_overhead: --${name} expects an integer >= 1, got '${process.argv[i + 1]}'`);
  return v;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN;
};

async function main(): Promise<void> {
  const every = flag('every', 50);
  const pairs = flag('pairs', 20);
  const width = flag('width', 64);
  const batchSize = flag('batch', 64);
  const json = process.argv.includes('--json');
  manualSeed(0);
  const train = await FashionMNIST.load({ train: true });
  const loader = new DataLoader(train, { batchSize, shuffle: true, seed: 0, dropLast: true });
  const model = models.resnet18({ baseChannels: width });
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  let epoch = 0;
  let it = loader.batches(epoch);
  const nextBatch = () => {
    let r = it.next();
    if (r.done) {
      it = loader.batches(++epoch);
      r = it.next();
    }
    return r.value!;
  };
  let step = 0;
  const runStep = async (after?: (s: number) => void): Promise<number> => {
    const { x, y } = nextBatch();
    const t0 = performance.now();
    opt.zeroGrad();
    const loss = crossEntropy(model.call(x), y);
    loss.backward();
    after?.(step + 1);
    opt.step();
    loss.item();
    opt.zeroGrad();
    await reclaimMemory();
    step++;
    return performance.now() - t0;
  };
  for (let i = 0; i < 5; i++) await runStep(); // warm-up: kernels compiled, arena filled
  // Pairs of adjacent steps, one plain and one recorded, in ABBA order so a load that drifts
  // during a pair cancels out; the recorder is armed for exactly its step (hooks installed by the
  // previous afterBackward, as in a run) and closed after it.
  const plain: number[] = [];
  const rec: number[] = [];
  const diffs: number[] = [];
  const recordedStep = async (): Promise<number> => {
    const r = new GradflowRecorder(model, { every: 1, firstStep: step + 1, keep: false });
    const ms = await runStep((k) => void r.afterBackward(k));
    r.close();
    return ms;
  };
  for (let i = 0; i < pairs; i++) {
    let p: number;
    let q: number;
    if (i % 2 === 0) {
      p = await runStep();
      q = await recordedStep();
    } else {
      q = await recordedStep();
      p = await runStep();
    }
    plain.push(p);
    rec.push(q);
    diffs.push(q - p);
  }
  const base = median(plain);
  const extra = median(diffs);
  const result = {
    name: 'gradflow-overhead', every, pairs, width, batchSize, threads: getNumThreads(),
    medianMsPerStep: Number(base.toFixed(1)), medianMsPerRecordedStep: Number(median(rec).toFixed(1)),
    recordedStepExtraMs: Number(extra.toFixed(1)),
    overheadPercent: Number(((extra / every / base) * 100).toFixed(2)),
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`ResNet-18 width ${width}, batch ${batchSize}, ${getNumThreads()} threads, ${pairs} pairs of a plain and a recorded step`);
    console.log(`plain step ${result.medianMsPerStep} ms, recorded step ${result.medianMsPerRecordedStep} ms (medians); a recorded step costs ${result.recordedStepExtraMs} ms more (median of the pairs)`);
    console.log(`--gradflow-every ${every}: one recorded step in ${every}, overhead ${result.overheadPercent}% of training time`);
  }
}

main().catch((e) => {
  console.error(`gradflow_overhead: ${(e as Error).message}`);
  process.exit(1);
});
