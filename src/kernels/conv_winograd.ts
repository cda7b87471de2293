// Winograd F(2x2, 3x3) for 3x3, stride-1, undilated, ungrouped float32 convolutions: the
// forward pass and the input gradient (conv_dispatch.ts routes the shapes where it measured
// faster than conv_fast.ts, `useWinograd`; the weight and bias gradients stay on conv_fast).
//
// Each 2x2 output tile is A^T [ (G g G^T) ⊙ (B^T d B) ] A for its 4x4 input tile d and each
// filter g: 16 multiplies per (input, output channel) pair instead of 36. Batched over channels
// and the T = m * tilesH * tilesW tiles of a chunk of m images (tiles zero-padded past the map),
// in the kernel arena:
//   U[xi] = (G g G^T)[xi]  per filter       16 matrices [cDst, cSrc]   wasm, split by rows
//   V[xi] = (B^T d B)[xi]  per tile         16 matrices [cSrc, T]      wasm SIMD, split by channel
//   M[xi] = U[xi] V[xi]                     16 GEMMs, each whole on one thread (`gemmHeap().gemmBatch`)
//   y = A^T M A (+ bias)                    into NCHW, wasm SIMD, split by channel
// (the transforms: fast/winograd_module.ts). The input gradient of a stride-1 3x3 conv with
// padding p is a 3x3 conv of dY with padding 2 - p, the filters turned by 180 degrees and
// cIn / cOut swapped: the same pipeline, the filters read turned and U laid out transposed.
//
// Operands that are arena blocks (tensor storage) are read and written in place; others are
// copied through the scratch block. Images go in chunks so V and M stay within a budget.
//
// Accuracy. The transforms only add, subtract and halve (exact), so a stage-by-stage rounding
// analysis bounds the error of every output by about (K + 11) u S, u = 2^-24, K = cSrc, where
//   S = |A^T| [ sum_c (|G| |g_c| |G^T|) ⊙ (|B^T| |d_c| |B|) ] |A|  (+ |bias|)
// is the same pipeline on absolute values: 2 roundings in B^T d B, 4 in G g G^T, K in the
// GEMM's sum of products, 4 in A^T M A, 1 for the bias. Random errors stay far below that worst
// case: measured at most 1.99 u S (forward and input gradient, K = 1..128, maps 3..9, pads 0
// and 1); test/kernels-conv-winograd.test.ts asserts 4 u S against the float64 reference. S
// exceeds the plain sum of |terms| of an output, sum |g| |d| (by 8x on average on random data),
// and by far more on tiles that are mostly padding, where an output's own terms are few while
// its tile's are not: relative to those terms errors reach hundreds of u at the border, while
// staying a few u of the tile's magnitudes, as with any Winograd convolution.
//
// Results are deterministic: chunks depend on the shapes only, every transformed value is
// computed by the same instructions whatever the thread split, and each GEMM's sums depend on
// (M, N, K) only, so they are identical run to run and across thread counts.

import type { Conv2dParams } from './conv.js';
import { pixelClasses } from './conv_fast.js';
import { splitEven, threadsFor } from './fast/engine.js';
import { gemmHeap } from './gemm.js';
import { sumAxes } from './reduce.js';
import { kernelRuntime } from './runtime.js';
import { getNumThreads } from './threads/pool.js';

let enabled = true;

