// A worker_threads pool for wasm kernels that share one WebAssembly.Memory (the kernel arena).
//
// Every thread (the calling thread plus N-1 workers) instantiates the same compiled modules on
// the same shared memory, so a job is just "call export `fn` with these numbers": operands and
// results already live in the shared memory. The first 64 KiB of the memory is a control area:
// one 256-byte slot per worker holding a job sequence number, a done counter and the call's
// arguments. The caller posts the jobs (Atomics.store + notify), runs its own share, then
// waits on each worker's done counter (Atomics.wait). No message passing on the hot path.
//
// Workers are created lazily on the first job that wants them, are unref()'d (they never keep
// the process alive) and are made from a JS source string (`eval: true`), so this works the
// same when run from src/*.ts under vitest and from dist/src/*.js.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CONTROL_BYTES } from '../memory/arena.js';
import { requireWasm, type WasmMemory, type WasmModule } from '../wasm/wasm_api.js';

export { CONTROL_BYTES };
const SLOT_BYTES = 256;
/** Upper bound on threads: one control slot each (slot 0, the caller's, is unused). */
export const MAX_THREADS = CONTROL_BYTES / SLOT_BYTES;
const MAX_ARGS = 24; // f64 arguments after a 64-byte header

// Int32 indices inside a slot.
const SEQ = 0; // job sequence number, written by the caller
const DONE = 1; // last finished sequence number, written by the worker
const READY = 2; // 1 once the worker has instantiated the module
const ERR = 3; // 1 if the last job threw
const FN = 4; // index into the export-name list, or -1 to quit
const NARGS = 5;
const ARGS_F64 = 8; // Float64 index of the first argument (byte 64)

/** Spin iterations (Atomics.load) before sleeping: catches back-to-back jobs without futex latency. */
const SPIN = 1 << 14;
/** How long to wait for a freshly started worker before giving up on it. */
const START_TIMEOUT_MS = 20_000;

// The worker program. Plain CommonJS JS: it is evaluated as a string, never bundled or transpiled.
const WORKER_SOURCE = `
'use strict';
const { workerData } = require('node:worker_threads');
const { memory, modules, slot, fnNames } = workerData;
const exportsOf = modules.map((m) => new WebAssembly.Instance(m, { env: { memory } }).exports);
const fns = fnNames.map((n) => exportsOf.find((e) => typeof e[n] === 'function')[n]);
// Views on the control area only: it never moves, so growth of the memory does not affect them.
const i32 = new Int32Array(memory.buffer, 0, ${CONTROL_BYTES / 4});
const f64 = new Float64Array(memory.buffer, 0, ${CONTROL_BYTES / 8});
const base = slot * ${SLOT_BYTES / 4};
const argBase = slot * ${SLOT_BYTES / 8} + ${ARGS_F64};
const args = [];
let seen = Atomics.load(i32, base + ${SEQ});
Atomics.store(i32, base + ${READY}, 1);
Atomics.notify(i32, base + ${READY});
for (;;) {
  let s = Atomics.load(i32, base + ${SEQ});
  for (let n = 0; s === seen && n < ${SPIN}; n++) s = Atomics.load(i32, base + ${SEQ});
  if (s === seen) {
    Atomics.wait(i32, base + ${SEQ}, seen);
    continue;
  }
  seen = s;
  const fn = i32[base + ${FN}];
  if (fn < 0) break;
  args.length = i32[base + ${NARGS}];
  for (let k = 0; k < args.length; k++) args[k] = f64[argBase + k];
  let err = 0;
  try {
    fns[fn](...args);
  } catch (e) {
    err = 1;
  }
  i32[base + ${ERR}] = err;
  Atomics.store(i32, base + ${DONE}, seen);
  Atomics.notify(i32, base + ${DONE});
}
`;

// ---------------------------------------------------------------------------------------------
// Thread count (process-wide setting, read by every pool).

