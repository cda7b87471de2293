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

/** An op's backward as a node stores it (see `OpDefinition.backward`). */
export type BackwardFn = (ctx: Context<any>, gradOutput: Tensor) => ReadonlyArray<Tensor | null | undefined>;

/**
 * A recorded op in the autograd graph, as PyTorch's `grad_fn`: a non-leaf tensor's `gradFn`.
 * `name` is the op's name; `edges` lead to the nodes (or leaves) that produced its inputs.
 */
export class Node {
  /** Hooks on the output tensor (a non-leaf's `registerHook`). */
  hooks: GradHook[] = [];
  /** The output tensor, when the user asked for `retainGrad()`. */
  retained: Tensor | null = null;
  /** Set once backward has run through this node without `retainGraph` (its saved tensors are freed). */
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
