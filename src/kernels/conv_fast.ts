// Fast float32 convolution: the whole batch in one GEMM per group and pixel class, with every
// operand built in the kernel arena (gemm.ts `gemmHeap`) by wasm helpers (wasm/conv_module.ts).
// Arena-resident tensors (x, w, bias, out, dY, dX, dW) are read and written in place; other
// arrays are copied in (or out) once per call, never per image. The helpers run on the worker
// pool like the GEMMs, each call split into disjoint ranges of channels, images or weight rows
// when it is big enough (setConvParallelFloats). (JS loops remain only for the bias gradient
// and the few-tap weight gathers of non-resident weights.)
//
// conv.ts (the reference) runs one GEMM per image and group on an image's column buffer; for
// ResNet-18 at 28x28 those products are tiny (N = 49 .. 1 output pixels) and the weights were
// copied into wasm memory once per image. Here, for a chunk of images (the whole batch unless
// the chunk budget says otherwise), and for each pixel class (below):
//   forward:  x -> C(NHW) (one channel's images adjacent: short strides for im2col),
//             cols [cIn*T, m*P] = im2col of the class's pixels in every image,
//             Y [cOut, m*P] = W_g [og, K] . cols_g [K, m*P] per group, Y -> NCHW (+ bias)
//   backward: dY' [cOut, m*P] gathered from dY; dW_g += dY'_g . cols_g^T (cols recomputed:
//             cheaper than keeping them per layer); dcols_g = W_g^T . dY'_g, col2im into dX.
// P = pixels of the class per image, T = its taps, K = (cIn/groups)*T, og = cOut/groups.
//
// Pixel classes. A kernel tap that reads padding for some output pixel contributes exact zeros
// there. The output map is cut into rectangles whose pixels all see the same set of taps (rows
// by which kernel rows read the input, times columns likewise), and each rectangle gets its own
// GEMMs over only its taps: a 3x3 pad-1 conv on a 2x2 map does 4 taps per pixel, not 9; on a
// 1x1 map, 1. When that saves less than CLASS_MIN_SAVING of the work (large maps, where the
// border is thin) one class covers the map with the taps any pixel sees, zeros in the padding.
// Skipped taps are never read, so a NaN/Inf weight there does not reach the output (in the
// reference, 0 * Inf = NaN would); otherwise the sums are the reference's, in float32.
//
// Results are deterministic and do not depend on the thread count or on which operands are
// resident: chunks and classes depend on the shapes only, the GEMM's summation order on (M, N, K)
// only (its split across threads is by rows or columns of C), a split helper computes every
// element with the same instructions, and weight gradients are summed over chunks and classes in
// a fixed order.

import type { Conv2dParams } from './conv.js';
import { splitEven } from './fast/engine.js';
import { gemmHeap, type GemmHeap } from './gemm.js';
import { kernelRuntime, type KernelRuntime } from './runtime.js';
import { getNumThreads } from './threads/pool.js';

/** Floats of per-image buffers per chunk (16 MiB): keeps the wasm memory small at 96x96. */
let chunkBudget = 1 << 22;

/** Change the per-chunk budget (floats; tests shrink it to exercise chunking); returns the previous one. */
export function setConvChunkBudget(floats: number): number {
  if (!Number.isInteger(floats) || floats < 1) throw new RangeError(`setConvChunkBudget: expected a positive integer, got ${floats}`);
  const prev = chunkBudget;
  chunkBudget = floats;
  return prev;
}

/** Split into pixel classes only when that removes at least this fraction of the GEMM work. */
const CLASS_MIN_SAVING = 0.2;

// ---------------------------------------------------------------------------------------------
// Pixel classes.

/** Valid output range [o0, o1) along one axis for a tap at input offset `off` (= k*dil - pad). */
function validRange(off: number, stride: number, size: number, outSize: number): [number, number] {
  const o0 = Math.min(outSize, off >= 0 ? 0 : Math.ceil(-off / stride));
  const o1 = Math.max(o0, Math.min(outSize, Math.floor((size - 1 - off) / stride) + 1));
  return [o0, o1];
}

