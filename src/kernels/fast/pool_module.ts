// WebAssembly SIMD max pooling (no dilation) on four planes at once. NCHW planes are first
// interleaved four by four ([L][4]: one v128 holds the same pixel of four planes), so every
// tap is one vector load and every lane shares the window's geometry: the clipped window and
// the reference's scan order (row-major, a tap wins when greater or NaN, the first tap starts
// the search) carry over unchanged, and the compare-and-select is branch-free.
//
// Also the plane-by-plane kernels, scalar but for fills: the max-pool backward scatter and
// adaptive average pooling forward and backward, in the reference's arithmetic and order. Every
// kernel works on a run of whole planes and writes only those planes (vector stores never pass
// a plane run's end), so threads can take disjoint plane ranges of the same tensors.

import { F32, F64, I32, V128, type FunctionBuilder, type Local, type ModuleBuilder } from '../wasm/emitter.js';
import { f32DemoteF64, f32x4Gt, f32x4Ne, f64Add, f64Const, f64PromoteF32, i32x4Splat, v128Bitselect, v128Or } from './simd.js';

// Scalar opcodes neither emitter.ts nor simd.ts has.
const raw = (f: FunctionBuilder, ...bytes: number[]) => {
  for (const b of bytes) f.code.push(b);
  return f;
};
const i32LtU = (f: FunctionBuilder) => raw(f, 0x49);
const f64Div = (f: FunctionBuilder) => raw(f, 0xa3);
const f64ConvertI32S = (f: FunctionBuilder) => raw(f, 0xb7);

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
function emitInterleave(mb: ModuleBuilder, name: string, toInterleaved: boolean): FunctionBuilder {
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
  return f;
}

/** max_pool_dense(src, dst, idx, nGroups, h, w, kh, kw, sh, sw, ph, pw, outH, outW), interleaved layouts. */
function emitMaxPool(mb: ModuleBuilder): FunctionBuilder {
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
  return f;
}

/**
 * max_pool_planes(src, dst, idx, nGroups, h, w, kh, kw, sh, sw, ph, pw, outH, outW, tmp) on
 * planar (NCHW) data, four planes per group: each group is interleaved into `tmp`
 * (16 * (h*w + 2 * outH*outW) bytes, private to the caller), pooled there and its values and
 * indices de-interleaved into dst and idx.
 */
function emitMaxPoolPlanes(mb: ModuleBuilder, interleave: FunctionBuilder, deinterleave: FunctionBuilder, pool: FunctionBuilder): void {
  const f = mb.addFunction('max_pool_planes', new Array(15).fill(I32), []);
  const [src, dst, idx, nGroups, h, w, kh, kw, sh, sw, ph, pw, outH, outW, tmp] = f.params;
  const [g, hw, L, tmpOut, tmpIdx] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  f.local_get(h).local_get(w).i32_mul().local_set(hw);
  f.local_get(outH).local_get(outW).i32_mul().local_set(L);
  f.local_get(tmp).local_get(hw).i32_const(4).i32_shl().i32_add().local_tee(tmpOut);
  f.local_get(L).i32_const(4).i32_shl().i32_add().local_set(tmpIdx);
  f.for_(g, 0, nGroups, 1, () => {
    f.local_get(src).local_get(tmp).i32_const(1).local_get(hw).call(interleave);
    for (const l of [tmp, tmpOut, tmpIdx]) f.local_get(l);
    f.i32_const(1);
    for (const l of [h, w, kh, kw, sh, sw, ph, pw, outH, outW]) f.local_get(l);
    f.call(pool);
    f.local_get(tmpOut).local_get(dst).i32_const(1).local_get(L).call(deinterleave);
    f.local_get(tmpIdx).local_get(idx).i32_const(1).local_get(L).call(deinterleave);
    f.local_get(src).local_get(hw).i32_const(4).i32_shl().i32_add().local_set(src);
    for (const l of [dst, idx]) f.local_get(l).local_get(L).i32_const(4).i32_shl().i32_add().local_set(l);
  });
}

/** Zeroes `bytes` (a multiple of 4) at `at`: vector stores, then a scalar tail; nothing past the end. */
function zeroFill(f: FunctionBuilder, at: Local, bytes: Local): void {
  const [b, vecEnd] = [f.local(I32), f.local(I32)];
  f.local_get(bytes).i32_const(~15).i32_and().local_set(vecEnd);
  f.for_(b, 0, vecEnd, 16, () => f.local_get(at).local_get(b).i32_add().v128_const_zero().v128_store());
  f.for_(b, vecEnd, bytes, 4, () => f.local_get(at).local_get(b).i32_add().f32_const(0).f32_store());
}

