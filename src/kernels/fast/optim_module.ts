// WebAssembly SIMD bodies of the float32 optimizer updates (SGD, Adam/AdamW), one export per
// hyper-parameter variant so no loop tests a flag per element. Every function walks `n`
// elements four at a time and may touch up to 3 past n (the JS side rounds its regions up).
// Pointer arguments are byte addresses in the module's memory.
//
// Bit-identical to the reference loops in kernels/optim.ts: each f32x4 is promoted to two
// f64x2 halves and every operation is the reference's float64 one, in its order (wasm f64 ops
// are IEEE and never fused). Where the reference stores a state value into a Float32Array and
// reads it back, the kernel demotes and promotes again.

import { F64, I32, uleb, V128, type FunctionBuilder, type Local, type ModuleBuilder } from '../wasm/emitter.js';
import { f32x4DemoteF64x2Zero, f32x4Max, f64x2Add, f64x2Mul, f64x2PromoteLowF32x4, f64x2Splat, f64x2Sub } from './simd.js';

// Opcodes simd.ts lacks (SIMD prefix 0xfd).
const simd = (f: FunctionBuilder, op: number): void => {
  f.code.push(0xfd, ...uleb(op));
};
const f32x4Neg = (f: FunctionBuilder) => simd(f, 0xe1);
const f64x2Sqrt = (f: FunctionBuilder) => simd(f, 0xef);
const f64x2Div = (f: FunctionBuilder) => simd(f, 0xf3);

export type SgdMomentum = 'none' | 'first' | 'running';
export interface SgdVariant {
  maximize: boolean;
  weightDecay: boolean;
  /** 'first': the step that creates the buffer (buf = d, no dampening, buf not read). */
  momentum: SgdMomentum;
  nesterov: boolean;
}

export type AdamDecay = 'none' | 'l2' | 'decoupled';
export interface AdamVariant {
  maximize: boolean;
  /** 'l2': g += wd·p (Adam); 'decoupled': p *= 1 − lr·wd first (AdamW). */
  decay: AdamDecay;
  amsgrad: boolean;
}

const bit = (b: boolean): string => (b ? '1' : '0');
export const sgdExport = (v: SgdVariant): string => `sgd_${bit(v.maximize)}${bit(v.weightDecay)}${v.momentum[0]}${bit(v.nesterov)}`;
export const adamExport = (v: AdamVariant): string => `adam_${bit(v.maximize)}${v.decay[0]}${bit(v.amsgrad)}`;

const BOOLS = [false, true];
export const SGD_VARIANTS: readonly SgdVariant[] = BOOLS.flatMap((maximize) =>
  BOOLS.flatMap((weightDecay) =>
    (['none', 'first', 'running'] as const).flatMap((momentum) =>
      (momentum === 'none' ? [false] : BOOLS).map((nesterov) => ({ maximize, weightDecay, momentum, nesterov })),
    ),
  ),
);
export const ADAM_VARIANTS: readonly AdamVariant[] = BOOLS.flatMap((maximize) =>
  (['none', 'l2', 'decoupled'] as const).flatMap((decay) => BOOLS.map((amsgrad) => ({ maximize, decay, amsgrad }))),
);

/** for (i = 0; i < 4n; i += 16) body(i): one f32x4 per iteration, byte offset i. */
function vectorLoop(f: FunctionBuilder, n: Local, body: (i: Local) => void): void {
  const i = f.local(I32);
  const end = f.local(I32);
  f.push(n).i32_const(2).i32_shl().local_set(end);
  f.for_(i, 0, end, 16, () => body(i));
}

/** Pushes the f64x2 of lanes 0-1 (h = 0) or 2-3 (h = 1) of the f32x4 in `v`. */
function promote(f: FunctionBuilder, v: Local, h: number): void {
  f.local_get(v);
  if (h) f.local_get(v).shuffle32(2, 3, 2, 3);
  f64x2PromoteLowF32x4(f);
}

