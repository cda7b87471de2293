// Batch-norm kernels for small planes (S below ~16: the late ResNet stages, [N, C] inputs).
// Walking plane by plane there costs a per-plane setup for a handful of elements, so here each
// sample is one row of L = C*S floats and the kernels run down the columns: per-column float64
// arrays (shift or mean, coefficients, accumulators; the JS side expands channels to columns
// and folds columns back) are read with the same vector loads as the row. Same float64
// formulas and operation order as batchnorm_module.ts.
//
// A call covers the first W columns of nRows rows; rows and column arrays are L apart (so a
// thread takes a column range by offsetting its pointers). Columns are independent and a
// vector lane computes exactly what the scalar tail would, so results do not depend on W or on
// where a range starts; vector loads and stores stay inside the W columns.

import { F64, I32, V128, type FunctionBuilder, type Local, type ModuleBuilder } from '../wasm/emitter.js';
import {
  f32DemoteF64, f32x4DemoteF64x2Zero, f64Add, f64Load, f64Mul, f64PromoteF32, f64Store, f64Sub,
  f64x2Add, f64x2Mul, f64x2PromoteLowF32x4, f64x2Sub,
} from './simd.js';

interface ColumnLoop {
  /** f32 row pointers, advanced by 4L bytes after each row. */
  rows: Local[];
  /** Columns j..j+3: `j4` = 4j (offset in a row), `j8` = 8j (offset in a column array). */
  vector(j4: Local, j8: Local): void;
  /** Column j (the last L mod 4). */
  scalar(j4: Local, j8: Local): void;
}

function columnLoop(f: FunctionBuilder, nRows: Local, W: Local, L: Local, body: ColumnLoop): void {
  const [r, j4, j8, rowBytes, vecBytes, endBytes] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  f.local_get(L).i32_const(2).i32_shl().local_set(rowBytes);
  f.local_get(W).i32_const(2).i32_shl().local_set(endBytes);
  f.local_get(W).i32_const(~3).i32_and().i32_const(2).i32_shl().local_set(vecBytes);
  f.for_(r, 0, nRows, 1, () => {
    f.i32_const(0).local_set(j8);
    f.for_(j4, 0, vecBytes, 16, () => {
      body.vector(j4, j8);
      f.local_get(j8).i32_const(32).i32_add().local_set(j8);
    });
    f.for_(j4, vecBytes, endBytes, 4, () => {
      body.scalar(j4, j8);
      f.local_get(j8).i32_const(8).i32_add().local_set(j8);
    });
    for (const p of body.rows) f.local_get(p).local_get(rowBytes).i32_add().local_set(p);
  });
}

/** Pushes the f64x2 from lanes 0-1 (half 0) or 2-3 (half 1) of the f32x4 local v. */
function promote(f: FunctionBuilder, v: Local, half: number): void {
  f.local_get(v);
  if (half) f.local_get(v).shuffle32(2, 3, 2, 3);
  f64x2PromoteLowF32x4(f);
}

/** Pushes f32 element j4 of row p as f64. */
function loadScalar(f: FunctionBuilder, p: Local, j4: Local): void {
  f.local_get(p).local_get(j4).i32_add().f32_load();
  f64PromoteF32(f);
}

/** Pushes the address of column j8 (+ 16*half) of the k-th f64 array of length L after `base`. */
function colAddr(f: FunctionBuilder, base: Local, k: number, L: Local, j8: Local, half = 0): FunctionBuilder {
  f.local_get(base);
  if (k) f.local_get(L).i32_const(8 * k).i32_mul().i32_add();
  return f.local_get(j8).i32_add().i32_const(16 * half).i32_add();
}

/** The k-th column array at j8 (+half) += the value on the stack (vector or scalar). */
function accumulate(f: FunctionBuilder, acc: Local, k: number, L: Local, j8: Local, half: number, vector: boolean, value: () => void): void {
  colAddr(f, acc, k, L, j8, half);
  colAddr(f, acc, k, L, j8, half);
  if (vector) f.v128_load();
  else f64Load(f);
  value();
  if (vector) {
    f64x2Add(f);
    f.v128_store();
  } else {
    f64Add(f);
    f64Store(f);
  }
}

