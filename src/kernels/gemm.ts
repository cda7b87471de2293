// GEMM, the public kernel: C = alpha * op(A) * op(B) + beta * C, row-major, BLAS sgemm/dgemm
// argument conventions (op(X) = X or X^T; lda/ldb/ldc are row strides; offsets in elements).
// As in BLAS, C is not read when beta == 0 (NaNs there do not propagate).
//
// `gemm` dispatches through the backend registry (backend.ts): the wasm backend takes float32
// operands with enough work to the WebAssembly SIMD kernel (wasm/gemm_module.ts) running on the
// worker pool (threads/pool.ts) and declines the rest; the reference backend is `gemmReference`,
// the plain TypeScript oracle.
//
// Operands that are kernel-arena blocks (tensor storage, memory/arena.ts) are used in place;
// others are copied into the GEMM's scratch block (packing is a copy anyway) and C is copied
// back out. `gemmHeap` lets callers that build their operands in that memory themselves
// (conv_fast.ts writes its im2col columns there) run the same kernel by address. The work split
// is a function of (M, N, K, thread count) only and every C element is summed in the same order
// whatever the split, so results are bit-identical from run to run (and, in fact, across thread
// counts on one machine).

import type { FloatArray } from './dtype.js';
import { kernelChains, noKernel, registerKernel } from './backend.js';
import { CONTROL_BYTES, ScratchBlock, type Arena } from './memory/arena.js';
import { kernelRuntime, type KernelRuntime } from './runtime.js';
import { KernelPool, getNumThreads } from './threads/pool.js';
import { MR, NR, TILE_TMP_BYTES, packedABytes, packedBBytes } from './wasm/gemm_module.js';

export type GemmArray = FloatArray;

// Cache blocking (elements). KC x 8 B sliver (16 KiB) stays in L1, MC x KC A block (256 KiB) in
// L2, KC x NC B panel (4 MiB) in L3. On a 2-core AMD EPYC (32 KiB L1d, 512 KiB L2) the choice
// matters little (within ~5% from 64/256/2048 to 128/768/1024); this one was among the best.
const MC = 128;
const KC = 512;
const NC = 2048;

export interface GemmTuning {
  /** Below this M*N*K the copy-in / copy-out overhead beats the SIMD win: use the reference. */
  fastMinMNK: number;
  /** Each extra thread must get at least this many flops (handing over a job costs 25-100 us). */
  minFlopsPerThread: number;
}

// Measured: the wasm path (with its copies) beats the reference from about 12^3 on; a second
// thread breaks even near 8 MFLOP and wins 10-30% from 14-30 MFLOP.
const tuning: GemmTuning = { fastMinMNK: 2048, minFlopsPerThread: 6e6 };

/** Dispatch thresholds (tests set them to 0 to push tiny shapes through the wasm path and the split). */
export function getGemmTuning(): GemmTuning {
  return { ...tuning };
}

/** Change dispatch thresholds; returns the previous values. Results do not depend on them. */
export function setGemmTuning(t: Partial<GemmTuning>): GemmTuning {
  const prev = getGemmTuning();
  for (const [k, v] of Object.entries(t) as [keyof GemmTuning, number][]) {
    if (!(k in tuning) || !(v >= 0)) throw new RangeError(`setGemmTuning: bad ${k}=${v}`);
    tuning[k] = v;
  }
  return prev;
}

// ---------------------------------------------------------------------------------------------
// Argument checks (shared by both paths: the fast path must never read out of bounds silently).

function checkMatrix(name: string, X: FloatArray, off: number, rows: number, cols: number, ld: number): void {
  if (!Number.isInteger(off) || off < 0) throw new RangeError(`gemm: ${name} offset ${off} is not a non-negative integer`);
  // A matrix with no elements is never read, so any ld fits it ([8,0] @ [0,8] passes lda = 0).
  const minLd = rows > 0 && cols > 0 ? cols : 0;
  if (!Number.isInteger(ld) || ld < minLd) throw new RangeError(`gemm: ld${name.toLowerCase()}=${ld} < max(1, ${cols})`);
  if (rows > 0 && cols > 0 && off + (rows - 1) * ld + cols > X.length) {
    throw new RangeError(`gemm: ${name} (${rows}x${cols}, ld ${ld}, offset ${off}) exceeds its array (length ${X.length})`);
  }
}

