// nn.Upsample: F.interpolate as a module.

import { interpolate, type InterpolateMode } from '../../autograd/ops/interpolate.js';
import type { Tensor } from '../../autograd/tensor.js';
import { Module, pyFloat, pyValue } from '../module.js';

/** Options of {@link Upsample}: `size` or `scaleFactor`, and the mode, as `torch.nn.Upsample`'s. */
export interface UpsampleOptions {
  /** Output spatial size (one number for all spatial dims, or one per dim). */
  size?: number | readonly number[];
  /** Multiplier of each spatial dim; exactly one of size / scaleFactor. */
  scaleFactor?: number | readonly number[];
  /** Default 'nearest'. */
  mode?: InterpolateMode;
  alignCorners?: boolean;
  recomputeScaleFactor?: boolean;
}

/** Resizes the spatial dims of [N, C, …] by interpolation, as `torch.nn.Upsample`. */
export class Upsample extends Module {
  readonly size: number | readonly number[] | null;
  readonly scaleFactor: number | readonly number[] | null;
  readonly mode: InterpolateMode;
  readonly alignCorners: boolean | null;
  readonly recomputeScaleFactor: boolean | null;

  constructor(options: UpsampleOptions = {}) {
    super();
    this.size = options.size ?? null;
    this.scaleFactor = options.scaleFactor ?? null;
    this.mode = options.mode ?? 'nearest';
    this.alignCorners = options.alignCorners ?? null;
    this.recomputeScaleFactor = options.recomputeScaleFactor ?? null;
    if ((this.size === null) === (this.scaleFactor === null)) throw new Error('Upsample: exactly one of size or scaleFactor must be given');
  }

  /** Interpolates `x` to the configured size. */
  forward(x: Tensor): Tensor {
    return interpolate(x, {
      size: this.size ?? undefined,
      scaleFactor: this.scaleFactor ?? undefined,
      mode: this.mode,
      alignCorners: this.alignCorners ?? undefined,
      recomputeScaleFactor: this.recomputeScaleFactor ?? undefined,
    });
  }

  override extraRepr(): string {
    const sf = this.scaleFactor;
    const info = sf !== null
      ? `scale_factor=${typeof sf === 'number' ? pyFloat(sf) : `(${sf.map(pyFloat).join(', ')})`}`
      : `size=${pyValue(this.size as number | readonly number[])}`;
    return `${info}, mode=${this.mode}`;
  }
}
