// The kernel arena: one shared WebAssembly.Memory that holds float32 tensor storage, the wasm
// kernels' scratch, and the worker pool's control area, with a pooling allocator on top.
//
// Why one memory: every wasm kernel (GEMM, convolution helpers, elementwise, batch norm,
// pooling, reductions, optimizer updates) is instantiated on it, in the calling thread and in
// every worker (threads/pool.ts). A Float32Array that is a view of an arena block is therefore
// an operand the kernels read and write in place, on any thread, with no copy in or out.
//
// Why a pool: a ResNet-18 training step allocates thousands of activations and gradients of a
// few dozen distinct sizes, and the same sizes again next step. Blocks are kept on free lists by
// size class and handed out again, so a step does not ask V8 for hundreds of MB of fresh
// ArrayBuffers (each one zero-filled by the OS and counted as external memory that drives
// full garbage collections).
//
// Ownership: a block goes back to its free list only when the garbage collector has collected
// the Float32Array view it was handed out as (a FinalizationRegistry callback). No code path
// frees a tensor's storage by hand, so recycling is safe whatever user ops keep: a view that is
// still reachable keeps its block. The one caveat, documented in the README: a `subarray()` of
// an arena view does not keep the block alive on its own (keep the tensor, or `slice()`).
// Collections: `reclaimMemory()` between training steps, and tensor allocation itself once it
// has handed out as much as was live after the last collection, run a full garbage collection
// and then the finalizers synchronously (FinalizationRegistry.prototype.cleanupSome, behind a
// V8 flag set at run time; where V8 lacks it the callbacks run between event-loop turns). When
// the arena reaches its limit, storage falls back to ordinary typed arrays (the kernels then
// copy, as they would for any foreign array) and nothing breaks.
//
// Kernel scratch (`alloc`/`free`) is the same allocator with explicit frees, used by kernels
// for the span of one call.

import { totalmem } from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { wasmApi, type WasmApi, type WasmMemory } from '../wasm/wasm_api.js';

export const PAGE_BYTES = 65536;
/** Bytes at the start of the memory that the worker pool uses as its control area. */
export const CONTROL_BYTES = 65536;
/** Every block is at least this aligned. */
export const BLOCK_ALIGN = 64;
/** Bytes past the requested size that kernels may touch (vector loops round up to 4 floats). */
export const OVERRUN_BYTES = 16;
/** The memory's maximum in pages (the wasm32 limit), as declared by every module's import. */
export const MAXIMUM_PAGES = 65536;

/** Float32 arrays shorter than this stay ordinary arrays (a registry entry costs more than it saves). */
const MIN_POOLED_FLOATS = 256;
/**
 * Tensor allocations collect garbage (synchronously, where V8 allows) once they have handed out
 * COLLECT_GROWTH times what was live after the last collection, and at least COLLECT_MIN_BYTES:
 * tensors that died within a step (a backward pass's intermediate gradients) are then reused
 * within that step, as V8 itself would after enough ArrayBuffer allocation, instead of the arena
 * holding a whole step's worth. Measured (train, 2 threads, native, 2026-12-02): at 1x the live
 * size a ResNet-18 28x28 b64 step ran two full collections (~9 ms each, one of them mid-backward)
 * and took 174 ms; at 1.5x one, 162 ms, peak RSS 311 -> 316 MB; 96x96 b64 unchanged (720 ms,
 * 956 -> 943 MB). Twice the live size gave 985 MB at 96x96 in an earlier sitting.
 */
const COLLECT_GROWTH = 1.5;
/**
 * The floor of that trigger. An inference step of ResNet-18 at 28x28 b256 hands out ~155 MB
 * against ~50 MB live: at a 64 MB floor it ran three full collections a step (~8 ms each) and
 * took 114 ms; at 192 MB, 94-98 ms, peak RSS 293 -> 296 MB (2026-12-02, native, 2 threads).
 * Training at 28x28 b64 (live ~100 MB) is unchanged; 96x96 b64 peak RSS 941 -> 955 MB.
 */
const COLLECT_MIN_BYTES = 192 * 2 ** 20;
/** Blocks this large start at a staggered offset within their first 4 KiB (see `viewOffset`). */
const STAGGER_FROM = 16384;

/**
 * Figures of the float32 kernel arena (the shared wasm memory that tensor storage and kernel scratch
 * live in), as `kernelMemoryStats()` returns them; for diagnostics and benchmarks.
 */
