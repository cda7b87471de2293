// Containers, as torch.nn's container.py: Sequential (children named '0', '1', … called in order,
// each on the previous one's output), ModuleList, ModuleDict and ParameterList.

import { Tensor } from '../autograd/tensor.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** Runs its modules in order, each on the previous one's output, as `torch.nn.Sequential`; children are named `0`, `1`, …. */
export class Sequential extends Module {
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m) => this.append(m));
  }

  /** Adds a module at the end, named by its index. */
  append(module: Module): this {
    if (!(module instanceof Module)) {
      throw new Error(`Sequential: every entry must be a Module, got ${module === null ? 'null' : typeof module} at index ${this.length}`);
    }
    this.registerModule(String(this.length), module);
    return this;
  }

  /** The number of modules. */
  get length(): number {
    return this.children().length;
  }

  /** The module at index i (negative counts from the end). */
  at(i: number): Module {
    const list = this.children();
    const m = list[i < 0 ? i + list.length : i];
    if (!m) throw new Error(`Sequential: index ${i} is out of range for ${list.length} modules`);
    return m;
  }

  /** Iterates over the modules in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  /** Feeds `x` through every module in order. */
  forward(x: Tensor): Tensor {
    for (const m of this.children()) x = m.call(x);
    return x;
  }
}

/** Python's list index rules for at/set/pop: negative counts from the end. */
function listIndex(what: string, i: number, n: number): number {
  const k = Number.isInteger(i) && i < 0 ? i + n : i;
  if (!Number.isInteger(k) || k < 0 || k >= n) throw new Error(`${what}: index ${i} is out of range for ${n} entries`);
  return k;
}

/**
 * nn.ModuleList: modules in a list, registered under '0', '1', … (state-dict keys `layers.0.weight`),
 * so their parameters are found, trained and saved. Not callable: iterate over it in a forward.
 * Entries read as `list.at(i)` or `list[i]`.
 */
