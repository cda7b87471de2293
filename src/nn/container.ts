// nn.Sequential: children named '0', '1', … called in order, each on the previous one's output.

import type { Tensor } from '../autograd/tensor.js';
import { Module } from './module.js';

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

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    for (const m of this.children()) x = m.call(x);
    return x;
  }
}
