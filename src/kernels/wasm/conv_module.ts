// Emits the convolution helper module that conv_fast.ts runs on the kernel arena's shared memory:
// im2col / col2im over a batch of images, and the data movement around the GEMMs (NCHW <->
// C(NHW) blocks, weight tap packing, bias, zeroing). conv_fast.ts splits a call across the
// worker pool by giving each thread a sub-range (of channels, images or weight rows) through the
// base addresses and counts below; no export writes outside the range its arguments describe.
//
// In plain JS these loops ran at 3-10 ns per element (short rows, bounds checks, typed-array
// calls per row): ~300 ms of a 1.3 s ResNet-18 step. Here they are plain loads and stores, SIMD
// for contiguous runs. im2col writes every column element: it zeroes the row of a tap that
// reads padding, then copies the valid runs; col2im adds only the valid runs, into an input
// gradient the caller has zeroed.
//
// The index arithmetic that needs division (which taps see which output pixels) is done once in
// JS and passed as a tap table: per kernel tap (i, j) of a pixel class (conv_fast.ts), TAP_FIELDS
// i32s, in this order:
//   srcOff  byte offset, within an input plane, of the first valid input pixel the tap reads
//   head    output pixels before the first valid output row (zeros in im2col)
//   rows    valid output rows
//   left    zero pixels at the start of each valid row, `run` valid ones, `right` zeros after
//   tail    output pixels after the last valid row
// The input is x [cIn, m, h, w] (C(NHW): planeBytes per channel, imageBytes per image); the
// columns [cIn*nTaps, ld] (row = c*nTaps + tap, column = image*P + pixel, P the class's pixels
// per image) at colAt. Addresses and strides are in bytes.

import { I32, ModuleBuilder, V128, type FunctionBuilder, type Local } from './emitter.js';

/** i32s per tap-table entry: srcOff, head, rows, left, run, right, tail. */
export const TAP_FIELDS = 7;

/** Parameters of the im2col / col2im exports, in order. */
export const CONV_HELPER_PARAMS = [
  'xAt', 'planeBytes', 'imageBytes', 'cIn', 'tapsAt', 'nTaps', 'm', 'rowStep', 'sw4', 'colAt', 'ld4',
] as const;

/**
 * The `run` valid floats of one output row: x (stride sw4 bytes) -> col (contiguous) for im2col,
 * or x (stride sw4) += col (contiguous) for col2im. Advances both pointers past the run.
 */
function runLoop(f: FunctionBuilder, toCols: boolean, x: Local, col: Local, sw4: Local, n: Local, k: Local): void {
  f.local_get(sw4).i32_const(4).i32_eq();
  f.if_(
    () => (toCols ? contiguous(f, col, x, n, k, false) : contiguous(f, x, col, n, k, true)),
    () =>
      f.for_(k, 0, n, 1, () => {
        if (toCols) f.local_get(col).local_get(x).f32_load().f32_store();
        else f.local_get(x).local_get(x).f32_load().local_get(col).f32_load().f32_add().f32_store();
        f.local_get(x).local_get(sw4).i32_add().local_set(x);
        f.local_get(col).i32_const(4).i32_add().local_set(col);
      }),
  );
}

