// groupNorm and instanceNorm as PyTorch's F.group_norm / F.instance_norm. Both normalize each
// image's channel groups by their own statistics (instance norm: one channel per group), then
// apply a per-channel weight and bias. Instance norm can also track running statistics, the
// average over the batch of each instance's mean and unbiased variance, and use them instead.

import { fmt, sizeOf } from '../../kernels/shape.js';
import type { Tensor } from '../tensor.js';
import { batchNorm } from './batch_norm.js';
import { checkFloatInput, checkNormParam, rowNormOp } from './row_norm.js';

/** Options of {@link groupNorm}, as `torch.nn.functional.group_norm`'s. */
export interface GroupNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/** Options of {@link instanceNorm}, as `torch.nn.functional.instance_norm`'s. */
export interface InstanceNormOptions {
  /** Normalize with each instance's statistics (default true); false uses the running ones. */
  useInputStats?: boolean;
  /** Weight of the new statistics in the running averages (default 0.1). */
  momentum?: number;
  eps?: number;
}

const groupNormOp = rowNormOp('groupNorm');
const instanceNormOp = rowNormOp('instanceNorm');

/** F.group_norm: x [N, C, ...] with C divisible by numGroups; weight and bias [C] or null. */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  options: GroupNormOptions = {},
): Tensor {
  const eps = options.eps ?? 1e-5;
  checkFloatInput('groupNorm', x);
  if (x.ndim < 2) throw new Error(`groupNorm: expected input of shape [N, C, ...], got ${fmt(x.shape)}`);
  const [N, C] = x.shape;
  if (!Number.isInteger(numGroups) || numGroups < 1) throw new Error(`groupNorm: numGroups must be a positive integer, got ${numGroups}`);
  if (C % numGroups !== 0) {
    throw new Error(`groupNorm: expected the number of channels of input ${fmt(x.shape)} to be divisible by numGroups ${numGroups}`);
  }
  checkNormParam('groupNorm', 'weight', weight, [C], x);
  checkNormParam('groupNorm', 'bias', bias, [C], x);
  const S = sizeOf(x.shape.slice(2));
  const layout = { rows: N * numGroups, D: (C / numGroups) * S, inner: S, P: C };
  return groupNormOp(x, weight, bias, { layout, paramShape: [C], eps });
}

/**
 * F.instance_norm: x [N, C, ...]; weight, bias, runningMean, runningVar [C] or null. With input
 * statistics (the default) each (image, channel) slice is normalized by its own mean and biased
 * variance, and any running statistic given moves towards the batch average of the instances'
 * mean / unbiased variance; useInputStats false normalizes with the running statistics instead.
 */
export function instanceNorm(
  x: Tensor,
  runningMean: Tensor | null = null,
  runningVar: Tensor | null = null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  options: InstanceNormOptions = {},
): Tensor {
  const useInputStats = options.useInputStats ?? true;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  checkFloatInput('instanceNorm', x);
  if (x.ndim < 3) throw new Error(`instanceNorm: expected input of shape [N, C, *spatial], got ${fmt(x.shape)}`);
  const [N, C] = x.shape;
  for (const [what, t] of [['weight', weight], ['bias', bias], ['runningMean', runningMean], ['runningVar', runningVar]] as const) {
    checkNormParam('instanceNorm', what, t, [C], x);
    if ((what === 'runningMean' || what === 'runningVar') && t?.requiresGrad) {
      throw new Error(`instanceNorm: ${what} ${fmt(t.shape)} must not require grad (running statistics are buffers)`);
    }
  }
  if (typeof momentum !== 'number') throw new Error(`instanceNorm: momentum must be a number, got ${String(momentum)}`);
  if (!useInputStats) {
    if (runningMean === null || runningVar === null) {
      throw new Error(`instanceNorm: useInputStats false needs runningMean and runningVar (input ${fmt(x.shape)})`);
    }
    // With fixed statistics per channel, instance norm is batch norm in eval mode.
    return batchNorm(x, runningMean, runningVar, weight, bias, { training: false, eps });
  }
  const S = sizeOf(x.shape.slice(2));
  if (S <= 1) throw new Error(`instanceNorm: expected more than 1 spatial element when training, got input of shape ${fmt(x.shape)}`);
  const onStats = (mean: Float64Array, variance: Float64Array): void => {
    if (N === 0) return;
    // running = (1 - m) * running + m * (average over images of the instance statistic)
    for (const [run, stat, unbias] of [[runningMean, mean, 1], [runningVar, variance, S / (S - 1)]] as const) {
      if (!run) continue;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += stat[n * C + c];
        run.data[c] = (1 - momentum) * run.data[c] + momentum * ((s / N) * unbias);
      }
    }
  };
  return instanceNormOp(x, weight, bias, { layout: { rows: N * C, D: S, inner: S, P: C }, paramShape: [C], eps, onStats });
}