interface Span {
  a: number;
  b: number;
  /** Kernel offsets that read the input for every output position in [a, b). */
  k: number[];
}

/** One axis cut into maximal spans of output positions that see the same kernel offsets. */
function spans(pad: number, stride: number, dil: number, size: number, outSize: number, ks: number): Span[] {
  const ranges = Array.from({ length: ks }, (_, i) => validRange(i * dil - pad, stride, size, outSize));
  const cuts = [...new Set([0, outSize, ...ranges.flat()])].sort((x, y) => x - y);
  const out: Span[] = [];
  for (let c = 0; c + 1 < cuts.length; c++) {
    const [a, b] = [cuts[c], cuts[c + 1]];
    const k = ranges.flatMap(([o0, o1], i) => (o0 <= a && b <= o1 ? [i] : []));
    const last = out[out.length - 1];
    if (last && last.k.join() === k.join()) last.b = b;
    else out.push({ a, b, k });
  }
  return out;
}

export interface PixelClass {
  /** The output rectangle: rows [oy, oy + rows), columns [ox, ox + cols). */
  oy: number;
  ox: number;
  rows: number;
  cols: number;
  /** Kernel taps (i*kw + j, ascending) the class's GEMMs use. */
  taps: number[];
  /** wasm/conv_module.ts tap table: TAP_FIELDS i32s per tap (srcOff, head, rows, left, run, right, tail). */
  table: Int32Array;
  /** Whether some of those taps read padding inside the rectangle (im2col must zero first). */
  padded: boolean;
}

/** The pixel classes of a convolution (see the header): a partition of the output map. */
export function pixelClasses(p: Conv2dParams): PixelClass[] {
  const { h, w, kh, kw, strideH: sh, strideW: sw, padH, padW, dilH, dilW, outH, outW } = p;
  const rs = spans(padH, sh, dilH, h, outH, kh);
  const cs = spans(padW, sw, dilW, w, outW, kw);
  const entry = (oy: number, ox: number, i: number, j: number): number => 4 * ((oy * sh + i * dilH - padH) * w + ox * sw + j * dilW - padW);
  let classWork = 0;
  for (const r of rs) for (const c of cs) classWork += r.k.length * c.k.length * (r.b - r.a) * (c.b - c.a);
  // The single class: taps any pixel sees, each with its valid sub-rectangle, zeros elsewhere.
  const rowRange = Array.from({ length: kh }, (_, i) => validRange(i * dilH - padH, sh, h, outH));
  const colRange = Array.from({ length: kw }, (_, j) => validRange(j * dilW - padW, sw, w, outW));
  const taps: number[] = [];
  const table: number[] = [];
  let padded = false;
  for (let i = 0; i < kh; i++) {
    const [oy0, oy1] = rowRange[i];
    for (let j = 0; j < kw; j++) {
      const [ox0, ox1] = colRange[j];
      if (oy1 === oy0 || ox1 === ox0) continue;
      taps.push(i * kw + j);
      padded ||= oy1 - oy0 < outH || ox1 - ox0 < outW;
      // srcOff, head, rows, left, run, right, tail
      table.push(entry(oy0, ox0, i, j), oy0 * outW, oy1 - oy0, ox0, ox1 - ox0, outW - ox1, (outH - oy1) * outW);
    }
  }
  const whole: PixelClass = { oy: 0, ox: 0, rows: outH, cols: outW, taps, table: Int32Array.from(table), padded };
  if (rs.length * cs.length === 1 || classWork > (1 - CLASS_MIN_SAVING) * taps.length * outH * outW) return [whole];
  const classes: PixelClass[] = [];
  for (const r of rs) {
    for (const c of cs) {
      const ct: number[] = [];
      const tab: number[] = [];
      for (const i of r.k) {
        for (const j of c.k) {
          ct.push(i * kw + j);
          tab.push(entry(r.a, c.a, i, j), 0, r.b - r.a, 0, c.b - c.a, 0, 0);
        }
      }
      classes.push({ oy: r.a, ox: c.a, rows: r.b - r.a, cols: c.b - c.a, taps: ct, table: Int32Array.from(tab), padded: false });
    }
  }
  return classes;
}