function emitHelper(mb: ModuleBuilder, name: string, toCols: boolean): void {
  const f = mb.addFunction(name, CONV_HELPER_PARAMS.map(() => I32), []);
  const [xAt, planeBytes, imageBytes, cIn, tapsAt, nTaps, m, rowStep, sw4, colAt, ld4] = f.params;
  const c = f.local(I32);
  const t = f.local(I32);
  const b = f.local(I32);
  const row = f.local(I32);
  const k = f.local(I32);
  const tp = f.local(I32);
  const rowStart = f.local(I32);
  const img = f.local(I32);
  const xp = f.local(I32);
  const cp = f.local(I32);
  const zn = f.local(I32);
  const fields = Array.from({ length: TAP_FIELDS }, () => f.local(I32));
  const [srcOff, head, rows, left, run, right, tail] = fields;
  const skip = (n: Local): void => {
    f.local_get(cp).local_get(n).i32_const(2).i32_shl().i32_add().local_set(cp);
  };
  // im2col of a tap that reads padding somewhere: zero this call's stretch of the row first
  // (m images of head + rows * (left + run + right) + tail floats), then fill its valid runs
  const zeroRow = (): void => {
    f.local_get(head).local_get(left).i32_or().local_get(right).i32_or().local_get(tail).i32_or();
    f.if_(() => {
      f.local_get(left).local_get(run).i32_add().local_get(right).i32_add().local_get(rows).i32_mul();
      f.local_get(head).i32_add().local_get(tail).i32_add().local_get(m).i32_mul().local_set(zn);
      f.local_get(rowStart).local_set(cp);
      f.for_(k, 0, () => f.local_get(zn).i32_const(3).i32_sub(), 4, () => {
        f.local_get(cp).v128_const_zero().v128_store();
        f.local_get(cp).i32_const(16).i32_add().local_set(cp);
      });
      f.for_(k, k, zn, 1, () => {
        f.local_get(cp).f32_const(0).f32_store();
        f.local_get(cp).i32_const(4).i32_add().local_set(cp);
      });
    });
  };

  f.local_get(colAt).local_set(rowStart);
  f.for_(c, 0, cIn, 1, () => {
    f.for_(t, 0, nTaps, 1, () => {
      f.local_get(tapsAt).local_get(t).i32_const(TAP_FIELDS * 4).i32_mul().i32_add().local_set(tp);
      fields.forEach((l, i) => f.local_get(tp).i32_load(4 * i).local_set(l));
      if (toCols) zeroRow();
      f.local_get(rowStart).local_set(cp);
      // input position of this tap's first valid pixel in image 0, channel c
      f.local_get(xAt).local_get(c).local_get(planeBytes).i32_mul().i32_add().local_get(srcOff).i32_add().local_set(img);
      f.for_(b, 0, m, 1, () => {
        skip(head);
        f.local_get(img).local_set(xp);
        f.for_(row, 0, rows, 1, () => {
          skip(left);
          f.local_get(xp); // keep the row start: runLoop advances xp
          runLoop(f, toCols, xp, cp, sw4, run, k);
          f.local_get(rowStep).i32_add().local_set(xp);
          skip(right);
        });
        skip(tail);
        f.local_get(img).local_get(imageBytes).i32_add().local_set(img);
      });
      f.local_get(rowStart).local_get(ld4).i32_add().local_set(rowStart);
    });
  });
}

/**
 * The same job as emitHelper for tables without padding (head, left, right, tail all 0), with
 * the images innermost: for each (channel, tap, pixel) a strided loop over the m images. For
 * the tiny pixel classes of small maps (1 to 4 pixels per image) the per-(channel, tap, image)
 * setup of emitHelper cost ~3 ns per float; this runs at about one store per float.
 */
function emitHelperImagesInner(mb: ModuleBuilder, name: string, toCols: boolean): void {
  const f = mb.addFunction(name, CONV_HELPER_PARAMS.map(() => I32), []);
  const [xAt, planeBytes, imageBytes, cIn, tapsAt, nTaps, m, rowStep, sw4, colAt, ld4] = f.params;
  const [c, t, row, col, b, tp, rowStart, srcOff, rows, run, pixelBytes, xp, cp, xs, cs] = Array.from({ length: 15 }, () => f.local(I32));
  f.local_get(colAt).local_set(rowStart);
  f.for_(c, 0, cIn, 1, () => {
    f.for_(t, 0, nTaps, 1, () => {
      f.local_get(tapsAt).local_get(t).i32_const(TAP_FIELDS * 4).i32_mul().i32_add().local_set(tp);
      f.local_get(tp).i32_load(0).local_set(srcOff);
      f.local_get(tp).i32_load(8).local_set(rows);
      f.local_get(tp).i32_load(16).local_set(run);
      // bytes between one image's columns and the next's: P floats
      f.local_get(rows).local_get(run).i32_mul().i32_const(2).i32_shl().local_set(pixelBytes);
      f.local_get(rowStart).local_set(cp);
      f.for_(row, 0, rows, 1, () => {
        f.local_get(xAt).local_get(c).local_get(planeBytes).i32_mul().i32_add().local_get(srcOff).i32_add();
        f.local_get(row).local_get(rowStep).i32_mul().i32_add().local_set(xp);
        f.for_(col, 0, run, 1, () => {
          f.local_get(xp).local_set(xs);
          f.local_get(cp).local_set(cs);
          f.for_(b, 0, m, 1, () => {
            if (toCols) f.local_get(cs).local_get(xs).f32_load().f32_store();
            else f.local_get(xs).local_get(xs).f32_load().local_get(cs).f32_load().f32_add().f32_store();
            f.local_get(xs).local_get(imageBytes).i32_add().local_set(xs);
            f.local_get(cs).local_get(pixelBytes).i32_add().local_set(cs);
          });
          f.local_get(xp).local_get(sw4).i32_add().local_set(xp);
          f.local_get(cp).i32_const(4).i32_add().local_set(cp);
        });
      });
      f.local_get(rowStart).local_get(ld4).i32_add().local_set(rowStart);
    });
  });
}

