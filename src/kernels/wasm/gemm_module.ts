// Emits the single-precision GEMM module: packing routines, a 4x8 SIMD micro-kernel, and a
// blocked driver (GotoBLAS / BLIS loop order), all running on one shared linear memory.
//
// The driver computes, for one slice of C (threads get disjoint slices):
//   C = alpha * op(A) * op(B) + beta * C      (row-major, f32)
// where op(A)(i,k) lives at byte address a + 4*(i*ars + k*acs) and op(B)(k,j) at
// b + 4*(k*brs + j*bcs): transposition is just a choice of strides, so the kernel itself never
// branches on it. Loops:
//   for jc in N by NC:                 B panel (KC x NC) packed once, reused by every A block
//     for pc in K by KC:               the K block order is fixed by K alone -> reproducible sums
//       pack op(B)[pc.., jc..] into 8-column slivers
//       for ic in M by MC:
//         pack op(A)[ic.., pc..] into 4-row slivers (MC x KC stays in L2)
//         for jr in NC by 8: for ir in MC by 4: micro-kernel on a 4x8 tile of C
// Edge tiles are computed in full on zero-padded slivers and only the valid part is written,
// so any M, N, K >= 1 works with one micro-kernel.
//
// Each C element is accumulated in the same order (k ascending inside a K block, K blocks in
// order) whatever the thread split or tile position, so results do not depend on the thread
// count. With relaxed SIMD the multiply-add may be fused or not, but the choice is fixed per
// machine.

import { F32, FunctionBuilder, I32, ModuleBuilder, V128, type Local, type Operand } from './emitter.js';

/** Micro-tile: 4 rows x 8 columns = 8 v128 accumulators (+2 for B, +1 for A: fits 15 regs). */
export const MR = 4;
export const NR = 8;

export interface GemmModuleOptions {
  /** Use f32x4.relaxed_madd (needs the relaxed-simd feature) instead of f32x4.mul + f32x4.add. */
  relaxed: boolean;
  /** Maximum pages declared on the imported shared memory (the provided memory's max must not exceed it). */
  maximumPages: number;
  /** Also export pack_a / pack_b / micro / macro (for micro-benchmarks and tests). */
  exportInternals?: boolean;
}

/** Parameter order of the exported `gemm` function (the pool passes numbers in this order). */
export const GEMM_PARAMS = [
  'M', 'N', 'K', 'a', 'ars', 'acs', 'b', 'brs', 'bcs', 'c', 'ldc',
  'alpha', 'beta', 'ap', 'bp', 'tmp', 'mcBlock', 'kcBlock', 'ncBlock',
] as const;

/** min of two signed i32 operands, left on the stack. */
function minI32(f: FunctionBuilder, x: Operand, y: Operand): void {
  f.push(x).push(y).push(x).push(y).i32_lt_s().select();
}

/**
 * pack_{W}(src, ps, ks, np, kc, dst): copy an np x kc block, element (p, k) at src + 4*(p*ps + k*ks),
 * into slivers of W rows: sliver s holds, for each k, the W values p = s*W .. s*W+W-1 (zero past np).
 * This makes the micro-kernel's loads sequential and its edge handling free.
 */
