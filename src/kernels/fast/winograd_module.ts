// WebAssembly bodies of the Winograd F(2x2, 3x3) transforms (kernels/conv_winograd.ts plans and
// lays them out; registered in runtime.ts). With d a 4x4 input tile, g a 3x3 filter and m the
// 4x4 product of the transformed pair, the 2x2 output tile is A^T m A, where
//   B^T d B:  B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G g G^T:  G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T m A:  A^T = [1 1 1 0; 0 1 -1 -1]
// Element xi = 4*i + j of a transformed tile lives in matrix xi (stride `xi` bytes apart), so
// the 16 products are plain GEMMs. All addresses and strides are bytes. Every value is computed
// by the same instructions whatever the thread split (callers split by channel), so results do
// not depend on it.

import { I32, F32, V128, type FunctionBuilder, type Local, type ModuleBuilder } from '../wasm/emitter.js';

const locals = (f: FunctionBuilder, type: typeof I32 | typeof F32 | typeof V128, n: number): Local[] =>
  Array.from({ length: n }, () => f.local(type));

/** dst = dst + step (i32 locals / constants). */
function bump(f: FunctionBuilder, dst: Local, step: Local | number): void {
  f.local_get(dst).push(step).i32_add().local_set(dst);
}

/**
 * wino_weights(w, nRows, nCols, u, sRow, sCol, xi, flip): U[r][c] = G g G^T for the filter g at
 * w + r*sRow + c*sCol (nine floats), U[r][c] of matrix k at u + k*xi + 4*(r*nCols + c): rows
 * are written contiguously whatever the filters' order. flip != 0 turns each filter by 180
 * degrees first (the input gradient's filters). Scalar f32: the weights are a small part of
 * the work.
 */
function emitWeights(mb: ModuleBuilder): void {
  const f = mb.addFunction('wino_weights', new Array(8).fill(I32), []);
  const [w, nRows, nCols, u, sRow, sCol, xi, flip] = f.params;
  const [r, c, src, srcRow, dst, d] = locals(f, I32, 6);
  const g = locals(f, F32, 9);
  const t = locals(f, F32, 12); // G g, 4x3
  const s = f.local(F32);
  const half = (emit: () => void) => {
    emit();
    f.f32_const(0.5).f32_mul();
  };
  const store = (emit: () => void) => {
    f.local_get(d);
    emit();
    f.f32_store();
    bump(f, d, xi);
  };
  f.local_get(w).local_set(srcRow);
  f.local_get(u).local_set(dst);
  f.for_(r, 0, nRows, 1, () => {
    f.local_get(srcRow).local_set(src);
    f.for_(c, 0, nCols, 1, () => {
      f.local_get(flip).if_(
        () => g.forEach((gk, k) => f.local_get(src).f32_load(4 * (8 - k)).local_set(gk)),
        () => g.forEach((gk, k) => f.local_get(src).f32_load(4 * k).local_set(gk)),
      );
      // t = G g, column by column: rows g0, (g0+g2+g1)/2, (g0+g2-g1)/2, g2
      for (let k = 0; k < 3; k++) {
        const [g0, g1, g2] = [g[k], g[3 + k], g[6 + k]];
        f.local_get(g0).local_set(t[k]);
        f.local_get(g0).local_get(g2).f32_add().local_set(s);
        half(() => f.local_get(s).local_get(g1).f32_add());
        f.local_set(t[3 + k]);
        half(() => f.local_get(s).local_get(g1).f32_sub());
        f.local_set(t[6 + k]);
        f.local_get(g2).local_set(t[9 + k]);
      }
      // U = t G^T, row by row, stored in xi order
      f.local_get(dst).local_set(d);
      for (let i = 0; i < 4; i++) {
        const [t0, t1, t2] = [t[3 * i], t[3 * i + 1], t[3 * i + 2]];
        f.local_get(t0).local_get(t2).f32_add().local_set(s);
        store(() => f.local_get(t0));
        store(() => half(() => f.local_get(s).local_get(t1).f32_add()));
        store(() => half(() => f.local_get(s).local_get(t1).f32_sub()));
        store(() => f.local_get(t2));
      }
      bump(f, src, sCol);
      bump(f, dst, 4);
    });
    bump(f, srcRow, sRow);
  });
}

