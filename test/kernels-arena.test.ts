// The kernel arena (tensor storage in the shared wasm memory, recycled by size class once the
// GC has collected a view) and FastEngine.map (in place on resident operands, split across
// threads; chunked copies for foreign arrays).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { allocate } from '../src/kernels/dtype.js';
import { arith, mapBinary, mapUnary, reluBackward, reluForward, reluFn, ARITH_FNS } from '../src/kernels/elementwise.js';
import { FastEngine, fastEngine, setFastTuning, splitRange } from '../src/kernels/fast/engine.js';
import { setWinogradChunkBudget } from '../src/kernels/conv_winograd.js';
import { gemmHeap } from '../src/kernels/gemm.js';
import { kernelRuntime } from '../src/kernels/runtime.js';
import { buildGemmModule } from '../src/kernels/wasm/gemm_module.js';
import { Arena, OVERRUN_BYTES, ScratchBlock, kernelArena, kernelMemoryStats, reclaimMemory } from '../src/kernels/memory/arena.js';
import { adamReference, adamStep, sgdReference, sgdStep } from '../src/kernels/optim.js';
import { extremumAxisReference, extremumAxis, sumAxes, sumAxesReference } from '../src/kernels/reduce.js';
import { KernelPool, getNumThreads, setNumThreads } from '../src/kernels/threads/pool.js';
import { requireWasm } from '../src/kernels/wasm/wasm_api.js';
import { rng } from './helpers/random.js';
import { expectSameBits } from './helpers/bits.js';
import { onBackend } from './helpers/modes.js';

// These tests are about the wasm kernels: run them on wasm whatever SKIPGRAD_BACKEND says.
onBackend('wasm');

const freshArena = (): Arena => new Arena(new (requireWasm().Memory)({ initial: 1, maximum: 4096, shared: true }));

/** An array of n values with the given residency, filled from `rand` (with a few specials). */
function filled(n: number, resident: boolean, rand: () => number): Float32Array {
  const a = resident ? (allocate('float32', n) as Float32Array) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 4 - 2;
  if (n > 10) [a[3], a[7], a[9]] = [NaN, -0, -Infinity];
  return a;
}

describe('Arena: allocation, residency, recycling', () => {
  it('hands out zero-filled, 64-byte aligned views that are resident; subarrays and small or plain arrays are not', () => {
    const arena = freshArena();
    const a = arena.float32(1000)!;
    expect(a.length).toBe(1000);
    expect(a.every((v) => v === 0)).toBe(true);
    expect(a.byteOffset % 64).toBe(0);
    expect(arena.addressOf(a)).toBe(a.byteOffset);
    expect(arena.addressOf(a.subarray(0, 999))).toBe(-1); // a kernel writing its overrun there would hit a's tail
    expect(arena.addressOf(a.subarray(1))).toBe(-1);
    expect(arena.addressOf(new Float32Array(1000))).toBe(-1);
    expect(arena.float32(255)).toBeNull(); // small tensors stay ordinary arrays
    const b = arena.float32(1000)!;
    expect(b.byteOffset >= a.byteOffset + 4000 + OVERRUN_BYTES || b.byteOffset + 4000 + OVERRUN_BYTES <= a.byteOffset).toBe(true);
  });

  it('reuses a block once its view is collected, zero-filled again; a live view keeps its block', () => {
    const arena = freshArena();
    const keep = arena.float32(5000)!;
    keep.fill(7);
    let dropped: number;
    (() => {
      const tmp = arena.float32(5000)!;
      tmp.fill(3);
      dropped = tmp.byteOffset;
    })();
    expect(arena.collect()).toBe(true); // synchronous on Node 20 (cleanupSome)
    const again = arena.float32(5000)!;
    expect(again.byteOffset).toBe(dropped!);
    expect(again.every((v) => v === 0)).toBe(true);
    expect(keep.every((v) => v === 7)).toBe(true);
    const st = arena.getStats();
    expect(st.reused).toBe(1);
    expect(st.carved).toBe(2);
  });

  it('falls back to ordinary arrays past its limit, and explicit blocks are checked on free', () => {
    const arena = freshArena();
    arena.limitBytes = 64 * 1024;
    const first = arena.float32(10_000); // 40 KB
    expect(first).not.toBeNull();
    expect(arena.float32(10_000)).toBeNull(); // would pass 64 KB (the first is still live)
    expect(arena.getStats().refused).toBe(1);
    expect(first!.length).toBe(10_000);
    expect(() => arena.free(12345)).toThrow('Arena.free: 12345 is not a live block');
    const at = arena.alloc(100);
    arena.free(at);
    expect(() => arena.free(at)).toThrow('is not a live block');
  });

  it('at its limit collects the garbage once and reuses it before refusing', () => {
    const arena = freshArena();
    arena.limitBytes = 256 * 1024;
    // 20 blocks of 40 KB, none kept: 800 KB through a 256 KB arena.
    for (let i = 0; i < 20; i++) expect(arena.float32(10_000), `block ${i}`).not.toBeNull();
    const s = arena.getStats();
    expect(s.refused).toBe(0);
    expect(s.collections).toBeGreaterThan(0);
    expect(s.carvedBytes).toBeLessThanOrEqual(256 * 1024);
  });

  it('ScratchBlock keeps its address while the size fits and moves when it grows', () => {
    const s = new ScratchBlock(freshArena());
    const a = s.ensure(1000);
    expect(s.ensure(60_000)).toBe(a); // the first block is a whole page (64 KiB)
    const b = s.ensure(200_000);
    expect(b).not.toBe(a);
    expect(s.ensure(100)).toBe(b);
  });

  it('allocate() gives float32 tensors arena storage; reclaimMemory() recycles the dropped ones', async () => {
    expect(kernelArena()).not.toBeNull();
    const a = allocate('float32', 4096) as Float32Array;
    expect(kernelArena()!.addressOf(a)).toBeGreaterThan(0);
    expect(allocate('float64', 4096)).toBeInstanceOf(Float64Array);
    (() => void allocate('float32', 123_457))();
    await reclaimMemory();
    const before = kernelMemoryStats()!.reused;
    allocate('float32', 123_457);
    expect(kernelMemoryStats()!.reused).toBe(before + 1);
  });
});