// ---------------------------------------------------------------------------------------------
// wasm helpers on the worker pool.

/**
 * Work (in the units of COST) a helper call must give each thread before it is split across the
 * pool: 64K units, ~10 us. Measured on the 2-core machine: handing a job to a worker that is
 * still spinning after its previous one costs 1-4 us, waking one that sleeps ~60-80 us (it spins
 * ~100-200 us after each job; the conv's GEMMs and helpers alternate faster than that). ResNet-18's
 * convolutions (28x28, batch 64, 2 threads) took 148-160 ms per step with thresholds from 16K to
 * 128K (no difference within the noise), 173-195 ms unsplit; 64K still splits all but 22 of the
 * 287 helper calls of a pass over the layers (those are under ~20 us each).
 */
let parallelFloats = 1 << 16;

/**
 * Cost estimates of the helpers, in floats of a contiguous in-cache vector copy (~0.15 ns each),
 * measured on ResNet-18's calls: per float moved by zero, by the vector copies of `blocks` /
 * `addBias`, by im2col / col2im, by tap packing; and the loop setup of each contiguous run, which
 * dominates the 1- to 4-float runs of small maps (`blocks` with nC = 1 costs ~4 ns per float).
 */
const COST = { zero: 1, copy: 2, cols: 4, taps: 6, run: 24 };

/** Change the per-thread split threshold of the conv helpers (COST units; tests force splitting with 1); returns the previous one. */
export function setConvParallelFloats(floats: number): number {
  if (!Number.isInteger(floats) || floats < 1) throw new RangeError(`setConvParallelFloats: expected a positive integer, got ${floats}`);
  const prev = parallelFloats;
  parallelFloats = floats;
  return prev;
}

/**
 * Runs helper `name` over units [0, units) (channels, images or weight rows: whatever `args`
 * offsets by), in contiguous parts on the pool's threads when `work` (COST units) gives each at
 * least parallelFloats. The parts write disjoint memory and every element is computed by the
 * same instructions whichever thread runs it, so the result never depends on the split.
 */
function par(rt: KernelRuntime, name: string, work: number, units: number, args: (start: number, count: number) => number[]): void {
  const T = Math.max(1, Math.min(getNumThreads(), units, Math.floor(work / parallelFloats)));
  if (T === 1) return rt.fn(name)(...args(0, units));
  rt.pool.run(name, splitEven(units, T).map(([s, e]) => args(s, e - s)));
}

/** n floats at `at` set to 0, in 64-byte pieces per thread. */
function zero(rt: KernelRuntime, at: number, n: number): void {
  par(rt, 'zero', n * COST.zero, Math.ceil(n / 16), (s, c) => [at + 64 * s, Math.min(16 * c, n - 16 * s)]);
}

/**
 * blocks (wasm/conv_module.ts: for a < nA, b < nB, r < nR, nC contiguous floats from src to
 * dst; strides in bytes), split over a (channels) or b (images), whichever has more.
 */
function blocks(
  rt: KernelRuntime, src: number, dst: number, nA: number, sA: number, dA: number, nB: number, sB: number, dB: number,
  nR: number, sR: number, dR: number, nC: number,
): void {
  const work = nA * nB * nR * (nC * COST.copy + COST.run);
  if (nA >= nB) par(rt, 'blocks', work, nA, (s, n) => [src + s * sA, dst + s * dA, n, sA, dA, nB, sB, dB, nR, sR, dR, nC, 0]);
  else par(rt, 'blocks', work, nB, (s, n) => [src + s * sB, dst + s * dB, nA, sA, dA, n, sB, dB, nR, sR, dR, nC, 0]);
}

/** packTaps / unpackTaps / unpackTapsAdd (wasm/conv_module.ts) of class c, split by weight rows. */
function taps(rt: KernelRuntime, name: 'packTaps' | 'unpackTaps' | 'unpackTapsAdd', pl: Plan, c: ClassAt, src: number, dst: number): void {
  const { kk } = pl;
  const OC = pl.og * pl.groups * pl.cg; // rows of [cOut, cg]
  const pack = name === 'packTaps';
  const [ss, ds] = pack ? [4 * kk, 4 * c.T] : [4 * c.T, 4 * kk]; // bytes per row
  par(rt, name, OC * c.T * COST.taps, OC, (s, n) => [src + s * ss, dst + s * ds, n, kk, c.T, c.tapsAt]);
}