/**
 * wino_input(src, nC, cStride, nImg, bStride, hs, ws, ph, pw, tilesH, tilesW, v, vcStride, xi,
 * stage, rowLen): V = B^T d B for every tile of nC channels x nImg images of [hs, ws] planes at
 * src + c*cStride + b*bStride, tiles of channel c at v + c*vcStride, image b's from
 * b*tilesH*tilesW*4 on, row-major. Each plane is first copied into `stage` (this thread's
 * [2*tilesH + 2, rowLen] block: the plane at (ph, pw) in zeros that stand for the padding), so
 * the tile loop needs no bounds checks; four tiles of a row go through the transform at once,
 * lanes = tiles.
 */
function emitInput(mb: ModuleBuilder): void {
  const f = mb.addFunction('wino_input', new Array(16).fill(I32), []);
  const [src, nC, cStride, nImg, bStride, hs, ws, ph, pw, tilesH, tilesW, v, vcStride, xi, stage, rowLen] = f.params;
  const [c, b, r, x, ty, tx, sc, vc, sb, vb, vt, rowBytes, wsBytes, interior, from, to, fullEnd, rem, end, at, p] = locals(f, I32, 21);
  const [v0, v1, v2, v3, val] = locals(f, V128, 5);
  const d = locals(f, V128, 4);
  const e = locals(f, V128, 16);
  f.local_get(rowLen).i32_const(2).i32_shl().local_set(rowBytes);
  f.local_get(ws).i32_const(2).i32_shl().local_set(wsBytes);
  f.local_get(tilesW).i32_const(~3).i32_and().local_set(fullEnd);
  f.local_get(tilesW).i32_const(3).i32_and().local_set(rem);
  // zero the stage once: every plane has the same geometry, so its border stays zero
  f.local_get(tilesH).i32_const(1).i32_shl().i32_const(2).i32_add().local_get(rowBytes).i32_mul().local_set(end);
  f.for_(x, 0, end, 16, () => f.local_get(stage).local_get(x).i32_add().v128_const_zero().v128_store());
  f.local_get(stage).local_get(ph).local_get(rowBytes).i32_mul().i32_add().local_get(pw).i32_const(2).i32_shl().i32_add().local_set(interior);

  /** The 16 transformed values of the four tiles whose top-left input is at `at`, stored by `put(xi, emitValue)`. */
  const tile = (put: (emitValue: () => void) => void) => {
    f.local_get(at).local_set(from);
    for (let i = 0; i < 4; i++) {
      // row i of the four tiles: columns 2k + j of lane k, from two pairs of unaligned loads
      f.local_get(from).v128_load(0).local_set(v0);
      f.local_get(from).v128_load(16).local_set(v1);
      f.local_get(from).v128_load(8).local_set(v2);
      f.local_get(from).v128_load(24).local_set(v3);
      const deal = (x0: Local, x1: Local, odd: number, out: Local) => {
        f.local_get(x0).local_get(x1).shuffle32(odd, 2 + odd, 4 + odd, 6 + odd).local_set(out);
      };
      deal(v0, v1, 0, d[0]);
      deal(v0, v1, 1, d[1]);
      deal(v2, v3, 0, d[2]);
      deal(v2, v3, 1, d[3]);
      // d B: columns d0 - d2, d1 + d2, d2 - d1, d1 - d3
      f.local_get(d[0]).local_get(d[2]).f32x4_sub().local_set(e[4 * i]);
      f.local_get(d[1]).local_get(d[2]).f32x4_add().local_set(e[4 * i + 1]);
      f.local_get(d[2]).local_get(d[1]).f32x4_sub().local_set(e[4 * i + 2]);
      f.local_get(d[1]).local_get(d[3]).f32x4_sub().local_set(e[4 * i + 3]);
      bump(f, from, rowBytes);
    }
    // B^T (d B): rows e0 - e2, e1 + e2, e2 - e1, e1 - e3, in xi order
    f.local_get(to).local_set(p);
    for (const [a, op, bb] of [[0, 'sub', 2], [1, 'add', 2], [2, 'sub', 1], [1, 'sub', 3]] as const) {
      for (let j = 0; j < 4; j++) {
        put(() => {
          f.local_get(e[4 * a + j]).local_get(e[4 * bb + j]);
          if (op === 'add') f.f32x4_add();
          else f.f32x4_sub();
        });
        bump(f, p, xi);
      }
    }
  };

  f.local_get(src).local_set(sc);
  f.local_get(v).local_set(vc);
  f.for_(c, 0, nC, 1, () => {
    f.local_get(sc).local_set(sb);
    f.local_get(vc).local_set(vb);
    f.for_(b, 0, nImg, 1, () => {
      // the plane into the stage; the vector copy's up to 3 extra floats are zeroed again
      f.local_get(sb).local_set(from);
      f.local_get(interior).local_set(to);
      f.for_(r, 0, hs, 1, () => {
        f.for_(x, 0, wsBytes, 16, () => {
          f.local_get(to).local_get(x).i32_add();
          f.local_get(from).local_get(x).i32_add().v128_load();
          f.v128_store();
        });
        f.local_get(to).local_get(wsBytes).i32_add().v128_const_zero().v128_store();
        bump(f, from, wsBytes);
        bump(f, to, rowBytes);
      });
      f.local_get(vb).local_set(vt);
      f.for_(ty, 0, tilesH, 1, () => {
        const tileAt = () => {
          f.local_get(stage).local_get(ty).i32_const(1).i32_shl().local_get(rowBytes).i32_mul().i32_add();
          f.local_get(tx).i32_const(3).i32_shl().i32_add().local_set(at);
          f.local_get(vt).local_get(tx).i32_const(2).i32_shl().i32_add().local_set(to);
        };
        f.for_(tx, 0, fullEnd, 4, () => {
          tileAt();
          tile((value) => {
            f.local_get(p);
            value();
            f.v128_store();
          });
        });
        // the last 1-3 tiles of the row: lanes past the row hold stage junk and are not stored
        f.local_get(rem).if_(() => {
          f.local_get(fullEnd).local_set(tx);
          tileAt();
          tile((value) => {
            value();
            f.local_set(val);
            f.local_get(p).local_get(val).f32x4_extract_lane(0).f32_store();
            for (const lane of [1, 2]) {
              f.local_get(rem).i32_const(lane).i32_gt_s().if_(() => {
                f.local_get(p).local_get(val).f32x4_extract_lane(lane).f32_store(4 * lane);
              });
            }
          });
        });
        f.local_get(vt).local_get(tilesW).i32_const(2).i32_shl().i32_add().local_set(vt);
      });
      bump(f, sb, bStride);
      f.local_get(vb).local_get(tilesH).local_get(tilesW).i32_mul().i32_const(2).i32_shl().i32_add().local_set(vb);
    });
    bump(f, sc, cStride);
    bump(f, vc, vcStride);
  });
}