/**
 * max_pool_backward(g, idx, gx, nPlanes, hw, L): gx = 0, then gx[idx[k]] += g[k] per plane (f32
 * adds: the reference's float64 add of two float32s rounds to the same float32). An index
 * outside its plane is skipped: -1 marks a dilated window that saw only padding (no input
 * pixel gets its gradient), and no index may write another plane, perhaps another thread's.
 */
function emitMaxPoolBackward(mb: ModuleBuilder): void {
  const f = mb.addFunction('max_pool_backward', [I32, I32, I32, I32, I32, I32], []);
  const [g, idx, gx, nPlanes, hw, L] = f.params;
  const [p, k, i, a, bytes] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  f.local_get(nPlanes).local_get(hw).i32_mul().i32_const(2).i32_shl().local_set(bytes);
  zeroFill(f, gx, bytes);
  f.for_(p, 0, nPlanes, 1, () => {
    f.for_(k, 0, () => f.local_get(L).i32_const(2).i32_shl(), 4, () => {
      f.local_get(idx).local_get(k).i32_add().i32_load().local_tee(i).local_get(hw);
      i32LtU(f);
      f.if_(() => {
        f.local_get(gx).local_get(i).i32_const(2).i32_shl().i32_add().local_tee(a);
        f.local_get(a).f32_load();
        f.local_get(g).local_get(k).i32_add().f32_load();
        f.f32_add().f32_store();
      });
    });
    for (const [ptr, n] of [[g, L], [idx, L], [gx, hw]] as const) f.local_get(ptr).local_get(n).i32_const(2).i32_shl().i32_add().local_set(ptr);
  });
}

/**
 * The loops over adaptive bins: per plane, per output (oy, ox), `window(y0, y1, x0, x1)` with
 * the bins read from `bins` (i32 [start, end) pairs: outH for rows, then outW for columns).
 */
function binLoop(
  f: FunctionBuilder, nPlanes: Local, outH: Local, outW: Local, bins: Local,
  window: (y0: Local, y1: Local, x0: Local, x1: Local) => void, endPlane: () => void,
): void {
  const [p, oy, ox, y0, y1, x0, x1, xb] = Array.from({ length: 8 }, () => f.local(I32));
  f.local_get(bins).local_get(outH).i32_const(3).i32_shl().i32_add().local_set(xb);
  f.for_(p, 0, nPlanes, 1, () => {
    f.for_(oy, 0, outH, 1, () => {
      f.local_get(bins).local_get(oy).i32_const(3).i32_shl().i32_add().local_tee(y0).i32_load(4).local_set(y1);
      f.local_get(y0).i32_load().local_set(y0);
      f.for_(ox, 0, outW, 1, () => {
        f.local_get(xb).local_get(ox).i32_const(3).i32_shl().i32_add().local_tee(x0).i32_load(4).local_set(x1);
        f.local_get(x0).i32_load().local_set(x0);
        window(y0, y1, x0, x1);
      });
    });
    endPlane();
  });
}

/** Pushes the f64 window size (y1 - y0) * (x1 - x0). */
function pushArea(f: FunctionBuilder, y0: Local, y1: Local, x0: Local, x1: Local): void {
  f.local_get(y1).local_get(y0).i32_sub().local_get(x1).local_get(x0).i32_sub().i32_mul();
  f64ConvertI32S(f);
}

/** `pixel(address)` for every input pixel of the window, row-major, in the plane at `base`. */
function forWindow(f: FunctionBuilder, base: Local, w: Local, y0: Local, y1: Local, x0: Local, x1: Local, pixel: (at: Local) => void): void {
  const [iy, ix, at] = [f.local(I32), f.local(I32), f.local(I32)];
  f.for_(iy, y0, y1, 1, () => {
    f.for_(ix, x0, x1, 1, () => {
      f.local_get(iy).local_get(w).i32_mul().local_get(ix).i32_add().i32_const(2).i32_shl().local_get(base).i32_add().local_set(at);
      pixel(at);
    });
  });
}

/** Pushes i32 1 when the output is 1x1 (a global pool: one bin, the whole plane). */
function isGlobal(f: FunctionBuilder, outH: Local, outW: Local): void {
  f.local_get(outH).i32_const(1).i32_eq().local_get(outW).i32_const(1).i32_eq().i32_and();
}

/**
 * adaptive_avg_pool(src, dst, nPlanes, h, w, outH, outW, bins): dst = (float64 sum of the bin,
 * row-major) / bin size, as the reference.
 * adaptive_avg_pool_backward(g, gx, nPlanes, h, w, outH, outW, bins): gx = 0, then every pixel
 * of a bin += g / bin size in float64, rounded to f32 after each add, as the reference.
 * Global pools (1x1 output, ResNet's) take a straight loop over each plane: per-bin overhead
 * there made the general loops slower than JS for 1x1 inputs.
 */
