// WebAssembly SIMD max pooling (no dilation) on four planes at once. NCHW planes are first
// interleaved four by four ([L][4]: one v128 holds the same pixel of four planes), so every
// tap is one vector load and every lane shares the window's geometry: the clipped window and
// the reference's scan order (row-major, a tap wins when greater or NaN, the first tap starts
// the search) carry over unchanged, and the compare-and-select is branch-free.

import { I32, V128, type FunctionBuilder, type Local, type ModuleBuilder } from '../wasm/emitter.js';
import { f32x4Gt, f32x4Ne, i32x4Splat, v128Bitselect, v128Or } from './simd.js';

/** Transposes the 4x4 block in a0..a3 (rows) into t0..t3 (columns). */
function transpose4(f: FunctionBuilder, a: Local[], u: Local[], t: Local[]): void {
  const shuf = (x: Local, y: Local, lanes: [number, number, number, number], out: Local) => {
    f.local_get(x).local_get(y).shuffle32(...lanes).local_set(out);
  };
  shuf(a[0], a[1], [0, 4, 1, 5], u[0]);
  shuf(a[2], a[3], [0, 4, 1, 5], u[1]);
  shuf(a[0], a[1], [2, 6, 3, 7], u[2]);
  shuf(a[2], a[3], [2, 6, 3, 7], u[3]);
  shuf(u[0], u[1], [0, 1, 4, 5], t[0]);
  shuf(u[0], u[1], [2, 3, 6, 7], t[1]);
  shuf(u[2], u[3], [0, 1, 4, 5], t[2]);
  shuf(u[2], u[3], [2, 3, 6, 7], t[3]);
}

/**
 * name(src, dst, nGroups, L) moving 32-bit values between planar ([4][L] per group, as NCHW)
 * and interleaved ([L][4]) layouts; `toInterleaved` picks the direction.
 */
function emitInterleave(mb: ModuleBuilder, name: string, toInterleaved: boolean): void {
  const f = mb.addFunction(name, [I32, I32, I32, I32], []);
  const [src, dst, nGroups, L] = f.params;
  const [g, j, L4, vecEnd, planar, inter] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const a = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const u = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const t = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.local_get(L).i32_const(2).i32_shl().local_set(L4); // bytes per plane
  f.local_get(L).i32_const(~3).i32_and().local_set(vecEnd);
  // planar / inter: byte address of the group's first value in each layout
  const [from, to] = toInterleaved ? [planar, inter] : [inter, planar];
  f.local_get(src).local_set(from);
  f.local_get(dst).local_set(to);
  f.for_(g, 0, nGroups, 1, () => {
    f.for_(j, 0, vecEnd, 4, () => {
      // pixels j..j+3 of the four planes <-> values of pixels j..j+3, four planes each
      for (let k = 0; k < 4; k++) {
        if (toInterleaved) f.local_get(planar).local_get(j).i32_const(2).i32_shl().i32_add().local_get(L4).i32_const(k).i32_mul().i32_add();
        else f.local_get(inter).local_get(j).i32_const(4).i32_shl().i32_add().i32_const(16 * k).i32_add();
        f.v128_load().local_set(a[k]);
      }
      transpose4(f, a, u, t);
      for (let k = 0; k < 4; k++) {
        if (toInterleaved) f.local_get(inter).local_get(j).i32_const(4).i32_shl().i32_add().i32_const(16 * k).i32_add();
        else f.local_get(planar).local_get(j).i32_const(2).i32_shl().i32_add().local_get(L4).i32_const(k).i32_mul().i32_add();
        f.local_get(t[k]).v128_store();
      }
    });
    f.for_(j, vecEnd, L, 1, () => {
      for (let k = 0; k < 4; k++) {
        const planarAddr = () => f.local_get(planar).local_get(j).i32_const(2).i32_shl().i32_add().local_get(L4).i32_const(k).i32_mul().i32_add();
        const interAddr = () => f.local_get(inter).local_get(j).i32_const(4).i32_shl().i32_add().i32_const(4 * k).i32_add();
        (toInterleaved ? interAddr : planarAddr)();
        (toInterleaved ? planarAddr : interAddr)();
        f.i32_load().i32_store();
      }
    });
    f.local_get(planar).local_get(L4).i32_const(2).i32_shl().i32_add().local_set(planar);
    f.local_get(inter).local_get(L4).i32_const(2).i32_shl().i32_add().local_set(inter);
  });
}