export interface ArenaStats {
  /** Bytes the memory has grown to (virtual until touched). */
  memoryBytes: number;
  /** High-water mark of the bump pointer: bytes ever carved into blocks. */
  carvedBytes: number;
  /** Bytes in blocks handed out and not yet returned (tensor storage and kernel scratch). */
  liveBytes: number;
  /** Highest liveBytes so far. */
  peakLiveBytes: number;
  /** Bytes sitting on free lists. */
  freeBytes: number;
  /** Tensor allocations served from a free list / freshly carved / refused (arena full). */
  reused: number;
  carved: number;
  refused: number;
  /** Synchronous collections run (by reclaimMemory, or by float32 after much allocation). */
  collections: number;
  /** The limit on carvedBytes, from SKIPGRAD_ARENA_MB or the default. */
  limitBytes: number;
}

/** Class size (bytes) of a block that can hold `bytes` plus the overrun slack. */
function classSize(bytes: number): number {
  const need = Math.max(BLOCK_ALIGN, bytes + OVERRUN_BYTES);
  if (need <= 4096) return Math.ceil(need / BLOCK_ALIGN) * BLOCK_ALIGN;
  // Four classes per power of two: at most 25% slack, few enough classes to reuse well.
  const step = 2 ** (Math.floor(Math.log2(need - 1)) - 2);
  return Math.ceil(need / step) * step;
}

/**
 * Large blocks do not start on a 4 KiB boundary: memcpy between two addresses equal modulo
 * 4 KiB runs ~10x slower on this machine (AMD EPYC, 4K aliasing), and blocks copied into each
 * other would otherwise all be equal modulo 4 KiB. The offset depends on the span only.
 */
function viewOffset(span: number, size: number): number {
  return size >= STAGGER_FROM ? 256 * (1 + ((span >>> 12) % 15)) : 0;
}

function spanBytes(size: number): number {
  return size >= STAGGER_FROM ? size + 4096 : size;
}

function defaultLimitBytes(): number {
  const env = process.env.SKIPGRAD_ARENA_MB;
  if (env !== undefined && env.trim() !== '') {
    const mb = Number(env);
    if (Number.isFinite(mb) && mb >= 0) return Math.min(mb * 2 ** 20, MAXIMUM_PAGES * PAGE_BYTES - CONTROL_BYTES);
    process.emitWarning(`SKIPGRAD_ARENA_MB=${env} ignored: expected a number of megabytes`);
  }
  // 3 GiB of the 4 GiB wasm32 space, or half the machine's memory if that is less.
  return Math.min(3 * 2 ** 30, Math.floor(totalmem() / 2));
}

export class Arena {
  private top = CONTROL_BYTES;
  /** Free spans by class size. */
  private readonly freeLists = new Map<number, number[]>();
  /** Live blocks: view start (byte address) -> [requested bytes, class size, span]. */
  private readonly live = new Map<number, [number, number, number]>();
  /** Every SharedArrayBuffer object the memory has had (a new one after each grow). */
  private readonly buffers = new WeakSet<object>();
  private readonly registry: FinalizationRegistry<number>;
  private readonly collector = collector();
  /** Bytes handed out by float32 since the last collection, and live just after it (see COLLECT_MIN_BYTES). */
  private handedSinceCollect = 0;
  private liveAfterCollect = 0;
  private f32View: Float32Array;
  private stats = { liveBytes: 0, peakLiveBytes: 0, freeBytes: 0, reused: 0, carved: 0, refused: 0, collections: 0 };
  limitBytes = defaultLimitBytes();
  /**
   * Fill storage handed out uninitialized (`float32(n, false)`) with NaN instead of leaving old
   * contents: a kernel that fails to write some element of its output then shows up as NaN in
   * tests. Off by default; SKIPGRAD_POISON_UNINIT=1 turns it on.
   */
  poisonUninit = process.env.SKIPGRAD_POISON_UNINIT === '1';

  constructor(readonly memory: WasmMemory) {
    const Registry = this.collector?.Registry ?? FinalizationRegistry;
    this.registry = new Registry<number>((at) => this.release(at));
    if (memory.buffer.byteLength < CONTROL_BYTES) memory.grow(1);
    this.f32View = new Float32Array(memory.buffer);
    this.buffers.add(memory.buffer);
  }