function defaultThreads(): number {
  const env = process.env.SKIPGRAD_NUM_THREADS;
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return Math.min(n, MAX_THREADS);
    process.emitWarning(`SKIPGRAD_NUM_THREADS=${env} ignored: expected a positive integer`);
  }
  return Math.max(1, Math.min(availableParallelism(), MAX_THREADS));
}

let numThreads = defaultThreads();

/** Threads used by the multi-threaded kernels (including the calling thread). */
export function getNumThreads(): number {
  return numThreads;
}

/** Set the thread count for kernels: 1 = calling thread only. Default: SKIPGRAD_NUM_THREADS or os.availableParallelism(). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
  numThreads = Math.min(n, MAX_THREADS);
  for (const f of threadListeners) f(numThreads);
}

const threadListeners: ((n: number) => void)[] = [];

/** Calls `f(n)` after every setNumThreads (the native backend keeps its own threads to the same budget). */
export function onNumThreadsChange(f: (n: number) => void): void {
  threadListeners.push(f);
}

// ---------------------------------------------------------------------------------------------

export interface RunHooks {
  beforeLocal?: () => void;
  afterLocal?: () => void;
}

interface WorkerHandle {
  worker: Worker;
  slot: number;
  seq: number;
  dead: boolean;
}

export class KernelPool {
  /** The calling thread's exports of every module, by name (it does thread 0's share of every job). */
  readonly exports: Readonly<Record<string, unknown>>;
  /** Exports that `run` may call: every function of every module (workers resolve them by index). */
  private readonly fnNames: readonly string[];
  private readonly workers: WorkerHandle[] = [];
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  /** Set when workers could not be started: run everything on the calling thread from then on. */
  private workersBroken = false;

  /** `memory` must be at least CONTROL_BYTES long (the kernel arena reserves that area). */
  constructor(
    readonly memory: WasmMemory,
    private readonly modules: readonly WasmModule[],
  ) {
    if (memory.buffer.byteLength < CONTROL_BYTES) throw new Error('KernelPool: the memory has no control area');
    const exports: Record<string, unknown> = {};
    for (const m of modules) {
      for (const [name, value] of Object.entries(new (requireWasm().Instance)(m, { env: { memory } }).exports)) {
        if (name in exports) throw new Error(`KernelPool: two kernel modules export ${name}`);
        exports[name] = value;
      }
    }
    this.exports = exports;
    this.fnNames = Object.keys(exports).filter((n) => typeof exports[n] === 'function');
    this.i32 = new Int32Array(memory.buffer, 0, CONTROL_BYTES / 4);
    this.f64 = new Float64Array(memory.buffer, 0, CONTROL_BYTES / 8);
  }

  /** Workers currently alive (for tests and diagnostics). */
  get workerCount(): number {
    return this.workers.filter((w) => !w.dead).length;
  }

  /**
   * Run `exports[fn](...args[t])` on thread t for every t, thread 0 being the caller, and
   * return when all are done. Jobs must write disjoint memory. With fewer live workers than
   * asked for (start failure), the missing shares run on the calling thread, in order.
   * `hooks.beforeLocal` runs after the workers' jobs are posted and before the caller's share
   * (e.g. to copy in the caller's operands while the workers already compute); `afterLocal`
   * runs after the caller's share, before waiting for the workers.
   */
  run(fn: string, args: readonly (readonly number[])[], hooks: RunHooks = {}): void {
    const fnIndex = this.fnNames.indexOf(fn);
    if (fnIndex < 0) throw new Error(`KernelPool.run: ${fn} is not a pool function`);
    const call = this.exports[fn] as (...a: number[]) => void;
    const posted: WorkerHandle[] = [];
    const local: (readonly number[])[] = [args[0]];
    if (args.length > 1) this.startWorkers(args.length - 1);
    for (let t = 1; t < args.length; t++) {
      const w = this.workers[t - 1];
      if (w === undefined || w.dead) {
        local.push(args[t]);
        continue;
      }
      this.post(w, fnIndex, args[t]);
      posted.push(w);
    }
    let failure: unknown = null;
    try {
      hooks.beforeLocal?.();
      for (const a of local) call(...a);
      hooks.afterLocal?.();
    } catch (e) {
      failure = e;
    }
    for (const w of posted) this.waitDone(w); // always: never leave a worker writing behind our back
    if (failure !== null) throw failure;
    const bad = posted.find((w) => this.i32[w.slot * (SLOT_BYTES / 4) + ERR] !== 0);
    if (bad) throw new Error(`KernelPool: ${fn} failed in worker thread ${bad.slot}`);
  }