/** Pushes the f32x4 whose lanes are the low two of `lo` then the low two of `hi`. */
function join(f: FunctionBuilder, lo: Local, hi: Local): void {
  f.local_get(lo).local_get(hi).shuffle32(0, 1, 4, 5);
}

/** Loads the f32x4 at ptr + i into a new local (negated if `neg`). */
function load(f: FunctionBuilder, ptr: Local, i: Local, neg = false): Local {
  const v = f.local(V128);
  f.local_get(ptr).local_get(i).i32_add().v128_load();
  if (neg) f32x4Neg(f);
  f.local_set(v);
  return v;
}

/** ptr + i ← f32x4 pushed by `value`. */
function store(f: FunctionBuilder, ptr: Local, i: Local, value: () => void): void {
  f.local_get(ptr).local_get(i).i32_add();
  value();
  f.v128_store();
}

/** A V128 local holding the f64 parameter splatted. */
function splat(f: FunctionBuilder, x: Local): Local {
  const v = f.local(V128);
  f.local_get(x);
  f64x2Splat(f);
  f.local_set(v);
  return v;
}

/**
 * sgd_<variant>(p, g, buf, n, lr, wd, momentum, 1 − dampening), per element (kernels/optim.ts):
 *   d = ±g; d += wd·p; buf = first ? d : momentum·buf + (1 − dampening)·d (stored as f32);
 *   d = nesterov ? d + momentum·buf : buf; p -= lr·d.
 */
function emitSgd(mb: ModuleBuilder, v: SgdVariant): void {
  const f = mb.addFunction(sgdExport(v), [I32, I32, I32, I32, F64, F64, F64, F64], []);
  const [p, g, buf, n, lr, wd, mom, damp1] = f.params;
  const [lrv, wdv, momv, dampv] = [lr, wd, mom, damp1].map((x) => splat(f, x));
  const d = f.local(V128);
  const b = f.local(V128);
  const pOut = [f.local(V128), f.local(V128)];
  const bOut = [f.local(V128), f.local(V128)];
  vectorLoop(f, n, (i) => {
    const P = load(f, p, i);
    const G = load(f, g, i, v.maximize);
    const B = v.momentum === 'running' ? load(f, buf, i) : null;
    for (const h of [0, 1]) {
      promote(f, G, h);
      if (v.weightDecay) {
        f.local_get(wdv);
        promote(f, P, h);
        f64x2Mul(f);
        f64x2Add(f);
      }
      f.local_set(d);
      if (v.momentum !== 'none') {
        if (B) {
          f.local_get(momv);
          promote(f, B, h);
          f64x2Mul(f);
          f.local_get(dampv).local_get(d);
          f64x2Mul(f);
          f64x2Add(f);
        } else {
          f.local_get(d);
        }
        // Stored to the f32 buffer, then read back by the reference.
        f32x4DemoteF64x2Zero(f);
        f.local_tee(bOut[h]);
        f64x2PromoteLowF32x4(f);
        f.local_set(b);
        if (v.nesterov) {
          f.local_get(d).local_get(momv).local_get(b);
          f64x2Mul(f);
          f64x2Add(f);
          f.local_set(d);
        } else {
          f.local_get(b).local_set(d);
        }
      }
      promote(f, P, h);
      f.local_get(lrv).local_get(d);
      f64x2Mul(f);
      f64x2Sub(f);
      f32x4DemoteF64x2Zero(f);
      f.local_set(pOut[h]);
    }
    store(f, p, i, () => join(f, pOut[0], pOut[1]));
    if (v.momentum !== 'none') store(f, buf, i, () => join(f, bOut[0], bOut[1]));
  });
}

