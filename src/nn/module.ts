// Module: PyTorch's nn.Module. Children and parameters are discovered from the instance's own
// properties in insertion order (a Module is a child, a Parameter a parameter, null/undefined is
// skipped), so a user's layer is built exactly like a built-in one: assign fields in the
// constructor. Buffers are registered by name (and kept as properties too).

import { castArray } from '../kernels/dtype.js';
import { fmt, shapeEq } from '../kernels/shape.js';
import { popModulePath, pushModulePath } from '../autograd/anomaly.js';
import { defineOp } from '../autograd/function.js';
import { isGradEnabled } from '../autograd/grad_mode.js';
import { Tensor, type RemovableHandle } from '../autograd/tensor.js';
import { Parameter } from './parameter.js';

/** Returns undefined to keep the arguments, an array to replace all of them, or any other value to replace the only one. */
export type ForwardPreHook = (module: Module, args: unknown[]) => unknown;
/** Returns undefined to keep the output, or a value that replaces it. */
export type ForwardHook = (module: Module, args: unknown[], output: unknown) => unknown;
/**
 * Called during backward once the gradients w.r.t. a call's inputs are known. gradInput has one
 * entry per forward argument (null for non-tensors and inputs that get no gradient), gradOutput one
 * per output tensor (one entry for a Tensor output). Returning an array replaces gradInput.
 */
export type FullBackwardHook = (
  module: Module,
  gradInput: (Tensor | null)[],
  gradOutput: (Tensor | null)[],
) => (Tensor | null)[] | void | undefined;

/**
 * What non-strict `loadStateDict` reports, as PyTorch's `_IncompatibleKeys`: keys the module expected but `sd`
 * lacked, and keys `sd` had that the module does not.
 */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

interface Frame {
  module: Module;
  path: string;
}

/** Modules being called, outermost first: a module's path is found under its caller's. */
const callStack: Frame[] = [];

const join = (prefix: string, name: string): string => (prefix ? `${prefix}.${name}` : name);

/** Python's repr of a float (1e-05, 0.1, 1.0), as PyTorch's module reprs print them. */
export function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const [mantissa, expStr] = x.toExponential().split('e');
  const exp = Number(expStr);
  if (exp >= -4 && exp < 16) return String(x); // Python's positional range; JS prints these positionally too
  const e = Math.abs(exp) < 10 ? `${exp < 0 ? '-' : '+'}0${Math.abs(exp)}` : `${exp < 0 ? '-' : '+'}${Math.abs(exp)}`;
  return `${mantissa}e${e}`;
}

/** Python's repr of a number or a pair: 3, (3, 3), 0.5. */
export function pyValue(v: number | readonly number[] | null | boolean): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloat(v);
  return `(${v.map((x) => pyValue(x)).join(', ')}${v.length === 1 ? ',' : ''})`;
}

/**
 * Base class of every layer, as `torch.nn.Module`: subclasses assign children (Modules) and parameters
 * as fields in the constructor and implement `forward`; call the module with `call(...)` so hooks run.
 */
export abstract class Module {
  /** Train mode (true) or eval mode; set it through train()/eval() so children follow. */
  training = true;
  #buffers = new Map<string, { persistent: boolean }>();
  #preHooks = new Map<number, ForwardPreHook>();
  #hooks = new Map<number, ForwardHook>();
  #backwardHooks = new Map<number, FullBackwardHook>();
  #nextHook = 0;

  /** The computation; subclasses implement it and callers use `call(...)`, which runs the hooks around it. */
  abstract forward(...args: any[]): any;