function emitPack(mb: ModuleBuilder, name: string, W: number): FunctionBuilder {
  const f = mb.addFunction(name, [I32, I32, I32, I32, I32, I32], [], false);
  const [src, ps, ks, np, kc, dst] = f.params;
  const q = f.local(I32);
  const w = f.local(I32);
  const s = f.local(I32);
  const k = f.local(I32);
  const i = f.local(I32);
  const p = f.local(I32);
  const d = f.local(I32);
  const kc4 = f.local(I32);
  const ps4 = f.local(I32);
  const ks4 = f.local(I32);
  const r = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const t = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const sliverBytes = f.local(I32);

  f.local_get(kc).i32_const(~3).i32_and().local_set(kc4);
  f.local_get(ps).i32_const(2).i32_shl().local_set(ps4);
  f.local_get(ks).i32_const(2).i32_shl().local_set(ks4);
  f.local_get(kc).i32_const(W * 4).i32_mul().local_set(sliverBytes);
  f.local_get(dst).local_set(d);

  f.for_(q, 0, np, W, () => {
    minI32(f, () => f.local_get(np).local_get(q).i32_sub(), W);
    f.local_set(w);
    f.local_get(src).local_get(q).local_get(ps4).i32_mul().i32_add().local_set(s);

    // Case 1: full sliver, contiguous along p (A transposed / B not): W floats per k, plain vector copies.
    f.local_get(w).i32_const(W).i32_eq().local_get(ps).i32_const(1).i32_eq().i32_and();
    f.if_(
      () => {
        f.local_get(s).local_set(p);
        f.for_(k, 0, kc, 1, () => {
          for (let v = 0; v < W / 4; v++) f.local_get(d).local_get(p).v128_load(16 * v).v128_store(16 * v);
          f.local_get(p).local_get(ks4).i32_add().local_set(p);
          f.local_get(d).i32_const(W * 4).i32_add().local_set(d);
        });
      },
      () => {
        // Case 2: full sliver, contiguous along k (A not transposed / B transposed): 4x4 transposes.
        f.local_get(w).i32_const(W).i32_eq().local_get(ks).i32_const(1).i32_eq().i32_and();
        f.if_(
          () => {
            for (let g = 0; g < W / 4; g++) {
              // p = first of the 4 source rows of this group
              f.local_get(s).local_get(ps4).i32_const(4 * g).i32_mul().i32_add().local_set(p);
              f.for_(k, 0, kc4, 4, () => {
                // r[m] = 4 consecutive k values of row m; i = byte address of (row 0, k)
                f.local_get(p).local_get(k).i32_const(2).i32_shl().i32_add().local_set(i);
                for (let m = 0; m < 4; m++) {
                  f.local_get(i);
                  for (let x = 0; x < m; x++) f.local_get(ps4).i32_add();
                  f.v128_load().local_set(r[m]);
                }
                // r0=[a0 a1 a2 a3] r1=[b..] r2=[c..] r3=[d..]  ->  t0=[a0 b0 a1 b1] t1=[a2 b2 a3 b3] ...
                f.local_get(r[0]).local_get(r[1]).shuffle32(0, 4, 1, 5).local_set(t[0]);
                f.local_get(r[0]).local_get(r[1]).shuffle32(2, 6, 3, 7).local_set(t[1]);
                f.local_get(r[2]).local_get(r[3]).shuffle32(0, 4, 1, 5).local_set(t[2]);
                f.local_get(r[2]).local_get(r[3]).shuffle32(2, 6, 3, 7).local_set(t[3]);
                // i = destination of (k, group g)
                f.local_get(d).local_get(k).i32_const(W * 4).i32_mul().i32_add().local_set(i);
                const outs: [Local, Local, number[]][] = [
                  [t[0], t[2], [0, 1, 4, 5]], // [a0 b0 c0 d0] -> k
                  [t[0], t[2], [2, 3, 6, 7]], // [a1 b1 c1 d1] -> k+1
                  [t[1], t[3], [0, 1, 4, 5]], // k+2
                  [t[1], t[3], [2, 3, 6, 7]], // k+3
                ];
                outs.forEach(([x, y, l], j) => {
                  f.local_get(i).local_get(x).local_get(y).shuffle32(l[0], l[1], l[2], l[3]);
                  f.v128_store(j * W * 4 + g * 16);
                });
              });
              // leftover k (kc not a multiple of 4): scalar
              f.for_(k, kc4, kc, 1, () => {
                for (let m = 0; m < 4; m++) {
                  f.local_get(d).local_get(k).i32_const(W * 4).i32_mul().i32_add();
                  f.local_get(p).local_get(k).i32_const(2).i32_shl().i32_add();
                  for (let x = 0; x < m; x++) f.local_get(ps4).i32_add();
                  f.f32_load().f32_store(g * 16 + m * 4);
                }
              });
            }
            f.local_get(d).local_get(sliverBytes).i32_add().local_set(d);
          },
          () => {
            // Case 3: edge sliver (w < W): zero it, then scalar copy of the w valid rows.
            f.for_(k, 0, sliverBytes, 16, () => {
              f.local_get(d).local_get(k).i32_add().v128_const_zero().v128_store();
            });
            f.for_(i, 0, w, 1, () => {
              f.local_get(s).local_get(i).local_get(ps4).i32_mul().i32_add().local_set(p);
              f.for_(k, 0, kc, 1, () => {
                f.local_get(d).local_get(k).i32_const(W).i32_mul().local_get(i).i32_add().i32_const(2).i32_shl().i32_add();
                f.local_get(p).f32_load().f32_store();
                f.local_get(p).local_get(ks4).i32_add().local_set(p);
              });
            });
            f.local_get(d).local_get(sliverBytes).i32_add().local_set(d);
          },
        );
      },
    );
  });
  return f;
}

