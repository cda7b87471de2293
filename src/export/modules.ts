// What the exporters share: walking a module tree, recognising built-in classes exactly (a
// subclass may override forward, so it is the user's own and is refused), and the refusal error.

import { Module } from '../nn/module.js';

/** Thrown for a module or option an exporter cannot translate; names its path and class. */
export class ExportError extends Error {}

/** The module's class exactly (not a subclass: that could compute something else). */
export function isExactly<T extends Module>(m: Module, cls: abstract new (...args: never[]) => T): m is T {
  return Object.getPrototypeOf(m) === cls.prototype;
}

/** `'3.1'` or `'(the model)'` for the root, as error messages show module paths. */
export function where(path: string): string {
  return path === '' ? '(the model)' : `'${path}'`;
}

export function refuse(target: string, path: string, m: Module, why: string): never {
  throw new ExportError(`export to ${target}: module ${where(path)} (${m.className}) ${why}`);
}

/** Normalises a number-or-pair option to a pair. */
export function pairOf(v: number | readonly number[]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** Join module paths as the state dict does. */
export function child(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}
