// JS side of the wasm optimizer updates (optim_module.ts), through FastEngine.map: in place on
// arena-resident parameters, gradients and state (split across threads for large tensors),
// else chunks copied through scratch (the gradient is never copied back; state the kernel does
// not read on this step is not copied in).

import type { FastEngine, Operand } from './engine.js';
import { adamExport, sgdExport, type AdamDecay, type SgdMomentum } from './optim_module.js';

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
  const name = sgdExport({ maximize: s.maximize, weightDecay: s.weightDecay !== 0, momentum, nesterov: buf !== null && s.nesterov });
  const ops: Operand[] = [{ a: p, in: true, out: true }, { a: g, in: true, out: false }];
  if (buf) ops.push({ a: buf, in: !first, out: true });
  eng.map(name, ops, (at, m) => [at[0], at[1], buf ? at[2] : 0, m, s.lr, s.weightDecay, s.momentum, s.oneMinusDampening]);
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
  const name = adamExport({ maximize: s.maximize, decay: s.decay, amsgrad: vMax !== null });
  const ops: Operand[] = [
    { a: p, in: true, out: true },
    { a: g, in: true, out: false },
    { a: m, in: true, out: true },
    { a: v, in: true, out: true },
  ];
  if (vMax) ops.push({ a: vMax, in: true, out: true });
  const { keep, l2, beta1, beta2, stepSize, bc2Sqrt, eps } = s;
  eng.map(name, ops, (at, k) => [at[0], at[1], at[2], at[3], vMax ? at[4] : 0, k, keep, l2, beta1, 1 - beta1, beta2, 1 - beta2, stepSize, bc2Sqrt, eps]);
}