describe('splitRange', () => {
  it.each([
    [10, 2, [[0, 8], [8, 10]]],
    [16, 2, [[0, 8], [8, 16]]],
    [17, 3, [[0, 8], [8, 16], [16, 17]]], // 5 quads: 2, 2, 1
    [3, 2, [[0, 3]]],
  ] as const)('n=%i in %i parts', (n, parts, expected) => {
    expect(splitRange(n, parts)).toEqual(expected);
  });
});

describe('FastEngine.map: resident, foreign and mixed operands, 1 and 2 threads, same bits as the reference', () => {
  const threads = getNumThreads();
  afterEach(() => setNumThreads(threads));
  const sizes = [256, 257, 1003, 16_387, 100_003];
  const cases = [
    ['all resident', [true, true, true]],
    ['all foreign', [false, false, false]],
    ['inputs resident, output foreign', [true, true, false]],
    ['output resident only', [false, false, true]],
  ] as const;

  for (const t of [1, 2]) {
    for (const [label, [ra, rb, ro]] of cases) {
      it(`${label}, ${t} thread(s)`, () => {
        setNumThreads(t);
        const prev = setFastTuning({ parallelElements: 4, minElements: 0, chunkElements: 1024 });
        try {
          const rand = rng(t * 10 + ra + 2 * rb + 4 * ro);
          for (const n of sizes) {
            const a = filled(n, ra, rand);
            const b = filled(n, rb, rand);
            const out = ro ? (allocate('float32', n) as Float32Array) : new Float32Array(n);
            const ref = new Float32Array(n);
            reluForward(a, out);
            mapUnary(a, ref, reluFn);
            expectSameBits(out, ref, `relu n=${n}`);
            reluBackward(a, b, out);
            for (let i = 0; i < n; i++) ref[i] = b[i] <= 0 ? 0 : a[i]; // a select, as PyTorch: +0 where blocked
            expectSameBits(out, ref, `relu backward n=${n}`);
            for (const op of ['add', 'sub', 'mul', 'div'] as const) {
              arith(op, a, [n], b, [n], out, [n]);
              mapBinary(a, [n], b, [n], ref, [n], ARITH_FNS[op]);
              expectSameBits(out, ref, `${op} n=${n}`);
              const s = new Float32Array([0.75]);
              arith(op, a, [n], s, [], out, [n]);
              mapBinary(a, [n], s, [], ref, [n], ARITH_FNS[op]);
              expectSameBits(out, ref, `${op} by a scalar n=${n}`);
            }
          }
        } finally {
          setFastTuning(prev);
        }
      });
    }
  }

  it('splits resident work across the pool at 2 threads (and not at 1), in place (in == out)', () => {
    const eng = fastEngine()!;
    const run = vi.spyOn(eng.runtime.pool, 'run');
    const prev = setFastTuning({ parallelElements: 1000 });
    try {
      const x = filled(10_000, true, rng(5));
      const expected = new Float32Array(10_000);
      mapUnary(x, expected, reluFn);
      setNumThreads(2);
      reluForward(x, x);
      expect(run).toHaveBeenCalledTimes(1);
      expect(run.mock.calls[0][0]).toBe('relu');
      expect(run.mock.calls[0][1]).toHaveLength(2);
      expectSameBits(x, expected, 'relu in place, 2 threads');
      setNumThreads(1);
      reluForward(x, x);
      expect(run).toHaveBeenCalledTimes(1);
    } finally {
      setFastTuning(prev);
      run.mockRestore();
    }
  });

  it('SGD with momentum: resident parameters, gradients and buffers at 2 threads match the reference bit for bit', () => {
    setNumThreads(2);
    const prev = setFastTuning({ parallelElements: 64 });
    try {
      const rand = rng(11);
      const n = 20_011;
      const p = filled(n, true, rand);
      const g = filled(n, true, rand);
      const buf = allocate('float32', n) as Float32Array;
      const [pr, gr, br] = [p.slice(), g.slice(), new Float32Array(n)];
      const h = { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false, maximize: false };
      for (let step = 0; step < 3; step++) {
        sgdStep(p, g, buf, step === 0, h);
        sgdReference(pr, gr, br, step === 0, h);
      }
      expectSameBits(p, pr, 'parameters');
      expectSameBits(buf, br, 'momentum buffer');
    } finally {
      setFastTuning(prev);
    }
  });

  it('AdamW with amsgrad: resident parameters, gradients and moments at 2 threads match the reference bit for bit', () => {
    setNumThreads(2);
    const prev = setFastTuning({ parallelElements: 64 });
    try {
      const rand = rng(12);
      const n = 10_007;
      const p = filled(n, true, rand);
      const g = filled(n, true, rand);
      const [m, v, vMax] = [0, 1, 2].map(() => allocate('float32', n) as Float32Array);
      const [pr, gr, mr, vr, vMaxR] = [p.slice(), g.slice(), new Float32Array(n), new Float32Array(n), new Float32Array(n)];
      const h = { lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-8, weightDecay: 1e-2, maximize: false };
      for (let step = 1; step <= 3; step++) {
        adamStep(p, g, m, v, vMax, h, step, true);
        adamReference(pr, gr, mr, vr, vMaxR, h, step, true);
      }
      expectSameBits(p, pr, 'parameters');
      expectSameBits(m, mr, 'first moment');
      expectSameBits(v, vr, 'second moment');
      expectSameBits(vMax, vMaxR, 'amsgrad maximum');
    } finally {
      setFastTuning(prev);
    }
  });

  it.each([1, 2])('reductions read resident tensors in place, outer slabs split across %i thread(s): same values as the reference', (t) => {
    setNumThreads(t);
    const prev = setFastTuning({ minElements: 0, parallelElements: 4 });
    try {
      const shape = [6, 35, 3, 5];
      const x = filled(6 * 35 * 15, true, rng(3));
      for (const i of [3, 7, 9]) x[i] = i; // no NaN: sums compared numerically below
      for (const axes of [[0], [1], [0, 2], [1, 2, 3], [3]]) expectSameBits(sumAxes(x, shape, axes), sumAxesReference(x, shape, axes), `sum over ${axes}`);
      for (const axis of [0, 1, 3]) {
        const got = extremumAxis(x, shape, axis, true);
        const want = extremumAxisReference(x, shape, axis, true);
        expectSameBits(got.values, want.values, `max over ${axis}`);
        expectSameBits(got.indices, want.indices, `argmax over ${axis}`);
      }
    } finally {
      setFastTuning(prev);
    }
  });
});

