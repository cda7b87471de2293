// A recorded op in the graph: what backward needs to route gradients to the op's inputs.

import type { DType } from '../kernels/dtype.js';
import type { Context } from './function.js';
import type { GradHook, Tensor } from './tensor.js';

/** Where the gradient for one input goes: the node that produced it, or the leaf itself. */
export interface Edge {
  node: Node | null;
  leaf: Tensor | null;
  shape: readonly number[];
  dtype: DType;
}

export type BackwardFn = (ctx: Context<any>, gradOutput: Tensor) => ReadonlyArray<Tensor | null | undefined>;

export class Node {
  /** Hooks on the output tensor (a non-leaf's `registerHook`). */
  hooks: GradHook[] = [];
  /** The output tensor, when the user asked for `retainGrad()`. */
  retained: Tensor | null = null;
  released = false;

  constructor(
    readonly name: string,
    readonly ctx: Context<any>,
    /** One per op argument; null where no gradient is needed. */
    readonly edges: ReadonlyArray<Edge | null>,
    readonly backwardFn: BackwardFn,
    readonly outputShape: readonly number[],
    /** Module path active when the op ran (for anomaly reports). */
    readonly modulePath: string,
  ) {}
}