/**
 * micro(kc, a, b, c, ldc, alpha, beta, mr, nr, tmp): the 4x8 tile
 *   C[0:mr, 0:nr] = alpha * (Apacked sliver . Bpacked sliver) + beta * C   (C not read if beta == 0)
 * 8 v128 accumulators; per k: 2 vector loads of B, 4 broadcast loads of A, 8 multiply-adds.
 */
function emitMicro(mb: ModuleBuilder, relaxed: boolean): FunctionBuilder {
  const f = mb.addFunction('micro', [I32, I32, I32, I32, I32, F32, F32, I32, I32, I32], [], false);
  const [kc, a, b, c, ldc, alpha, beta, mr, nr, tmp] = f.params;
  const aEnd = f.local(I32);
  const ldc4 = f.local(I32);
  const cp = f.local(I32);
  const rr = f.local(I32);
  const j = f.local(I32);
  const addr = f.local(I32);
  const tv = f.local(F32);
  const acc: Local[][] = [];
  for (let m = 0; m < MR; m++) acc.push([f.local(V128), f.local(V128)]); // zero-initialised by wasm
  const b0 = f.local(V128);
  const b1 = f.local(V128);
  const av = f.local(V128);
  const alphaV = f.local(V128);
  const betaV = f.local(V128);

  // One k step: B row k of the sliver (8 floats), A column k (4 floats, each broadcast).
  const step = (): void => {
    f.local_get(b).v128_load(0).local_set(b0);
    f.local_get(b).v128_load(16).local_set(b1);
    for (let m = 0; m < MR; m++) {
      f.local_get(a).v128_load32_splat(4 * m).local_set(av);
      for (let h = 0; h < 2; h++) {
        const bh = h === 0 ? b0 : b1;
        if (relaxed) {
          f.local_get(av).local_get(bh).local_get(acc[m][h]).f32x4_relaxed_madd();
        } else {
          f.local_get(acc[m][h]).local_get(av).local_get(bh).f32x4_mul().f32x4_add();
        }
        f.local_set(acc[m][h]);
      }
    }
  };

  // No unrolling: TurboFan hoists the loads of unrolled steps above the multiply-adds and then
  // spills accumulators (measured: 2-3x slower). One step per iteration keeps all 11 live
  // vectors in registers; the loop is driven by the A pointer alone.
  f.local_get(a).local_get(kc).i32_const(MR * 4).i32_mul().i32_add().local_set(aEnd);
  f.local_get(kc).i32_const(0).i32_gt_s();
  f.if_(() => {
    f.loop(() => {
      step();
      f.local_get(b).i32_const(NR * 4).i32_add().local_set(b);
      f.local_get(a).i32_const(MR * 4).i32_add().local_tee(a);
      f.local_get(aEnd).i32_ne().br_if(0);
    });
  });

  f.local_get(alpha).f32x4_splat().local_set(alphaV);
  f.local_get(beta).f32x4_splat().local_set(betaV);
  f.local_get(ldc).i32_const(2).i32_shl().local_set(ldc4);

  const fullTile = (readC: boolean): void => {
    f.local_get(c).local_set(cp);
    for (let m = 0; m < MR; m++) {
      for (let h = 0; h < 2; h++) {
        f.local_get(cp);
        f.local_get(alphaV).local_get(acc[m][h]).f32x4_mul();
        if (readC) f.local_get(betaV).local_get(cp).v128_load(16 * h).f32x4_mul().f32x4_add();
        f.v128_store(16 * h);
      }
      if (m < MR - 1) f.local_get(cp).local_get(ldc4).i32_add().local_set(cp);
    }
  };

  f.local_get(mr).i32_const(MR).i32_eq().local_get(nr).i32_const(NR).i32_eq().i32_and();
  f.if_(
    () => {
      f.local_get(beta).f32_const(0).f32_eq();
      f.if_(() => fullTile(false), () => fullTile(true));
    },
    () => {
      // Edge tile: spill the accumulators to tmp, write the valid mr x nr part with scalar code
      // doing exactly the per-lane arithmetic of the vector path (alpha*acc + beta*c).
      for (let m = 0; m < MR; m++) {
        for (let h = 0; h < 2; h++) f.local_get(tmp).local_get(acc[m][h]).v128_store(m * 32 + h * 16);
      }
      f.for_(rr, 0, mr, 1, () => {
        f.for_(j, 0, nr, 1, () => {
          f.local_get(c).local_get(rr).local_get(ldc4).i32_mul().i32_add().local_get(j).i32_const(2).i32_shl().i32_add().local_set(addr);
          f.local_get(alpha);
          f.local_get(tmp).local_get(rr).i32_const(5).i32_shl().i32_add().local_get(j).i32_const(2).i32_shl().i32_add().f32_load();
          f.f32_mul().local_set(tv);
          f.local_get(beta).f32_const(0).f32_eq();
          f.if_(
            () => f.local_get(addr).local_get(tv).f32_store(),
            () => f.local_get(addr).local_get(tv).local_get(beta).local_get(addr).f32_load().f32_mul().f32_add().f32_store(),
          );
        });
      });
    },
  );
  return f;
}