export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  readonly [index: number]: M;
  #n = 0;

  /** Entries may be any modules; pass M explicitly (`new ModuleList<Block>(…)`) for a typed list. */
  constructor(modules: Iterable<NoInfer<M>> = []) {
    super();
    this.extend(modules);
  }

  /** The number of modules. */
  get length(): number {
    return this.#n;
  }

  /** Adds a module at the end, named by its index. */
  append(module: M): this {
    this.#put(this.#n, module);
    this.#n++;
    return this;
  }

  /** Appends every module of `modules`, in order. */
  extend(modules: Iterable<M>): this {
    if (modules === null || typeof (modules as Iterable<M>)[Symbol.iterator] !== 'function') {
      throw new Error(`ModuleList: extend expects an iterable of modules, got ${modules === null ? 'null' : typeof modules}`);
    }
    for (const m of modules) this.append(m);
    return this;
  }

  /** Inserts before index i (Python's list.insert: negative counts from the end, out-of-range clamps). */
  insert(i: number, module: M): this {
    if (!Number.isInteger(i)) throw new Error(`ModuleList: insert index must be an integer, got ${i}`);
    const n = this.#n;
    const at = Math.min(Math.max(i < 0 ? i + n : i, 0), n);
    this.#check(module, at);
    for (let k = n; k > at; k--) this.registerModule(String(k), this.at(k - 1));
    this.registerModule(String(at), module);
    this.#n++;
    return this;
  }

  /** The module at index i (negative counts from the end). */
  at(i: number): M {
    return (this as unknown as Record<string, M>)[String(listIndex('ModuleList', i, this.#n))];
  }

  /** Replaces the module at index i. */
  set(i: number, module: M): this {
    this.#put(listIndex('ModuleList', i, this.#n), module);
    return this;
  }

  /** Removes and returns the module at index i (default the last); later ones move down. */
  pop(i = -1): M {
    const k = listIndex('ModuleList', i, this.#n);
    const out = this.at(k);
    for (let j = k; j < this.#n - 1; j++) this.registerModule(String(j), this.at(j + 1));
    delete (this as unknown as Record<string, M>)[String(this.#n - 1)];
    this.#n--;
    return out;
  }

  /** A new ModuleList of entries start..end (Python's list[start:end]), sharing the modules. */
  slice(start?: number, end?: number): ModuleList<M> {
    return new ModuleList([...this].slice(start, end));
  }

  /** The index of `module` in the list, or -1. */
  indexOf(module: M): number {
    return [...this].indexOf(module);
  }

  /** Iterates over the modules in order. */
  [Symbol.iterator](): Iterator<M> {
    return Array.from({ length: this.#n }, (_, i) => this.at(i))[Symbol.iterator]();
  }

  /** Throws: a ModuleList holds modules but has no forward of its own (as in PyTorch). */
  forward(): never {
    throw new Error('ModuleList: a ModuleList is not callable; iterate over it in your forward()');
  }

  #check(module: unknown, i: number): void {
    if (!(module instanceof Module)) {
      throw new Error(`ModuleList: every entry must be a Module, got ${module === null ? 'null' : typeof module} at index ${i}`);
    }
  }

  #put(i: number, module: M): void {
    this.#check(module, i);
    this.registerModule(String(i), module);
  }
}

/**
 * nn.ModuleDict: modules by name, registered under their keys (state-dict keys `blocks.name.weight`)
 * in insertion order, as PyTorch's. Iterating yields the keys, as in Python; entries() gives pairs.
 */
export class ModuleDict<M extends Module = Module> extends Module implements Iterable<string> {
  #keys: string[] = [];

  constructor(modules: Record<string, NoInfer<M>> | Iterable<readonly [string, NoInfer<M>]> | ModuleDict<NoInfer<M>> = {}) {
    super();
    this.update(modules);
  }

  /** The number of entries. */
  get size(): number {
    return this.#keys.length;
  }

  /** Adds or replaces the module under `key`. */
  set(key: string, module: M): this {
    if (typeof key !== 'string' || key === '' || key.includes('.')) {
      throw new Error(`ModuleDict: a key must be a non-empty string without '.', got ${JSON.stringify(key)}`);
    }
    if (!this.#keys.includes(key) && key in this) {
      throw new Error(`ModuleDict: key '${key}' would shadow the attribute '${key}' of ModuleDict; choose another name`);
    }
    if (!(module instanceof Module)) {
      throw new Error(`ModuleDict: every entry must be a Module, got ${module === null ? 'null' : typeof module} for key '${key}'`);
    }
    this.registerModule(key, module);
    if (!this.#keys.includes(key)) this.#keys.push(key);
    return this;
  }

  /** The module under `key`; throws if there is none. */
  get(key: string): M {
    if (!this.#keys.includes(key)) throw new Error(`ModuleDict: no module under key '${key}' (keys: ${this.#keys.join(', ') || 'none'})`);
    return (this as unknown as Record<string, M>)[key];
  }

  /** Whether a module is stored under `key`. */
  has(key: string): boolean {
    return this.#keys.includes(key);
  }

  /** Removes and returns the module under `key` (Python's pop). */
  pop(key: string): M {
    const m = this.get(key);
    delete (this as unknown as Record<string, M>)[key];
    this.#keys.splice(this.#keys.indexOf(key), 1);
    return m;
  }

  /** Removes every entry. */
  clear(): void {
    for (const k of [...this.#keys]) this.pop(k);
  }

  /** Adds every entry of a plain object, a Map, another ModuleDict or an iterable of [key, module] pairs. */
  update(modules: Record<string, M> | Iterable<readonly [string, M]> | ModuleDict<M>): this {
    if (modules === null || typeof modules !== 'object') {
      throw new Error(`ModuleDict: expected an object, a Map or [key, module] pairs, got ${modules === null ? 'null' : typeof modules}`);
    }
    const entries =
      modules instanceof ModuleDict ? modules.entries()
      : Symbol.iterator in modules ? [...(modules as Iterable<readonly [string, M]>)]
      : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
    return this;
  }

  /** The keys, in insertion order. */
  keys(): string[] {
    return [...this.#keys];
  }

  /** The modules, in insertion order. */
  values(): M[] {
    return this.#keys.map((k) => this.get(k));
  }

  /** The [key, module] pairs, in insertion order. */
  entries(): [string, M][] {
    return this.#keys.map((k) => [k, this.get(k)]);
  }

  /** Iterates over the keys, as Python's dict does. */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  /** In insertion order (plain properties would put integer-like keys such as '10' first). */
  override namedChildren(): [string, Module][] {
    return this.entries();
  }

  /** Throws: a ModuleDict holds modules but has no forward of its own (as in PyTorch). */
  forward(): never {
    throw new Error('ModuleDict: a ModuleDict is not callable; call its modules in your forward()');
  }
}

/**
 * nn.ParameterList: parameters in a list, registered under '0', '1', … (state-dict keys `ps.0`).
 * A plain Tensor is wrapped in a Parameter (sharing storage), as PyTorch does.
 */
export class ParameterList extends Module implements Iterable<Parameter> {
  readonly [index: number]: Parameter;
  #n = 0;

  constructor(params: Iterable<Parameter | Tensor> = []) {
    super();
    this.extend(params);
  }

  /** The number of parameters. */
  get length(): number {
    return this.#n;
  }

  /** Adds a parameter (a Tensor is wrapped, sharing storage) at the end, named by its index. */
  append(param: Parameter | Tensor): this {
    this.#put(this.#n, param);
    this.#n++;
    return this;
  }

  /** Appends every parameter of `params`, in order. */
  extend(params: Iterable<Parameter | Tensor>): this {
    if (params === null || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
      throw new Error(`ParameterList: extend expects an iterable of tensors, got ${params === null ? 'null' : typeof params}`);
    }
    for (const p of params) this.append(p);
    return this;
  }

  /** The parameter at index i (negative counts from the end). */
  at(i: number): Parameter {
    return (this as unknown as Record<string, Parameter>)[String(listIndex('ParameterList', i, this.#n))];
  }

  /** Replaces the parameter at index i (a Tensor is wrapped, sharing storage). */
  set(i: number, param: Parameter | Tensor): this {
    this.#put(listIndex('ParameterList', i, this.#n), param);
    return this;
  }

  /** Iterates over the parameters in order. */
  [Symbol.iterator](): Iterator<Parameter> {
    return Array.from({ length: this.#n }, (_, i) => this.at(i))[Symbol.iterator]();
  }

  /** Throws: a ParameterList holds parameters but has no forward of its own (as in PyTorch). */
  forward(): never {
    throw new Error('ParameterList: a ParameterList is not callable; use its parameters in your forward()');
  }

  /** PyTorch's repr: one line per parameter with its dtype and size. */
  override toString(): string {
    const lines = [...this].map((p, i) => `    (${i}): Parameter containing: [torch.${p.dtype} of size ${p.shape.join('x')}]`);
    return lines.length ? `ParameterList(\n${lines.join('\n')}\n)` : 'ParameterList()';
  }

  #put(i: number, param: Parameter | Tensor): void {
    if (!(param instanceof Tensor)) {
      throw new Error(`ParameterList: every entry must be a Parameter or Tensor, got ${param === null ? 'null' : typeof param} at index ${i}`);
    }
    this.registerParameter(String(i), param instanceof Parameter ? param : new Parameter(param));
  }
}
