// WebAssembly SIMD bodies of the float32 batch-norm kernels on [N, C, S] data. A call covers
// nRows rows (samples, C*S floats apart) of nPlanes consecutive (n, c) planes of S floats each,
// starting at channel c0; within a row, plane p has channel (c0 + p) mod C. The copy path runs
// one row of planes that may wrap into the next sample (a chunk); the in-place path gives each
// thread all N rows of its channel range, so each channel is summed by one thread, in n order.
// Per-channel numbers (shifts, means, coefficients, accumulators) are float64 arrays of C
// values, one after the other at the given address (array k of channel c at 8 * (k * C + c)).
//
// Arithmetic is done in float64 (f32 lanes promoted to f64x2, results demoted), in the same
// operation order as the reference loops in kernels/batchnorm.ts, so the elementwise outputs
// are bit-identical given the same per-channel numbers; only the sums are added in another
// order (two f64x2 lanes per vector, then a scalar tail), which moves them by ~1e-16 relative.

import { F64, I32, V128, type FunctionBuilder, type Local, type ModuleBuilder } from '../wasm/emitter.js';
import {
  f32DemoteF64, f32x4DemoteF64x2Zero, f64Add, f64Const, f64Load, f64Mul, f64PromoteF32, f64Store, f64Sub,
  f64x2Add, f64x2ExtractLane, f64x2Mul, f64x2PromoteLowF32x4, f64x2Splat, f64x2Sub,
} from './simd.js';

/** Pushes the f64x2 of lanes 0-1 (`high` false) or 2-3 of the f32x4 in `v`. */
function promote(f: FunctionBuilder, v: Local, high: boolean): void {
  f.local_get(v);
  if (high) f.local_get(v).shuffle32(2, 3, 2, 3);
  f64x2PromoteLowF32x4(f);
}

/** Pushes an f32x4 from two f64x2 locals (lanes lo0 lo1 hi0 hi1). */
function demote(f: FunctionBuilder, lo: Local, hi: Local): void {
  f.local_get(lo);
  f32x4DemoteF64x2Zero(f);
  f.local_get(hi);
  f32x4DemoteF64x2Zero(f);
  f.shuffle32(0, 1, 4, 5);
}

interface PlaneLoop {
  /** Byte pointers advanced by 4*S after each plane. */
  ptrs: Local[];
  /** Once per plane, before its elements (channel index in `c`). */
  begin(c: Local): void;
  /** Four elements at byte offset j of each pointer. */
  vector(j: Local): void;
  /** One element at byte offset j (the last S mod 4 of the plane). */
  scalar(j: Local): void;
  /** Once per plane, after its elements. */
  end(c: Local): void;
}

/** The loop over rows and their planes. Parameters (after the pointers): nRows, nPlanes, c0, C, S. */
function planeLoop(f: FunctionBuilder, nRows: Local, nPlanes: Local, c0: Local, C: Local, S: Local, body: PlaneLoop): void {
  const [r, p, c, j, rowBytes, vecBytes, skip] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  f.local_get(S).i32_const(2).i32_shl().local_set(rowBytes);
  f.local_get(S).i32_const(~3).i32_and().i32_const(2).i32_shl().local_set(vecBytes);
  // from the end of a row's planes to the next row's first: the other channels' planes
  f.local_get(C).local_get(nPlanes).i32_sub().local_get(rowBytes).i32_mul().local_set(skip);
  f.for_(r, 0, nRows, 1, () => {
    f.local_get(c0).local_set(c);
    f.for_(p, 0, nPlanes, 1, () => {
      body.begin(c);
      f.for_(j, 0, vecBytes, 16, () => body.vector(j));
      f.for_(j, vecBytes, rowBytes, 4, () => body.scalar(j));
      body.end(c);
      for (const ptr of body.ptrs) f.local_get(ptr).local_get(rowBytes).i32_add().local_set(ptr);
      // c = c + 1 == C ? 0 : c + 1
      f.local_get(c).i32_const(1).i32_add().local_tee(c).local_get(C).i32_eq();
      f.if_(() => f.i32_const(0).local_set(c));
    });
    for (const ptr of body.ptrs) f.local_get(ptr).local_get(skip).i32_add().local_set(ptr);
  });
}

/** Pushes the address of channel c in the k-th per-channel array at `base`. */
function f64At(f: FunctionBuilder, base: Local, k: number, C: Local, c: Local): FunctionBuilder {
  f.local_get(base);
  if (k) f.local_get(C).i32_const(8 * k).i32_mul().i32_add();
  return f.local_get(c).i32_const(3).i32_shl().i32_add();
}