/** macro(mc, nc, kc, ap, bp, c, ldc, alpha, beta, tmp): all 4x8 tiles of one packed block pair. */
function emitMacro(mb: ModuleBuilder, micro: FunctionBuilder): FunctionBuilder {
  const f = mb.addFunction('macro', [I32, I32, I32, I32, I32, I32, I32, F32, F32, I32], [], false);
  const [mc, nc, kc, ap, bp, c, ldc, alpha, beta, tmp] = f.params;
  const jr = f.local(I32);
  const ir = f.local(I32);
  const nr = f.local(I32);
  const bj = f.local(I32);
  const cj = f.local(I32);
  // jr outer, ir inner: the KC x 8 B sliver stays in L1 while A slivers stream from L2.
  f.for_(jr, 0, nc, NR, () => {
    minI32(f, () => f.local_get(nc).local_get(jr).i32_sub(), NR);
    f.local_set(nr);
    f.local_get(bp).local_get(jr).local_get(kc).i32_mul().i32_const(2).i32_shl().i32_add().local_set(bj);
    f.local_get(c).local_get(jr).i32_const(2).i32_shl().i32_add().local_set(cj);
    f.for_(ir, 0, mc, MR, () => {
      f.local_get(kc);
      f.local_get(ap).local_get(ir).local_get(kc).i32_mul().i32_const(2).i32_shl().i32_add();
      f.local_get(bj);
      f.local_get(cj).local_get(ir).local_get(ldc).i32_mul().i32_const(2).i32_shl().i32_add();
      f.local_get(ldc).local_get(alpha).local_get(beta);
      minI32(f, () => f.local_get(mc).local_get(ir).i32_sub(), MR);
      f.local_get(nr).local_get(tmp);
      f.call(micro);
    });
  });
  return f;
}

