// WebAssembly SIMD bodies of the float32 reductions over one axis, the tensor viewed as
// [nO, len, inner] (a chunk of it: see fast/reduce.ts). Each kernel adds into a running state
// in memory, one entry per output element, so a reduction split over several chunks along the
// axis just continues where the last call stopped:
//
//   sum_rows(src, acc, nO, len)              inner = 1: acc[o] += sum_k x[o, k]       (f64 acc)
//   sum_cols(src, acc, nO, len, inner)       acc[o, i] += sum_k x[o, k, i]            (f64 acc)
//   {max,min}_rows(src, best, idx, nO, len, kBase)          inner = 1
//   {max,min}_cols(src, best, idx, nO, len, inner, kBase)   best: f32, idx: i32
//
// sum_cols adds each column in the reference's order (acc + x[k] for k = 0, 1, ...; f64 adds of
// exact f32 values), vectorized across columns, so it is bit-identical. sum_rows keeps four
// f64x2 partial sums per row (element k in lane k mod 8) and adds them at the end: another
// order, so the f64 sum moves by up to ~len * 2^-53 of sum |x|; see the test for the f32 bound.
//
// max/min: the first index of the extremum, NaN propagating (the first NaN wins), as
// kernels/reduce.ts. The state starts at (-Inf for max / +Inf for min, index 0): equivalent to
// starting from x[0], since it is replaced by any x that is not -Inf, and if every x is -Inf
// the answer is index 0. An element takes over where (best == best) & !(v <= best) (for max):
// v is larger or NaN, and best is not NaN yet. Strict comparison keeps the first of equal
// values (-0 and +0 included), and a lane holding NaN stops. The _cols kernels vectorize
// across columns (8, then 4, then one at a time), k in order as the reference. The _rows
// kernels keep eight lanes per row (element k in lane k mod 8, each lane starting at its own
// first element), merge them into the row's state (NaN first, then the better value, then the
// lower index: exact, see mergeCandidate), and finish the last len mod 8 elements in order.

import { F32, F64, I32, V128, uleb, type FunctionBuilder, type Local, type ModuleBuilder } from '../wasm/emitter.js';
import { f64Add, f64Load, f64PromoteF32, f64Store, f64x2Add, f64x2ExtractLane, f64x2PromoteLowF32x4, i32x4Splat, v128Bitselect } from './simd.js';

// -- opcodes missing from emitter.ts / simd.ts -------------------------------------------------
function raw(f: FunctionBuilder, ...bytes: number[]): FunctionBuilder {
  for (const b of bytes) f.code.push(b);
  return f;
}
const simd = (f: FunctionBuilder, opcode: number, ...imm: number[]) => raw(f, 0xfd, ...uleb(opcode), ...imm);
const f32Ne = (f: FunctionBuilder) => raw(f, 0x5c);
const f32Lt = (f: FunctionBuilder) => raw(f, 0x5d);
const f32Gt = (f: FunctionBuilder) => raw(f, 0x5e);
const i32x4ExtractLane = (f: FunctionBuilder, lane: number) => simd(f, 0x1b, lane);
const f32x4Eq = (f: FunctionBuilder) => simd(f, 0x41);
const f32x4Le = (f: FunctionBuilder) => simd(f, 0x45);
const f32x4Ge = (f: FunctionBuilder) => simd(f, 0x46);
/** v128.andnot(a, b) = a & ~b. */
const v128Andnot = (f: FunctionBuilder) => simd(f, 0x4f);
const i32x4Add = (f: FunctionBuilder) => simd(f, 0xae);
function i32x4Const(f: FunctionBuilder, lanes: readonly number[]): FunctionBuilder {
  const b = new DataView(new ArrayBuffer(16));
  lanes.forEach((v, i) => b.setInt32(4 * i, v, true));
  return simd(f, 0x0c, ...Array.from({ length: 16 }, (_, i) => b.getUint8(i)));
}

// -- sums --------------------------------------------------------------------------------------