describe('uninitialized outputs (allocateUninit)', () => {
  it('poisoned blocks are NaN, zeroed ones zero', () => {
    const arena = freshArena();
    arena.poisonUninit = true;
    expect(arena.float32(300, false)!.every(Number.isNaN)).toBe(true);
    expect(arena.float32(300)!.every((v) => v === 0)).toBe(true);
  });

  it('every op of a ResNet training step writes all of its output: same bits with uninitialized storage poisoned with NaN', async () => {
    const { crossEntropy, manualSeed, models, randint, randn } = await import('../src/index.js');
    const arena = kernelArena()!;
    const step = (): Float32Array[] => {
      manualSeed(4);
      const net = models.resnet18({ baseChannels: 8 });
      const x = randn([3, 1, 28, 28]);
      const y = randint(0, 10, [3]);
      const logits = net.call(x);
      crossEntropy(logits, y).backward();
      return [logits.data as Float32Array, ...net.parameters().map((p) => p.grad!.data as Float32Array)];
    };
    const plain = step();
    arena.poisonUninit = true;
    try {
      const poisoned = step();
      expect(poisoned).toHaveLength(plain.length);
      poisoned.forEach((a, i) => expectSameBits(a, plain[i], `output ${i}`));
    } finally {
      arena.poisonUninit = false;
    }
  });
});