export function emitBatchNormColumns(mb: ModuleBuilder): void {
  // bn_stats_cols(src, nRows, W, L, shift, acc): acc[j] += x - shift[j]; acc[L + j] += (x - shift[j])^2
  {
    const f = mb.addFunction('bn_stats_cols', [I32, I32, I32, I32, I32, I32], []);
    const [src, nRows, W, L, shift, acc] = f.params;
    const [v, d] = [f.local(V128), f.local(V128)];
    const ds = f.local(F64);
    columnLoop(f, nRows, W, L, {
      rows: [src],
      vector(j4, j8) {
        f.local_get(src).local_get(j4).i32_add().v128_load().local_set(v);
        for (const half of [0, 1]) {
          promote(f, v, half);
          colAddr(f, shift, 0, L, j8, half).v128_load();
          f64x2Sub(f);
          f.local_set(d);
          accumulate(f, acc, 0, L, j8, half, true, () => f.local_get(d));
          accumulate(f, acc, 1, L, j8, half, true, () => {
            f.local_get(d).local_get(d);
            f64x2Mul(f);
          });
        }
      },
      scalar(j4, j8) {
        loadScalar(f, src, j4);
        colAddr(f, shift, 0, L, j8);
        f64Load(f);
        f64Sub(f);
        f.local_set(ds);
        accumulate(f, acc, 0, L, j8, 0, false, () => f.local_get(ds));
        accumulate(f, acc, 1, L, j8, 0, false, () => {
          f.local_get(ds).local_get(ds);
          f64Mul(f);
        });
      },
    });
  }

  // bn_apply_cols(src, dst, nRows, W, L, coef): dst = x * coef[j] + coef[L + j]
  {
    const f = mb.addFunction('bn_apply_cols', [I32, I32, I32, I32, I32, I32], []);
    const [src, dst, nRows, W, L, coef] = f.params;
    const [v, lo, hi] = [f.local(V128), f.local(V128), f.local(V128)];
    columnLoop(f, nRows, W, L, {
      rows: [src, dst],
      vector(j4, j8) {
        f.local_get(src).local_get(j4).i32_add().v128_load().local_set(v);
        for (const [half, out] of [[0, lo], [1, hi]] as const) {
          promote(f, v, half);
          colAddr(f, coef, 0, L, j8, half).v128_load();
          f64x2Mul(f);
          colAddr(f, coef, 1, L, j8, half).v128_load();
          f64x2Add(f);
          f.local_set(out);
        }
        f.local_get(dst).local_get(j4).i32_add();
        f.local_get(lo);
        f32x4DemoteF64x2Zero(f);
        f.local_get(hi);
        f32x4DemoteF64x2Zero(f);
        f.shuffle32(0, 1, 4, 5).v128_store();
      },
      scalar(j4, j8) {
        f.local_get(dst).local_get(j4).i32_add();
        loadScalar(f, src, j4);
        colAddr(f, coef, 0, L, j8);
        f64Load(f);
        f64Mul(f);
        colAddr(f, coef, 1, L, j8);
        f64Load(f);
        f64Add(f);
        f32DemoteF64(f);
        f.f32_store();
      },
    });
  }

  // bn_backward_reduce_cols(g, x, nRows, W, L, mean, acc): acc[j] += g; acc[L + j] += g * (x - mean[j])
  {
    const f = mb.addFunction('bn_backward_reduce_cols', [I32, I32, I32, I32, I32, I32, I32], []);
    const [g, x, nRows, W, L, mean, acc] = f.params;
    const [gv, xv] = [f.local(V128), f.local(V128)];
    columnLoop(f, nRows, W, L, {
      rows: [g, x],
      vector(j4, j8) {
        f.local_get(g).local_get(j4).i32_add().v128_load().local_set(gv);
        f.local_get(x).local_get(j4).i32_add().v128_load().local_set(xv);
        for (const half of [0, 1]) {
          accumulate(f, acc, 0, L, j8, half, true, () => promote(f, gv, half));
          accumulate(f, acc, 1, L, j8, half, true, () => {
            promote(f, gv, half);
            promote(f, xv, half);
            colAddr(f, mean, 0, L, j8, half).v128_load();
            f64x2Sub(f);
            f64x2Mul(f);
          });
        }
      },
      scalar(j4, j8) {
        accumulate(f, acc, 0, L, j8, 0, false, () => loadScalar(f, g, j4));
        accumulate(f, acc, 1, L, j8, 0, false, () => {
          loadScalar(f, g, j4);
          loadScalar(f, x, j4);
          colAddr(f, mean, 0, L, j8);
          f64Load(f);
          f64Sub(f);
          f64Mul(f);
        });
      },
    });
  }

  // bn_backward_apply_cols(g, x, dst, nRows, W, L, coef), column arrays k = 0..4 of coef: mean,
  // invstd, k, meanG, meanGXhat;  dst = k * ((g - meanG) - ((x - mean) * invstd) * meanGXhat)
  {
    const f = mb.addFunction('bn_backward_apply_cols', [I32, I32, I32, I32, I32, I32, I32], []);
    const [g, x, dst, nRows, W, L, coef] = f.params;
    const [gv, xv, lo, hi] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
    const formula = (j8: Local, half: number, vector: boolean, pushG: () => void, pushX: () => void): void => {
      const [sub, mul] = vector ? [f64x2Sub, f64x2Mul] : [f64Sub, f64Mul];
      const coefAt = (k: number) => {
        colAddr(f, coef, k, L, j8, half);
        if (vector) f.v128_load();
        else f64Load(f);
      };
      coefAt(2);
      pushG();
      coefAt(3);
      sub(f);
      pushX();
      coefAt(0);
      sub(f);
      coefAt(1);
      mul(f);
      coefAt(4);
      mul(f);
      sub(f);
      mul(f);
    };
    columnLoop(f, nRows, W, L, {
      rows: [g, x, dst],
      vector(j4, j8) {
        f.local_get(g).local_get(j4).i32_add().v128_load().local_set(gv);
        f.local_get(x).local_get(j4).i32_add().v128_load().local_set(xv);
        for (const [half, out] of [[0, lo], [1, hi]] as const) {
          formula(j8, half, true, () => promote(f, gv, half), () => promote(f, xv, half));
          f.local_set(out);
        }
        f.local_get(dst).local_get(j4).i32_add();
        f.local_get(lo);
        f32x4DemoteF64x2Zero(f);
        f.local_get(hi);
        f32x4DemoteF64x2Zero(f);
        f.shuffle32(0, 1, 4, 5).v128_store();
      },
      scalar(j4, j8) {
        f.local_get(dst).local_get(j4).i32_add();
        formula(j8, 0, false, () => loadScalar(f, g, j4), () => loadScalar(f, x, j4));
        f32DemoteF64(f);
        f.f32_store();
      },
    });
  }
}