/** acc += the f64x2 of lanes 0-1 (`high` false) or 2-3 of the f32x4 in `v`. */
function addPromoted(f: FunctionBuilder, acc: Local, v: Local, high: boolean): void {
  f.local_get(acc).local_get(v);
  if (high) f.local_get(v).shuffle32(2, 3, 2, 3);
  f64x2PromoteLowF32x4(f);
  f64x2Add(f);
  f.local_set(acc);
}

/** s += f64(f32 at the address on the stack). */
function addScalar(f: FunctionBuilder, s: Local): void {
  f.f32_load();
  f64PromoteF32(f);
  f.local_get(s);
  f64Add(f);
  f.local_set(s);
}

function emitSumRows(mb: ModuleBuilder): void {
  const f = mb.addFunction('sum_rows', [I32, I32, I32, I32], []);
  const [src, acc, nO, len] = f.params;
  const [o, p, end, vecEnd, a] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const accs = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const [v, w] = [f.local(V128), f.local(V128)];
  const s = f.local(F64);
  f.local_get(src).local_set(p);
  f.local_get(acc).local_set(a);
  f.for_(o, 0, nO, 1, () => {
    // byte bounds of this row: [p, end), the 8-wide part [p, vecEnd)
    f.local_get(p).local_get(len).i32_const(2).i32_shl().i32_add().local_set(end);
    f.local_get(p).local_get(len).i32_const(~7).i32_and().i32_const(2).i32_shl().i32_add().local_set(vecEnd);
    for (const x of accs) f.v128_const_zero().local_set(x);
    f.block(() => f.loop(() => {
      f.local_get(p).local_get(vecEnd).i32_ge_s().br_if(1);
      f.local_get(p).v128_load().local_set(v);
      f.local_get(p).v128_load(16).local_set(w);
      addPromoted(f, accs[0], v, false);
      addPromoted(f, accs[1], v, true);
      addPromoted(f, accs[2], w, false);
      addPromoted(f, accs[3], w, true);
      f.local_get(p).i32_const(32).i32_add().local_set(p);
      f.br(0);
    }));
    // s = ((a0 + a1) + (a2 + a3)) lanes 0 + 1, then the tail in order
    f.local_get(accs[0]).local_get(accs[1]);
    f64x2Add(f);
    f.local_get(accs[2]).local_get(accs[3]);
    f64x2Add(f);
    f64x2Add(f);
    f.local_tee(v);
    f64x2ExtractLane(f, 0);
    f.local_get(v);
    f64x2ExtractLane(f, 1);
    f64Add(f);
    f.local_set(s);
    f.block(() => f.loop(() => {
      f.local_get(p).local_get(end).i32_ge_s().br_if(1);
      f.local_get(p);
      addScalar(f, s);
      f.local_get(p).i32_const(4).i32_add().local_set(p);
      f.br(0);
    }));
    // acc[o] += s
    f.local_get(a).local_get(a);
    f64Load(f);
    f.local_get(s);
    f64Add(f);
    f64Store(f);
    f.local_get(a).i32_const(8).i32_add().local_set(a);
  });
}