/**
 * n contiguous floats from p to q (add: q += p), four per vector, then one by one (an f32x4 add
 * rounds as four f32 adds). Advances p and q past the run; k is scratch.
 */
function contiguous(f: FunctionBuilder, q: Local, p: Local, n: Local, k: Local, add: boolean): void {
  f.for_(k, 0, () => f.local_get(n).i32_const(3).i32_sub(), 4, () => {
    f.local_get(q);
    if (add) f.local_get(q).v128_load().local_get(p).v128_load().f32x4_add();
    else f.local_get(p).v128_load();
    f.v128_store();
    f.local_get(p).i32_const(16).i32_add().local_set(p);
    f.local_get(q).i32_const(16).i32_add().local_set(q);
  });
  f.for_(k, k, n, 1, () => {
    f.local_get(q);
    if (add) f.local_get(q).f32_load().local_get(p).f32_load().f32_add();
    else f.local_get(p).f32_load();
    f.f32_store();
    f.local_get(p).i32_const(4).i32_add().local_set(p);
    f.local_get(q).i32_const(4).i32_add().local_set(q);
  });
}

/**
 * blocks(src, dst, nA, sA, dA, nB, sB, dB, nR, sR, dR, nC, add): for a < nA, b < nB, r < nR the
 * nC contiguous floats at src + a*sA + b*sB + r*sR go to dst + a*dA + b*dB + r*dR (add != 0:
 * added to them). Strides in bytes. Moves NCHW <-> C(NHW) and class rectangles of a map.
 */
function emitBlocks(mb: ModuleBuilder): void {
  const f = mb.addFunction('blocks', Array.from({ length: 13 }, () => I32), []);
  const [src, dst, nA, sA, dA, nB, sB, dB, nR, sR, dR, nC, add] = f.params;
  const [a, b, r, k, p, q] = Array.from({ length: 6 }, () => f.local(I32));
  const body = (adding: boolean): void => {
    f.for_(a, 0, nA, 1, () => {
      f.for_(b, 0, nB, 1, () => {
        f.for_(r, 0, nR, 1, () => {
          f.local_get(src).local_get(a).local_get(sA).i32_mul().i32_add();
          f.local_get(b).local_get(sB).i32_mul().i32_add().local_get(r).local_get(sR).i32_mul().i32_add().local_set(p);
          f.local_get(dst).local_get(a).local_get(dA).i32_mul().i32_add();
          f.local_get(b).local_get(dB).i32_mul().i32_add().local_get(r).local_get(dR).i32_mul().i32_add().local_set(q);
          contiguous(f, q, p, nC, k, adding);
        });
      });
    });
  };
  f.local_get(add).if_(() => body(true), () => body(false));
}

/**
 * packTaps(src, dst, OC, kk, T, tapsAt): dst [OC, T] = the columns tapsAt[0 .. T) (i32 indices)
 * of src [OC, kk]. unpackTapsAdd(src, dst, OC, kk, T, tapsAt): the adjoint, dst [OC, kk] += src;
 * unpackTaps: dst's columns = src (the other columns untouched).
 */
