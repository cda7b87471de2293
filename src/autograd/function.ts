// The op mechanism. Every built-in op and every user op is one `defineOp({name, forward, backward})`:
// forward computes the output from raw data, saving what backward needs; backward maps the output's
// gradient to one gradient per argument (null where not needed). This is PyTorch's autograd.Function.

import { fmt } from '../kernels/shape.js';
import { isGradEnabled, setGradEnabled } from './grad_mode.js';
import { Node, type Edge } from './node.js';
import { Tensor } from './tensor.js';
import { currentModulePath, firstNonFinite, isAnomalyEnabled, reportAnomaly } from './anomaly.js';

/**
 * What an op's `forward` and `backward` share, as the `ctx` of PyTorch's `autograd.Function`: the
 * tensors saved for backward, free-form `state`, and which inputs need a gradient.
 */
export class Context<S extends object = Record<string, any>> {
  /** needsInputGrad[i]: whether argument i is a tensor that needs a gradient. Skip work when false. */
  readonly needsInputGrad: readonly boolean[];
  /** Free-form non-tensor state for backward (shapes, options, index arrays). Released with the graph. */
  state: S = {} as S;
  private saved: Tensor[] | null = [];
  private releasedName: string | null = null;

  /** Made by `defineOp` for every call; user code receives it, never constructs it. */
  constructor(needsInputGrad: boolean[]) {
    this.needsInputGrad = needsInputGrad;
  }

  /**
   * Keeps `tensors` for backward (read back as `savedTensors`), as `ctx.save_for_backward`; they are
   * freed after backward unless `retainGraph` is set.
   */
  saveForBackward(...tensors: Tensor[]): void {
    this.saved = tensors;
  }

  /** The tensors given to `saveForBackward`, in order; throws once the graph was freed by a backward. */
  get savedTensors(): Tensor[] {
    if (this.saved === null) {
      throw new Error(
        `${this.releasedName}: trying to backward through the graph a second time; ` +
          'its saved tensors were freed. Pass {retainGraph: true} to the first backward().',
      );
    }
    return this.saved;
  }

  /** Frees saved tensors and state (called by the engine after backward unless retainGraph). */
  release(opName: string): void {
    this.saved = null;
    this.state = {} as S;
    this.releasedName = opName;
  }
}

/**
 * An op as `defineOp` takes it: a name (shown in `gradFn`, errors and anomaly reports), a forward
 * that computes the output with graph recording off, and its backward beside it.
 */
export interface OpDefinition<Args extends unknown[], S extends object> {
  name: string;
  /**
   * Computes the output from the arguments (tensors or anything else), saving in `ctx` what backward needs.
   */
  forward(ctx: Context<S>, ...args: Args): Tensor;
  /**
   * Maps the output's gradient to one gradient per argument, in argument order (null or undefined
   * where none is needed, e.g. for non-tensor arguments or when `ctx.needsInputGrad[i]` is false).
   * A gradient in the broadcast output shape is summed down to the input's shape by the engine.
   */
  backward(ctx: Context<S>, gradOutput: Tensor): ReadonlyArray<Tensor | null | undefined>;
}

/** The differentiable function `defineOp` returns, carrying its `opName`. */
export type Op<Args extends unknown[]> = ((...args: Args) => Tensor) & { readonly opName: string };

/**
 * Defines a differentiable op. The returned function runs `forward` with graph recording off,
 * and, when any tensor argument requires grad, records a node whose backward is `backward`.
 */
export function defineOp<Args extends unknown[], S extends object = Record<string, any>>(
  def: OpDefinition<Args, S>,
): Op<Args> {
  const apply = (...args: Args): Tensor => {
    // Loops, not closures: a closure made per call is optimized per call (TurboFan specializes
    // it to its context), and every op runs this.
    const record = isGradEnabled();
    const needs: boolean[] = new Array(args.length);
    let any = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      needs[i] = record && a instanceof Tensor && a.requiresGrad;
      if (needs[i]) any = true;
    }
    const ctx = new Context<S>(needs);
    const prev = setGradEnabled(false);
    let out: Tensor;
    try {
      out = def.forward(ctx, ...args);
    } finally {
      setGradEnabled(prev);
    }
    if (!(out instanceof Tensor)) throw new Error(`${def.name}: forward must return a Tensor`);
    // An op that returns an input unchanged must not re-parent that input.
    if (args.includes(out)) out = new Tensor(out.data, out.shape);
    if (isAnomalyEnabled()) checkForward(def.name, args, out);
    if (any) {
      const edges: (Edge | null)[] = new Array(args.length);
      for (let i = 0; i < args.length; i++) edges[i] = needs[i] ? edgeTo(args[i] as Tensor) : null;
      out.requiresGrad = true;
      out.gradFn = new Node(def.name, ctx, edges, def.backward as Node['backwardFn'], out.shape, currentModulePath());
    }
    return out;
  };
  Object.defineProperty(apply, 'opName', { value: def.name });
  Object.defineProperty(apply, 'name', { value: def.name });
  return apply as Op<Args>;
}

function edgeTo(t: Tensor): Edge {
  return t.gradFn
    ? { node: t.gradFn, leaf: null, shape: t.shape, dtype: t.dtype }
    : { node: null, leaf: t, shape: t.shape, dtype: t.dtype };
}

function checkForward(name: string, args: unknown[], out: Tensor): void {
  const inputs = args.filter((a): a is Tensor => a instanceof Tensor);
  const shapes = inputs.map((t) => t.shape);
  // A non-finite value produced by an earlier op was reported there; one sitting in a leaf
  // (a parameter or an input batch) is reported at the first op that reads it.
  for (const [i, a] of args.entries()) {
    if (!(a instanceof Tensor)) continue;
    const bad = firstNonFinite(a.data);
    if (bad < 0) continue;
    if (a.gradFn === null) {
      const what = `input (argument ${i}${a.name ? `, ${a.name}` : ''}, a leaf tensor)`;
      reportAnomaly('forward', name, currentModulePath(), what, a.data, bad, shapes);
    }
    return;
  }
  const bad = firstNonFinite(out.data);
  if (bad >= 0) reportAnomaly('forward', name, currentModulePath(), 'output', out.data, bad, shapes);
}