function checkArgs(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: FloatArray, aOff: number, lda: number, B: FloatArray, bOff: number, ldb: number,
  C: FloatArray, cOff: number, ldc: number,
): void {
  for (const [n, v] of [['M', M], ['N', N], ['K', K]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`gemm: ${n}=${v} is not a non-negative integer`);
  }
  checkMatrix('A', A, aOff, transA ? K : M, transA ? M : K, lda);
  checkMatrix('B', B, bOff, transB ? N : K, transB ? K : N, ldb);
  checkMatrix('C', C, cOff, M, N, ldc);
}

/** C = beta * C on the M x N block (C = 0 when beta == 0, without reading C). */
function scaleC(M: number, N: number, beta: number, C: FloatArray, cOff: number, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < M; i++) {
    const r = cOff + i * ldc;
    if (beta === 0) C.fill(0, r, r + N);
    else for (let j = 0; j < N; j++) C[r + j] *= beta;
  }
}

// ---------------------------------------------------------------------------------------------
// Reference kernel.

/**
 * Plain TypeScript GEMM with the same signature and semantics as `gemm`; sums in float64, so it
 * is exact enough to be the oracle for both float32 and float64. The reference backend's GEMM;
 * the others fall back to it for float64 and small products.
 */
export function gemmReference(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOffset: number, lda: number,
  B: FloatArray, bOffset: number, ldb: number,
  beta: number, C: FloatArray, cOffset: number, ldc: number,
): void {
  checkArgs(transA, transB, M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc);
  referenceUnchecked(transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc);
}

function referenceUnchecked(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOff: number, lda: number, B: FloatArray, bOff: number, ldb: number,
  beta: number, C: FloatArray, cOff: number, ldc: number,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0 || alpha === 0) return scaleC(M, N, beta, C, cOff, ldc);
  const acc = new Float64Array(N);
  const arow = new Float64Array(K);
  const ars = transA ? 1 : lda;
  const acs = transA ? lda : 1;
  for (let i = 0; i < M; i++) {
    const ai = aOff + i * ars;
    if (!transB) {
      // i-k-j: the inner loop runs along contiguous rows of B, four rows of B per pass.
      acc.fill(0);
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const a0 = A[ai + k * acs];
        const a1 = A[ai + (k + 1) * acs];
        const a2 = A[ai + (k + 2) * acs];
        const a3 = A[ai + (k + 3) * acs];
        const b0 = bOff + k * ldb;
        const b1 = b0 + ldb;
        const b2 = b1 + ldb;
        const b3 = b2 + ldb;
        for (let j = 0; j < N; j++) acc[j] += a0 * B[b0 + j] + a1 * B[b1 + j] + a2 * B[b2 + j] + a3 * B[b3 + j];
      }
      for (; k < K; k++) {
        const a = A[ai + k * acs];
        const bk = bOff + k * ldb;
        for (let j = 0; j < N; j++) acc[j] += a * B[bk + j];
      }
    } else {
      // B^T: dot products along contiguous rows of B, four columns of C per pass.
      for (let k = 0; k < K; k++) arow[k] = A[ai + k * acs];
      let j = 0;
      for (; j + 4 <= N; j += 4) {
        const b0 = bOff + j * ldb;
        const b1 = b0 + ldb;
        const b2 = b1 + ldb;
        const b3 = b2 + ldb;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let k = 0; k < K; k++) {
          const a = arow[k];
          s0 += a * B[b0 + k];
          s1 += a * B[b1 + k];
          s2 += a * B[b2 + k];
          s3 += a * B[b3 + k];
        }
        acc[j] = s0;
        acc[j + 1] = s1;
        acc[j + 2] = s2;
        acc[j + 3] = s3;
      }
      for (; j < N; j++) {
        const bj = bOff + j * ldb;
        let s = 0;
        for (let k = 0; k < K; k++) s += arow[k] * B[bj + k];
        acc[j] = s;
      }
    }
    const ci = cOff + i * ldc;
    if (beta === 0) for (let j = 0; j < N; j++) C[ci + j] = alpha * acc[j];
    else for (let j = 0; j < N; j++) C[ci + j] = alpha * acc[j] + beta * C[ci + j];
  }
}