// ---------------------------------------------------------------------------------------------
// Heap layout.

const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** Bump allocator over the heap from `base`: 64-byte aligned regions (byte addresses). */
class Layout {
  constructor(public at: number) {}
  take(floats: number): number {
    const a = this.at;
    this.at = align64(a + 4 * floats);
    return a;
  }
}

interface ClassAt extends PixelClass {
  P: number;
  T: number;
  K: number;
  /** Byte addresses of its tap table and tap index list in the heap. */
  tableAt: number;
  tapsAt: number;
}

/** Everything both directions share: geometry, classes, runtime, and the start of the layout at `base`. */
function plan(base: number, rt: KernelRuntime, p: Conv2dParams) {
  const og = p.cOut / p.groups;
  const cg = p.cIn / p.groups;
  const kk = p.kh * p.kw;
  const L = p.outH * p.outW;
  const HW = p.h * p.w;
  const layout = new Layout(base);
  const classes: ClassAt[] = pixelClasses(p).map((c) => ({
    ...c,
    P: c.rows * c.cols,
    T: c.taps.length,
    K: cg * c.taps.length,
    tableAt: layout.take(c.table.length),
    tapsAt: layout.take(c.taps.length),
  }));
  const maxColsPerImage = Math.max(...classes.map((c) => p.cIn * c.T * c.P));
  // The chunk depends on the shapes only, never on which operands are resident (the weight
  // gradient's summation order depends on it): buffers a resident operand saves still count.
  const perImage = maxColsPerImage + 2 * p.cOut * L + 2 * p.cIn * HW;
  const nb = Math.max(1, Math.min(p.n, Math.floor(chunkBudget / perImage)));
  const lastM = p.n - Math.floor((p.n - 1) / nb) * nb;
  // Packed weights of one class at a time: [cOut, cg*T] (the full W when a class keeps every tap).
  const maxPacked = Math.max(...classes.map((c) => (c.T === kk ? 0 : p.cOut * c.K)));
  // One class using only some taps (ResNet-18's 1x1 and 2x2 maps: 1 or 4 of 9): its weights are
  // gathered straight from / scattered straight to the caller's arrays, never staged in full.
  const direct = classes.length === 1 && classes[0].T < kk;
  return { og, cg, kk, L, HW, groups: p.groups, classes, nb, lastM, maxColsPerImage, maxPacked, direct, layout, rt };
}
type Plan = ReturnType<typeof plan>;

/** Bytes of GEMM scratch the largest of the given products needs. */
function gemmScratch(heap: GemmHeap, pl: Plan, gemm: (c: ClassAt, mP: number) => [number, number, number][]): number {
  let scratch = 0;
  for (const c of pl.classes) {
    for (const m of [pl.nb, pl.lastM]) for (const [M, N, K] of gemm(c, m * c.P)) scratch = Math.max(scratch, heap.scratchBytes(M, N, K));
  }
  return scratch;
}

/**
 * Lays out a call's buffers in the GEMM's scratch block (`heap.place`) and writes the classes'
 * tap tables into place. Null if the arena cannot hold the layout.
 */
function place<T extends { pl: Plan; end: number }>(heap: GemmHeap, lay: (base: number) => T): { l: T; f: Float32Array } | null {
  const l = heap.place(lay);
  if (l === null) return null;
  const f = heap.f32();
  const i32 = new Int32Array(f.buffer);
  for (const c of l.pl.classes) {
    i32.set(c.table, c.tableAt / 4);
    i32.set(c.taps, c.tapsAt / 4);
  }
  return { l, f };
}

/**
 * Stages the weights for the class GEMMs; returns class c's weights [cOut, cg*T] as a byte
 * address, packing them from the full W (in place at wRes when resident, else copied to wAt)
 * into packAt on demand.
 */
