import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gemm, gemmHeap, gemmInfo, gemmReference, getGemmTuning, setGemmTuning, type GemmTuning } from '../src/kernels/gemm.js';
import { allocate } from '../src/kernels/dtype.js';
import { getKernelMode, setKernelMode } from '../src/kernels/mode.js';
import { getNumThreads, KernelPool, setNumThreads } from '../src/kernels/threads/pool.js';
import { F32, I32, ModuleBuilder, sleb, uleb } from '../src/kernels/wasm/emitter.js';
import { buildGemmModule } from '../src/kernels/wasm/gemm_module.js';
import { requireWasm } from '../src/kernels/wasm/wasm_api.js';
import { abs, randomF32, rng } from './helpers/random.js';
import { onBackend } from './helpers/modes.js';

// These tests are about the wasm kernels: run them on wasm whatever SKIPGRAD_BACKEND says.
onBackend('wasm');


interface Case {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  beta: number;
  aOff: number;
  lda: number;
  bOff: number;
  ldb: number;
  cOff: number;
  ldc: number;
  A: Float32Array;
  B: Float32Array;
  C: Float32Array;
}

function makeCase(transA: boolean, transB: boolean, M: number, N: number, K: number, seed: number): Case {
  const rand = rng(seed);
  const aRows = transA ? K : M;
  const aCols = transA ? M : K;
  const bRows = transB ? N : K;
  const bCols = transB ? K : N;
  const lda = Math.max(1, aCols + (seed % 3)); // sometimes padded, sometimes not
  const ldb = Math.max(1, bCols + ((seed >> 1) % 4));
  const ldc = Math.max(1, N + 2);
  const aOff = 3;
  const bOff = 5;
  const cOff = 7;
  const alpha = [1, 1.5, -0.75][seed % 3];
  const beta = [0, 0.5, 1, -2][seed % 4];
  return {
    transA, transB, M, N, K, alpha, beta, aOff, lda, bOff, ldb, cOff, ldc,
    A: randomF32(aOff + aRows * lda + 2, rand),
    B: randomF32(bOff + bRows * ldb + 2, rand),
    C: randomF32(cOff + M * ldc + 3, rand),
  };
}

function run(c: Case, fn: typeof gemm, C = c.C.slice()): Float32Array {
  fn(c.transA, c.transB, c.M, c.N, c.K, c.alpha, c.A, c.aOff, c.lda, c.B, c.bOff, c.ldb, c.beta, C, c.cOff, c.ldc);
  return C;
}

/** Max over C of |fast - ref| / (|alpha| sum_k |a||b| + |beta c|); also checks C outside the block is untouched. */
function relativeError(c: Case, fast: Float32Array): number {
  const ref = run(c, gemmReference, new Float32Array(c.C));
  const C0 = abs(c.C);
  const scale = run({ ...c, A: abs(c.A), B: abs(c.B), alpha: Math.abs(c.alpha), beta: Math.abs(c.beta), C: C0 }, gemmReference, C0.slice());
  let worst = 0;
  for (let i = 0; i < fast.length; i++) {
    const r = i - c.cOff;
    const inBlock = r >= 0 && Math.floor(r / c.ldc) < c.M && r % c.ldc < c.N;
    if (!inBlock) {
      if (fast[i] !== c.C[i]) throw new Error(`C[${i}] outside the block was modified`);
      continue;
    }
    worst = Math.max(worst, Math.abs(fast[i] - ref[i]) / (scale[i] + 1e-30));
  }
  return worst;
}

const SIZES = [1, 3, 7, 17, 33, 64, 129];
const TRANS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