function emitTapPacking(mb: ModuleBuilder, name: string, mode: 'pack' | 'unpack' | 'unpackAdd'): void {
  const f = mb.addFunction(name, Array.from({ length: 6 }, () => I32), []);
  const [src, dst, OC, kk, T, tapsAt] = f.params;
  const [oc, t, wide, packed, addr] = Array.from({ length: 5 }, () => f.local(I32));
  f.for_(oc, 0, OC, 1, () => {
    f.local_get(oc).local_get(kk).i32_mul().i32_const(2).i32_shl().local_set(wide);
    f.local_get(oc).local_get(T).i32_mul().i32_const(2).i32_shl().local_set(packed);
    f.for_(t, 0, T, 1, () => {
      // addr = byte offset of the tap's column in the [OC, kk] row
      f.local_get(tapsAt).local_get(t).i32_const(2).i32_shl().i32_add().i32_load().i32_const(2).i32_shl().local_get(wide).i32_add().local_set(addr);
      if (mode === 'pack') {
        f.local_get(dst).local_get(packed).i32_add().local_get(src).local_get(addr).i32_add().f32_load().f32_store();
      } else if (mode === 'unpack') {
        f.local_get(dst).local_get(addr).i32_add().local_get(src).local_get(packed).i32_add().f32_load().f32_store();
      } else {
        f.local_get(dst).local_get(addr).i32_add();
        f.local_get(dst).local_get(addr).i32_add().f32_load().local_get(src).local_get(packed).i32_add().f32_load().f32_add();
        f.f32_store();
      }
      f.local_get(packed).i32_const(4).i32_add().local_set(packed);
    });
  });
}

/** addBias(at, nB, nO, L, biasAt): x [nB, nO, L] at `at` += bias[o] (bias at biasAt). */
function emitAddBias(mb: ModuleBuilder): void {
  const f = mb.addFunction('addBias', Array.from({ length: 5 }, () => I32), []);
  const [at, nB, nO, L, biasAt] = f.params;
  const [b, o, k, q] = Array.from({ length: 4 }, () => f.local(I32));
  const v = f.local(V128);
  f.local_get(at).local_set(q);
  f.for_(b, 0, nB, 1, () => {
    f.for_(o, 0, nO, 1, () => {
      f.local_get(biasAt).local_get(o).i32_const(2).i32_shl().i32_add().v128_load32_splat().local_set(v);
      f.for_(k, 0, () => f.local_get(L).i32_const(3).i32_sub(), 4, () => {
        f.local_get(q).local_get(q).v128_load().local_get(v).f32x4_add().v128_store();
        f.local_get(q).i32_const(16).i32_add().local_set(q);
      });
      f.for_(k, k, L, 1, () => {
        f.local_get(q).local_get(q).f32_load().local_get(v).f32x4_extract_lane(0).f32_add().f32_store();
        f.local_get(q).i32_const(4).i32_add().local_set(q);
      });
    });
  });
}

/**
 * zero(at, n): n floats from byte address `at` set to 0. TypedArray.fill on a shared buffer runs
 * at ~1.5 GB/s on Node 20 (measured: 1.1 ms for 7 MB, 0.16 ms unshared); vector stores do not.
 */
function emitZero(mb: ModuleBuilder): void {
  const f = mb.addFunction('zero', [I32, I32], []);
  const [at, n] = f.params;
  const end = f.local(I32);
  const k = f.local(I32);
  f.local_get(at).local_get(n).i32_const(2).i32_shl().i32_add().local_set(end);
  f.for_(k, 0, () => f.local_get(n).i32_const(3).i32_sub(), 4, () => {
    f.local_get(at).v128_const_zero().v128_store();
    f.local_get(at).i32_const(16).i32_add().local_set(at);
  });
  f.for_(k, at, end, 4, () => f.local_get(k).f32_const(0).f32_store());
}

/**
 * The module's bytes: exports im2col, col2im, im2colImagesInner and col2imImagesInner (params
 * CONV_HELPER_PARAMS), zero, blocks, packTaps, unpackTaps, unpackTapsAdd and addBias; imports
 * env.memory.
 */
export function buildConvModule(maximumPages: number): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', initialPages: 1, maximumPages, shared: true });
  emitHelper(mb, 'im2col', true);
  emitHelper(mb, 'col2im', false);
  emitHelperImagesInner(mb, 'im2colImagesInner', true);
  emitHelperImagesInner(mb, 'col2imImagesInner', false);
  emitZero(mb);
  emitBlocks(mb);
  emitTapPacking(mb, 'packTaps', 'pack');
  emitTapPacking(mb, 'unpackTaps', 'unpack');
  emitTapPacking(mb, 'unpackTapsAdd', 'unpackAdd');
  emitAddBias(mb);
  return mb.toBytes();
}
