// Reverse-mode traversal. Nodes run in a dependency order found without recursion (Kahn's
// algorithm over the graph reachable from the root), so arbitrarily deep graphs cannot overflow
// the stack; a node runs only once every consumer has delivered its gradient.

import { allocateUninit, castArray } from '../kernels/dtype.js';
import { arith } from '../kernels/elementwise.js';
import { fmt, shapeEq } from '../kernels/shape.js';
import { sumAxes } from '../kernels/reduce.js';
import { firstNonFinite, isAnomalyEnabled, reportAnomaly } from './anomaly.js';
import { setGradEnabled } from './grad_mode.js';
import type { Edge, Node } from './node.js';
import { Tensor, peekNextTensorId, type GradHook } from './tensor.js';

/** Options of `Tensor.backward`. */
export interface BackwardOptions {
  /** Keep saved tensors so backward can run through this graph again. */
  retainGraph?: boolean;
}

export function runBackward(root: Tensor, gradient: Tensor | undefined, options: BackwardOptions): void {
  if (!root.requiresGrad) {
    throw new Error('backward: this tensor does not require grad and has no gradFn');
  }
  let seed: Tensor;
  if (gradient === undefined) {
    if (root.size !== 1) {
      throw new Error(`backward: a gradient can be created implicitly only for one-element outputs, got shape ${fmt(root.shape)}`);
    }
    const one = castArray(new Float64Array([1]), root.dtype);
    seed = new Tensor(one, root.shape);
  } else {
    if (!(gradient instanceof Tensor)) throw new Error('backward: gradient must be a Tensor');
    if (!shapeEq(gradient.shape, root.shape)) {
      throw new Error(`backward: gradient shape ${fmt(gradient.shape)} does not match the tensor's shape ${fmt(root.shape)}`);
    }
    seed = gradient;
  }
  const prev = setGradEnabled(false);
  try {
    if (!root.gradFn) {
      accumulate(root, runHooks(root.leafHooks, seed));
      return;
    }
    walk(root.gradFn, seed, options.retainGraph ?? false);
  } finally {
    setGradEnabled(prev);
  }
}

function walk(rootNode: Node, seed: Tensor, retainGraph: boolean): void {
  // Count, for every reachable node, how many edges lead into it.
  const pending = new Map<Node, number>([[rootNode, 0]]);
  const stack: Node[] = [rootNode];
  while (stack.length) {
    const node = stack.pop()!;
    for (const edge of node.edges) {
      const child = edge?.node;
      if (!child) continue;
      const seen = pending.has(child);
      pending.set(child, (pending.get(child) ?? 0) + 1);
      if (!seen) stack.push(child);
    }
  }

  const grads = new Map<Node, Tensor>([[rootNode, seed]]);
  const leafGrads = new Map<Tensor, Tensor>();
  // Gradients nothing but this walk can reach: `.grad` may take them without a copy.
  const owned = new Set<Tensor>();
  const ready: Node[] = [rootNode];
  while (ready.length) {
    const node = ready.pop()!;
    let grad = grads.get(node);
    grads.delete(node);
    let inputGrads: ReadonlyArray<Tensor | null | undefined> = [];
    if (grad) {
      if (node.released) {
        throw new Error(
          `${node.name}: trying to backward through the graph a second time (its saved tensors ` +
            'were freed after the first backward). Pass {retainGraph: true} to the first backward().',
        );
      }
      grad = runHooks(node.hooks, grad);
      if (node.retained) accumulate(node.retained, grad);
      const firstNew = peekNextTensorId();
      inputGrads = node.backwardFn(node.ctx, grad);
      markOwned(owned, node, grad, inputGrads, firstNew);
      if (!retainGraph) {
        node.ctx.release(node.name);
        node.released = true;
      }
    }
    node.edges.forEach((edge, i) => {
      if (!edge) return;
      const g = inputGrads[i];
      if (g) {
        const fitted = fitToEdge(node, i, g, edge);
        if (isAnomalyEnabled()) {
          const bad = firstNonFinite(fitted.data);
          if (bad >= 0) reportAnomaly('backward', node.name, node.modulePath, `gradient for argument ${i}`, fitted.data, bad, [fitted.shape, node.outputShape]);
        }
        const target = edge.node ? grads : leafGrads;
        const key = (edge.node ?? edge.leaf) as never;
        const prevGrad = target.get(key);
        const next = prevGrad ? addTensors(prevGrad, fitted) : fitted;
        if (next !== g) owned.add(next); // a sum, or a reduced / cast copy: made here
        target.set(key, next);
      }
      if (edge.node) {
        const left = pending.get(edge.node)! - 1;
        pending.set(edge.node, left);
        if (left === 0) ready.push(edge.node);
      }
    });
  }
  for (const [leaf, g] of leafGrads) {
    // A hook may keep the tensor it is given: with hooks, .grad gets a copy.
    if (leaf.leafHooks.length) accumulate(leaf, runHooks(leaf.leafHooks, g));
    else accumulate(leaf, g, owned.has(g));
  }
}