describe('kernel runtime errors name what is wrong', () => {
  it('Arena.alloc refuses bad sizes; SKIPGRAD_ARENA_MB sets the limit or is ignored with a warning', () => {
    expect(() => freshArena().alloc(-1)).toThrow('Arena.alloc: bad size -1');
    expect(() => freshArena().alloc(1.5)).toThrow('Arena.alloc: bad size 1.5');
    const saved = process.env.SKIPGRAD_ARENA_MB;
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      process.env.SKIPGRAD_ARENA_MB = '12';
      expect(freshArena().limitBytes).toBe(12 * 2 ** 20);
      process.env.SKIPGRAD_ARENA_MB = 'lots';
      expect(freshArena().limitBytes).toBeGreaterThan(0);
      expect(warn).toHaveBeenCalledWith('SKIPGRAD_ARENA_MB=lots ignored: expected a number of megabytes');
    } finally {
      if (saved === undefined) delete process.env.SKIPGRAD_ARENA_MB;
      else process.env.SKIPGRAD_ARENA_MB = saved;
      warn.mockRestore();
    }
  });

  it('the runtime, the pool and the fast engine', () => {
    const rt = kernelRuntime()!;
    expect(() => rt.fn('no_such_kernel')).toThrow('kernel runtime: no wasm export no_such_kernel');
    const wasm = requireWasm();
    expect(() => new KernelPool(new wasm.Memory({ initial: 0, maximum: 16, shared: true }), [])).toThrow('KernelPool: the memory has no control area');
    const gemmModule = new wasm.Module(buildGemmModule({ relaxed: false, maximumPages: 65536 }));
    const memory = new wasm.Memory({ initial: 1, maximum: 16, shared: true });
    expect(() => new KernelPool(memory, [gemmModule, gemmModule])).toThrow('KernelPool: two kernel modules export gemm');
    const full = freshArena();
    full.limitBytes = 0;
    expect(() => new FastEngine({ ...rt, arena: full }).layout([4096])).toThrow(/fast kernels: cannot reserve \d+ bytes of scratch in the kernel arena/);
    expect(() => setFastTuning({ parallelElements: 2 })).toThrow('setFastTuning: bad parallelElements=2 (chunkElements must be a positive multiple of 4, parallelElements at least 4)');
  });

  it('gemmBatch checks its scratch; the Winograd chunk budget checks its value', () => {
    const heap = gemmHeap()!;
    const base = heap.scratch(3 * 64 * 64);
    const far = heap.f32().length * 4 - 64;
    expect(() => heap.gemmBatch(8, 8, 8, [[base, base + 4096, base + 8192]], far)).toThrow(/gemmHeap\.gemmBatch: scratch at \d+ \(\d+ bytes, 64-byte aligned\) exceeds the wasm memory/);
    expect(() => setWinogradChunkBudget(0)).toThrow('setWinogradChunkBudget: expected a positive integer, got 0');
  });
});
