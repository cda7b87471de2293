// Batch normalization as PyTorch's F.batch_norm, over every dim but the channel dim 1.
// Training normalizes with batch statistics and updates the running ones in place (a side
// effect, never part of the graph); eval uses the running statistics and is an affine map.

import { allocateUninit, isFloat, type FloatArray } from '../../kernels/dtype.js';
import * as K from '../../kernels/batchnorm.js';
import { fmt, sizeOf } from '../../kernels/shape.js';
import { defineOp } from '../function.js';
import { Tensor } from '../tensor.js';

/** Options of `batchNorm`, as F.batch_norm's keywords. */
export interface BatchNormOptions {
  /** Normalize with batch statistics and update the running ones (default false, as F.batch_norm). */
  training?: boolean;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

interface BnConfig {
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  batchStats: boolean;
  update: boolean;
  momentum: number;
  eps: number;
}

interface BnState {
  mean: ArrayLike<number>;
  invstd: Float64Array;
  weight: Tensor | null;
  batchStats: boolean;
  dims: [number, number, number];
}

const batchNormOp = defineOp<[Tensor, Tensor | null, Tensor | null, BnConfig], BnState>({
  name: 'batchNorm',
  forward(ctx, x, weight, bias, cfg) {
    const N = x.shape[0];
    const C = x.shape[1];
    const S = sizeOf(x.shape.slice(2));
    let mean: ArrayLike<number>;
    let invstd: Float64Array;
    if (cfg.batchStats) {
      const stats = K.channelStats(x.data, N, C, S);
      mean = stats.mean;
      invstd = K.invStd(stats.variance, cfg.eps);
      if (cfg.update && N * S > 0) {
        const n = N * S;
        const unbiased = new Float64Array(C); // a loop: a closure per call is optimized per call
        for (let c = 0; c < C; c++) unbiased[c] = (stats.variance[c] * n) / (n - 1);
        if (cfg.runningMean) K.updateRunning(cfg.runningMean.data, stats.mean, cfg.momentum);
        if (cfg.runningVar) K.updateRunning(cfg.runningVar.data, unbiased, cfg.momentum);
      }
    } else {
      // Copied: the running statistics may change before backward runs.
      mean = Float64Array.from(cfg.runningMean!.data);
      invstd = K.invStd(cfg.runningVar!.data, cfg.eps);
    }
    const out = allocateUninit(x.dtype, x.size) as FloatArray; // normalize writes every element
    K.normalize(x.data, N, C, S, mean, invstd, weight?.data ?? null, bias?.data ?? null, out);
    ctx.saveForBackward(x);
    Object.assign(ctx.state, { mean, invstd, weight, batchStats: cfg.batchStats, dims: [N, C, S] });
    return new Tensor(out, x.shape);
  },
  backward(ctx, g) {
    const [x] = ctx.savedTensors;
    const { mean, invstd, weight, batchStats, dims } = ctx.state;
    const [N, C, S] = dims;
    const { sumG, sumGXhat } = K.backwardReduce(g.data, x.data, N, C, S, mean, invstd);
    let gx: Tensor | null = null;
    if (ctx.needsInputGrad[0]) {
      const out = allocateUninit(x.dtype, x.size) as FloatArray;
      K.backwardInput(g.data, x.data, N, C, S, mean, invstd, weight?.data ?? null, sumG, sumGXhat, batchStats, out);
      gx = new Tensor(out, x.shape);
    }
    const gw = ctx.needsInputGrad[1] ? new Tensor(sumGXhat, [C]) : null;
    const gb = ctx.needsInputGrad[2] ? new Tensor(sumG, [C]) : null;
    return [gx, gw, gb, null];
  },
});

function checkChannelVector(name: string, t: Tensor | null, x: Tensor): void {
  if (t === null) return;
  if (t.ndim !== 1 || t.shape[0] !== x.shape[1]) {
    throw new Error(`batchNorm: ${name} ${fmt(t.shape)} must be [${x.shape[1]}], one value per channel of input ${fmt(x.shape)}`);
  }
  if (!isFloat(t.dtype)) throw new Error(`batchNorm: ${name} ${fmt(t.shape)} must be float, got ${t.dtype}`);
}

/**
 * F.batch_norm: x is [N, C, ...]; weight, bias and the running statistics are [C] (or null).
 * Training (or eval with both running statistics null, as a module without tracked statistics
 * does) normalizes with the batch mean and biased variance; training also moves whichever
 * running statistic is given towards the batch one, using the unbiased variance for runningVar.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  options: BatchNormOptions = {},
): Tensor {
  const training = options.training ?? false;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  if (x.ndim < 2) throw new Error(`batchNorm: expected input of shape [N, C, ...], got ${fmt(x.shape)}`);
  if (!isFloat(x.dtype)) throw new Error(`batchNorm: expected a float input, got ${x.dtype} of shape ${fmt(x.shape)}`);
  checkChannelVector('weight', weight, x);
  checkChannelVector('bias', bias, x);
  checkChannelVector('runningMean', runningMean, x);
  checkChannelVector('runningVar', runningVar, x);
  for (const [name, t] of [['runningMean', runningMean], ['runningVar', runningVar]] as const) {
    // Buffers, not parameters: an in-place update of a tensor that requires grad would corrupt the graph.
    if (t?.requiresGrad) throw new Error(`batchNorm: ${name} ${fmt(t.shape)} must not require grad (running statistics are buffers)`);
  }
  if (!training && (runningMean === null) !== (runningVar === null)) {
    const missing = runningMean === null ? 'runningMean' : 'runningVar';
    throw new Error(`batchNorm: eval mode needs both running statistics or neither, ${missing} is null (input ${fmt(x.shape)})`);
  }
  const batchStats = training || runningMean === null;
  // As PyTorch: exactly one value per channel has no variance to normalize by; an empty batch passes.
  if (batchStats && x.shape[1] > 0 && x.size / x.shape[1] === 1) {
    throw new Error(`batchNorm: expected more than 1 value per channel when training, got input of shape ${fmt(x.shape)}`);
  }
  const cfg: BnConfig = { runningMean, runningVar, batchStats, update: training, momentum, eps };
  return batchNormOp(x, weight, bias, cfg);
}
