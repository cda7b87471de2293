// nn.BatchNorm1d / BatchNorm2d around F.batch_norm. The module owns the running statistics
// (buffers running_mean, running_var, num_batches_tracked) and decides, as PyTorch's _BatchNorm
// does, whether a call uses batch or running statistics and with which averaging factor.

import { allocate } from '../../kernels/dtype.js';
import { fmt } from '../../kernels/shape.js';
import { batchNorm } from '../../autograd/ops/batch_norm.js';
import { Tensor } from '../../autograd/tensor.js';
import { Module, pyValue } from '../module.js';
import { Parameter } from '../parameter.js';

/**
 * Options of {@link BatchNorm1d} and {@link BatchNorm2d}, as `torch.nn.BatchNorm2d`'s keyword arguments (eps 1e-5,
 * momentum 0.1, `null` for a cumulative average).
 */
export interface BatchNormLayerOptions {
  eps?: number;
  /** Weight of each new batch in the running averages (default 0.1); null: a cumulative average. */
  momentum?: number | null;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true); without them eval uses batch statistics. */
  trackRunningStats?: boolean;
  dtype?: 'float32' | 'float64';
}

abstract class BatchNormBase extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  /** int32 here (PyTorch's is int64); saved as I64 by saveSafetensors. */
  declare num_batches_tracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(readonly numFeatures: number, options: BatchNormLayerOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) {
      throw new Error(`${this.className}: numFeatures must be a positive integer, got ${numFeatures}`);
    }
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const dtype = options.dtype ?? 'float32';
    const vec = () => new Tensor(allocate(dtype, numFeatures), [numFeatures]);
    this.weight = this.affine ? new Parameter(vec()) : null;
    this.bias = this.affine ? new Parameter(vec()) : null;
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? vec() : null);
    this.registerBuffer('running_var', track ? vec() : null);
    this.registerBuffer('num_batches_tracked', track ? new Tensor(new Int32Array(1), []) : null);
    this.resetParameters();
  }

  /** Running mean 0, running variance 1, no batches seen. */
  resetRunningStats(): void {
    this.running_mean?.data.fill(0);
    this.running_var?.data.fill(1);
    this.num_batches_tracked?.data.fill(0);
  }

  /** Running statistics reset, weight 1, bias 0. */
  resetParameters(): void {
    this.resetRunningStats();
    this.weight?.data.fill(1);
    this.bias?.data.fill(0);
  }

  protected abstract checkInputDim(x: Tensor): void;

  forward(x: Tensor): Tensor {
    this.checkInputDim(x);
    const counter = this.training && this.trackRunningStats ? this.num_batches_tracked : null;
    // momentum null: the running statistic is the plain average of every batch so far.
    const factor = this.momentum ?? (counter ? 1 / (counter.data[0] + 1) : 0);
    const batchStats = this.training || (this.running_mean === null && this.running_var === null);
    // A training call of a module that does not track statistics must not touch any buffers.
    const useRunning = !this.training || this.trackRunningStats;
    const out = batchNorm(
      x,
      useRunning ? this.running_mean : null,
      useRunning ? this.running_var : null,
      this.weight,
      this.bias,
      { training: batchStats, momentum: factor, eps: this.eps },
    );
    if (counter) counter.data[0] += 1;
    return out;
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pyValue(this.eps)}, momentum=${pyValue(this.momentum)}, ` +
      `affine=${pyValue(this.affine)}, track_running_stats=${pyValue(this.trackRunningStats)}`
    );
  }
}

/** Batch norm over [N, C, H, W], one statistic per channel C. */
export class BatchNorm2d extends BatchNormBase {
  /** Refuses inputs that are not 4-D. */
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 4) throw new Error(`BatchNorm2d: expected 4D input [N, C, H, W], got ${x.ndim}D input of shape ${fmt(x.shape)}`);
  }
}

/** Batch norm over [N, C] or [N, C, L], one statistic per channel C. */
export class BatchNorm1d extends BatchNormBase {
  /** Refuses inputs that are not 2-D or 3-D. */
  protected checkInputDim(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) {
      throw new Error(`BatchNorm1d: expected 2D or 3D input [N, C] or [N, C, L], got ${x.ndim}D input of shape ${fmt(x.shape)}`);
    }
  }
}
