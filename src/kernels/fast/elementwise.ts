// JS side of the wasm elementwise kernels: FastEngine.map runs them in place on arena-resident
// tensors (split across threads when large) and copies foreign arrays through scratch.

import type { FastEngine, Operand } from './engine.js';
import type { ArithOp } from './elementwise_module.js';

const read = (a: Float32Array): Operand => ({ a, in: true, out: false });
const write = (a: Float32Array): Operand => ({ a, in: false, out: true });

/** out = max(x, 0). */
export function reluWasm(eng: FastEngine, x: Float32Array, out: Float32Array): void {
  eng.map('relu', [read(x), write(out)], ([px, po], m) => [px, po, m]);
}

/** out = x <= 0 ? 0 : g (a NaN x passes g). */
export function reluBackwardWasm(eng: FastEngine, g: Float32Array, x: Float32Array, out: Float32Array): void {
  eng.map('relu_backward', [read(g), read(x), write(out)], ([pg, px, po], m) => [pg, px, po, m]);
}

/**
 * out = a op b where a and b each have out.length elements or exactly one (a scalar operand;
 * the caller checks). Scalars are passed to the kernel as f32 arguments (exact: they come from
 * a Float32Array).
 */
export function arithWasm(eng: FastEngine, op: ArithOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const n = out.length;
  if (a.length === n && b.length === n) {
    eng.map(`${op}_vv`, [read(a), read(b), write(out)], ([pa, pb, po], m) => [pa, pb, po, m]);
  } else if (b.length === 1) {
    const s = b[0];
    eng.map(`${op}_vs`, [read(a), write(out)], ([pa, po], m) => [pa, s, po, m]);
  } else {
    const s = a[0];
    eng.map(`${op}_sv`, [read(b), write(out)], ([pb, po], m) => [s, pb, po, m]);
  }
}
