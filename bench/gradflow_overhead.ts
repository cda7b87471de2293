// What `train --gradflow-every N` costs on the default run (ResNet-18 width 64, batch 64, 28×28
// embedded Fashion-MNIST, SGD momentum 0.9): the same training steps with and without a
// GradflowRecorder, in alternating segments so a busy shared machine affects both alike.
//
//   node dist/bench/gradflow_overhead.js [--every 50] [--segment 100] [--rounds 3] [--width 64] [--batch 64] [--json]
//
// Each round trains `segment` steps without a recorder (A), then `segment` with one (B), on one
// continuing model. B records the steps of the segment that are multiples of `every`, exactly as
// in a real run; the hooks go in after the step before each. Reported: mean ms/step of A and B,
// the overhead (B/A − 1), the extra time (medians) of a recorded step and of the step that installs
// hooks, and the overhead those extras amount to per step (robust to a machine whose load drifts).

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

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : NaN;
};

async function main(): Promise<void> {
  const every = flag('every', 50);
  const segment = flag('segment', 100);
  const rounds = flag('rounds', 3);
  const width = flag('width', 64);
  const batchSize = flag('batch', 64);
  const json = process.argv.includes('--json');
  if (segment % every !== 0) throw new Error(`gradflow_overhead: --segment (${segment}) must be a multiple of --every (${every})`);
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
  const a: number[] = [];
  const b: number[] = [];
  const recorded: number[] = [];
  const arming: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < segment; i++) a.push(await runStep());
    // Start B on a step that is not recorded, so it holds segment/every records like any stretch of a run.
    while ((step + 1) % every === 0) a.push(await runStep());
    const rec = new GradflowRecorder(model, { every, firstStep: step + 1, keep: false });
    for (let i = 0; i < segment; i++) {
      const s = step + 1;
      const ms = await runStep((k) => void rec.afterBackward(k));
      b.push(ms);
      if (rec.isRecordedStep(s)) recorded.push(ms);
      else if (rec.isRecordedStep(s + 1)) arming.push(ms);
    }
    rec.close();
  }
  const base = mean(a);
  // On a shared machine the segment means drift with the load; the medians of the recorded and
  // hook-installing steps against the plain steps' median show what the recorder itself adds.
  const med = median(a);
  const recordedExtra = median(recorded) - med;
  const armingExtra = median(arming) - med;
  const result = {
    name: 'gradflow-overhead', every, segment, rounds, width, batchSize, threads: getNumThreads(),
    msPerStepWithout: Number(base.toFixed(2)), msPerStepWith: Number(mean(b).toFixed(2)),
    overheadPercent: Number(((mean(b) / base - 1) * 100).toFixed(2)),
    medianMsPerStep: Number(med.toFixed(2)),
    recordedStepExtraMs: Number(recordedExtra.toFixed(1)), armingStepExtraMs: Number(armingExtra.toFixed(1)),
    attributedOverheadPercent: Number((((recordedExtra + armingExtra) / every / med) * 100).toFixed(2)),
    recordedSteps: recorded.length,
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`ResNet-18 width ${width}, batch ${batchSize}, ${getNumThreads()} threads, --gradflow-every ${every}, ${rounds} rounds of ${segment}+${segment} steps`);
    console.log(`without recorder ${result.msPerStepWithout} ms/step, with ${result.msPerStepWith} ms/step: overhead ${result.overheadPercent}%`);
    console.log(`a recorded step costs ${result.recordedStepExtraMs} ms extra (${recorded.length} of them, medians), the step installing hooks ${result.armingStepExtraMs} ms`);
    console.log(`attributed overhead: (recorded + installing extra) / every / median step = ${result.attributedOverheadPercent}%`);
  }
}

main().catch((e) => {
  console.error(`gradflow_overhead: ${(e as Error).message}`);
  process.exit(1);
});
