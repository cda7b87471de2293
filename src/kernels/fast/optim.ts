// JS side of the wasm optimizer updates (optim_module.ts): chunks of the parameter, its
// gradient and its state buffers are copied into the module's memory, updated in place there,
// and the updated arrays (parameter and state, not the gradient) copied back.

import { chunkElements, type FastEngine } from './engine.js';
import { adamExport, sgdExport, type AdamDecay, type SgdMomentum } from './optim_module.js';

interface Operand {
  a: Float32Array;
  /** Read by the kernel (copied in). */
  in: boolean;
  /** Written by the kernel (copied out). */
  out: boolean;
}

/** Runs `call(addresses, m)` over chunks of the operands (all of the same length). */
function chunked(eng: FastEngine, ops: readonly Operand[], call: (at: readonly number[], m: number) => void): void {
  const n = ops[0].a.length;
  const ch = Math.min(chunkElements(), (n + 3) & ~3);
  const at = eng.layout(ops.map(() => ch * 4));
  const heap = eng.f32; // after layout: growing the memory replaces the view
  for (let i = 0; i < n; i += ch) {
    const m = Math.min(ch, n - i);
    for (let k = 0; k < ops.length; k++) if (ops[k].in) heap.set(ops[k].a.subarray(i, i + m), at[k] >> 2);
    call(at, m);
    for (let k = 0; k < ops.length; k++) if (ops[k].out) ops[k].a.set(heap.subarray(at[k] >> 2, (at[k] >> 2) + m), i);
  }
}

export interface SgdScalars {
  lr: number;
  weightDecay: number;
  momentum: number;
  /** 1 − dampening, as the reference computes it. */
  oneMinusDampening: number;
  nesterov: boolean;
  maximize: boolean;
}

/** One SGD step; `buf` null without momentum, `first` on the step that creates it (not read then). */
export function sgdWasm(eng: FastEngine, p: Float32Array, g: Float32Array, buf: Float32Array | null, first: boolean, s: SgdScalars): void {
  const momentum: SgdMomentum = buf === null ? 'none' : first ? 'first' : 'running';
  const f = eng.fn(sgdExport({ maximize: s.maximize, weightDecay: s.weightDecay !== 0, momentum, nesterov: buf !== null && s.nesterov }));
  const ops: Operand[] = [{ a: p, in: true, out: true }, { a: g, in: true, out: false }];
  if (buf) ops.push({ a: buf, in: !first, out: true });
  chunked(eng, ops, (at, m) => f(at[0], at[1], buf ? at[2] : 0, m, s.lr, s.weightDecay, s.momentum, s.oneMinusDampening));
}

export interface AdamScalars {
  decay: AdamDecay;
  maximize: boolean;
  /** Decoupled decay's factor 1 − lr·wd. */
  keep: number;
  /** The L2 coefficient added to the gradient. */
  l2: number;
  beta1: number;
  beta2: number;
  stepSize: number;
  bc2Sqrt: number;
  eps: number;
}

/** One Adam/AdamW step; `vMax` non-null for amsgrad. */
export function adamWasm(eng: FastEngine, p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, vMax: Float32Array | null, s: AdamScalars): void {
  const f = eng.fn(adamExport({ maximize: s.maximize, decay: s.decay, amsgrad: vMax !== null }));
  const ops: Operand[] = [
    { a: p, in: true, out: true },
    { a: g, in: true, out: false },
    { a: m, in: true, out: true },
    { a: v, in: true, out: true },
  ];
  if (vMax) ops.push({ a: vMax, in: true, out: true });
  const { keep, l2, beta1, beta2, stepSize, bc2Sqrt, eps } = s;
  chunked(eng, ops, (at, k) => f(at[0], at[1], at[2], at[3], vMax ? at[4] : 0, k, keep, l2, beta1, 1 - beta1, beta2, 1 - beta2, stepSize, bc2Sqrt, eps));
}