/** gemm(...GEMM_PARAMS): the blocked driver for one slice of C. */
function emitDriver(mb: ModuleBuilder, packA: FunctionBuilder, packB: FunctionBuilder, macro: FunctionBuilder): FunctionBuilder {
  const types = GEMM_PARAMS.map((p) => (p === 'alpha' || p === 'beta' ? F32 : I32));
  const f = mb.addFunction('gemm', types, []);
  const [M, N, K, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, ap, bp, tmp, mcB, kcB, ncB] = f.params;
  const jc = f.local(I32);
  const pc = f.local(I32);
  const ic = f.local(I32);
  const nc = f.local(I32);
  const kc = f.local(I32);
  const mc = f.local(I32);
  const betaK = f.local(F32);

  f.for_(jc, 0, N, ncB, () => {
    minI32(f, () => f.local_get(N).local_get(jc).i32_sub(), ncB);
    f.local_set(nc);
    f.for_(pc, 0, K, kcB, () => {
      minI32(f, () => f.local_get(K).local_get(pc).i32_sub(), kcB);
      f.local_set(kc);
      // pack op(B)[pc:pc+kc, jc:jc+nc]: the sliver dimension is j (stride bcs), depth is k (stride brs)
      f.local_get(b).local_get(pc).local_get(brs).i32_mul().local_get(jc).local_get(bcs).i32_mul().i32_add().i32_const(2).i32_shl().i32_add();
      f.local_get(bcs).local_get(brs).local_get(nc).local_get(kc).local_get(bp);
      f.call(packB);
      // beta applies once, on the first K block; later blocks accumulate (beta = 1 is exact).
      f.local_get(beta).f32_const(1).local_get(pc).i32_eqz().select().local_set(betaK);
      f.for_(ic, 0, M, mcB, () => {
        minI32(f, () => f.local_get(M).local_get(ic).i32_sub(), mcB);
        f.local_set(mc);
        f.local_get(a).local_get(ic).local_get(ars).i32_mul().local_get(pc).local_get(acs).i32_mul().i32_add().i32_const(2).i32_shl().i32_add();
        f.local_get(ars).local_get(acs).local_get(mc).local_get(kc).local_get(ap);
        f.call(packA);
        f.local_get(mc).local_get(nc).local_get(kc).local_get(ap).local_get(bp);
        f.local_get(c).local_get(ic).local_get(ldc).i32_mul().local_get(jc).i32_add().i32_const(2).i32_shl().i32_add();
        f.local_get(ldc).local_get(alpha).local_get(betaK).local_get(tmp);
        f.call(macro);
      });
    });
  });
  return f;
}

/** The module's bytes. Imports `env.memory` (shared); exports `gemm`. */
export function buildGemmModule(opts: GemmModuleOptions): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', initialPages: 1, maximumPages: opts.maximumPages, shared: true });
  const packA = emitPack(mb, 'pack_a', MR);
  const packB = emitPack(mb, 'pack_b', NR);
  const micro = emitMicro(mb, opts.relaxed);
  const macro = emitMacro(mb, micro);
  if (opts.exportInternals) for (const f of [packA, packB, micro, macro]) mb.exportFunction(f);
  emitDriver(mb, packA, packB, macro);
  return mb.toBytes();
}

/** Bytes of packed-A scratch for an mc x kc block, packed-B for kc x nc, and the edge-tile buffer. */
export function packedABytes(mc: number, kc: number): number {
  return Math.ceil(mc / MR) * MR * kc * 4;
}
export function packedBBytes(kc: number, nc: number): number {
  return Math.ceil(nc / NR) * NR * kc * 4;
}
export const TILE_TMP_BYTES = MR * NR * 4;