/** acc[c] += lanes of vs + ts; acc[C + c] += lanes of vq + tq. */
function addPairToAcc(f: FunctionBuilder, acc: Local, C: Local, c: Local, vs: Local, ts: Local, vq: Local, tq: Local): void {
  for (const [v, t, k] of [[vs, ts, 0], [vq, tq, 1]] as const) {
    f64At(f, acc, k, C, c);
    f64At(f, acc, k, C, c);
    f64Load(f);
    f.local_get(v);
    f64x2ExtractLane(f, 0);
    f.local_get(v);
    f64x2ExtractLane(f, 1);
    f64Add(f);
    f.local_get(t);
    f64Add(f);
    f64Add(f);
    f64Store(f);
  }
}

export function emitBatchNorm(mb: ModuleBuilder): void {
  // bn_stats(src, nRows, nPlanes, c0, C, S, shift, acc): acc[c] += sum(x - shift[c]),
  // acc[C + c] += sum((x - shift[c])^2). One pass; the shift keeps the variance exact enough.
  {
    const f = mb.addFunction('bn_stats', [I32, I32, I32, I32, I32, I32, I32, I32], []);
    const [src, nRows, nPlanes, c0, C, S, shift, acc] = f.params;
    const k = f.local(F64);
    const kv = f.local(V128);
    const [vs, vq, v, d] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
    const [ts, tq, ds] = [f.local(F64), f.local(F64), f.local(F64)];
    planeLoop(f, nRows, nPlanes, c0, C, S, {
      ptrs: [src],
      begin(c) {
        f64At(f, shift, 0, C, c);
        f64Load(f);
        f.local_tee(k);
        f64x2Splat(f);
        f.local_set(kv);
        f.v128_const_zero().local_tee(vs).local_set(vq);
        f64Const(f, 0).local_set(ts);
        f64Const(f, 0).local_set(tq);
      },
      vector(j) {
        f.local_get(src).local_get(j).i32_add().v128_load().local_set(v);
        for (const high of [false, true]) {
          promote(f, v, high);
          f.local_get(kv);
          f64x2Sub(f);
          f.local_tee(d);
          f.local_get(vs);
          f64x2Add(f);
          f.local_set(vs);
          f.local_get(d).local_get(d);
          f64x2Mul(f);
          f.local_get(vq);
          f64x2Add(f);
          f.local_set(vq);
        }
      },
      scalar(j) {
        f.local_get(src).local_get(j).i32_add().f32_load();
        f64PromoteF32(f);
        f.local_get(k);
        f64Sub(f);
        f.local_tee(ds);
        f.local_get(ts);
        f64Add(f);
        f.local_set(ts);
        f.local_get(ds).local_get(ds);
        f64Mul(f);
        f.local_get(tq);
        f64Add(f);
        f.local_set(tq);
      },
      end(c) {
        addPairToAcc(f, acc, C, c, vs, ts, vq, tq);
      },
    });
  }

  // bn_apply(src, dst, nRows, nPlanes, c0, C, S, coef): dst = x * coef[c] + coef[C + c]
  // (float64, then rounded to f32, as the reference's `x * scale + shift`).
  {
    const f = mb.addFunction('bn_apply', [I32, I32, I32, I32, I32, I32, I32, I32], []);
    const [src, dst, nRows, nPlanes, c0, C, S, coef] = f.params;
    const [scale, shift] = [f.local(F64), f.local(F64)];
    const [sv, hv, v, lo, hi] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
    planeLoop(f, nRows, nPlanes, c0, C, S, {
      ptrs: [src, dst],
      begin(c) {
        f64At(f, coef, 0, C, c);
        f64Load(f);
        f.local_tee(scale);
        f64x2Splat(f);
        f.local_set(sv);
        f64At(f, coef, 1, C, c);
        f64Load(f);
        f.local_tee(shift);
        f64x2Splat(f);
        f.local_set(hv);
      },
      vector(j) {
        f.local_get(src).local_get(j).i32_add().v128_load().local_set(v);
        for (const [high, out] of [[false, lo], [true, hi]] as const) {
          promote(f, v, high);
          f.local_get(sv);
          f64x2Mul(f);
          f.local_get(hv);
          f64x2Add(f);
          f.local_set(out);
        }
        f.local_get(dst).local_get(j).i32_add();
        demote(f, lo, hi);
        f.v128_store();
      },
      scalar(j) {
        f.local_get(dst).local_get(j).i32_add();
        f.local_get(src).local_get(j).i32_add().f32_load();
        f64PromoteF32(f);
        f.local_get(scale);
        f64Mul(f);
        f.local_get(shift);
        f64Add(f);
        f32DemoteF64(f);
        f.f32_store();
      },
      end() {},
    });
  }

  // bn_backward_reduce(g, x, nRows, nPlanes, c0, C, S, mean, acc): acc[c] += sum(g),
  // acc[C + c] += sum(g * (x - mean[c])).
  {
    const f = mb.addFunction('bn_backward_reduce', [I32, I32, I32, I32, I32, I32, I32, I32, I32], []);
    const [g, x, nRows, nPlanes, c0, C, S, mean, acc] = f.params;
    const m = f.local(F64);
    const mv = f.local(V128);
    const [vs, vq, gv, xv, gd] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
    const [ts, tq, gs] = [f.local(F64), f.local(F64), f.local(F64)];
    planeLoop(f, nRows, nPlanes, c0, C, S, {
      ptrs: [g, x],
      begin(c) {
        f64At(f, mean, 0, C, c);
        f64Load(f);
        f.local_tee(m);
        f64x2Splat(f);
        f.local_set(mv);
        f.v128_const_zero().local_tee(vs).local_set(vq);
        f64Const(f, 0).local_set(ts);
        f64Const(f, 0).local_set(tq);
      },
      vector(j) {
        f.local_get(g).local_get(j).i32_add().v128_load().local_set(gv);
        f.local_get(x).local_get(j).i32_add().v128_load().local_set(xv);
        for (const high of [false, true]) {
          promote(f, gv, high);
          f.local_tee(gd);
          f.local_get(vs);
          f64x2Add(f);
          f.local_set(vs);
          f.local_get(gd);
          promote(f, xv, high);
          f.local_get(mv);
          f64x2Sub(f);
          f64x2Mul(f);
          f.local_get(vq);
          f64x2Add(f);
          f.local_set(vq);
        }
      },
      scalar(j) {
        f.local_get(g).local_get(j).i32_add().f32_load();
        f64PromoteF32(f);
        f.local_tee(gs);
        f.local_get(ts);
        f64Add(f);
        f.local_set(ts);
        f.local_get(gs);
        f.local_get(x).local_get(j).i32_add().f32_load();
        f64PromoteF32(f);
        f.local_get(m);
        f64Sub(f);
        f64Mul(f);
        f.local_get(tq);
        f64Add(f);
        f.local_set(tq);
      },
      end(c) {
        addPairToAcc(f, acc, C, c, vs, ts, vq, tq);
      },
    });
  }

  // bn_backward_apply(g, x, dst, nRows, nPlanes, c0, C, S, coef), per-channel arrays k = 0..4 of coef:
  // mean, invstd, k, meanG, meanGXhat;  dst = k * ((g - meanG) - ((x - mean) * invstd) * meanGXhat).
  {
    const f = mb.addFunction('bn_backward_apply', [I32, I32, I32, I32, I32, I32, I32, I32, I32], []);
    const [g, x, dst, nRows, nPlanes, c0, C, S, coef] = f.params;
    const sc = [f.local(F64), f.local(F64), f.local(F64), f.local(F64), f.local(F64)];
    const vc = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
    const [gv, xv, lo, hi] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
    // Pushes the formula's value for one f64x2 (vector) or f64 (scalar) g and x.
    const formula = (pushG: () => void, pushX: () => void, k: Local[], ops: typeof F64Ops): void => {
      const [mean, invstd, kk, meanG, meanGXhat] = k;
      f.local_get(kk);
      pushG();
      f.local_get(meanG);
      ops.sub(f);
      pushX();
      f.local_get(mean);
      ops.sub(f);
      f.local_get(invstd);
      ops.mul(f);
      f.local_get(meanGXhat);
      ops.mul(f);
      ops.sub(f);
      ops.mul(f);
    };
    planeLoop(f, nRows, nPlanes, c0, C, S, {
      ptrs: [g, x, dst],
      begin(c) {
        for (let k = 0; k < 5; k++) {
          f64At(f, coef, k, C, c);
          f64Load(f);
          f.local_tee(sc[k]);
          f64x2Splat(f);
          f.local_set(vc[k]);
        }
      },
      vector(j) {
        f.local_get(g).local_get(j).i32_add().v128_load().local_set(gv);
        f.local_get(x).local_get(j).i32_add().v128_load().local_set(xv);
        for (const [high, out] of [[false, lo], [true, hi]] as const) {
          formula(() => promote(f, gv, high), () => promote(f, xv, high), vc, F64x2Ops);
          f.local_set(out);
        }
        f.local_get(dst).local_get(j).i32_add();
        demote(f, lo, hi);
        f.v128_store();
      },
      scalar(j) {
        f.local_get(dst).local_get(j).i32_add();
        const load = (p: Local) => () => {
          f.local_get(p).local_get(j).i32_add().f32_load();
          f64PromoteF32(f);
        };
        formula(load(g), load(x), sc, F64Ops);
        f32DemoteF64(f);
        f.f32_store();
      },
      end() {},
    });
  }
}

const F64Ops = { sub: f64Sub, mul: f64Mul };
const F64x2Ops: typeof F64Ops = { sub: f64x2Sub, mul: f64x2Mul };