/** max_pool_dense(src, dst, idx, nGroups, h, w, kh, kw, sh, sw, ph, pw, outH, outW), interleaved layouts. */
function emitMaxPool(mb: ModuleBuilder): void {
  const f = mb.addFunction('max_pool_dense', new Array(14).fill(I32), []);
  const [src, dst, idx, nGroups, h, w, kh, kw, sh, sw, ph, pw, outH, outW] = f.params;
  const [g, oy, ox, ya, yb, xa, xb, iy, ix, pos, o] = Array.from({ length: 11 }, () => f.local(I32));
  const [best, arg, v, m] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const plane = f.local(I32); // bytes of one interleaved input group
  f.local_get(h).local_get(w).i32_mul().i32_const(4).i32_shl().local_set(plane);
  // clipped = max(start, 0) / min(start + k, size) on the i32 `start` pushed by `start()`.
  const clipLow = (start: () => void, out: Local) => {
    start();
    f.i32_const(0);
    start();
    f.i32_const(0).i32_gt_s().select().local_set(out);
  };
  const clipHigh = (start: () => void, k: Local, size: Local, out: Local) => {
    start();
    f.local_get(k).i32_add().local_get(size);
    start();
    f.local_get(k).i32_add().local_get(size).i32_lt_s().select().local_set(out);
  };
  const loadTap = () => f.local_get(src).local_get(pos).i32_const(4).i32_shl().i32_add().v128_load();
  f.i32_const(0).local_set(o);
  f.for_(g, 0, nGroups, 1, () => {
    f.for_(oy, 0, outH, 1, () => {
      const y0 = () => f.local_get(oy).local_get(sh).i32_mul().local_get(ph).i32_sub();
      clipLow(y0, ya);
      clipHigh(y0, kh, h, yb);
      f.for_(ox, 0, outW, 1, () => {
        const x0 = () => f.local_get(ox).local_get(sw).i32_mul().local_get(pw).i32_sub();
        clipLow(x0, xa);
        clipHigh(x0, kw, w, xb);
        // the first tap starts the search
        f.local_get(ya).local_get(w).i32_mul().local_get(xa).i32_add().local_tee(pos);
        i32x4Splat(f);
        f.local_set(arg);
        loadTap().local_set(best);
        f.for_(iy, ya, yb, 1, () => {
          f.for_(ix, xa, xb, 1, () => {
            f.local_get(iy).local_get(w).i32_mul().local_get(ix).i32_add().local_set(pos);
            loadTap().local_tee(v).local_get(best);
            f32x4Gt(f);
            f.local_get(v).local_get(v);
            f32x4Ne(f);
            v128Or(f);
            f.local_set(m);
            f.local_get(v).local_get(best).local_get(m);
            v128Bitselect(f);
            f.local_set(best);
            f.local_get(pos);
            i32x4Splat(f);
            f.local_get(arg).local_get(m);
            v128Bitselect(f);
            f.local_set(arg);
          });
        });
        f.local_get(dst).local_get(o).i32_add().local_get(best).v128_store();
        f.local_get(idx).local_get(o).i32_add().local_get(arg).v128_store();
        f.local_get(o).i32_const(16).i32_add().local_set(o);
      });
    });
    f.local_get(src).local_get(plane).i32_add().local_set(src);
  });
}

export function emitPool(mb: ModuleBuilder): void {
  emitInterleave(mb, 'interleave4', true);
  emitInterleave(mb, 'deinterleave4', false);
  emitMaxPool(mb);
}