function emitSumCols(mb: ModuleBuilder): void {
  const f = mb.addFunction('sum_cols', [I32, I32, I32, I32, I32], []);
  const [src, acc, nO, len, inner] = f.params;
  const [o, i, k, p, a, stride, slab, i8, i4] = Array.from({ length: 9 }, () => f.local(I32));
  const accs = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const [v, w] = [f.local(V128), f.local(V128)];
  const s = f.local(F64);
  f.local_get(inner).i32_const(2).i32_shl().local_set(stride);
  f.local_get(len).local_get(stride).i32_mul().local_set(slab);
  f.local_get(inner).i32_const(~7).i32_and().local_set(i8);
  f.local_get(inner).i32_const(~3).i32_and().local_set(i4);

  /** p = src + o * slab + 4i; a = acc + 8 * (o * inner + i). */
  const pointers = () => {
    f.local_get(src).local_get(o).local_get(slab).i32_mul().i32_add().local_get(i).i32_const(2).i32_shl().i32_add().local_set(p);
    f.local_get(acc).local_get(o).local_get(inner).i32_mul().local_get(i).i32_add().i32_const(3).i32_shl().i32_add().local_set(a);
  };
  /** Columns i .. i + 4 * nVec - 1: f64x2 accumulators loaded from acc, summed over k, stored. */
  const block = (nVec: 1 | 2) => {
    pointers();
    for (let j = 0; j < 2 * nVec; j++) f.local_get(a).v128_load(16 * j).local_set(accs[j]);
    f.for_(k, 0, len, 1, () => {
      f.local_get(p).v128_load().local_set(v);
      if (nVec === 2) f.local_get(p).v128_load(16).local_set(w);
      addPromoted(f, accs[0], v, false);
      addPromoted(f, accs[1], v, true);
      if (nVec === 2) {
        addPromoted(f, accs[2], w, false);
        addPromoted(f, accs[3], w, true);
      }
      f.local_get(p).local_get(stride).i32_add().local_set(p);
    });
    for (let j = 0; j < 2 * nVec; j++) f.local_get(a).local_get(accs[j]).v128_store(16 * j);
  };

  f.for_(o, 0, nO, 1, () => {
    f.for_(i, 0, i8, 8, () => block(2));
    f.local_get(i8).local_get(i4).i32_ne();
    f.if_(() => {
      f.local_get(i8).local_set(i);
      block(1);
    });
    f.for_(i, i4, inner, 1, () => {
      pointers();
      f.local_get(a);
      f64Load(f);
      f.local_set(s);
      f.for_(k, 0, len, 1, () => {
        f.local_get(p);
        addScalar(f, s);
        f.local_get(p).local_get(stride).i32_add().local_set(p);
      });
      f.local_get(a).local_get(s);
      f64Store(f);
    });
  });
}

// -- max / min ---------------------------------------------------------------------------------

/**
 * Pushes the lane mask (best == best) & !(v <= best) for max, !(v >= best) for min: v beats
 * best or is NaN, and best is not NaN yet (three instructions for the five of the scalar test).
 */
function vectorTakes(f: FunctionBuilder, v: Local, best: Local, wantMax: boolean): void {
  f.local_get(best).local_get(best);
  f32x4Eq(f);
  f.local_get(v).local_get(best);
  if (wantMax) f32x4Le(f);
  else f32x4Ge(f);
  v128Andnot(f);
}

/** Pushes the i32 (best == best) & (v != v | v beats best), for f32 locals: the reference's step. */
function scalarTakes(f: FunctionBuilder, v: Local, best: Local, wantMax: boolean): void {
  f.local_get(best).local_get(best).f32_eq();
  f.local_get(v).local_get(v);
  f32Ne(f);
  f.local_get(v).local_get(best);
  if (wantMax) f32Gt(f);
  else f32Lt(f);
  f.i32_or().i32_and();
}

/**
 * (best, bi) = (v, vi) if the candidate ranks first: NaN before numbers, then the larger
 * (smaller) value, then the lower index. Each candidate is the first NaN, else the first
 * extremum, of its subset of the row, so the winner over the subsets is the row's.
 */
function mergeCandidate(f: FunctionBuilder, best: Local, bi: Local, v: Local, vi: Local, wantMax: boolean): void {
  const lower = () => f.local_get(vi).local_get(bi).i32_lt_s();
  const vNaN = () => {
    f.local_get(v).local_get(v);
    f32Ne(f);
  };
  // best is NaN: take a NaN at a lower index
  vNaN();
  lower();
  f.i32_and();
  // best is a number: take NaN, a better value, or the same value at a lower index
  vNaN();
  f.local_get(v).local_get(best);
  if (wantMax) f32Gt(f);
  else f32Lt(f);
  f.i32_or();
  f.local_get(v).local_get(best).f32_eq();
  lower();
  f.i32_and().i32_or();
  f.local_get(best).local_get(best);
  f32Ne(f);
  f.select();
  f.if_(() => {
    f.local_get(v).local_set(best);
    f.local_get(vi).local_set(bi);
  });
}

