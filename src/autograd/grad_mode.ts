// Whether ops record the graph (off inside op forwards/backwards and inside `noGrad`) and whether
// anomaly mode checks them. Both live in one per-async-context record (Node's AsyncLocalStorage),
// so `noGrad(async () => …)` and `detectAnomaly(async () => …)` hold across every `await` inside
// the callback and do not leak into code running concurrently outside it. Plain synchronous
// callbacks behave exactly as before.

import { AsyncLocalStorage, executionAsyncId } from 'node:async_hooks';

export interface Modes {
  grad: boolean;
  anomaly: boolean;
}

/** The modes of code that runs outside any noGrad/enableGrad/detectAnomaly callback. */
const rootModes: Modes = { grad: true, anomaly: false };
const storage = new AsyncLocalStorage<Modes>();

// Every op reads the modes, so the last answer is cached by async id: the store changes only
// when the execution context does (a new id) or inside withModes (which sets the cache). Asking
// AsyncLocalStorage each time cost more than the lookup: its optimized code embeds the maps of
// the step's promises, which die at each full collection, and TurboFan recompiled it every
// training step on the core oneDNN's second thread needs (a 64x512x10 GEMM waited 0.8 ms).
let cachedId = -1;
let cached: Modes = rootModes;

/** The live record of the current context; setGradEnabled/setAnomalyEnabled change it in place. */
export function currentModes(): Modes {
  const id = executionAsyncId();
  if (id !== cachedId) {
    cached = storage.getStore() ?? rootModes;
    cachedId = id;
  }
  return cached;
}

/**
 * Runs `fn` (sync or async) in a new context: the current modes with `change` applied. Its
 * continuations after `await` keep that context; the caller's own context is untouched.
 */
export function withModes<T>(op: string, change: Partial<Modes>, fn: () => T): T {
  if (typeof fn !== 'function') throw new Error(`${op}: expected a callback function, got ${typeof fn}`);
  const modes = { ...currentModes(), ...change };
  const prev = cached, prevId = cachedId;
  cached = modes;
  cachedId = executionAsyncId();
  try {
    return storage.run(modes, fn);
  } finally {
    cached = prev;
    cachedId = prevId;
  }
}

/** Whether ops record the graph in the current async context (false inside `noGrad`), as `torch.is_grad_enabled`. */
export function isGradEnabled(): boolean {
  return currentModes().grad;
}

/**
 * Turns graph recording on or off in the current context (PyTorch's torch.set_grad_enabled) and
 * returns the previous setting. Prefer noGrad/enableGrad, which scope the change to a callback.
 */
export function setGradEnabled(on: boolean): boolean {
  const modes = currentModes();
  const prev = modes.grad;
  modes.grad = on;
  return prev;
}

/** Runs `fn` without recording the graph (PyTorch's `torch.no_grad()`), across its awaits too. */
export function noGrad<T>(fn: () => T): T {
  return withModes('noGrad', { grad: false }, fn);
}

/** Runs `fn` with graph recording on, even inside `noGrad`, across its awaits too. */
export function enableGrad<T>(fn: () => T): T {
  return withModes('enableGrad', { grad: true }, fn);
}
