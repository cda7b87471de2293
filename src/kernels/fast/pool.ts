// JS side of the wasm max pooling (fast/pool_module.ts): chunks of whole planes, a multiple of
// four, are copied in, interleaved, pooled four planes per vector, and the values and argmax
// indices de-interleaved and copied out. A last group of fewer than four planes pools whatever
// the scratch holds in its spare lanes, which are never copied out.

import type { Pool2dParams } from '../pool.js';
import { chunkElements, type FastEngine } from './engine.js';

/** p.dilH === p.dilW === 1 and every window holds at least one input pixel (the caller checks). */
export function maxPool2dForwardWasm(eng: FastEngine, x: Float32Array, p: Pool2dParams, out: Float32Array, indices: Int32Array): void {
  const hw = p.h * p.w;
  const L = p.outH * p.outW;
  const planes = p.n * p.c;
  const cp = Math.min(Math.max(4, Math.floor(chunkElements() / hw) & ~3), (planes + 3) & ~3);
  const [rawAt, interAt, outAt, idxAt, outPlanarAt, idxPlanarAt] = eng.layout([cp * hw * 4, cp * hw * 4, cp * L * 4, cp * L * 4, cp * L * 4, cp * L * 4]);
  const heap = eng.f32;
  const heapI32 = eng.i32;
  const interleave = eng.fn('interleave4');
  const deinterleave = eng.fn('deinterleave4');
  const pool = eng.fn('max_pool_dense');
  for (let p0 = 0; p0 < planes; p0 += cp) {
    const np = Math.min(cp, planes - p0);
    const groups = (np + 3) >> 2;
    heap.set(x.subarray(p0 * hw, (p0 + np) * hw), rawAt >> 2);
    interleave(rawAt, interAt, groups, hw);
    pool(interAt, outAt, idxAt, groups, p.h, p.w, p.kh, p.kw, p.strideH, p.strideW, p.padH, p.padW, p.outH, p.outW);
    deinterleave(outAt, outPlanarAt, groups, L);
    deinterleave(idxAt, idxPlanarAt, groups, L);
    out.set(heap.subarray(outPlanarAt >> 2, (outPlanarAt >> 2) + np * L), p0 * L);
    indices.set(heapI32.subarray(idxPlanarAt >> 2, (idxPlanarAt >> 2) + np * L), p0 * L);
  }
}