// ---------------------------------------------------------------------------------------------
// The wasm engine: the kernel runtime (arena memory + worker pool) and GEMM's scratch block.

interface Engine {
  rt: KernelRuntime;
  pool: KernelPool;
  arena: Arena;
  /** Operands copied in, C, and the per-thread packing buffers of one call (gemm's copy path, or a gemmHeap caller's layout). */
  scratch: ScratchBlock;
  relaxed: boolean;
}

let engine: Engine | null | undefined; // undefined: not tried yet; null: unavailable here

function getEngine(): Engine | null {
  if (engine === undefined) {
    const rt = kernelRuntime();
    engine = rt === null ? null : { rt, pool: rt.pool, arena: rt.arena, scratch: new ScratchBlock(rt.arena), relaxed: rt.relaxedSimd };
  }
  return engine;
}

/** What the fast GEMM path runs on (creates the engine if needed). For benchmarks and diagnostics. */
export function gemmInfo(): {
  available: boolean;
  relaxedSimd: boolean;
  threads: number;
  blocking: { mc: number; kc: number; nc: number };
  /** Current size of the shared wasm memory (it grows on demand and never shrinks). */
  memoryBytes: number;
} {
  const e = getEngine();
  return {
    available: e !== null,
    relaxedSimd: e?.relaxed ?? false,
    threads: getNumThreads(),
    blocking: { mc: MC, kc: KC, nc: NC },
    memoryBytes: e?.arena.byteLength ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Fast path.

const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** Leading dimension a rows x cols matrix gets in wasm memory: keep ld if the padding is cheap to copy. */
function heapLd(rows: number, cols: number, ld: number): number {
  if (ld === cols || rows === 1) return cols;
  return (rows - 1) * ld + cols <= 1.25 * rows * cols ? ld : cols;
}

/**
 * dst[dOff + r*dld + c] = src[sOff + r*sld + c] for r in [r0, r1), c in [c0, c1).
 * `gapsWritable`: dst elements between the rows' ranges may be overwritten (true for the wasm
 * heap, never for the caller's C), which allows one memcpy over a padded span.
 */
function copy2d(
  dst: Float32Array, dOff: number, dld: number, src: Float32Array, sOff: number, sld: number,
  r0: number, r1: number, c0: number, c1: number, gapsWritable: boolean,
): void {
  const h = r1 - r0;
  const w = c1 - c0;
  if (h <= 0 || w <= 0) return;
  const s0 = sOff + r0 * sld + c0;
  const d0 = dOff + r0 * dld + c0;
  if (dld === sld && (w === sld || h === 1 || (gapsWritable && (h - 1) * sld + w <= 1.25 * h * w))) {
    dst.set(src.subarray(s0, s0 + (h - 1) * sld + w), d0);
  } else if (w >= 32) {
    for (let r = 0; r < h; r++) dst.set(src.subarray(s0 + r * sld, s0 + r * sld + w), d0 + r * dld);
  } else {
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) dst[d0 + r * dld + c] = src[s0 + r * sld + c];
  }
}

/** Deterministic split: which dimension, and [start, end) ranges of it, one per thread. */
function planSplit(M: number, N: number, K: number): { splitM: boolean; ranges: [number, number][] } {
  // Splitting M makes every thread pack all of op(B) (K x N); splitting N, all of op(A) (M x K):
  // split the larger of M and N so the duplicated packing is the smaller operand.
  const splitM = M >= N;
  const unit = splitM ? MR : NR;
  const extent = splitM ? M : N;
  const units = Math.ceil(extent / unit);
  const byWork = tuning.minFlopsPerThread > 0 ? Math.floor((2 * M * N * K) / tuning.minFlopsPerThread) : Infinity;
  const T = Math.max(1, Math.min(getNumThreads(), byWork, units));
  const ranges: [number, number][] = [];
  const base = Math.floor(units / T);
  const extra = units % T;
  let u = 0;
  for (let t = 0; t < T; t++) {
    const n = base + (t >= T - extra ? 1 : 0); // remainders to the workers: the caller also copies
    ranges.push([u * unit, Math.min(extent, (u + n) * unit)]);
    u += n;
  }
  return { splitM, ranges };
}

/** K blocks of (almost) equal size, a multiple of 4, at most KC: no tiny last block. */
function kBlock(K: number): number {
  const blocks = Math.ceil(K / KC);
  return Math.min(KC, Math.ceil(Math.ceil(K / blocks) / 4) * 4);
}

interface Job {
  /** Per-thread argument lists for the wasm `gemm` (order: GEMM_PARAMS in wasm/gemm_module.ts). */
  args: number[][];
  splitM: boolean;
  ranges: [number, number][];
  /** Bytes of per-thread scratch (packed A, packed B, edge tile) the job uses from `scratchAt` on. */
  scratchBytes: number;
}

/**
 * Plans one wasm GEMM on operands at byte addresses of the memory: op(A)(i,k) at
 * aAt + 4*(i*ars + k*acs) with ars/acs from lda and transA (likewise B), C row-major with ldc.
 */
function planJob(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  aAt: number, lda: number, bAt: number, ldb: number, beta: number, cAt: number, ldc: number, scratchAt: number,
): Job {
  const { splitM, ranges } = planSplit(M, N, K);
  const kc = kBlock(K);
  const mc = MC;
  const nc = Math.min(NC, splitM ? N : Math.max(...ranges.map(([s, e]) => e - s)));
  const apBytes = align64(packedABytes(mc, kc));
  const bpBytes = align64(packedBBytes(kc, nc));
  const perThread = apBytes + bpBytes + align64(TILE_TMP_BYTES);
  const ars = transA ? 1 : lda;
  const acs = transA ? lda : 1;
  const brs = transB ? 1 : ldb;
  const bcs = transB ? ldb : 1;
  const args = ranges.map(([s, e], t) => {
    const scratch = scratchAt + t * perThread;
    const [m, n, a, b, c] = splitM
      ? [e - s, N, aAt + 4 * s * ars, bAt, cAt + 4 * s * ldc]
      : [M, e - s, aAt, bAt + 4 * s * bcs, cAt + 4 * s];
    return [m, n, K, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, scratch, scratch + apBytes, scratch + apBytes + bpBytes, mc, kc, nc];
  });
  return { args, splitM, ranges, scratchBytes: ranges.length * perThread };
}

/**
 * Returns false if the job doesn't fit in the wasm memory (the caller splits it). Operands that
 * are arena blocks (tensor storage, memory/arena.ts) are used in place; the others are copied
 * into the scratch block, and C copied back out.
 */
function gemmFast(
  eng: Engine, transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
  beta: number, C: Float32Array, cOff: number, ldc: number,
): boolean {
  const { pool, arena } = eng;
  const aRows = transA ? K : M;
  const aCols = transA ? M : K;
  const bRows = transB ? N : K;
  const bCols = transB ? K : N;
  const aRes = arena.addressOf(A);
  const bRes = arena.addressOf(B);
  const cRes = C !== A && C !== B ? arena.addressOf(C) : -1; // C must not alias an operand in place
  const ldaH = aRes >= 0 ? lda : heapLd(aRows, aCols, lda);
  const ldbH = bRes >= 0 ? ldb : heapLd(bRows, bCols, ldb);
  const ldcH = cRes >= 0 ? ldc : N;

  // Scratch layout (offsets from the block): [A][B][C] (those not resident), then per thread:
  // packed A, packed B, edge tile.
  let p = 0;
  const aRel = p;
  if (aRes < 0) p += align64(((aRows - 1) * ldaH + aCols) * 4);
  const bRel = p;
  if (bRes < 0) p += align64(((bRows - 1) * ldbH + bCols) * 4);
  const cRel = p;
  if (cRes < 0) p += align64(M * N * 4);
  const packRel = p;
  p += packScratchBytes(M, N, K);
  if (p > 2 ** 32) return false;
  const base = eng.scratch.ensure(p);
  if (base < 0) return false;
  const aAt = aRes >= 0 ? aRes + 4 * aOff : base + aRel;
  const bAt = bRes >= 0 ? bRes + 4 * bOff : base + bRel;
  const cAt = cRes >= 0 ? cRes + 4 * cOff : base + cRel;
  const job = planJob(transA, transB, M, N, K, alpha, aAt, ldaH, bAt, ldbH, beta, cAt, ldcH, base + packRel);
  const { splitM, ranges } = job;

  // Copy-in order: the operand every thread reads in full, then the workers' slices; the
  // caller's slice is copied after the workers' jobs are posted, overlapping their compute.
  // Column slices never use the padded-span memcpy (it would rewrite other slices' columns).
  const heap = arena.f32;
  const a0 = aAt / 4;
  const b0 = bAt / 4;
  const c0 = cAt / 4;
  const copyAll = (X: 'A' | 'B'): void => {
    if (X === 'A' && aRes < 0) copy2d(heap, a0, ldaH, A, aOff, lda, 0, aRows, 0, aCols, true);
    if (X === 'B' && bRes < 0) copy2d(heap, b0, ldbH, B, bOff, ldb, 0, bRows, 0, bCols, true);
  };
  const copySliceIn = ([s, e]: [number, number]): void => {
    if (splitM) {
      // rows s..e of op(A): stored rows if A is not transposed, stored columns if it is
      if (aRes < 0) {
        if (transA) copy2d(heap, a0, ldaH, A, aOff, lda, 0, aRows, s, e, false);
        else copy2d(heap, a0, ldaH, A, aOff, lda, s, e, 0, aCols, true);
      }
      if (beta !== 0 && cRes < 0) copy2d(heap, c0, ldcH, C, cOff, ldc, s, e, 0, N, true);
    } else {
      // columns s..e of op(B)
      if (bRes < 0) {
        if (transB) copy2d(heap, b0, ldbH, B, bOff, ldb, s, e, 0, bCols, true);
        else copy2d(heap, b0, ldbH, B, bOff, ldb, 0, bRows, s, e, false);
      }
      if (beta !== 0 && cRes < 0) copy2d(heap, c0, ldcH, C, cOff, ldc, 0, M, s, e, false);
    }
  };
  const copySliceOut = ([s, e]: [number, number]): void => {
    if (cRes >= 0) return;
    if (splitM) copy2d(C, cOff, ldc, heap, c0, ldcH, s, e, 0, N, false);
    else copy2d(C, cOff, ldc, heap, c0, ldcH, 0, M, s, e, false);
  };

  copyAll(splitM ? 'B' : 'A');
  for (let t = ranges.length - 1; t >= 1; t--) copySliceIn(ranges[t]);
  pool.run('gemm', job.args, {
    beforeLocal: () => copySliceIn(ranges[0]),
    afterLocal: () => copySliceOut(ranges[0]),
  });
  for (let t = 1; t < ranges.length; t++) copySliceOut(ranges[t]);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Resident operands: callers that can build their operands in the wasm memory themselves
// (convolution writes its im2col columns there) skip gemm's copies entirely.

/**
 * Independent products of one shape (C_i = A_i B_i, row-major, lda = K, ldb = ldc = N), each
 * whole on one thread, P at a time: the per-thread argument lists of each round. Each product
 * is blocked exactly as planJob blocks it, so every element is summed in `gemm`'s order.
 */
function planBatch(M: number, N: number, K: number, count: number) {
  const kc = kBlock(K);
  const nc = Math.min(NC, N);
  const apBytes = align64(packedABytes(MC, kc));
  const bpBytes = align64(packedBBytes(kc, nc));
  const perThread = apBytes + bpBytes + align64(TILE_TMP_BYTES);
  const byWork = tuning.minFlopsPerThread > 0 ? Math.floor((count * 2 * M * N * K) / tuning.minFlopsPerThread) : Infinity;
  const P = Math.max(1, Math.min(getNumThreads(), count, byWork));
  const args = (a: number, b: number, c: number, scratch: number): number[] =>
    [M, N, K, a, K, 1, b, N, 1, c, N, 1, 0, scratch, scratch + apBytes, scratch + apBytes + bpBytes, MC, kc, nc];
  return { P, perThread, args };
}

/** Scratch bytes planJob uses for this shape at the current thread count (it does not depend on op(A), op(B)). */
function packScratchBytes(M: number, N: number, K: number): number {
  return M === 0 || N === 0 || K === 0 ? 0 : planJob(false, false, M, N, K, 1, 0, K, 0, N, 0, 0, N, 0).scratchBytes;
}

/**
 * The fast GEMM's memory (the kernel arena), for callers that lay out operands in place.
 * Addresses are byte offsets into the memory. The scratch block belongs to the caller until its
 * next call into `gemm` (whose copy path lays out its own operands there): never hold data
 * in it across one.
 */
export interface GemmHeap {
  /**
   * Address of the scratch block, at least `bytes` long (64-byte aligned); -1 if the arena cannot
   * provide it. It may move when it grows, so lay out from the address this returns.
   */
  scratch(bytes: number): number;
  /**
   * Lays out a call's buffers in the scratch block: `lay(base)` places them from `base` and
   * returns where they end; if making room moves the block, they are laid out again from its
   * new address. The layout, or null if the arena cannot hold it.
   */
  place<T extends { end: number }>(lay: (base: number) => T): T | null;
  /** Byte address of `a` if it is arena storage the kernels may use in place, else -1. */
  addressOf(a: ArrayBufferView): number;
  /** A Float32Array over the whole memory; fetch it again after `scratch` (growth replaces the buffer). */
  f32(): Float32Array;
  /** Scratch bytes `gemm` uses from its `scratchAt` for this shape at the current thread count. */
  scratchBytes(M: number, N: number, K: number): number;
  /**
   * C = alpha * op(A) * op(B) + beta * C with A, B and C at byte offsets aAt, bAt, cAt (4-byte
   * aligned) and row strides lda, ldb, ldc in elements; packing scratch from `scratchAt`
   * (`scratchBytes(M, N, K)` bytes), which must not overlap the operands. Same kernel, split
   * and summation order as `gemm`'s fast path, so the results are identical to it.
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    aAt: number, lda: number, bAt: number, ldb: number, beta: number, cAt: number, ldc: number, scratchAt: number,
  ): void;
  /** Scratch bytes `gemmBatch` uses for `count` products of this shape at the current thread count. */
  batchScratchBytes(M: number, N: number, K: number, count: number): number;
  /**
   * C_i = A_i B_i for independent products of one shape (row-major; lda = K, ldb = ldc = N;
   * byte addresses [aAt, bAt, cAt] each), every product whole on one thread, as many at once
   * as there are threads: for batches of products too small to split one by one (Winograd's
   * 16). Each element is summed in `gemm`'s order, so results match it bit for bit.
   */
  gemmBatch(M: number, N: number, K: number, products: readonly (readonly [number, number, number])[], scratchAt: number): void;
}

function checkResident(name: string, at: number, rows: number, cols: number, ld: number, bytes: number): void {
  if (!Number.isInteger(at) || at < CONTROL_BYTES || at % 4 !== 0) {
    throw new RangeError(`gemmHeap.gemm: ${name} address ${at} is not a 4-byte aligned offset >= ${CONTROL_BYTES}`);
  }
  if (!Number.isInteger(ld) || ld < Math.max(1, cols)) throw new RangeError(`gemmHeap.gemm: ld${name.toLowerCase()}=${ld} < max(1, ${cols})`);
  if (rows > 0 && cols > 0 && at + 4 * ((rows - 1) * ld + cols) > bytes) {
    throw new RangeError(`gemmHeap.gemm: ${name} (${rows}x${cols}, ld ${ld}, at ${at}) exceeds the wasm memory (${bytes} bytes)`);
  }
}

function makeHeap(eng: Engine): GemmHeap {
  const { pool, arena } = eng;
  const scratch = (bytes: number): number => (bytes > 2 ** 32 ? -1 : eng.scratch.ensure(bytes));
  return {
    scratch,
    place(lay) {
      let base = scratch(0);
      for (let tries = 0; tries < 3 && base >= 0; tries++) {
        const l = lay(base);
        const at = scratch(l.end - base);
        if (at === base) return l;
        base = at;
      }
      return null;
    },
    addressOf: (a) => arena.addressOf(a),
    f32: () => arena.f32,
    scratchBytes: packScratchBytes,
    gemm(transA, transB, M, N, K, alpha, aAt, lda, bAt, ldb, beta, cAt, ldc, scratchAt) {
      for (const [n, v] of [['M', M], ['N', N], ['K', K]] as const) {
        if (!Number.isInteger(v) || v < 0) throw new RangeError(`gemmHeap.gemm: ${n}=${v} is not a non-negative integer`);
      }
      const bytes = arena.byteLength;
      checkResident('A', aAt, transA ? K : M, transA ? M : K, lda, bytes);
      checkResident('B', bAt, transB ? N : K, transB ? K : N, ldb, bytes);
      checkResident('C', cAt, M, N, ldc, bytes);
      if (M === 0 || N === 0) return;
      if (K === 0 || alpha === 0) return scaleC(M, N, beta, arena.f32, cAt / 4, ldc);
      const job = planJob(transA, transB, M, N, K, alpha, aAt, lda, bAt, ldb, beta, cAt, ldc, scratchAt);
      if (!Number.isInteger(scratchAt) || scratchAt < CONTROL_BYTES || scratchAt % 64 !== 0 || scratchAt + job.scratchBytes > bytes) {
        throw new RangeError(`gemmHeap.gemm: scratch at ${scratchAt} (${job.scratchBytes} bytes, 64-byte aligned) exceeds the wasm memory (${bytes} bytes)`);
      }
      pool.run('gemm', job.args);
    },
    batchScratchBytes: (M, N, K, count) => (M === 0 || N === 0 || K === 0 || count === 0 ? 0 : planBatch(M, N, K, count).P * planBatch(M, N, K, count).perThread),
    gemmBatch(M, N, K, products, scratchAt) {
      if (M === 0 || N === 0 || products.length === 0) return;
      const bytes = arena.byteLength;
      for (const [aAt, bAt, cAt] of products) {
        checkResident('A', aAt, M, K, Math.max(1, K), bytes);
        checkResident('B', bAt, K, N, N, bytes);
        checkResident('C', cAt, M, N, N, bytes);
      }
      if (K === 0) {
        for (const [, , cAt] of products) scaleC(M, N, 0, arena.f32, cAt / 4, N);
        return;
      }
      const { P, perThread, args } = planBatch(M, N, K, products.length);
      if (!Number.isInteger(scratchAt) || scratchAt < CONTROL_BYTES || scratchAt % 64 !== 0 || scratchAt + P * perThread > bytes) {
        throw new RangeError(`gemmHeap.gemmBatch: scratch at ${scratchAt} (${P * perThread} bytes, 64-byte aligned) exceeds the wasm memory (${bytes} bytes)`);
      }
      for (let r = 0; r < products.length; r += P) {
        const round = products.slice(r, r + P).map(([a, b, c], t) => args(a, b, c, scratchAt + t * perThread));
        pool.run('gemm', round);
      }
    },
  };
}

let heapView: GemmHeap | null = null;

/**
 * The fast GEMM's memory for resident-operand products (for the wasm backend's kernels), or
 * null where it is unavailable (no wasm SIMD / SharedArrayBuffer).
 */
export function gemmHeap(): GemmHeap | null {
  const eng = getEngine();
  if (eng === null) return null;
  heapView ??= makeHeap(eng);
  return heapView;
}

// ---------------------------------------------------------------------------------------------
// Public entry.

/**
 * C = alpha * op(A) * op(B) + beta * C (row-major; op(X) = X^T when transX). A is M x K after
 * op, B is K x N after op, C is M x N. `lda`, `ldb`, `ldc` are the row strides of the arrays as
 * stored; offsets are element offsets of the first element.
 * Runs on the backend in use (backend.ts): with wasm, float32 operands with enough work run on
 * the wasm SIMD kernel, multi-threaded; float64 (or mixed) operands and small products on
 * `gemmReference`.
 */
export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOffset: number, lda: number,
  B: FloatArray, bOffset: number, ldb: number,
  beta: number, C: FloatArray, cOffset: number, ldc: number,
): void {
  checkArgs(transA, transB, M, N, K, A, aOffset, lda, B, bOffset, ldb, C, cOffset, ldc);
  if (M === 0 || N === 0) return;
  if (K === 0 || alpha === 0) return scaleC(M, N, beta, C, cOffset, ldc);
  const chain = kernelChains().gemm;
  for (let i = 0; i < chain.length; i++) {
    if (chain[i](transA, transB, M, N, K, alpha, A, aOffset, lda, B, bOffset, ldb, beta, C, cOffset, ldc)) return;
  }
  throw noKernel('gemm');
}

/** The wasm backend's GEMM (arguments checked, M, N, K, alpha non-zero): float32 with enough work, else declined. */
function gemmWasm(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOff: number, lda: number, B: FloatArray, bOff: number, ldb: number,
  beta: number, C: FloatArray, cOff: number, ldc: number,
): boolean {
  if (!(A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array) || M * N * K < tuning.fastMinMNK) return false;
  const eng = getEngine();
  if (eng === null) return false;
  if (gemmFast(eng, transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc)) return true;
  if (M <= 1 && N <= 1) return false;
  // Too big for the wasm memory: halve M or N (each C element is still summed the same way).
  if (M >= N) {
    const h = Math.ceil(M / 2);
    const aStep = transA ? h : h * lda;
    wasmOrReference(transA, transB, h, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
    wasmOrReference(transA, transB, M - h, N, K, alpha, A, aOff + aStep, lda, B, bOff, ldb, beta, C, cOff + h * ldc, ldc);
  } else {
    const h = Math.ceil(N / 2);
    const bStep = transB ? h * ldb : h;
    wasmOrReference(transA, transB, M, h, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
    wasmOrReference(transA, transB, M, N - h, K, alpha, A, aOff, lda, B, bOff + bStep, ldb, beta, C, cOff + h, ldc);
  }
  return true;
}

function wasmOrReference(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOff: number, lda: number, B: FloatArray, bOff: number, ldb: number,
  beta: number, C: FloatArray, cOff: number, ldc: number,
): void {
  if (!gemmWasm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc)) {
    referenceUnchecked(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
  }
}

registerKernel('gemm', 'wasm', gemmWasm);
registerKernel('gemm', 'reference', (transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) => {
  referenceUnchecked(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
  return true;
});