function emitAdaptiveAvgPool(mb: ModuleBuilder): void {
  {
    const f = mb.addFunction('adaptive_avg_pool', new Array(8).fill(I32), []);
    const [src, dst, nPlanes, h, w, outH, outW, bins] = f.params;
    const s = f.local(F64);
    const [p, b, hw4] = [f.local(I32), f.local(I32), f.local(I32)];
    const store = (pushArea: () => void) => {
      f.local_get(dst).local_get(s);
      pushArea();
      f64Div(f);
      f32DemoteF64(f);
      f.f32_store();
      f.local_get(dst).i32_const(4).i32_add().local_set(dst);
    };
    const add = (at: Local, offset: Local | null) => {
      f.local_get(s).local_get(at);
      if (offset) f.local_get(offset).i32_add();
      f.f32_load();
      f64PromoteF32(f);
      f64Add(f);
      f.local_set(s);
    };
    f.local_get(h).local_get(w).i32_mul().i32_const(2).i32_shl().local_set(hw4);
    isGlobal(f, outH, outW);
    f.if_(
      () => {
        f.for_(p, 0, nPlanes, 1, () => {
          f64Const(f, 0).local_set(s);
          f.for_(b, 0, hw4, 4, () => add(src, b));
          store(() => {
            f.local_get(h).local_get(w).i32_mul();
            f64ConvertI32S(f);
          });
          f.local_get(src).local_get(hw4).i32_add().local_set(src);
        });
      },
      () => {
        binLoop(f, nPlanes, outH, outW, bins, (y0, y1, x0, x1) => {
          f64Const(f, 0).local_set(s);
          forWindow(f, src, w, y0, y1, x0, x1, (at) => add(at, null));
          store(() => pushArea(f, y0, y1, x0, x1));
        }, () => f.local_get(src).local_get(hw4).i32_add().local_set(src));
      },
    );
  }
  {
    const f = mb.addFunction('adaptive_avg_pool_backward', new Array(8).fill(I32), []);
    const [g, gx, nPlanes, h, w, outH, outW, bins] = f.params;
    const [v, bytes, hw4, p, b, vecEnd] = [f.local(F64), f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
    const [one, quad] = [f.local(F32), f.local(V128)];
    f.local_get(h).local_get(w).i32_mul().i32_const(2).i32_shl().local_set(hw4);
    isGlobal(f, outH, outW);
    f.if_(
      () => {
        // every pixel gets f32(0 + g / hw): computed once per plane, stored without a zero fill
        f.local_get(hw4).i32_const(~15).i32_and().local_set(vecEnd);
        f.for_(p, 0, nPlanes, 1, () => {
          f64Const(f, 0);
          f.local_get(g).f32_load();
          f64PromoteF32(f);
          f.local_get(h).local_get(w).i32_mul();
          f64ConvertI32S(f);
          f64Div(f);
          f64Add(f);
          f32DemoteF64(f);
          f.local_tee(one).f32x4_splat().local_set(quad);
          f.for_(b, 0, vecEnd, 16, () => f.local_get(gx).local_get(b).i32_add().local_get(quad).v128_store());
          f.for_(b, vecEnd, hw4, 4, () => f.local_get(gx).local_get(b).i32_add().local_get(one).f32_store());
          f.local_get(g).i32_const(4).i32_add().local_set(g);
          f.local_get(gx).local_get(hw4).i32_add().local_set(gx);
        });
      },
      () => {
        f.local_get(nPlanes).local_get(hw4).i32_mul().local_set(bytes);
        zeroFill(f, gx, bytes);
        binLoop(f, nPlanes, outH, outW, bins, (y0, y1, x0, x1) => {
          f.local_get(g).f32_load();
          f64PromoteF32(f);
          pushArea(f, y0, y1, x0, x1);
          f64Div(f);
          f.local_set(v);
          forWindow(f, gx, w, y0, y1, x0, x1, (at) => {
            f.local_get(at).local_get(at).f32_load();
            f64PromoteF32(f);
            f.local_get(v);
            f64Add(f);
            f32DemoteF64(f);
            f.f32_store();
          });
          f.local_get(g).i32_const(4).i32_add().local_set(g);
        }, () => f.local_get(gx).local_get(hw4).i32_add().local_set(gx));
      },
    );
  }
}

export function emitPool(mb: ModuleBuilder): void {
  const interleave = emitInterleave(mb, 'interleave4', true);
  const deinterleave = emitInterleave(mb, 'deinterleave4', false);
  const pool = emitMaxPool(mb);
  emitMaxPoolPlanes(mb, interleave, deinterleave, pool);
  emitMaxPoolBackward(mb);
  emitAdaptiveAvgPool(mb);
}