/** One lane step: where v takes (vectorTakes), best = v and bi = ki. */
function vectorStep(f: FunctionBuilder, v: Local, best: Local, bi: Local, ki: Local, m: Local, wantMax: boolean): void {
  vectorTakes(f, v, best, wantMax);
  f.local_set(m);
  f.local_get(v).local_get(best).local_get(m);
  v128Bitselect(f);
  f.local_set(best);
  f.local_get(ki).local_get(bi).local_get(m);
  v128Bitselect(f);
  f.local_set(bi);
}

/** The reference's step for one element: if x takes, best = x and bi = the index pushed by `index`. */
function scalarStep(f: FunctionBuilder, x: Local, best: Local, bi: Local, index: () => void, wantMax: boolean): void {
  scalarTakes(f, x, best, wantMax);
  f.if_(() => {
    f.local_get(x).local_set(best);
    index();
    f.local_set(bi);
  });
}

function emitExtremumRows(mb: ModuleBuilder, wantMax: boolean): void {
  const f = mb.addFunction(`${wantMax ? 'max' : 'min'}_rows`, [I32, I32, I32, I32, I32, I32], []);
  const [src, bestAt, idxAt, nO, len, kBase] = f.params;
  const [o, k, p, vecEnd] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  // eight lanes: element k of the row in lane k mod 8 (vectors 0 and 1)
  const [bv0, bv1, iv0, iv1, kv0, kv1, v, m, eight] = Array.from({ length: 9 }, () => f.local(V128));
  const [best, x] = [f.local(F32), f.local(F32)];
  const [bi, xi] = [f.local(I32), f.local(I32)];
  f.local_get(src).local_set(p);
  f.local_get(len).i32_const(~7).i32_and().local_set(vecEnd);
  i32x4Const(f, [8, 8, 8, 8]).local_set(eight);
  f.for_(o, 0, nO, 1, () => {
    const stateAddr = (base: Local) => f.local_get(base).local_get(o).i32_const(2).i32_shl().i32_add();
    stateAddr(bestAt).f32_load().local_set(best);
    stateAddr(idxAt).i32_load().local_set(bi);
    f.local_get(vecEnd);
    f.if_(() => {
      // each lane starts at (start value, its first index): the same as starting at that element
      f.f32_const(wantMax ? -Infinity : Infinity).f32x4_splat().local_tee(bv0).local_set(bv1);
      for (const [kv, iv, first] of [[kv0, iv0, 0], [kv1, iv1, 4]] as const) {
        f.local_get(kBase);
        i32x4Splat(f);
        i32x4Const(f, [first, first + 1, first + 2, first + 3]);
        i32x4Add(f);
        f.local_tee(kv).local_set(iv);
      }
      f.for_(k, 0, vecEnd, 8, () => {
        for (const [bv, iv, kv, off] of [[bv0, iv0, kv0, 0], [bv1, iv1, kv1, 16]] as const) {
          f.local_get(p).local_get(k).i32_const(2).i32_shl().i32_add().v128_load(off).local_set(v);
          vectorStep(f, v, bv, iv, kv, m, wantMax);
          f.local_get(kv).local_get(eight);
          i32x4Add(f);
          f.local_set(kv);
        }
      });
      for (const [bv, iv] of [[bv0, iv0], [bv1, iv1]]) {
        for (let lane = 0; lane < 4; lane++) {
          f.local_get(bv).f32x4_extract_lane(lane).local_set(x);
          f.local_get(iv);
          i32x4ExtractLane(f, lane);
          f.local_set(xi);
          mergeCandidate(f, best, bi, x, xi, wantMax);
        }
      }
    });
    f.for_(k, vecEnd, len, 1, () => {
      f.local_get(p).local_get(k).i32_const(2).i32_shl().i32_add().f32_load().local_set(x);
      scalarStep(f, x, best, bi, () => f.local_get(kBase).local_get(k).i32_add(), wantMax);
    });
    stateAddr(bestAt).local_get(best).f32_store();
    stateAddr(idxAt).local_get(bi).i32_store();
    f.local_get(p).local_get(len).i32_const(2).i32_shl().i32_add().local_set(p);
  });
}

