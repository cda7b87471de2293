// The Tensor: contiguous typed-array storage, a shape, and its place in the autograd graph.
// Ops are attached as methods in tensor_methods.ts, so this file does not depend on them.

import { type DType, type TypedArray, dtypeOf, isFloat } from '../kernels/dtype.js';
import { type Shape, fmt, sizeOf, stridesOf } from '../kernels/shape.js';
import type { Node } from './node.js';
import { runBackward, type BackwardOptions } from './engine.js';

/** A number or arbitrarily nested arrays of numbers, as `tensor()` takes and `toArray()` returns. */
export type NestedArray = number | NestedArray[];
/**
 * A gradient hook (see `Tensor.registerHook`): receives the incoming gradient; returning a tensor
 * replaces it, returning nothing keeps it.
 */
export type GradHook = (grad: Tensor) => Tensor | void | undefined;

/** What `registerHook` returns, as PyTorch's `RemovableHandle`. */
export interface RemovableHandle {
  /** Unregisters the hook; calling it again does nothing. */
  remove(): void;
}

let nextId = 1;

/** The id the next tensor will get: tensors with an id at least this were made after the call. */
export function peekNextTensorId(): number {
  return nextId;
}

/**
 * An n-dimensional array of float32, float64 or int32 values that can record the ops applied to it
 * for reverse-mode autodiff, as `torch.Tensor`. Storage is always contiguous and row-major; a 0-d
 * tensor (shape `[]`) holds one value. Build one with `tensor`, `zeros`, `randn` and friends; the
 * ops are also methods (`x.add(y).relu().sum()`).
 *
 * @example
 * ```ts
 * const x = sg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * x.mul(x).sum().backward();
 * x.grad!.toArray(); // [[2, 4], [6, 8]]
 * ```
 */
export class Tensor {
  /** Contiguous row-major storage; views made by reshape share it. */
  data: TypedArray;
  /** The size of each dim (frozen); `[]` for a 0-d tensor. */
  readonly shape: readonly number[];
  /** A process-unique id, in creation order. */
  readonly id = nextId++;
  /** Accumulated gradient of a leaf (or of a non-leaf after `retainGrad()`). */
  grad: Tensor | null = null;
  /** The graph node that produced this tensor; null for leaves. */
  gradFn: Node | null = null;
  /** Optional label, shown in errors and by anomaly mode. */
  name: string | undefined;
  private _requiresGrad = false;
  /** Hooks of a leaf; a non-leaf keeps its hooks on its gradFn. */
  leafHooks: GradHook[] = [];

  /**
   * Wraps `data` (not copied) as a tensor of `shape`; `data.length` must equal the product of `shape`.
   * Prefer `tensor()` and the other creation functions.
   */
  constructor(data: TypedArray, shape: Shape, requiresGrad = false) {
    if (sizeOf(shape) !== data.length) {
      throw new Error(`Tensor: shape ${fmt(shape)} needs ${sizeOf(shape)} elements, got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze(shape.slice());
    if (requiresGrad) this.requiresGrad = true;
  }

  /** The element type, given by the storage: float32, float64 or int32. */
  get dtype(): DType {
    return dtypeOf(this.data);
  }

  /** Number of elements (NumPy's `size`, PyTorch's `numel()`). */
  get size(): number {
    return this.data.length;
  }

  /** Number of elements, as PyTorch's `numel()` (1 for a 0-d tensor, 0 for an empty one). */
  numel(): number {
    return this.data.length;
  }

  /** Number of dims (0 for a 0-d tensor), as PyTorch's `ndim`. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Row-major strides in elements (storage is always contiguous). */
  get strides(): number[] {
    return stridesOf(this.shape);
  }

  /**
   * Whether ops on this tensor are recorded for backward. Only float tensors can require gradients,
   * and a non-leaf cannot turn it off (use `detach()`).
   */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(on: boolean) {
    if (on && !isFloat(this.dtype)) {
      throw new Error(`requiresGrad: only float tensors can require gradients, this one is ${this.dtype}`);
    }
    if (!on && this.gradFn) {
      throw new Error('requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()');
    }
    this._requiresGrad = on;
  }

  /** In-place setter that returns the tensor, as PyTorch's `requires_grad_()`. */
  requiresGrad_(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  /** True for a tensor not produced by a recorded op (gradFn null), as PyTorch's `is_leaf`. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /**
   * The value of a one-element tensor (any shape with one element) as a number, as PyTorch's `item()`;
   * throws for any other size.
   */
  item(): number {
    if (this.data.length !== 1) {
      throw new Error(`item: only a tensor with one element can be converted to a number, got shape ${fmt(this.shape)}`);
    }
    return this.data[0];
  }

  /**
   * The values as nested arrays shaped like the tensor (a number for a 0-d tensor), as PyTorch's
   * `tolist()`.
   */
  toArray(): NestedArray {
    if (this.shape.length === 0) return this.data[0];
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = this.shape[dim];
      const out: NestedArray[] = new Array(n);
      if (dim === this.shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = this.data[offset + i];
      } else {
        const stride = sizeOf(this.shape.slice(dim + 1));
        for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * stride);
      }
      return out;
    };
    return build(0, 0);
  }

  /** A new leaf sharing this storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** Backpropagates from this tensor; `gradient` defaults to 1 for a one-element tensor. */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    runBackward(this, gradient, options);
  }

  /** Keeps `.grad` on this non-leaf after backward (leaves always keep it). */
  retainGrad(): void {
    if (!this.requiresGrad) {
      throw new Error("retainGrad: can't retain the gradient of a tensor that does not require grad");
    }
    if (this.gradFn) this.gradFn.retained = this;
  }

  /**
   * Registers `hook(grad)`, called with the gradient flowing into this tensor during backward.
   * Returning a tensor replaces that gradient. Returns a handle whose `remove()` unregisters it.
   */
  registerHook(hook: GradHook): RemovableHandle {
    if (!this.requiresGrad) {
      throw new Error("registerHook: can't register a hook on a tensor that doesn't require gradient");
    }
    const list = this.gradFn ? this.gradFn.hooks : this.leafHooks;
    list.push(hook);
    return {
      remove() {
        const i = list.indexOf(hook);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  /**
   * PyTorch-style text: `tensor([...], shape=[...], dtype=..., gradFn=...)`, values clipped at 400
   * characters.
   */
  toString(): string {
    const body = JSON.stringify(this.toArray());
    const clipped = body.length > 400 ? body.slice(0, 400) + '…' : body;
    const extra = this.gradFn ? `, gradFn=${this.gradFn.name}` : this.requiresGrad ? ', requiresGrad=true' : '';
    return `tensor(${clipped}, shape=${fmt(this.shape)}, dtype=${this.dtype}${extra})`;
  }
}