describe('gemm (wasm SIMD kernel vs reference)', () => {
  let saved: GemmTuning;
  const threads0 = getNumThreads();
  beforeAll(() => {
    saved = getGemmTuning();
    // Send every shape through the wasm path and split every job across the threads.
    setGemmTuning({ fastMinMNK: 0, minFlopsPerThread: 0 });
  });
  afterAll(() => {
    setGemmTuning(saved);
    setNumThreads(threads0);
  });

  it('the fast kernel is available', () => {
    expect(gemmInfo().available).toBe(true);
  });

  for (const threads of [1, 2]) {
    it(`awkward shapes, all transposes, offsets and padded strides, ${threads} thread(s)`, () => {
      setNumThreads(threads);
      let worst = 0;
      let seed = 1;
      for (const M of SIZES) {
        for (const N of SIZES) {
          for (const K of SIZES) {
            for (const [tA, tB] of TRANS) {
              const c = makeCase(tA, tB, M, N, K, seed++);
              worst = Math.max(worst, relativeError(c, run(c, gemm)));
            }
          }
        }
      }
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  }

  it('multiple K, M and N blocks, both splits, matches the reference', () => {
    setNumThreads(2);
    let worst = 0;
    for (const [M, N, K] of [[300, 40, 900], [40, 2500, 70], [131, 257, 1000]]) {
      for (const [tA, tB] of TRANS) {
        const c = makeCase(tA, tB, M, N, K, M + N + K + (tA ? 1 : 0) + (tB ? 2 : 0));
        worst = Math.max(worst, relativeError(c, run(c, gemm)));
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it('is bit-identical run to run (and across thread counts)', () => {
    const c = makeCase(false, true, 203, 301, 777, 42);
    setNumThreads(2);
    const r1 = run(c, gemm);
    const r2 = run(c, gemm);
    setNumThreads(1);
    const r3 = run(c, gemm);
    expect(Buffer.from(r1.buffer).equals(Buffer.from(r2.buffer))).toBe(true);
    expect(Buffer.from(r1.buffer).equals(Buffer.from(r3.buffer))).toBe(true);
  });

  it('beta = 0 does not read C (NaN there does not propagate)', () => {
    setNumThreads(2);
    const c = makeCase(false, false, 33, 17, 64, 8);
    const C = c.C.slice();
    for (let i = 0; i < c.M; i++) C.fill(NaN, c.cOff + i * c.ldc, c.cOff + i * c.ldc + c.N);
    const out = run({ ...c, beta: 0 }, gemm, C);
    const ref = run({ ...c, beta: 0 }, gemmReference, c.C.slice());
    for (let i = 0; i < c.M; i++) {
      for (let j = 0; j < c.N; j++) {
        const k = c.cOff + i * c.ldc + j;
        expect(Math.abs(out[k] - ref[k])).toBeLessThan(1e-4);
      }
    }
  });

  it('degenerate sizes and alpha = 0 give C = beta * C', () => {
    for (const [M, N, K, alpha] of [[5, 4, 0, 1], [5, 4, 3, 0], [0, 4, 3, 1], [5, 0, 3, 1]] as const) {
      const c = { ...makeCase(false, false, M, N, K, 3), alpha, beta: 0.5 };
      const out = run(c, gemm);
      for (let i = 0; i < out.length; i++) {
        const r = i - c.cOff;
        const inBlock = r >= 0 && Math.floor(r / c.ldc) < M && r % c.ldc < N;
        expect(out[i]).toBe(inBlock ? Math.fround(0.5 * c.C[i]) : c.C[i]);
      }
    }
  });

  it('grows the shared memory after the workers started', () => {
    setNumThreads(2);
    const small = makeCase(false, false, 16, 16, 16, 5);
    run(small, gemm);
    const before = gemmInfo().memoryBytes;
    const big = makeCase(true, false, 1500, 40, 1500, 6); // 9 MB of A: more than any earlier test
    expect(relativeError(big, run(big, gemm))).toBeLessThanOrEqual(1e-5);
    expect(gemmInfo().memoryBytes).toBeGreaterThan(before);
  });
});

describe('gemm dispatch', () => {
  it('float64 goes to the reference kernel (bit-identical)', () => {
    const rand = rng(9);
    const A = Float64Array.from(randomF32(40 * 50, rand));
    const B = Float64Array.from(randomF32(50 * 60, rand));
    const C1 = new Float64Array(40 * 60);
    const C2 = new Float64Array(40 * 60);
    gemm(false, false, 40, 60, 50, 1, A, 0, 50, B, 0, 60, 0, C1, 0, 60);
    gemmReference(false, false, 40, 60, 50, 1, A, 0, 50, B, 0, 60, 0, C2, 0, 60);
    expect(Array.from(C1)).toEqual(Array.from(C2));
  });

  it("setKernelMode('reference') routes float32 to the reference kernel", () => {
    const c = makeCase(false, false, 64, 64, 64, 11);
    expect(getKernelMode()).toBe('fast');
    setKernelMode('reference');
    try {
      expect(getKernelMode()).toBe('reference');
      expect(Array.from(run(c, gemm))).toEqual(Array.from(run(c, gemmReference)));
    } finally {
      setKernelMode('fast');
    }
  });

  it('default thresholds: a medium product on 2 threads matches the reference', () => {
    setNumThreads(2);
    const c = makeCase(true, true, 256, 200, 300, 12);
    expect(relativeError(c, run(c, gemm))).toBeLessThanOrEqual(1e-5);
  });

  it('rejects out-of-range operands', () => {
    const A = new Float32Array(10);
    const B = new Float32Array(10);
    const C = new Float32Array(10);
    expect(() => gemm(false, false, 4, 4, 4, 1, A, 0, 4, B, 0, 4, 0, C, 0, 4)).toThrow(RangeError);
    expect(() => gemm(false, false, 2, 2, 2, 1, A, 9, 2, B, 0, 2, 0, C, 0, 2)).toThrow(RangeError);
    expect(() => gemm(false, false, 2, 2, 2, 1, A, 0, 1, B, 0, 2, 0, C, 0, 2)).toThrow(RangeError);
    expect(() => gemm(false, false, 2, 2, 2.5, 1, A, 0, 3, B, 0, 3, 0, C, 0, 2)).toThrow(RangeError);
    expect(() => setNumThreads(0)).toThrow(RangeError);
  });
});

describe('wasm emitter', () => {
  it('encodes LEB128', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(2 ** 32 - 1)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('builds a module that runs (loops, locals, f32)', () => {
    const wasm = requireWasm();
    const mb = new ModuleBuilder();
    // f(n, x) = (x added n times, with a for_ loop) * 0.5
    const f = mb.addFunction('f', [I32, F32], [F32]);
    const [n, x] = f.params;
    const i = f.local(I32);
    const acc = f.local(F32);
    f.for_(i, 0, n, 1, () => {
      f.local_get(acc).local_get(x).f32_add().local_set(acc);
    });
    f.local_get(acc).f32_const(0.5).f32_mul();
    const inst = new wasm.Instance(new wasm.Module(mb.toBytes()), {});
    expect((inst.exports.f as (n: number, x: number) => number)(10, 3)).toBe(15);
    expect((inst.exports.f as (n: number, x: number) => number)(0, 3)).toBe(0);
  });
});

describe('plain SIMD128 fallback module', () => {
  it('matches the reference (no relaxed SIMD); worker traps are reported', async () => {
    const wasm = requireWasm();
    const bytes = buildGemmModule({ relaxed: false, maximumPages: 65536 });
    expect(wasm.validate(bytes)).toBe(true);
    const memory = new wasm.Memory({ initial: 32, maximum: 1024, shared: true });
    const pool = new KernelPool(memory, [new wasm.Module(bytes)]);
    const f32 = (): Float32Array => new Float32Array(memory.buffer);
    const rand = rng(77);
    const [M, N, K] = [37, 29, 131];
    const A = randomF32(M * K, rand);
    const B = randomF32(N * K, rand); // stored N x K, used transposed
    const heap = f32();
    const aAt = 65536;
    const bAt = aAt + M * K * 4;
    const cAt = bAt + N * K * 4;
    const scratch = cAt + M * N * 4;
    heap.set(A, aAt / 4);
    heap.set(B, bAt / 4);
    // gemm(M, N, K, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, ap, bp, tmp, mc, kc, nc)
    pool.run('gemm', [[M, N, K, aAt, K, 1, bAt, 1, K, cAt, N, 1, 0, scratch, scratch + 200_000, scratch + 400_000, 16, 64, 16]]);
    const got = f32().slice(cAt / 4, cAt / 4 + M * N);
    const ref = new Float32Array(M * N);
    gemmReference(false, true, M, N, K, 1, A, 0, K, B, 0, K, 0, ref, 0, N);
    const scale = new Float32Array(M * N);
    gemmReference(false, true, M, N, K, 1, abs(A), 0, K, abs(B), 0, K, 0, scale, 0, N);
    let worst = 0;
    for (let i = 0; i < M * N; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]) / scale[i]);
    expect(worst).toBeLessThanOrEqual(1e-5);

    // A trap in a worker (out-of-bounds C pointer) is reported to the caller, and the pool stays usable.
    const job = [M, N, K, aAt, K, 1, bAt, 1, K, cAt, N, 1, 0, scratch, scratch + 200_000, scratch + 400_000, 16, 64, 16];
    const bad = [...job];
    bad[9] = 1024 * 65536 - 64; // c: last bytes of the memory
    expect(() => pool.run('gemm', [job, bad])).toThrow(/worker thread/);
    // second job: its own C and its own scratch (packed A, packed B, edge tile)
    const c2 = scratch + 1_100_000;
    const second = job.map((v, i) => (i === 9 ? c2 : i >= 13 && i <= 15 ? v + 600_000 : v));
    pool.run('gemm', [job, second]);
    expect(Array.from(f32().slice(c2 / 4, c2 / 4 + M * N))).toEqual(Array.from(got));
    await pool.terminate();
  });
});

describe('gemmHeap.gemmBatch (independent products, each whole on one thread)', () => {
  it.each([1, 2])('gives gemm\'s bits for every product, %i thread(s), K across several blocks', (threads) => {
    const saved = getNumThreads();
    const tuning = setGemmTuning({ minFlopsPerThread: 0 });
    setNumThreads(threads);
    try {
      const heap = gemmHeap()!;
      const rand = rng(40 + threads);
      for (const [M, N, K, count] of [[13, 37, 600, 5], [64, 49, 64, 16], [3, 5, 1, 3]]) {
        const As = Array.from({ length: count }, () => randomF32(M * K, rand));
        const Bs = Array.from({ length: count }, () => randomF32(K * N, rand));
        const [aBytes, bBytes, cBytes] = [4 * M * K + 64, 4 * K * N + 64, 4 * M * N + 64].map((b) => Math.ceil(b / 64) * 64);
        const per = aBytes + bBytes + cBytes;
        const base = heap.scratch(count * per + heap.batchScratchBytes(M, N, K, count));
        const f = heap.f32();
        const products = As.map((A, i) => {
          const at = base + i * per;
          f.set(A, at / 4);
          f.set(Bs[i], (at + aBytes) / 4);
          return [at, at + aBytes, at + aBytes + bBytes] as const;
        });
        heap.gemmBatch(M, N, K, products, base + count * per);
        // read every C out before calling gemm: its copy path lays out in the same scratch block
        const got = products.map(([, , cAt]) => heap.f32().slice(cAt / 4, cAt / 4 + M * N));
        got.forEach((C, i) => {
          const expected = new Float32Array(M * N);
          gemm(false, false, M, N, K, 1, As[i], 0, K, Bs[i], 0, N, 0, expected, 0, N);
          expect(Array.from(C), `product ${i} of ${M}x${N}x${K}`).toEqual(Array.from(expected));
        });
      }
    } finally {
      setNumThreads(saved);
      setGemmTuning(tuning);
    }
  });
});

describe('gemm on arena-resident operands (used in place, no copies)', () => {
  it.each([1, 2])('gives the bits of plain-array operands, every transpose and residency mix, %i thread(s)', (threads) => {
    const saved = getNumThreads();
    const tuning = setGemmTuning({ minFlopsPerThread: 0 });
    setNumThreads(threads);
    try {
      const rand = rng(70 + threads);
      const [M, N, K] = [37, 45, 133];
      const resident = (a: Float32Array): Float32Array => {
        const r = allocate('float32', a.length) as Float32Array;
        r.set(a);
        return r;
      };
      // operands start 5, 3 and 7 elements into their arrays: offsets apply to resident ones too
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const A = randomF32(M * K + 5, rand);
        const B = randomF32(K * N + 3, rand);
        const C0 = randomF32(M * N + 7, rand);
        const expected = C0.slice();
        gemm(tA, tB, M, N, K, 1.5, A, 5, tA ? M : K, B, 3, tB ? K : N, 0.5, expected, 7, N);
        for (const mask of [1, 2, 4, 7]) {
          const a = mask & 1 ? resident(A) : A;
          const b = mask & 2 ? resident(B) : B;
          const c = mask & 4 ? resident(C0) : C0.slice();
          gemm(tA, tB, M, N, K, 1.5, a, 5, tA ? M : K, b, 3, tB ? K : N, 0.5, c, 7, N);
          expect(Array.from(c), `transA ${tA}, transB ${tB}, resident mask ${mask}`).toEqual(Array.from(expected));
        }
      }
    } finally {
      setNumThreads(saved);
      setGemmTuning(tuning);
    }
  });
});