  /** A Float32Array over the whole memory; re-read it after anything that may allocate (growth replaces it). */
  get f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) this.refresh();
    return this.f32View;
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * A block of at least `bytes` (plus OVERRUN_BYTES of slack), 64-byte aligned, for explicit
   * use: kernel scratch. Returns its byte address, or -1 if the arena cannot grow that far.
   * Its contents are undefined. Give it back with `free`.
   */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`Arena.alloc: bad size ${bytes}`);
    const size = classSize(bytes);
    let span = this.freeLists.get(size)?.pop();
    if (span !== undefined) {
      this.stats.freeBytes -= size;
    } else {
      span = this.carve(spanBytes(size));
      if (span < 0) span = this.retryAfterCollecting(size);
      if (span < 0) return -1;
    }
    const at = span + viewOffset(span, size);
    this.live.set(at, [bytes, size, span]);
    this.stats.liveBytes += size;
    if (this.stats.liveBytes > this.stats.peakLiveBytes) this.stats.peakLiveBytes = this.stats.liveBytes;
    return at;
  }

  /**
   * At the limit: collect garbage (where that frees blocks at once) and try again, from the
   * size's free list or the top. At most once per quarter of the limit handed out, so a live set
   * that truly exceeds the limit does not collect on every allocation. -1 if still refused.
   */
  private retryAfterCollecting(size: number): number {
    if (!this.collector?.sync || this.handedSinceCollect < this.limitBytes / 4) return -1;
    this.collect();
    const span = this.freeLists.get(size)?.pop();
    if (span !== undefined) {
      this.stats.freeBytes -= size;
      return span;
    }
    return this.carve(spanBytes(size));
  }

  /** Returns a block from `alloc` to its free list. */
  free(at: number): void {
    if (!this.live.has(at)) throw new Error(`Arena.free: ${at} is not a live block`);
    this.release(at);
  }

  /**
   * Storage for a float32 tensor of n elements as an arena view (zero-filled unless
   * `zero` is false), recycled once the view is garbage collected; null when n is small or the
   * arena is full (the caller then makes an ordinary array).
   */
  float32(n: number, zero = true): Float32Array | null {
    if (n < MIN_POOLED_FLOATS) return null;
    const size = classSize(4 * n);
    // (only where the finalizers can run right away: otherwise a collection here frees nothing now)
    if (this.collector?.sync && this.handedSinceCollect >= Math.max(COLLECT_MIN_BYTES, COLLECT_GROWTH * this.liveAfterCollect)) this.collect();
    this.handedSinceCollect += size;
    const reusable = (this.freeLists.get(size)?.length ?? 0) > 0;
    const at = this.alloc(4 * n);
    if (at < 0) {
      this.stats.refused++;
      return null;
    }
    if (reusable) this.stats.reused++;
    else this.stats.carved++;
    const view = new Float32Array(this.memory.buffer, at, n);
    if (!zero && this.poisonUninit) view.fill(NaN);
    else if (reusable && zero) view.fill(0); // freshly grown memory is already zero
    this.registry.register(view, at);
    return view;
  }

  /**
   * The byte address of `a` if it is exactly a live arena block as handed out (same start and
   * length), else -1. Kernels may then read and write it in place, including OVERRUN_BYTES past
   * its end. A subarray of a block, or any other array, gives -1: kernels copy those.
   */
  addressOf(a: ArrayBufferView): number {
    if (!this.buffers.has(a.buffer)) return -1;
    const block = this.live.get(a.byteOffset);
    return block !== undefined && block[0] === a.byteLength ? a.byteOffset : -1;
  }

  /**
   * Runs a full garbage collection and returns the blocks of collected views to the free lists;
   * true if that happened synchronously (false: the callbacks run between event-loop turns).
   */
  collect(): boolean {
    this.handedSinceCollect = 0;
    const c = this.collector;
    if (c === null) return false;
    c.gc();
    if (!c.sync) return false;
    (this.registry as unknown as { cleanupSome(): void }).cleanupSome();
    this.stats.collections++;
    this.liveAfterCollect = this.stats.liveBytes;
    return true;
  }

  getStats(): ArenaStats {
    return { memoryBytes: this.byteLength, carvedBytes: this.top - CONTROL_BYTES, ...this.stats, limitBytes: this.limitBytes };
  }

  private release(at: number): void {
    const block = this.live.get(at);
    if (block === undefined) return;
    const [, size, span] = block;
    this.live.delete(at);
    this.stats.liveBytes -= size;
    this.stats.freeBytes += size;
    let list = this.freeLists.get(size);
    if (list === undefined) this.freeLists.set(size, (list = []));
    list.push(span);
  }

  /** Takes `bytes` from the top, growing the memory; -1 past the limit or if growth fails. */
  private carve(bytes: number): number {
    const at = Math.ceil(this.top / BLOCK_ALIGN) * BLOCK_ALIGN;
    const end = at + bytes;
    if (end - CONTROL_BYTES > this.limitBytes) return -1;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
      } catch {
        return -1; // past the memory's maximum, or the host refused to commit it
      }
      this.refresh();
    }
    this.top = end;
    return at;
  }

  private refresh(): void {
    this.buffers.add(this.memory.buffer);
    this.f32View = new Float32Array(this.memory.buffer);
  }
}

