// The op behind layerNorm, groupNorm and instanceNorm: normalize rows of the input by their own
// statistics (kernels/norm.ts), then an optional affine map. One defineOp per public name, so a
// graph node says which norm it came from; forward and backward are shared.

import { allocateUninit, castArray, isFloat, type DType, type FloatArray } from '../../kernels/dtype.js';
import * as K from '../../kernels/norm.js';
import { fmt } from '../../kernels/shape.js';
import { defineOp, type Op } from '../function.js';
import { Tensor } from '../tensor.js';

export interface RowNormConfig {
  layout: K.RowLayout;
  /** Shape of weight and bias (P elements). */
  paramShape: readonly number[];
  eps: number;
  /** Called once with the per-row mean and biased variance (instance norm's running statistics). */
  onStats?: (mean: Float64Array, variance: Float64Array) => void;
}

interface RowNormState {
  layout: K.RowLayout;
  paramShape: readonly number[];
  mean: Float64Array;
  invstd: Float64Array;
}

export function rowNormOp(name: string): Op<[Tensor, Tensor | null, Tensor | null, RowNormConfig]> {
  return defineOp<[Tensor, Tensor | null, Tensor | null, RowNormConfig], RowNormState>({
    name,
    forward(ctx, x, weight, bias, cfg) {
      const { layout, eps } = cfg;
      const { mean, variance } = K.rowStats(x.data, layout.rows, layout.D);
      cfg.onStats?.(mean, variance);
      const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
      const out = allocateUninit(x.dtype, x.size) as FloatArray; // every element written
      K.rowNormalize(x.data, layout, mean, invstd, weight?.data ?? null, bias?.data ?? null, out);
      ctx.saveForBackward(x, ...(weight ? [weight] : []));
      Object.assign(ctx.state, { layout, paramShape: cfg.paramShape, mean, invstd });
      return new Tensor(out, x.shape);
    },
    backward(ctx, g) {
      const [x, weight] = ctx.savedTensors;
      const { layout, paramShape, mean, invstd } = ctx.state;
      const [nx, nw, nb] = ctx.needsInputGrad;
      const gx = nx ? (allocateUninit(x.dtype, x.size) as FloatArray) : null;
      const gw = nw ? new Float64Array(layout.P) : null;
      const gb = nb ? new Float64Array(layout.P) : null;
      K.rowNormBackward(g.data, x.data, layout, mean, invstd, weight?.data ?? null, { gx, gw, gb });
      const param = (a: Float64Array | null, dtype: DType) => a && new Tensor(castArray(a, dtype), paramShape);
      return [gx && new Tensor(gx, x.shape), param(gw, weight?.dtype ?? x.dtype), param(gb, x.dtype), null];
    },
  });
}

/** Checks a float input and an optional float parameter of `shape` with x's dtype; `op` names the caller. */
export function checkNormParam(op: string, what: string, t: Tensor | null, shape: readonly number[], x: Tensor): void {
  if (t === null) return;
  if (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${op}: ${what} ${fmt(t.shape)} must be ${fmt(shape)} for input ${fmt(x.shape)}`);
  }
  if (t.dtype !== x.dtype) throw new Error(`${op}: ${what} ${fmt(t.shape)} is ${t.dtype} but input ${fmt(x.shape)} is ${x.dtype}`);
}

export function checkFloatInput(op: string, x: Tensor): void {
  if (!isFloat(x.dtype)) throw new Error(`${op}: expected a float input, got ${x.dtype} of shape ${fmt(x.shape)}`);
}