function emitExtremumCols(mb: ModuleBuilder, wantMax: boolean): void {
  const f = mb.addFunction(`${wantMax ? 'max' : 'min'}_cols`, [I32, I32, I32, I32, I32, I32, I32], []);
  const [src, bestAt, idxAt, nO, len, inner, kBase] = f.params;
  const [o, i, k, p, stride, slab, i8, i4, st] = Array.from({ length: 9 }, () => f.local(I32));
  const [bv0, bv1, iv0, iv1, kv, v, m, one] = Array.from({ length: 8 }, () => f.local(V128));
  const [best, x] = [f.local(F32), f.local(F32)];
  const bi = f.local(I32);
  f.local_get(inner).i32_const(2).i32_shl().local_set(stride);
  f.local_get(len).local_get(stride).i32_mul().local_set(slab);
  f.local_get(inner).i32_const(~7).i32_and().local_set(i8);
  f.local_get(inner).i32_const(~3).i32_and().local_set(i4);
  i32x4Const(f, [1, 1, 1, 1]).local_set(one);

  /** p = src + o * slab + 4i; st = 4 * (o * inner + i), the state's byte offset. */
  const pointers = () => {
    f.local_get(o).local_get(inner).i32_mul().local_get(i).i32_add().i32_const(2).i32_shl().local_set(st);
    f.local_get(src).local_get(o).local_get(slab).i32_mul().i32_add().local_get(i).i32_const(2).i32_shl().i32_add().local_set(p);
  };
  const at = (base: Local) => f.local_get(base).local_get(st).i32_add();
  /** Columns i .. i + 4 * nVec - 1, vectorized across columns, k in order. */
  const block = (nVec: 1 | 2) => {
    const vecs = ([[bv0, iv0, 0], [bv1, iv1, 16]] as const).slice(0, nVec);
    pointers();
    for (const [bv, iv, off] of vecs) {
      at(bestAt).v128_load(off).local_set(bv);
      at(idxAt).v128_load(off).local_set(iv);
    }
    f.local_get(kBase);
    i32x4Splat(f);
    f.local_set(kv);
    f.for_(k, 0, len, 1, () => {
      for (const [bv, iv, off] of vecs) {
        f.local_get(p).v128_load(off).local_set(v);
        vectorStep(f, v, bv, iv, kv, m, wantMax);
      }
      f.local_get(kv).local_get(one);
      i32x4Add(f);
      f.local_set(kv);
      f.local_get(p).local_get(stride).i32_add().local_set(p);
    });
    for (const [bv, iv, off] of vecs) {
      at(bestAt).local_get(bv).v128_store(off);
      at(idxAt).local_get(iv).v128_store(off);
    }
  };

  f.for_(o, 0, nO, 1, () => {
    f.for_(i, 0, i8, 8, () => block(2));
    f.local_get(i8).local_get(i4).i32_ne();
    f.if_(() => {
      f.local_get(i8).local_set(i);
      block(1);
    });
    f.for_(i, i4, inner, 1, () => {
      pointers();
      at(bestAt).f32_load().local_set(best);
      at(idxAt).i32_load().local_set(bi);
      f.for_(k, 0, len, 1, () => {
        f.local_get(p).f32_load().local_set(x);
        scalarStep(f, x, best, bi, () => f.local_get(kBase).local_get(k).i32_add(), wantMax);
        f.local_get(p).local_get(stride).i32_add().local_set(p);
      });
      at(bestAt).local_get(best).f32_store();
      at(idxAt).local_get(bi).i32_store();
    });
  });
}

export function emitReduce(mb: ModuleBuilder): void {
  emitSumRows(mb);
  emitSumCols(mb);
  for (const wantMax of [true, false]) {
    emitExtremumRows(mb, wantMax);
    emitExtremumCols(mb, wantMax);
  }
}