/**
 * Adds to `owned` the gradients `backwardFn` returned that it made during the call (ids from
 * `firstNew` on) on storage of their own: not the incoming gradient's, a saved tensor's, or
 * another returned gradient's (an op may return one tensor, or views of one, for two inputs).
 * Handing such a gradient to `.grad` as it is saves a copy of every parameter's gradient per
 * step (PyTorch's AccumulateGrad steals a gradient nothing else refers to in the same way).
 */
function markOwned(owned: Set<Tensor>, node: Node, grad: Tensor, inputGrads: ReadonlyArray<Tensor | null | undefined>, firstNew: number): void {
  owned.delete(grad);
  const foreign = new Set<unknown>([grad.data]);
  for (const t of node.ctx.savedTensors) foreign.add(t.data);
  for (const v of Object.values(node.ctx.state)) foreign.add(v instanceof Tensor ? v.data : v);
  const seen = new Map<unknown, number>();
  for (const g of inputGrads) if (g) seen.set(g.data, (seen.get(g.data) ?? 0) + 1);
  for (const g of inputGrads) {
    if (!g) continue;
    // (one owned earlier, passed on by this backward, is shared now)
    if (g.id >= firstNew && !foreign.has(g.data) && seen.get(g.data) === 1) owned.add(g);
    else owned.delete(g);
  }
}

function runHooks(hooks: GradHook[], grad: Tensor): Tensor {
  for (const hook of hooks.slice()) {
    const replaced = hook(grad);
    if (replaced !== undefined) {
      if (!(replaced instanceof Tensor) || !shapeEq(replaced.shape, grad.shape)) {
        throw new Error(`hook: a gradient hook must return undefined or a tensor of shape ${fmt(grad.shape)}`);
      }
      grad = replaced;
    }
  }
  return grad;
}

/**
 * The one place where a gradient is brought back to its input's shape and dtype: dims that
 * broadcasting stretched are summed away, and the dtype follows the input.
 */
export function reduceToShape(grad: Tensor, shape: readonly number[]): Tensor {
  if (shapeEq(grad.shape, shape)) return grad;
  const lead = grad.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  return new Tensor(sumAxes(grad.data, grad.shape, axes), shape);
}

function fitToEdge(node: Node, i: number, g: Tensor, edge: Edge): Tensor {
  if (!shapeEq(g.shape, edge.shape)) {
    if (!broadcastsTo(edge.shape, g.shape)) {
      throw new Error(`${node.name}: backward returned a gradient of shape ${fmt(g.shape)} for argument ${i} of shape ${fmt(edge.shape)}`);
    }
    g = reduceToShape(g, edge.shape);
  }
  return g.dtype === edge.dtype ? g : new Tensor(castArray(g.data, edge.dtype), g.shape);
}

function broadcastsTo(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  const lead = target.length - shape.length;
  return shape.every((d, k) => d === 1 || d === target[lead + k]);
}

/** Sum of two contributions to one gradient (same shape and dtype), on the SIMD add kernel. */
function addTensors(a: Tensor, b: Tensor): Tensor {
  const out = allocateUninit(a.dtype, a.size);
  arith('add', a.data, a.shape, b.data, b.shape, out, a.shape);
  return new Tensor(out, a.shape);
}

/**
 * Adds into `.grad`. The first gradient is taken as it is when the walk `owns` it, else copied
 * (it may alias another tensor); later ones are summed in place.
 */
function accumulate(t: Tensor, g: Tensor, owns = false): void {
  if (t.grad === null) {
    if (owns && shapeEq(g.shape, t.shape)) {
      t.grad = g;
      return;
    }
    const copy = allocateUninit(g.dtype, g.size); // arena storage (not slice()): kernels use it in place
    copy.set(g.data);
    t.grad = new Tensor(copy, g.shape);
  } else {
    const d = t.grad.data;
    arith('add', d, t.grad.shape, g.data, g.shape, d, t.grad.shape);
  }
}