  /** Stop all workers (they are unref()'d anyway; this is for tests and explicit shutdown). */
  async terminate(): Promise<void> {
    const ws = this.workers.splice(0);
    await Promise.all(ws.map((w) => w.worker.terminate()));
  }

  private post(w: WorkerHandle, fnIndex: number, a: readonly number[]): void {
    if (a.length > MAX_ARGS) throw new Error(`KernelPool: at most ${MAX_ARGS} arguments`);
    const base = w.slot * (SLOT_BYTES / 4);
    const argBase = w.slot * (SLOT_BYTES / 8) + ARGS_F64;
    this.i32[base + FN] = fnIndex;
    this.i32[base + NARGS] = a.length;
    for (let k = 0; k < a.length; k++) this.f64[argBase + k] = a[k];
    w.seq = (w.seq + 1) | 0;
    Atomics.store(this.i32, base + SEQ, w.seq); // publishes the plain stores above
    Atomics.notify(this.i32, base + SEQ);
  }

  private waitDone(w: WorkerHandle): void {
    const idx = w.slot * (SLOT_BYTES / 4) + DONE;
    for (let n = 0; n < SPIN; n++) if (Atomics.load(this.i32, idx) === w.seq) return;
    for (;;) {
      const d = Atomics.load(this.i32, idx);
      if (d === w.seq) return;
      Atomics.wait(this.i32, idx, d);
    }
  }

  /** Make sure `n` workers exist; newly started ones are waited for (once, ~50-100 ms). */
  private startWorkers(n: number): void {
    if (this.workersBroken) return;
    const fresh: WorkerHandle[] = [];
    while (this.workers.length < n) {
      const slot = this.workers.length + 1;
      const base = slot * (SLOT_BYTES / 4);
      for (let k = 0; k < SLOT_BYTES / 4; k++) this.i32[base + k] = 0;
      let worker: Worker;
      try {
        worker = new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { memory: this.memory, modules: this.modules, slot, fnNames: this.fnNames },
        });
      } catch (e) {
        this.giveUpOnWorkers(e);
        return;
      }
      worker.unref();
      const handle: WorkerHandle = { worker, slot, seq: 0, dead: false };
      // Errors arrive asynchronously (never while we block); mark the worker dead so later jobs skip it.
      worker.on('error', () => (handle.dead = true));
      worker.on('exit', () => (handle.dead = true));
      this.workers.push(handle);
      fresh.push(handle);
    }
    const deadline = performance.now() + START_TIMEOUT_MS;
    for (const w of fresh) {
      const idx = w.slot * (SLOT_BYTES / 4) + READY;
      while (Atomics.load(this.i32, idx) === 0) {
        const left = deadline - performance.now();
        if (left <= 0) {
          this.giveUpOnWorkers(new Error('worker did not start in time'));
          return;
        }
        Atomics.wait(this.i32, idx, 0, Math.min(left, 50));
      }
    }
  }

  private giveUpOnWorkers(reason: unknown): void {
    this.workersBroken = true;
    for (const w of this.workers) {
      w.dead = true;
      void w.worker.terminate();
    }
    const msg = reason instanceof Error ? reason.message : String(reason);
    process.emitWarning(`skipgrad: kernel worker threads unavailable (${msg}); running single-threaded`);
  }
}