/**
 * adam_<variant>(p, g, m, v, vMax, n, keep, l2, β1, 1 − β1, β2, 1 − β2, stepSize, √bc2, eps):
 *   p = f32(p·keep) if decoupled; gi = ±g; gi += l2·p if l2; m = β1·m + (1 − β1)·gi;
 *   v = β2·v + (1 − β2)·gi·gi; vMax = max(vMax, v) if amsgrad;
 *   p -= (stepSize·m) / (√(amsgrad ? vMax : v) / √bc2 + eps).
 * m, v, vMax are stored as f32 and read back, as in the reference.
 */
function emitAdam(mb: ModuleBuilder, a: AdamVariant): void {
  const f = mb.addFunction(adamExport(a), [I32, I32, I32, I32, I32, I32, ...new Array<typeof F64>(9).fill(F64)], []);
  const [p, g, m, v, vMax, n, ...scalars] = f.params;
  const [keepv, l2v, b1v, omb1v, b2v, omb2v, stepv, bc2v, epsv] = scalars.map((x) => splat(f, x));
  const gi = f.local(V128);
  const mOut = [f.local(V128), f.local(V128)];
  const vOut = [f.local(V128), f.local(V128)];
  const pOut = [f.local(V128), f.local(V128)];
  const M = f.local(V128);
  const V = f.local(V128);
  vectorLoop(f, n, (i) => {
    let P = load(f, p, i);
    if (a.decay === 'decoupled') {
      // The reference's separate pass `p *= keep`, stored as f32 before the update reads it.
      for (const h of [0, 1]) {
        promote(f, P, h);
        f.local_get(keepv);
        f64x2Mul(f);
        f32x4DemoteF64x2Zero(f);
        f.local_set(pOut[h]);
      }
      P = f.local(V128);
      join(f, pOut[0], pOut[1]);
      f.local_set(P);
    }
    const G = load(f, g, i, a.maximize);
    const M0 = load(f, m, i);
    const V0 = load(f, v, i);
    for (const h of [0, 1]) {
      promote(f, G, h);
      if (a.decay === 'l2') {
        f.local_get(l2v);
        promote(f, P, h);
        f64x2Mul(f);
        f64x2Add(f);
      }
      f.local_set(gi);
      f.local_get(b1v);
      promote(f, M0, h);
      f64x2Mul(f);
      f.local_get(omb1v).local_get(gi);
      f64x2Mul(f);
      f64x2Add(f);
      f32x4DemoteF64x2Zero(f);
      f.local_set(mOut[h]);
      f.local_get(b2v);
      promote(f, V0, h);
      f64x2Mul(f);
      f.local_get(omb2v).local_get(gi);
      f64x2Mul(f);
      f.local_get(gi);
      f64x2Mul(f);
      f64x2Add(f);
      f32x4DemoteF64x2Zero(f);
      f.local_set(vOut[h]);
    }
    join(f, mOut[0], mOut[1]);
    f.local_set(M);
    join(f, vOut[0], vOut[1]);
    f.local_set(V);
    store(f, m, i, () => f.local_get(M));
    store(f, v, i, () => f.local_get(V));
    if (a.amsgrad) {
      // f32x4.max propagates NaN and orders -0 < +0, as Math.max does.
      f.local_get(vMax).local_get(i).i32_add().v128_load().local_get(V);
      f32x4Max(f);
      f.local_set(V);
      store(f, vMax, i, () => f.local_get(V));
    }
    for (const h of [0, 1]) {
      promote(f, P, h);
      f.local_get(stepv);
      promote(f, M, h);
      f64x2Mul(f);
      promote(f, V, h);
      f64x2Sqrt(f);
      f.local_get(bc2v);
      f64x2Div(f);
      f.local_get(epsv);
      f64x2Add(f);
      f64x2Div(f);
      f64x2Sub(f);
      f32x4DemoteF64x2Zero(f);
      f.local_set(pOut[h]);
    }
    store(f, p, i, () => join(f, pOut[0], pOut[1]));
  });
}

export function emitOptim(mb: ModuleBuilder): void {
  for (const v of SGD_VARIANTS) emitSgd(mb, v);
  for (const a of ADAM_VARIANTS) emitAdam(mb, a);
}
