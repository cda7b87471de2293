// JS side of the wasm elementwise kernels: chunks of each operand are copied into the module's
// memory, processed in place (the result overwrites the first operand's chunk) and copied out.

import { chunkElements, type FastEngine } from './engine.js';
import type { ArithOp } from './elementwise_module.js';

/**
 * Runs `call(addresses, m)` over chunks of `inputs` (all of out.length elements) and copies
 * the first region, where the kernel writes its result, into `out`.
 */
function chunked(eng: FastEngine, inputs: readonly Float32Array[], out: Float32Array, call: (at: readonly number[], m: number) => void): void {
  const n = out.length;
  const ch = Math.min(chunkElements(), (n + 3) & ~3);
  const at = eng.layout(inputs.map(() => ch * 4));
  const heap = eng.f32; // after layout: growing the memory replaces the view
  const dst = at[0] >> 2;
  for (let i = 0; i < n; i += ch) {
    const m = Math.min(ch, n - i);
    for (let k = 0; k < inputs.length; k++) heap.set(inputs[k].subarray(i, i + m), at[k] >> 2);
    call(at, m);
    out.set(heap.subarray(dst, dst + m), i);
  }
}

/** out = max(x, 0). */
export function reluWasm(eng: FastEngine, x: Float32Array, out: Float32Array): void {
  const relu = eng.fn('relu');
  chunked(eng, [x], out, ([p], m) => relu(p, p, m));
}

/** out = g * (x > 0 ? 1 : 0). */
export function reluBackwardWasm(eng: FastEngine, g: Float32Array, x: Float32Array, out: Float32Array): void {
  const bwd = eng.fn('relu_backward');
  chunked(eng, [g, x], out, ([pg, px], m) => bwd(pg, px, pg, m));
}

/**
 * out = a op b where a and b each have out.length elements or exactly one (a scalar operand;
 * the caller checks). Scalars are passed to the kernel as f32 arguments (exact: they come from
 * a Float32Array).
 */
export function arithWasm(eng: FastEngine, op: ArithOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const n = out.length;
  if (a.length === n && b.length === n) {
    const f = eng.fn(`${op}_vv`);
    chunked(eng, [a, b], out, ([pa, pb], m) => f(pa, pb, pa, m));
  } else if (b.length === 1) {
    const f = eng.fn(`${op}_vs`);
    const s = b[0];
    chunked(eng, [a], out, ([pa], m) => f(pa, s, pa, m));
  } else {
    const f = eng.fn(`${op}_sv`);
    const s = a[0];
    chunked(eng, [b], out, ([pb], m) => f(s, pb, pb, m));
  }
}
