// Anomaly mode: find the first op whose forward output or backward gradient is NaN or Inf.
// Modules push their path (e.g. "3.0.bn2") on a stack while they run so reports can name them.

import { fmt } from '../kernels/shape.js';
import type { TypedArray } from '../kernels/dtype.js';
import { currentModes, withModes } from './grad_mode.js';

const moduleStack: string[] = [];

export function isAnomalyEnabled(): boolean {
  return currentModes().anomaly;
}

/**
 * Runs `fn` (forward and backward both count) with NaN/Inf detection on every op. An async `fn`
 * keeps detection on across its awaits (the mode is per async context, as noGrad's).
 */
export function detectAnomaly<T>(fn: () => T): T {
  return withModes('detectAnomaly', { anomaly: true }, fn);
}

export function setAnomalyEnabled(on: boolean): boolean {
  const modes = currentModes();
  const prev = modes.anomaly;
  modes.anomaly = on;
  return prev;
}

/** Enters a module's dotted path (Module.call does this), so anomaly reports can name the module. */
export function pushModulePath(path: string): void {
  moduleStack.push(path);
}

/** Leaves the module entered last with {@link pushModulePath}. */
export function popModulePath(): void {
  moduleStack.pop();
}

/** The dotted path of the innermost module being called, or '' outside any. */
export function currentModulePath(): string {
  return moduleStack.length ? moduleStack[moduleStack.length - 1] : '';
}

/** The error anomaly detection throws when an op produces NaN or ±Inf, naming the op and the module path. */
export class AnomalyError extends Error {
  constructor(
    message: string,
    readonly op: string,
    readonly modulePath: string,
    readonly phase: 'forward' | 'backward',
  ) {
    super(message);
    this.name = 'AnomalyError';
  }
}

export function firstNonFinite(data: TypedArray): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) return i; // NaN - NaN and Inf - Inf are both NaN
  }
  return -1;
}

export function reportAnomaly(
  phase: 'forward' | 'backward',
  op: string,
  modulePath: string,
  what: string,
  data: TypedArray,
  index: number,
  shapes: ReadonlyArray<readonly number[]>,
): never {
  const where = modulePath ? ` in module ${modulePath}` : '';
  const kind = Number.isNaN(data[index]) ? 'NaN' : 'Inf';
  const verb = what.startsWith('input') ? 'received' : 'produced';
  throw new AnomalyError(
    `anomaly: ${op}${where} ${verb} ${kind} in its ${phase} ${what} at flat index ${index}` +
      ` (input shapes ${shapes.map(fmt).join(', ')})`,
    op,
    modulePath,
    phase,
  );
}