  /**
   * Runs the module (PyTorch's `module(x)`): forward pre-hooks, forward, forward hooks, with the
   * module's dotted path (e.g. `3.0.bn2`) pushed for anomaly reports. With full backward hooks
   * (and grad recording on), the inputs are wrapped after the pre-hooks and the output after the
   * forward hooks, as PyTorch does, so forward hooks see forward's own output.
   */
  call(...args: Parameters<this['forward']>): ReturnType<this['forward']> {
    const parent = callStack[callStack.length - 1];
    const path = parent ? join(parent.path, pathUnder(parent.module, this)) : '';
    callStack.push({ module: this, path });
    pushModulePath(path);
    try {
      let input: unknown[] = args;
      for (const hook of [...this.#preHooks.values()]) {
        const r = hook(this, input);
        if (r !== undefined) input = Array.isArray(r) ? r : [r];
      }
      const backward =
        this.#backwardHooks.size && isGradEnabled() ? new BackwardHookCall(this, path, [...this.#backwardHooks.values()], input) : null;
      if (backward) input = backward.wrapInputs();
      let output: unknown = this.forward(...input);
      for (const hook of [...this.#hooks.values()]) {
        const r = hook(this, input, output);
        if (r !== undefined) output = r;
      }
      if (backward) output = backward.wrapOutputs(output);
      return output as ReturnType<this['forward']>;
    } finally {
      popModulePath();
      callStack.pop();
    }
  }

  /**
   * Registers `hook(module, args)` to run before `forward` (it may replace the arguments), as PyTorch's
   * `register_forward_pre_hook`.
   */
  registerForwardPreHook(hook: ForwardPreHook): RemovableHandle {
    return this.#addHook(this.#preHooks, hook);
  }

  /**
   * Registers `hook(module, args, output)` to run after `forward` (it may replace the output), as PyTorch's
   * `register_forward_hook`.
   */
  registerForwardHook(hook: ForwardHook): RemovableHandle {
    return this.#addHook(this.#hooks, hook);
  }

  /**
   * PyTorch's register_full_backward_hook: `hook(module, gradInput, gradOutput)` runs during
   * backward once the gradients w.r.t. the module's inputs are computed; returning an array
   * replaces gradInput. The hooks registered when the module is called are the ones that run.
   * Without such hooks a call adds nothing to the graph.
   */
  registerFullBackwardHook(hook: FullBackwardHook): RemovableHandle {
    return this.#addHook(this.#backwardHooks, hook);
  }

  #addHook<H>(map: Map<number, H>, hook: H): RemovableHandle {
    const id = this.#nextHook++;
    map.set(id, hook);
    return { remove: () => void map.delete(id) };
  }

  /** Registers a buffer: state that is not a parameter (running statistics); in the state dict unless persistent is false. */
  registerBuffer(name: string, tensor: Tensor | null, { persistent = true } = {}): void {
    checkName('registerBuffer', name);
    const current = (this as any)[name];
    if (current instanceof Module || current instanceof Parameter) {
      throw new Error(`registerBuffer: '${name}' is already a ${current instanceof Module ? 'child module' : 'parameter'} of ${this.className}`);
    }
    if (tensor !== null && !(tensor instanceof Tensor)) throw new Error(`registerBuffer: '${name}' must be a Tensor or null`);
    (this as any)[name] = tensor;
    this.#buffers.set(name, { persistent });
  }

  /** Adds a child under a name that may not be an identifier ('0', 'layer-1'). */
  registerModule(name: string, module: Module | null): void {
    checkName('registerModule', name);
    (this as any)[name] = module;
  }

  /** Adds a parameter (or a null placeholder) under `name`, as PyTorch's `register_parameter`. */
  registerParameter(name: string, param: Parameter | null): void {
    checkName('registerParameter', name);
    (this as any)[name] = param;
  }

  /** The class name, as PyTorch's reprs and error messages print it. */
  get className(): string {
    return this.constructor.name;
  }

  // ---- discovery: own properties, in insertion order (integer-like names first, as JS orders keys)

  /** Immediate child modules with their field names, in insertion order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const key of Object.keys(this)) {
      const v = (this as any)[key];
      if (v instanceof Module) out.push([key, v]);
      else if (v !== null && typeof v === 'object' && !(v instanceof Tensor)) checkNoHiddenModules(this, key, v);
    }
    return out;
  }

  /** Immediate child modules, in insertion order. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  #ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const key of Object.keys(this)) {
      const v = (this as any)[key];
      if (v instanceof Parameter && !this.#buffers.has(key)) out.push([key, v]);
    }
    return out;
  }

  #ownBuffers(persistentOnly: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, { persistent }] of this.#buffers) {
      const v = (this as any)[key];
      if (v instanceof Tensor && (persistent || !persistentOnly)) out.push([key, v]);
    }
    return out;
  }

  /** This module (name '') and every descendant, depth first, each once even if shared. */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(join(prefix, name), seen));
    return out;
  }

  /** This module and every descendant, depth first, each once. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted name, each once even if shared. */
  namedParameters(): [string, Parameter][] {
    const seen = new Set<Tensor>();
    const out: [string, Parameter][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.#ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([join(prefix, name), p]);
      }
    }
    return out;
  }

  /** Every parameter of this module and its descendants, each once even if shared (what an optimizer takes). */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer (persistent or not) with its dotted name. */
  namedBuffers(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.#ownBuffers(false)) {
        if (seen.has(b)) continue;
        seen.add(b);
        out.push([join(prefix, name), b]);
      }
    }
    return out;
  }

  /** Every buffer (persistent or not) of this module and its descendants. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  // ---- modes and utilities

  /** Sets train mode (or eval mode with `false`) on this module and every descendant; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children()) child.train(mode);
    return this;
  }

  /** Sets eval mode on this module and every descendant (BatchNorm uses running statistics, Dropout is off); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Sets every parameter's gradient to null (PyTorch 2's default set_to_none). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Calls fn on every descendant, children before parents, then on this module. */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // ---- state dict

  /** The live tensors behind the state dict, in PyTorch's key order: own params, own buffers, children. */
  #stateEntries(prefix: string, out: [string, Tensor][]): [string, Tensor][] {
    for (const [name, p] of this.#ownParameters()) out.push([prefix + name, p]);
    for (const [name, b] of this.#ownBuffers(true)) out.push([prefix + name, b]);
    for (const [name, child] of this.namedChildren()) child.#stateEntries(`${prefix}${name}.`, out);
    return out;
  }

  /** Parameters (detached, sharing storage) and persistent buffers by dotted name, in PyTorch's order. */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [key, t] of this.#stateEntries('', [])) sd[key] = t instanceof Parameter ? t.detach() : t;
    return sd;
  }

  /**
   * Copies values (converting dtype) into this module's parameters and buffers. Shape mismatches,
   * and with strict also missing and unexpected keys, are all listed in one error; nothing is
   * copied unless everything checks out. Non-strict returns the missing and unexpected keys.
   */
  loadStateDict(sd: Record<string, Tensor>, { strict = true } = {}): LoadStateDictResult {
    const entries = this.#stateEntries('', []);
    const expected = new Set(entries.map(([k]) => k));
    const missingKeys: string[] = [];
    const problems: string[] = [];
    for (const [key, target] of entries) {
      if (!Object.hasOwn(sd, key)) {
        missingKeys.push(key);
        continue;
      }
      const src = sd[key];
      if (!(src instanceof Tensor)) problems.push(`value for ${key} is not a Tensor (got ${typeof src}).`);
      else if (!shapeEq(src.shape, target.shape)) {
        problems.push(
          `size mismatch for ${key}: copying a param with shape ${fmt(src.shape)} from checkpoint, ` +
            `the shape in current model is ${fmt(target.shape)}.`,
        );
      }
    }
    const unexpectedKeys = Object.keys(sd).filter((k) => !expected.has(k));
    const quoted = (keys: string[]) => keys.map((k) => `"${k}"`).join(', ');
    if (strict && unexpectedKeys.length) problems.unshift(`Unexpected key(s) in state_dict: ${quoted(unexpectedKeys)}.`);
    if (strict && missingKeys.length) problems.unshift(`Missing key(s) in state_dict: ${quoted(missingKeys)}.`);
    if (problems.length) {
      throw new Error(`loadStateDict: error(s) in loading state_dict for ${this.className}:\n\t${problems.join('\n\t')}`);
    }
    for (const [key, target] of entries) {
      if (!Object.hasOwn(sd, key)) continue;
      const src = sd[key];
      if (src.data !== target.data) target.data.set(src.dtype === target.dtype ? src.data : castArray(src.data, target.dtype));
    }
    return { missingKeys, unexpectedKeys };
  }

  // ---- repr

  /** The part inside the parentheses of this module's one-line repr (PyTorch's extra_repr). */
  extraRepr(): string {
    return '';
  }

  /** PyTorch's module repr: the class name, `extraRepr()` and each child's repr, indented. */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines = this.namedChildren().map(([name, m]) => `(${name}): ${String(m).split('\n').join('\n  ')}`);
    const lines = [...extraLines, ...childLines];
    let body = '';
    if (extraLines.length === 1 && childLines.length === 0) body = extraLines[0];
    else if (lines.length) body = `\n  ${lines.join('\n  ')}\n`;
    return `${this.className}(${body})`;
  }
}