function stageWeights(p: Conv2dParams, pl: Plan, w: Float32Array, wRes: number, f: Float32Array, wAt: number, packAt: number): (c: ClassAt) => number {
  const { kk, cg, rt } = pl;
  if (pl.direct && wRes < 0) {
    const { taps, T } = pl.classes[0];
    let d = packAt / 4;
    for (let oc = 0, e = p.cOut * cg; oc < e; oc++) for (let t = 0; t < T; t++) f[d++] = w[oc * kk + taps[t]];
    return () => packAt;
  }
  const full = wRes >= 0 ? wRes : wAt;
  if (wRes < 0) f.set(w, wAt / 4);
  if (pl.direct) {
    taps(rt, 'packTaps', pl, pl.classes[0], full, packAt);
    return () => packAt;
  }
  return (c) => {
    if (c.T === kk) return full;
    taps(rt, 'packTaps', pl, c, full, packAt);
    return packAt;
  };
}

/**
 * im2col (toCols) or col2im of class c for m images: the input (or its gradient) at xAt in
 * C(NHW) order, [cIn, m, h*w], so that one channel's images are adjacent; the columns at colAt
 * with row stride m*P. Short rows of unpadded classes loop over the images innermost. Split
 * over channels (rows cIn*T of the columns; for col2im, the planes of those channels) or images
 * (their columns; for col2im, their planes), whichever has more: no two threads write one float.
 */
function im2col(p: Conv2dParams, pl: Plan, c: ClassAt, m: number, xAt: number, colAt: number, toCols: boolean): void {
  const imagesInner = !c.padded && c.cols < 8 && m > 1;
  const name = toCols ? (imagesInner ? 'im2colImagesInner' : 'im2col') : imagesInner ? 'col2imImagesInner' : 'col2im';
  const imageBytes = 4 * pl.HW;
  const plane = m * imageBytes;
  const ld4 = 4 * m * c.P;
  const rest = [4 * p.strideH * p.w, 4 * p.strideW] as const; // rowStep, sw4
  const work = p.cIn * c.T * m * c.P * COST.cols;
  if (p.cIn >= m) {
    par(pl.rt, name, work, p.cIn, (s, n) => [xAt + s * plane, plane, imageBytes, n, c.tableAt, c.T, m, ...rest, colAt + s * c.T * ld4, ld4]);
  } else {
    par(pl.rt, name, work, m, (s, n) => [xAt + s * imageBytes, plane, imageBytes, p.cIn, c.tableAt, c.T, n, ...rest, colAt + 4 * s * c.P, ld4]);
  }
}

/** [m, cIn, h*w] at `from` -> [cIn, m, h*w] at `to`, or back (toNCHW). One block per (channel, image). */
function swapNC(p: Conv2dParams, pl: Plan, m: number, from: number, to: number, toNCHW: boolean): void {
  const img = 4 * pl.HW;
  const nchw = [img, p.cIn * img] as const; // channel, image strides
  const cnhw = [m * img, img] as const;
  const [s, d] = toNCHW ? [cnhw, nchw] : [nchw, cnhw];
  blocks(pl.rt, from, to, p.cIn, s[0], d[0], m, s[1], d[1], 1, 0, 0, pl.HW);
}

/**
 * Moves class c's [cOut, m, rows, cols] block at `classAt` to / from its rectangle of the
 * [m, cOut, outH, outW] maps at mapAt.
 */
function classBlock(p: Conv2dParams, pl: Plan, c: ClassAt, m: number, classAt: number, mapAt: number, toMaps: boolean): void {
  const { L } = pl;
  const rect = mapAt + 4 * (c.oy * p.outW + c.ox);
  // full-width rectangles are one contiguous run per (channel, image)
  const [nR, nC, rowMap, rowCls] = c.cols === p.outW ? [1, c.P, 0, 0] : [c.rows, c.cols, 4 * p.outW, 4 * c.cols];
  const cls = [classAt, 4 * m * c.P, 4 * c.P, rowCls] as const; // base, channel, image, row strides
  const map = [rect, 4 * L, 4 * p.cOut * L, rowMap] as const;
  const [s, d] = toMaps ? [cls, map] : [map, cls];
  blocks(pl.rt, s[0], d[0], p.cOut, s[1], d[1], m, s[2], d[2], nR, s[3], d[3], nC);
}