/** Turn the Winograd path on or off (tests, benchmarks); returns the previous setting. */
export function setWinograd(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** Floats of V, M and copied operands per chunk of images (16 MiB, as conv_fast's budget). */
let chunkBudget = 1 << 22;

/** Change the per-chunk budget (floats; tests shrink it to force chunks); returns the previous one. */
export function setWinogradChunkBudget(floats: number): number {
  if (!Number.isInteger(floats) || floats < 1) throw new RangeError(`setWinogradChunkBudget: expected a positive integer, got ${floats}`);
  const prev = chunkBudget;
  chunkBudget = floats;
  return prev;
}

/** Whether Winograd can compute this convolution at all (its shape; dtype and mode are the caller's). */
export function winogradShape(p: Conv2dParams): boolean {
  return (
    p.kh === 3 && p.kw === 3 && p.strideH === 1 && p.strideW === 1 && p.dilH === 1 && p.dilW === 1 && p.groups === 1 &&
    (p.padH === 0 || p.padH === 1) && (p.padW === 0 || p.padW === 1) &&
    p.outH === p.h + 2 * p.padH - 2 && p.outW === p.w + 2 * p.padW - 2
  );
}

/**
 * Winograd runs where it does at least this factor fewer multiplies than conv_fast (which skips
 * padding-only taps on small maps). Measured against conv_fast (batch 64, 8 to 256 channels,
 * 1 thread, this shared 2-core machine): the speed-up tracks the ratio: 1.6-2.4x at ratios of
 * 1.56-2.25 (maps of 4x4 and from 6x6 up), 1.3-1.6x at 1.1-1.2 (5x5 maps, the input gradient of
 * a pad-0 conv on 9x9), 1.0x at 1.0 (that on 6x6), 1.0-1.1x at 0.77 (3x3 maps), 0.8x at 0.88.
 */
const MIN_RATIO = 1.1;

/** Multiplies per (input, output channel) pair per image: conv_fast's (taps x pixels of its classes) and Winograd's. */
export function winogradWork(p: Conv2dParams, pass: 'forward' | 'input'): { direct: number; winograd: number } {
  const direct = pixelClasses(p).reduce((s, c) => s + c.taps.length * c.rows * c.cols, 0);
  const [mh, mw] = pass === 'forward' ? [p.outH, p.outW] : [p.h, p.w];
  return { direct, winograd: 16 * Math.ceil(mh / 2) * Math.ceil(mw / 2) };
}

/**
 * Whether conv_dispatch should use Winograd for this convolution's forward pass ('forward') or
 * input gradient ('input'): switched on, a shape it computes, an output map of at least 3x3
 * (on 2x2 and 1x1 maps conv_fast already skips the padding-only taps) and MIN_RATIO.
 */
export function useWinograd(p: Conv2dParams, pass: 'forward' | 'input'): boolean {
  if (!enabled || !winogradShape(p)) return false;
  const [mh, mw] = pass === 'forward' ? [p.outH, p.outW] : [p.h, p.w];
  if (mh < 3 || mw < 3) return false;
  const { direct, winograd } = winogradWork(p, pass);
  return direct >= MIN_RATIO * winograd;
}

// ---------------------------------------------------------------------------------------------
// Geometry and layout.

interface Geometry {
  n: number;
  /** Channels read (the tiles' source) and written. */
  cSrc: number;
  cDst: number;
  /** Source map, its padding, the output map. */
  hs: number;
  ws: number;
  ph: number;
  pw: number;
  ho: number;
  wo: number;
  tilesH: number;
  tilesW: number;
  /** Tiles per image. */
  tpi: number;
  /** Floats per row of a thread's staging plane (wino_input: the padded source plane). */
  rowLen: number;
  /** Floats of one thread's buffer: the staging plane or the output rows, whichever is larger. */
  bufFloats: number;
}

function geometry(n: number, cSrc: number, cDst: number, hs: number, ws: number, ph: number, pw: number): Geometry {
  const ho = hs + 2 * ph - 2;
  const wo = ws + 2 * pw - 2;
  const tilesH = Math.ceil(ho / 2);
  const tilesW = Math.ceil(wo / 2);
  const tw4 = Math.ceil(tilesW / 4) * 4;
  // The tile loads reach column 2*tw4 + 1; the plane copy writes zeros up to column pw + ws + 3.
  const rowLen = Math.ceil(Math.max(2 * tw4 + 2, pw + ws + 4) / 4) * 4;
  const bufFloats = Math.max((2 * tilesH + 2) * rowLen, 2 * 2 * tw4);
  return { n, cSrc, cDst, hs, ws, ph, pw, ho, wo, tilesH, tilesW, tpi: tilesH * tilesW, rowLen, bufFloats };
}

const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/**
 * Byte stride between the 16 matrices of U, V or M: the transforms touch all 16 at once, and at
 * strides that are multiples of 4 KiB those 16 streams share one L1 set (8 ways) and evict each
 * other (measured: the weight transform ran 5-15x slower, the input transform 2x). 320 bytes =
 * 5 lines apart per matrix spreads them over 16 distinct sets.
 */
const stagger = (bytes: number): number => Math.ceil(bytes / 4096) * 4096 + 320;

/** Threads for a transform writing `floats` values of `items` channels (the elementwise kernels' rule, at most one per channel). */
const transformThreads = (floats: number, items: number): number => Math.min(items, threadsFor(floats));

interface Operands {
  src: Float32Array;
  w: Float32Array;
  /** w's [cOut, cIn] (its own layout); U[xi] is [cDst, cSrc]: [cOut, cIn], or [cIn, cOut] when flipped. */
  cOut: number;
  cIn: number;
  flip: boolean;
  bias: Float32Array | null;
  dst: Float32Array;
}

/** The pipeline of the header for geometry g; false (nothing written) when the arena cannot hold it. */
function winograd(g: Geometry, o: Operands): boolean {
  const heap = gemmHeap();
  const rt = heap && kernelRuntime();
  if (!heap || !rt) return false;
  const { n, cSrc, cDst, hs, ws, tpi } = g;
  if (n === 0) return true;
  const HWs = hs * ws;
  const L = g.ho * g.wo;
  const srcRes = heap.addressOf(o.src);
  const wRes = heap.addressOf(o.w);
  const dstRes = o.dst !== o.src ? heap.addressOf(o.dst) : -1;
  const threads = getNumThreads();
  const perImage = 16 * tpi * (cSrc + cDst) + cSrc * HWs + cDst * L;
  const nb = Math.max(1, Math.min(n, Math.floor(chunkBudget / perImage)));
  const lastM = n - Math.floor((n - 1) / nb) * nb;
  const bufBytes = align64(4 * g.bufFloats + 16);

  const lay = (base: number) => {
    let at = base;
    const take = (bytes: number): number => {
      const a = at;
      at = align64(at + bytes + 16); // 16: the vector loops' overrun
      return a;
    };
    const uAt = take(16 * stagger(4 * cDst * cSrc));
    const wAt = wRes >= 0 ? wRes : take(4 * o.w.length);
    const biasAt = o.bias ? take(4 * cDst) : -1;
    const srcAt = srcRes >= 0 ? -1 : take(4 * nb * cSrc * HWs);
    const vAt = take(16 * stagger(4 * cSrc * nb * tpi));
    const mAt = take(16 * stagger(4 * cDst * nb * tpi));
    const dstAt = dstRes >= 0 ? -1 : take(4 * nb * cDst * L);
    const bufAt = take(threads * bufBytes);
    const gemmAt = at;
    const end = gemmAt + Math.max(heap.batchScratchBytes(cDst, nb * tpi, cSrc, 16), heap.batchScratchBytes(cDst, lastM * tpi, cSrc, 16));
    return { uAt, wAt, biasAt, srcAt, vAt, mAt, dstAt, bufAt, gemmAt, end };
  };
  const l = heap.place(lay);
  if (l === null) return false;
  const { uAt, wAt, biasAt, srcAt, vAt, mAt, dstAt, bufAt, gemmAt } = l;
  const f = heap.f32();
  const { pool } = rt;

  // U = G g G^T, split by the filters' output channel
  if (wRes < 0) f.set(o.w, wAt / 4);
  if (o.bias) f.set(o.bias, biasAt / 4);
  const xiU = stagger(4 * cDst * cSrc);
  // U[xi] is [cDst, cSrc]: rows are the filters' output channels, or their input channels when flipped
  const [sRow, sCol] = o.flip ? [36, 36 * o.cIn] : [36 * o.cIn, 36];
  pool.run(
    'wino_weights',
    splitEven(cDst, transformThreads(16 * cDst * cSrc, cDst)).map(([a, b]) => [wAt + a * sRow, b - a, cSrc, uAt + 4 * a * cSrc, sRow, sCol, xiU, o.flip ? 1 : 0]),
  );
  for (let b0 = 0; b0 < n; b0 += nb) {
    const m = Math.min(nb, n - b0);
    const T = m * tpi;
    let inAt = srcRes + 4 * b0 * cSrc * HWs;
    if (srcRes < 0) {
      f.set(o.src.subarray(b0 * cSrc * HWs, (b0 + m) * cSrc * HWs), srcAt / 4);
      inAt = srcAt;
    }
    const xiV = stagger(4 * cSrc * T);
    const xiM = stagger(4 * cDst * T);
    pool.run(
      'wino_input',
      splitEven(cSrc, transformThreads(16 * cSrc * T, cSrc)).map(([a, b], t) => [
        inAt + 4 * a * HWs, b - a, 4 * HWs, m, 4 * cSrc * HWs, hs, ws, g.ph, g.pw, g.tilesH, g.tilesW,
        vAt + 4 * a * T, 4 * T, xiV, bufAt + t * bufBytes, g.rowLen,
      ]),
    );
    // The 16 products whole, one per thread at a time: split one by one they would be too small
    // to use the second core at 7x7 and 4x4 (64 channels at 7x7, 2 threads: 3.9 ms per pass
    // that way, 2.1 ms this way), and each operand is packed once.
    heap.gemmBatch(cDst, T, cSrc, Array.from({ length: 16 }, (_, xi) => [uAt + xi * xiU, vAt + xi * xiV, mAt + xi * xiM] as const), gemmAt);
    const outAt = dstRes >= 0 ? dstRes + 4 * b0 * cDst * L : dstAt;
    pool.run(
      'wino_output',
      splitEven(cDst, transformThreads(16 * cDst * T, cDst)).map(([a, b], t) => [
        mAt + 4 * a * T, b - a, 4 * T, xiM, m, g.tilesH, g.tilesW, g.ho, g.wo,
        outAt + 4 * a * L, 4 * L, 4 * cDst * L, o.bias ? biasAt + 4 * a : -1, bufAt + t * bufBytes,
      ]),
    );
    if (dstRes < 0) o.dst.set(f.subarray(dstAt / 4, dstAt / 4 + m * cDst * L), b0 * cDst * L);
  }
  return true;
}

function checkShape(op: string, p: Conv2dParams): void {
  if (!winogradShape(p)) {
    throw new Error(
      `${op}: Winograd F(2x2,3x3) needs a 3x3 stride-1 undilated ungrouped conv with padding 0 or 1, got weight ` +
        `[${p.cOut}, ${p.cIn / p.groups}, ${p.kh}, ${p.kw}], stride [${p.strideH}, ${p.strideW}], padding [${p.padH}, ${p.padW}], ` +
        `dilation [${p.dilH}, ${p.dilW}], groups ${p.groups} (input [${p.n}, ${p.cIn}, ${p.h}, ${p.w}])`,
    );
  }
}

/**
 * Whether every element is finite. The Winograd transforms subtract neighbouring inputs, so one
 * Inf becomes Inf - Inf = NaN across its tile where the direct sum gives ±Inf: such inputs take
 * the direct path instead. The test is the float64 sum (the SIMD reduction): finite float32
 * values cannot overflow it, and any Inf or NaN makes it non-finite. (A sum beyond float32's
 * range also reads as non-finite: those rare inputs just take the direct path.) Measured on a
 * [32,64,14,14] input: 0.17 ms next to 9-10 ms for its 64-channel 3x3 Winograd forward.
 */
function allFinite(a: Float32Array): boolean {
  return Number.isFinite(sumAxes(a, [a.length], [0])[0]);
}

/**
 * out = conv(x, w) + bias by Winograd F(2x2, 3x3); false (nothing written) when the wasm
 * kernels are unavailable, the arena cannot hold a chunk, or an input is not finite (see
 * allFinite). Throws on shapes it cannot compute.
 */
export function conv2dForwardWinograd(x: Float32Array, w: Float32Array, bias: Float32Array | null, p: Conv2dParams, out: Float32Array): boolean {
  checkShape('conv2dForwardWinograd', p);
  if (!allFinite(x) || !allFinite(w)) return false;
  const g = geometry(p.n, p.cIn, p.cOut, p.h, p.w, p.padH, p.padW);
  return winograd(g, { src: x, w, cOut: p.cOut, cIn: p.cIn, flip: false, bias, dst: out });
}

/**
 * gx = the input gradient of conv(x, w) for the output gradient gy (gx overwritten), as the
 * Winograd forward of gy with padding 2 - p and w turned and transposed; false as above.
 */
export function conv2dBackwardInputWinograd(gy: Float32Array, w: Float32Array, p: Conv2dParams, gx: Float32Array): boolean {
  checkShape('conv2dBackwardInputWinograd', p);
  if (!allFinite(gy) || !allFinite(w)) return false;
  const g = geometry(p.n, p.cOut, p.cIn, p.outH, p.outW, 2 - p.padH, 2 - p.padW);
  return winograd(g, { src: gy, w, cOut: p.cOut, cIn: p.cIn, flip: true, bias: null, dst: gx });
}