/**
 * wino_output(m, nC, mcStride, xi, nImg, tilesH, tilesW, ho, wo, dst, dcStride, dbStride, bias,
 * buf): Y = A^T m A + bias[c] for every tile (laid out as wino_input's), into [ho, wo] planes at
 * dst + c*dcStride + b*dbStride; bias is a byte address or -1 (none). Four tiles at a time
 * (lanes = tiles); a row of tiles goes through `buf` (this thread's 2 rows of 8*ceil(tilesW/4)
 * floats) so the odd last row and column are simply not copied out. Reads up to 3 tiles past
 * the last one of m.
 */
function emitOutput(mb: ModuleBuilder): void {
  const f = mb.addFunction('wino_output', new Array(14).fill(I32), []);
  const [m, nC, mcStride, xi, nImg, tilesH, tilesW, ho, wo, dst, dcStride, dbStride, bias, buf] = f.params;
  const [c, b, ty, tx, x, r, rows, mc, db, mt, dr, p, bufRow, woBytes, woVec, from, to] = locals(f, I32, 17);
  const [bv, m0, m1, m2, m3] = locals(f, V128, 5);
  const s = locals(f, V128, 8); // A^T m: s[4*i + j]
  const y = locals(f, V128, 4); // y[2*i + j]
  f.local_get(tilesW).i32_const(3).i32_add().i32_const(~3).i32_and().i32_const(3).i32_shl().local_set(bufRow);
  f.local_get(wo).i32_const(2).i32_shl().local_set(woBytes);
  f.local_get(wo).i32_const(~3).i32_and().i32_const(2).i32_shl().local_set(woVec);
  f.local_get(m).local_set(mc);
  f.for_(c, 0, nC, 1, () => {
    f.v128_const_zero().local_set(bv);
    f.local_get(bias).i32_const(0).i32_ge_s().if_(() => {
      f.local_get(bias).local_get(c).i32_const(2).i32_shl().i32_add().v128_load32_splat().local_set(bv);
    });
    f.local_get(mc).local_set(mt);
    f.local_get(dst).local_get(c).local_get(dcStride).i32_mul().i32_add().local_set(db);
    f.for_(b, 0, nImg, 1, () => {
      f.local_get(db).local_set(dr);
      f.for_(ty, 0, tilesH, 1, () => {
        f.for_(tx, 0, tilesW, 4, () => {
          // A^T m: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (rows of m), per column j
          for (let j = 0; j < 4; j++) {
            f.local_get(mt).local_get(tx).i32_const(2).i32_shl().i32_add().local_get(xi).i32_const(j).i32_mul().i32_add().local_set(p);
            [m0, m1, m2, m3].forEach((mi) => {
              f.local_get(p).v128_load().local_set(mi);
              f.local_get(p).local_get(xi).i32_const(2).i32_shl().i32_add().local_set(p);
            });
            f.local_get(m0).local_get(m1).f32x4_add().local_get(m2).f32x4_add().local_set(s[j]);
            f.local_get(m1).local_get(m2).f32x4_sub().local_get(m3).f32x4_sub().local_set(s[4 + j]);
          }
          // (A^T m) A: y_i0 = s_i0 + s_i1 + s_i2, y_i1 = s_i1 - s_i2 - s_i3; then the bias
          for (let i = 0; i < 2; i++) {
            const [a, bb, cc, dd] = [s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]];
            f.local_get(a).local_get(bb).f32x4_add().local_get(cc).f32x4_add().local_get(bv).f32x4_add().local_set(y[2 * i]);
            f.local_get(bb).local_get(cc).f32x4_sub().local_get(dd).f32x4_sub().local_get(bv).f32x4_add().local_set(y[2 * i + 1]);
          }
          // interleave the two columns of each output row: tile k's pair at floats 2k, 2k + 1
          for (let i = 0; i < 2; i++) {
            f.local_get(buf).local_get(tx).i32_const(3).i32_shl().i32_add();
            if (i === 1) f.local_get(bufRow).i32_add();
            f.local_set(p);
            f.local_get(p).local_get(y[2 * i]).local_get(y[2 * i + 1]).shuffle32(0, 4, 1, 5).v128_store(0);
            f.local_get(p).local_get(y[2 * i]).local_get(y[2 * i + 1]).shuffle32(2, 6, 3, 7).v128_store(16);
          }
        });
        // copy out the rows that exist (the last tile row of an odd map has one)
        f.local_get(ho).local_get(ty).i32_const(1).i32_shl().i32_sub().local_set(rows);
        f.for_(r, 0, () => f.local_get(rows).i32_const(2).local_get(rows).i32_const(2).i32_lt_s().select(), 1, () => {
          f.local_get(buf).local_get(r).local_get(bufRow).i32_mul().i32_add().local_set(from);
          f.local_get(dr).local_get(r).local_get(woBytes).i32_mul().i32_add().local_set(to);
          f.for_(x, 0, woVec, 16, () => {
            f.local_get(to).local_get(x).i32_add().local_get(from).local_get(x).i32_add().v128_load().v128_store();
          });
          f.for_(x, woVec, woBytes, 4, () => {
            f.local_get(to).local_get(x).i32_add().local_get(from).local_get(x).i32_add().f32_load().f32_store();
          });
        });
        f.local_get(dr).local_get(woBytes).i32_const(1).i32_shl().i32_add().local_set(dr);
        f.local_get(mt).local_get(tilesW).i32_const(2).i32_shl().i32_add().local_set(mt);
      });
      bump(f, db, dbStride);
    });
    bump(f, mc, mcStride);
  });
}

export function emitWinograd(mb: ModuleBuilder): void {
  emitWeights(mb);
  emitInput(mb);
  emitOutput(mb);
}