function createMemory(wasm: WasmApi): WasmMemory {
  // Shared memories reserve address space for their maximum up front; 4 GiB (the wasm32 limit)
  // is only virtual. Smaller fallbacks for hosts that refuse the reservation.
  let last: unknown = null;
  for (const maximum of [MAXIMUM_PAGES, 16384, 4096]) {
    try {
      return new wasm.Memory({ initial: 17, maximum, shared: true });
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

let arena: Arena | null | undefined; // undefined: not tried; null: unavailable here

/** The process's kernel arena, created on first use; null without WebAssembly or SharedArrayBuffer. */
export function kernelArena(): Arena | null {
  if (arena === undefined) {
    try {
      arena = wasmApi !== undefined && typeof SharedArrayBuffer === 'function' ? new Arena(createMemory(wasmApi)) : null;
    } catch (e) {
      arena = null;
      process.emitWarning(`skipgrad: kernel arena unavailable (${e instanceof Error ? e.message : String(e)}); using ordinary arrays`);
    }
  }
  return arena;
}

/**
 * A kernel's scratch block, kept between calls and grown on demand: the kernel lays out its
 * temporaries from `ensure`'s address for the span of one call. `ensure` may move the block, so
 * lay out after calling it (or again if the address changed).
 */
export class ScratchBlock {
  private at = -1;
  private capacity = 0;

  constructor(private readonly arena: Arena) {}

  /** Address of a block of at least `bytes`, or -1 if the arena cannot provide one. */
  ensure(bytes: number): number {
    if (bytes <= this.capacity && this.at >= 0) return this.at;
    if (this.at >= 0) this.arena.free(this.at);
    // 25% headroom: the next layer's slightly larger layout should not move the block again.
    const capacity = Math.max(1, Math.ceil((bytes * 1.25) / PAGE_BYTES)) * PAGE_BYTES;
    this.at = this.arena.alloc(capacity);
    this.capacity = this.at < 0 ? 0 : capacity;
    return this.at;
  }
}

// ---------------------------------------------------------------------------------------------
// Collection: V8's gc() and a FinalizationRegistry whose callbacks can be run on demand.

export interface Collector {
  /** A full garbage collection (V8's gc()). */
  gc: () => void;
  /** Registry constructor; its instances have cleanupSome() when `sync` is true. */
  Registry: typeof FinalizationRegistry;
  /** Whether cleanupSome() runs the callbacks of collected views synchronously. */
  sync: boolean;
}

let collectorCache: Collector | null | undefined;

/**
 * gc() and FinalizationRegistry.prototype.cleanupSome, from a fresh context made after turning
 * on the flags that expose them (--expose-gc, --harmony-weak-refs-with-cleanup-some: flags set
 * at run time apply to contexts created afterwards). Null where the host refuses; `sync` false
 * where this V8 has no cleanupSome (the callbacks then run between event-loop turns).
 */
export function collector(): Collector | null {
  if (collectorCache === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      v8.setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
      const ctx = vm.createContext({});
      const gc: unknown = vm.runInContext('gc', ctx);
      const Registry = vm.runInContext('FinalizationRegistry', ctx) as typeof FinalizationRegistry;
      const sync = typeof (Registry.prototype as { cleanupSome?: unknown }).cleanupSome === 'function';
      collectorCache = typeof gc === 'function' ? { gc: gc as () => void, Registry, sync } : null;
    } catch {
      collectorCache = null;
    }
  }
  return collectorCache;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Returns the arena blocks of tensors that are no longer reachable to the pool, so the next
 * step reuses them instead of growing the arena: a full garbage collection (~10 ms with
 * ResNet-18's graph) and the finalizers (synchronously where V8 allows, else over two
 * event-loop turns). Training loops call it between steps (`fit` and the benchmark do). Without
 * it the arena still recycles, when it collects on its own (see `Arena.float32`).
 */
export async function reclaimMemory(): Promise<void> {
  const synced = arena ? arena.collect() : true;
  await nextTurn();
  if (!synced) await nextTurn();
}

/** The kernel arena's figures (null where there is none): for diagnostics and the benchmark. */
export function kernelMemoryStats(): ArenaStats | null {
  return kernelArena()?.getStats() ?? null;
}