// ---------------------------------------------------------------------------------------------
// Entry points. Operands that are arena blocks (heap.addressOf >= 0: tensor storage) are read and
// written in place; the others are copied through the scratch layout, one chunk at a time.

/**
 * out = conv(x, w) + bias on the fast path; false (nothing written) when the wasm GEMM is not
 * available or its memory cannot hold a chunk, so the caller falls back to the reference.
 */
export function conv2dForwardFast(x: Float32Array, w: Float32Array, bias: Float32Array | null, p: Conv2dParams, out: Float32Array): boolean {
  const heap = gemmHeap();
  const rt = heap && kernelRuntime();
  if (!heap || !rt) return false;
  const { n, cIn, cOut, groups } = p;
  if (n === 0) return true;
  const xRes = heap.addressOf(x);
  const wRes = heap.addressOf(w);
  const bRes = bias ? heap.addressOf(bias) : -1;
  const outRes = heap.addressOf(out);
  const placed = place(heap, (base) => {
    const pl = plan(base, rt, p);
    const { og, L, HW, classes, nb, layout } = pl;
    const wAt = pl.direct || wRes >= 0 ? 0 : layout.take(w.length);
    const packAt = layout.take(pl.maxPacked);
    const biasAt = bias && bRes < 0 ? layout.take(cOut) : bRes;
    const xRawAt = xRes < 0 ? layout.take(nb * cIn * HW) : 0;
    const xAt = nb > 1 ? layout.take(nb * cIn * HW) : 0; // one image: [1, cIn, hw] is already C(NHW)
    const colAt = layout.take(nb * pl.maxColsPerImage);
    const yAt = layout.take(nb * cOut * Math.max(...classes.map((c) => c.P)));
    const mapAt = outRes < 0 ? layout.take(nb * cOut * L) : 0;
    const scratchAt = layout.at;
    const end = scratchAt + gemmScratch(heap, pl, (c, mP) => [[og, mP, c.K]]);
    return { pl, wAt, packAt, biasAt, xRawAt, xAt, colAt, yAt, mapAt, scratchAt, end };
  });
  if (placed === null) return false;
  const { f, l } = placed;
  const { pl, wAt, packAt, biasAt, xRawAt, colAt, yAt, scratchAt } = l;
  const { og, L, HW, classes, nb } = pl;
  const weights = stageWeights(p, pl, w, wRes, f, wAt, packAt);
  if (bias && bRes < 0) f.set(bias, biasAt / 4);
  for (let b0 = 0; b0 < n; b0 += nb) {
    const m = Math.min(nb, n - b0);
    const xSrc = xRes >= 0 ? xRes + 4 * b0 * cIn * HW : xRawAt;
    if (xRes < 0) f.set(x.subarray(b0 * cIn * HW, (b0 + m) * cIn * HW), xRawAt / 4);
    const xAt = m > 1 ? l.xAt : xSrc;
    if (m > 1) swapNC(p, pl, m, xSrc, xAt, false);
    const mapAt = outRes >= 0 ? outRes + 4 * b0 * cOut * L : l.mapAt;
    for (const c of classes) {
      const mP = m * c.P;
      const ldK = Math.max(1, c.K); // K = 0 when no tap reaches the input: the GEMM just zeroes Y
      const cwAt = weights(c);
      im2col(p, pl, c, m, xAt, colAt, true);
      for (let g = 0; g < groups; g++) {
        heap.gemm(false, false, og, mP, c.K, 1, cwAt + 4 * g * og * c.K, ldK, colAt + 4 * g * c.K * mP, mP, 0, yAt + 4 * g * og * mP, mP, scratchAt);
      }
      classBlock(p, pl, c, m, yAt, mapAt, true);
    }
    if (bias) {
      // split by images, or by channels when there is one image ([1, cOut, L] is contiguous)
      const work = m * cOut * (L * COST.copy + COST.run);
      if (m > 1) par(rt, 'addBias', work, m, (s, k) => [mapAt + 4 * s * cOut * L, k, cOut, L, biasAt]);
      else par(rt, 'addBias', work, cOut, (s, k) => [mapAt + 4 * s * L, 1, k, L, biasAt + 4 * s]);
    }
    if (outRes < 0) out.set(f.subarray(mapAt / 4, mapAt / 4 + m * cOut * L), b0 * cOut * L);
  }
  return true;
}

