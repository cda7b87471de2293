// JS side of the wasm pooling kernels (fast/pool_module.ts). Every kernel works on runs of
// whole (n, c) planes and writes only those, so when the operands are arena-resident they run
// in place, split into plane ranges across threads for large tensors; results are the same
// whatever the split (each plane is computed the same way by whichever thread takes it).
// Other arrays are copied through scratch in chunks of whole planes, on this thread.
//
// Max pooling works on groups of four planes (interleaved so one vector holds a pixel of four
// planes); a last group of fewer than four planes goes through scratch, where the spare lanes
// pool whatever the scratch holds and are never copied out.

import type { Pool2dParams } from '../pool.js';
import { chunkElements, splitEven, threadsFor, type FastEngine } from './engine.js';

type Plain = Float32Array | Int32Array;

const keepAlive = new WeakMap<Int32Array, Float32Array>();

/**
 * An Int32Array of n elements on an arena block, so the kernels use it in place (max-pool
 * indices); an ordinary array when the arena has no block for it. The block returns to the
 * arena when its Float32Array view is collected, so the indices keep that view alive.
 */
export function indexArray(eng: FastEngine, n: number): Int32Array {
  const block = eng.runtime.arena.float32(n, false);
  if (block === null) return new Int32Array(n);
  const idx = new Int32Array(block.buffer, block.byteOffset, n);
  keepAlive.set(idx, block);
  return idx;
}

/** An operand with `per` elements per plane: read by the kernel, or (`out`) only written. */
export interface PlaneOp {
  a: Plain;
  per: number;
  out?: boolean;
}

/**
 * Runs `kernel(...operand pointers, np, ...args)` over nPlanes planes. `tableBytes` of scratch
 * (filled by `init(at)`, its address passed to `args`) hold what every thread reads. In place
 * and split across threads (by `work` elements) when every operand is resident, else in chunks.
 */
export function overPlanes(
  eng: FastEngine, kernel: string, ops: readonly PlaneOp[], nPlanes: number, work: number,
  tableBytes: number, init: (at: number) => void, args: (at: number) => number[],
): void {
  const res = ops.map((o) => eng.resident(o.a));
  const inPlace = res.every((r) => r >= 0);
  const copied = inPlace ? [] : ops.flatMap((_, k) => (res[k] < 0 ? [k] : []));
  const cp = Math.min(nPlanes, Math.max(1, Math.floor(chunkElements() / Math.max(...ops.map((o) => o.per)))));
  const [tab, ...regions] = eng.layout([tableBytes, ...copied.map((k) => cp * ops[k].per * 4)]);
  init(tab);
  const tail = args(tab);
  if (inPlace) {
    const jobs = splitEven(nPlanes, Math.min(nPlanes, threadsFor(work))).map(([p0, p1]) => [...res.map((r, k) => r + 4 * p0 * ops[k].per), p1 - p0, ...tail]);
    if (jobs.length === 1) eng.fn(kernel)(...jobs[0]);
    else eng.runtime.pool.run(kernel, jobs);
    return;
  }
  const fn = eng.fn(kernel);
  const at = res.slice();
  copied.forEach((k, j) => (at[k] = regions[j]));
  const heaps = ops.map((o) => (o.a instanceof Int32Array ? eng.i32 : eng.f32)); // after layout
  for (let p0 = 0; p0 < nPlanes; p0 += cp) {
    const np = Math.min(cp, nPlanes - p0);
    for (const k of copied) if (!ops[k].out) heaps[k].set(ops[k].a.subarray(p0 * ops[k].per, (p0 + np) * ops[k].per), at[k] >> 2);
    fn(...at.map((a, k) => (res[k] >= 0 ? a + 4 * p0 * ops[k].per : a)), np, ...tail);
    for (const k of copied) {
      if (ops[k].out) ops[k].a.set(heaps[k].subarray(at[k] >> 2, (at[k] >> 2) + np * ops[k].per), p0 * ops[k].per);
    }
  }
}

/** p.dilH === p.dilW === 1 and every window holds at least one input pixel (the caller checks). */
export function maxPool2dForwardWasm(eng: FastEngine, x: Float32Array, p: Pool2dParams, out: Float32Array, indices: Int32Array): void {
  const hw = p.h * p.w;
  const L = p.outH * p.outW;
  const planes = p.n * p.c;
  const geometry = [p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padH, p.padW, p.outH, p.outW];
  const tmpBytes = 16 * (hw + 2 * L); // one interleaved group, its values and its indices
  const groups = [x, out, indices].every((a) => eng.resident(a) >= 0) ? planes >> 2 : 0; // in place
  const T = groups > 0 ? Math.min(groups, threadsFor(x.length)) : 0;
  // The copy path's chunk: whole groups of planes (all of them, or the last < 4 planes).
  const cp = groups > 0 ? 4 : Math.min(Math.max(4, Math.floor(chunkElements() / hw) & ~3), (planes + 3) & ~3);
  const at = eng.layout([cp * hw * 4, cp * L * 4, cp * L * 4, tmpBytes, ...new Array<number>(T).fill(tmpBytes)]);
  const [rawAt, outAt, idxAt, tmpAt] = at;
  if (groups > 0) {
    const [xAt, oAt, iAt] = [x, out, indices].map((a) => eng.resident(a));
    const jobs = splitEven(groups, T).map(([g0, g1], t) => [xAt + 16 * g0 * hw, oAt + 16 * g0 * L, iAt + 16 * g0 * L, g1 - g0, ...geometry, at[4 + t]]);
    if (jobs.length === 1) eng.fn('max_pool_planes')(...jobs[0]);
    else eng.runtime.pool.run('max_pool_planes', jobs);
  }
  const pool = eng.fn('max_pool_planes');
  const heap = eng.f32;
  const heapI32 = eng.i32;
  for (let p0 = 4 * groups; p0 < planes; p0 += cp) {
    const np = Math.min(cp, planes - p0);
    heap.set(x.subarray(p0 * hw, (p0 + np) * hw), rawAt >> 2);
    pool(rawAt, outAt, idxAt, (np + 3) >> 2, ...geometry, tmpAt);
    out.set(heap.subarray(outAt >> 2, (outAt >> 2) + np * L), p0 * L);
    indices.set(heapI32.subarray(idxAt >> 2, (idxAt >> 2) + np * L), p0 * L);
  }
}

/** gradX = 0, then every output gradient added at its plane's argmax (indices outside the plane: none). */
export function maxPool2dBackwardWasm(eng: FastEngine, gradOut: Float32Array, indices: Int32Array, p: Pool2dParams, gradX: Float32Array): void {
  const hw = p.h * p.w;
  const L = p.outH * p.outW;
  const ops: PlaneOp[] = [{ a: gradOut, per: L }, { a: indices, per: L }, { a: gradX, per: hw, out: true }];
  overPlanes(eng, 'max_pool_backward', ops, p.n * p.c, gradX.length, 0, () => {}, () => [hw, L]);
}