// ---- full backward hooks
//
// One call with hooks builds (arrows in the forward direction):
//     x_i ──▶ join ──▶ in_i ──▶ forward … ──▶ out_j ──▶ rest of the graph
//              └──────────────────────────────▲
// in_i carries x_i's values and out_j the output's; both record the gradient passing through
// them. Every tap also takes join's dummy output, so the engine (which runs a node only after all
// its consumers) runs join after every tap the loss reaches: by then gradOutput and gradInput are
// complete, and join calls the hooks and sends gradInput, possibly replaced, on to the real x_i.
// The taps hand join a zero scalar; join takes a fresh grad-requiring anchor so it is recorded
// even when no input needs a gradient (the hooks then see gradInput all null, as in PyTorch).

const ZERO = () => new Tensor(new Float32Array(1), []);

class BackwardHookCall {
  readonly gradInput: (Tensor | null)[];
  gradOutput: (Tensor | null)[] = [];
  #joined: Tensor | null = null;

  constructor(
    readonly module: Module,
    readonly path: string,
    readonly hooks: FullBackwardHook[],
    readonly args: unknown[],
  ) {
    this.gradInput = args.map(() => null);
  }

  wrapInputs(): unknown[] {
    this.#joined = joinOp(this, new Tensor(new Float32Array(1), [], true), ...this.args);
    return this.args.map((a, i) => (a instanceof Tensor && a.requiresGrad ? inTapOp(this, i, this.#joined!, a.detach()) : a));
  }

  /** Wraps a Tensor output, or each grad-requiring Tensor of an array output. */
  wrapOutputs(output: unknown): unknown {
    const outs = Array.isArray(output) ? output : [output];
    this.gradOutput = outs.map(() => null);
    const wrapped = outs.map((o, j) => (o instanceof Tensor && o.requiresGrad ? outTapOp(this, j, this.#joined!, o) : o));
    return Array.isArray(output) ? wrapped : wrapped[0];
  }

  /** Runs the hooks on what the taps recorded, then clears it for a later backward (retainGraph). */
  fire(): (Tensor | null)[] {
    let gradInput = this.gradInput.slice();
    const gradOutput = this.gradOutput.slice();
    this.gradInput.fill(null);
    this.gradOutput.fill(null);
    for (const hook of this.hooks) {
      const r = hook(this.module, gradInput, gradOutput);
      if (r !== undefined) gradInput = this.#checkReplacement(r);
    }
    return gradInput;
  }

  #checkReplacement(r: unknown): (Tensor | null)[] {
    const where = `full backward hook of ${this.module.className}${this.path ? ` '${this.path}'` : ''}`;
    if (!Array.isArray(r) || r.length !== this.args.length) {
      const got = Array.isArray(r) ? `${r.length} entries` : typeof r;
      throw new Error(`${where}: must return undefined or an array of ${this.args.length} gradients (one per input), got ${got}`);
    }
    return r.map((g, i) => {
      if (g === null || g === undefined) return null;
      const a = this.args[i];
      const expected = a instanceof Tensor ? a.shape : null;
      if (!(g instanceof Tensor) || expected === null || !shapeEq(g.shape, expected)) {
        const got = g instanceof Tensor ? `shape ${fmt(g.shape)}` : typeof g;
        const want = expected ? `null or a tensor of shape ${fmt(expected)}` : 'null (that input is not a tensor)';
        throw new Error(`${where}: gradInput[${i}] must be ${want}, got ${got}`);
      }
      return g;
    });
  }
}

const joinOp = defineOp<[BackwardHookCall, Tensor, ...unknown[]], { call: BackwardHookCall }>({
  name: 'backwardHookJoin',
  forward(ctx, call) {
    ctx.state.call = call;
    return ZERO();
  },
  backward(ctx) {
    return [null, null, ...ctx.state.call.fire()];
  },
});

const inTapOp = defineOp<[BackwardHookCall, number, Tensor, Tensor], { call: BackwardHookCall; i: number }>({
  name: 'backwardHookInput',
  forward(ctx, call, i, _joined, x) {
    ctx.state = { call, i };
    return new Tensor(x.data, x.shape);
  },
  backward(ctx, g) {
    ctx.state.call.gradInput[ctx.state.i] = g;
    return [null, null, ZERO(), null];
  },
});

const outTapOp = defineOp<[BackwardHookCall, number, Tensor, Tensor], { call: BackwardHookCall; j: number }>({
  name: 'backwardHookOutput',
  forward(ctx, call, j, _joined, y) {
    ctx.state = { call, j };
    return new Tensor(y.data, y.shape);
  },
  backward(ctx, g) {
    ctx.state.call.gradOutput[ctx.state.j] = g;
    return [null, null, ZERO(), g];
  },
});

// ---- modules hidden in plain containers
//
// A module or parameter inside a plain array, object, Map or Set field is invisible to discovery:
// its parameters would silently not be trained, saved or moved. Rather than registering such fields
// implicitly (JS code mutates arrays freely, so an implicit registration could not stay in sync, and
// it would invent state-dict keys PyTorch code never has), every discovery (parameters(), stateDict(),
// train(), toString(), … and call() of a hidden child, which looks up its path) refuses them by field
// name and points to the containers PyTorch users know: ModuleList, ModuleDict and ParameterList give
// exactly PyTorch's keys (`layers.0.weight`). JS has no hook after a subclass constructor, so this is
// the earliest point: the first inspection or forward, which an optimizer's construction always is.

/** What `v` hides (searching nested arrays/objects/Maps/Sets a few levels deep), or null. */
function hiddenKind(v: unknown, depth = 0): 'module' | 'parameter' | null {
  if (v instanceof Module) return 'module';
  if (v instanceof Parameter) return 'parameter';
  if (v === null || typeof v !== 'object' || v instanceof Tensor || ArrayBuffer.isView(v) || depth > 3) return null;
  let items: Iterable<unknown>;
  if (Array.isArray(v)) items = v;
  else if (v instanceof Map || v instanceof Set) items = v.values();
  else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return null; // a class instance owns its own fields
    items = Object.values(v);
  }
  let found: 'module' | 'parameter' | null = null;
  for (const item of items) {
    if (item === null || typeof item !== 'object') continue;
    const kind = hiddenKind(item, depth + 1);
    if (kind === 'module') return kind;
    found ??= kind;
  }
  return found;
}

function checkNoHiddenModules(owner: Module, key: string, v: object): void {
  const kind = hiddenKind(v);
  if (kind === null) return;
  const holder = Array.isArray(v) ? 'a plain array' : v instanceof Map ? 'a Map' : v instanceof Set ? 'a Set' : 'a plain object';
  const fix = kind === 'parameter' ? 'ParameterList' : Array.isArray(v) || v instanceof Set ? 'ModuleList' : 'ModuleDict';
  throw new Error(
    `${owner.className}: field '${key}' holds ${kind === 'module' ? 'modules' : 'parameters'} in ${holder}, where they are not ` +
      `registered (their parameters would not be trained or saved); use nn.${fix} instead ` +
      `(or a #private field for references to ${kind === 'module' ? 'modules' : 'parameters'} registered elsewhere)`,
  );
}

function checkName(op: string, name: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new Error(`${op}: name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
  }
}

/** The name of `m` under `parent`: a child's attribute name, a descendant's dotted path, else <ClassName>. */
function pathUnder(parent: Module, m: Module): string {
  for (const [name, child] of parent.namedChildren()) if (child === m) return name;
  for (const [name, sub] of parent.namedModules()) if (sub === m && name) return name;
  return `<${m.className}>`;
}