export interface ConvGrads {
  /** Input gradient [n, cIn, h, w], overwritten (or null: not wanted). */
  gx: Float32Array | null;
  /** Weight gradient [cOut, cIn/groups, kh, kw], overwritten. */
  gw: Float32Array | null;
  /** Bias gradient [cOut], overwritten. */
  gb: Float32Array | null;
}

/**
 * The gradients of conv2dForwardFast for the outputs in `grads` that are not null; false (nothing
 * written) when the fast path cannot run. The bias gradient is summed in float64 in the
 * reference's order, so it equals conv2dBackwardBias bit for bit.
 */
export function conv2dBackwardFast(gy: Float32Array, x: Float32Array, w: Float32Array, p: Conv2dParams, grads: ConvGrads): boolean {
  const heap = gemmHeap();
  const rt = heap && kernelRuntime();
  if (!heap || !rt) return false;
  const { gx, gw, gb } = grads;
  const { n, cIn, cOut, groups } = p;
  if (n === 0) {
    gw?.fill(0);
    gb?.fill(0);
    return true;
  }
  const gyRes = heap.addressOf(gy);
  const xRes = heap.addressOf(x);
  const wRes = heap.addressOf(w);
  const gxRes = gx ? heap.addressOf(gx) : -1;
  const gwRes = gw ? heap.addressOf(gw) : -1;
  const placed = place(heap, (base) => {
    const pl = plan(base, rt, p);
    const { og, L, HW, nb, layout } = pl;
    const wAt = gx && !pl.direct && wRes < 0 ? layout.take(w.length) : 0;
    // dW accumulates in gw itself when it is resident (the direct case packs it: dwPackAt)
    const dwAt = !gw || pl.direct ? 0 : gwRes >= 0 ? gwRes : layout.take(w.length);
    const packAt = gx ? layout.take(pl.maxPacked) : 0;
    const dwPackAt = gw ? layout.take(pl.maxPacked) : 0;
    // foreign x for im2col, and the input gradient before it is copied out; as [m, cIn, h*w]
    const xRawAt = (gw && xRes < 0) || (gx && gxRes < 0) ? layout.take(nb * cIn * HW) : 0;
    // both as [cIn, m, h*w] (one image: the same as [m, cIn, h*w])
    const xAt = nb > 1 ? layout.take(nb * cIn * HW) : 0;
    const colAt = layout.take(nb * pl.maxColsPerImage);
    const dyAt = layout.take(nb * cOut * L); // every class's dY' block, one after the other
    const mapAt = gyRes < 0 ? layout.take(nb * cOut * L) : 0;
    const scratchAt = layout.at;
    const end = scratchAt + gemmScratch(heap, pl, (c, mP) => [
      ...(gw ? [[og, c.K, mP] as [number, number, number]] : []),
      ...(gx ? [[c.K, mP, og] as [number, number, number]] : []),
    ]);
    return { pl, wAt, dwAt, packAt, dwPackAt, xRawAt, xAt, colAt, dyAt, mapAt, scratchAt, end };
  });
  if (placed === null) return false;
  const { f, l } = placed;
  const { pl, wAt, dwAt, packAt, dwPackAt, xRawAt, colAt, dyAt, scratchAt } = l;
  const { og, kk, L, HW, classes, nb } = pl;
  const weights = gx ? stageWeights(p, pl, w, wRes, f, wAt, packAt) : null;
  // several classes add into dW; a single one accumulates over chunks with the GEMM's beta
  if (gw && classes.length > 1) zero(rt, dwAt, w.length);
  const bsum = gb ? new Float64Array(cOut) : null;
  for (let b0 = 0; b0 < n; b0 += nb) {
    const m = Math.min(nb, n - b0);
    if (bsum) {
      // channel by channel, images in order: the reference's order, one running sum per channel
      for (let c = 0; c < cOut; c++) {
        let s = bsum[c];
        for (let b = b0; b < b0 + m; b++) for (let k = (b * cOut + c) * L, e = k + L; k < e; k++) s += gy[k];
        bsum[c] = s;
      }
    }
    if (!gx && !gw) continue;
    const mapAt = gyRes >= 0 ? gyRes + 4 * b0 * cOut * L : l.mapAt;
    if (gyRes < 0) f.set(gy.subarray(b0 * cOut * L, (b0 + m) * cOut * L), mapAt / 4);
    const dy: number[] = [];
    for (let k = 0, at = dyAt; k < classes.length; at += 4 * cOut * m * classes[k].P, k++) {
      classBlock(p, pl, classes[k], m, at, mapAt, false);
      dy.push(at);
    }
    if (gw) {
      const xSrc = xRes >= 0 ? xRes + 4 * b0 * cIn * HW : xRawAt;
      if (xRes < 0) f.set(x.subarray(b0 * cIn * HW, (b0 + m) * cIn * HW), xRawAt / 4);
      const xAt = m > 1 ? l.xAt : xSrc;
      if (m > 1) swapNC(p, pl, m, xSrc, xAt, false);
      classes.forEach((c, k) => {
        const mP = m * c.P;
        // full-tap classes accumulate in place, the others in packed form (added to dW below)
        const [dst, ld] = c.T === kk ? [dwAt, kk * pl.cg] : [dwPackAt, Math.max(1, c.K)];
        const beta = classes.length > 1 ? (c.T === kk ? 1 : 0) : b0 === 0 ? 0 : 1;
        im2col(p, pl, c, m, xAt, colAt, true);
        for (let g = 0; g < groups; g++) {
          heap.gemm(false, true, og, c.K, mP, 1, dy[k] + 4 * g * og * mP, mP, colAt + 4 * g * c.K * mP, mP, beta, dst + 4 * g * og * c.K, ld, scratchAt);
        }
        if (c.T !== kk && !pl.direct) taps(rt, 'unpackTapsAdd', pl, c, dwPackAt, dwAt);
      });
    }
    if (gx) {
      // the gradient is built as [cIn, m, h*w] in scratch, then swapped into gx (or xRawAt)
      const gxAt = gxRes >= 0 ? gxRes + 4 * b0 * cIn * HW : xRawAt;
      const xAt = m > 1 ? l.xAt : gxAt;
      zero(rt, xAt, m * cIn * HW);
      classes.forEach((c, k) => {
        const mP = m * c.P;
        const cwAt = weights!(c);
        for (let g = 0; g < groups; g++) {
          heap.gemm(true, false, c.K, mP, og, 1, cwAt + 4 * g * og * c.K, Math.max(1, c.K), dy[k] + 4 * g * og * mP, mP, 0, colAt + 4 * g * c.K * mP, mP, scratchAt);
        }
        im2col(p, pl, c, m, xAt, colAt, false);
      });
      if (m > 1) swapNC(p, pl, m, xAt, gxAt, true);
      if (gxRes < 0) gx.set(f.subarray(gxAt / 4, gxAt / 4 + m * cIn * HW), b0 * cIn * HW);
    }
  }
  if (gw && pl.direct) {
    const { taps: cTaps, T } = classes[0];
    if (gwRes >= 0) {
      zero(rt, gwRes, w.length); // the taps that never see the input get no gradient
      taps(rt, 'unpackTaps', pl, classes[0], dwPackAt, gwRes);
    } else {
      gw.fill(0);
      let s = dwPackAt / 4;
      for (let oc = 0, e = cOut * pl.cg; oc < e; oc++) for (let t = 0; t < T; t++) gw[oc * kk + cTaps[t]] = f[s++];
    }
  } else if (gw && gwRes < 0) gw.set(f.subarray(dwAt / 4, dwAt / 4 + w.length));
  if (gb && bsum) gb.set(bsum);
  return true;
}
