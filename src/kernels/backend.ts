// The kernel backends, registered by name as TensorFlow.js registers its backends and kernels.
//
// Every kernel the ops call is named in KERNEL_NAMES and typed in `Kernels`. A backend
// registers implementations for any subset of them (registerKernel); each implementation
// returns true (or a result) when it did the work, false (or null) to decline the call: wrong
// dtype, too small to pay, a shape it does not handle. The dispatcher under the kernel's plain
// name (gemm.ts's `gemm`, pool.ts's `maxPool2dForward`, ...) tries the backend in use first,
// then every available backend of lower priority: native -> wasm -> reference. The reference
// backend (plain TypeScript, the oracle) implements every kernel and never declines.
//
// Where the implementations live: the reference and wasm ones beside their dispatchers
// (gemm.ts, conv_dispatch.ts, batchnorm.ts, pool.ts, elementwise.ts, reduce.ts, optim.ts
// register them when loaded); native ones come from the addon's `nativeKernels`
// (native/index.ts), adapted in backends/native.ts when the addon loaded. `kernelTable()` is
// the resulting table, `formatKernelTable()` prints it (`skipgrad info`).
//
// Dispatch costs one property read and a loop over a prebuilt array per call: the chains are
// rebuilt only when the backend or a registration changes.

import type { ConvGradArrays } from './conv_dispatch.js';
import type { Conv2dParams } from './conv.js';
import type { FloatArray, TypedArray } from './dtype.js';
import type { ArithOp } from './fast/elementwise_module.js';
import type { AdamHyperParams, SgdHyperParams } from './optim.js';
import type { AdaptivePool2dParams, AvgPoolOptions, Pool2dParams } from './pool.js';
import type { Shape } from './shape.js';
import { nativeKernelImpls } from './backends/native.js';
import * as native from './native/index.js';
import { getNumThreads, onNumThreadsChange } from './threads/pool.js';

/** A scalar function of one argument, applied elementwise by `mapUnary`. */
export type UnaryFn = (x: number) => number;
/** A scalar function of two arguments, applied elementwise (broadcasting) by `mapBinary`. */
export type BinaryFn = (a: number, b: number) => number;
/** A scalar function of three arguments, applied elementwise (broadcasting) by `mapTernary`. */
export type TernaryFn = (a: number, b: number, c: number) => number;

/** Every kernel's signature: true / a result = done, false / null = declined (try the next backend). */
export interface Kernels {
  /**
   * C = alpha·op(A)·op(B) + beta·C on row-major float arrays at offsets, BLAS sgemm/dgemm style (op = transpose when
   * transA/transB).
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: FloatArray, aOff: number, lda: number, B: FloatArray, bOff: number, ldb: number,
    beta: number, C: FloatArray, cOff: number, ldc: number,
  ): boolean;
  /** Writes the 2-D convolution of `x` [N, C_in, H, W] with `w` (plus `bias`) into `out` [N, C_out, outH, outW]. */
  conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, p: Conv2dParams, out: FloatArray): boolean;
  /**
   * The non-null gradients of `g`. `g` is the dispatcher's own copy: an implementation that does
   * only some of them sets those fields to null and declines, and the next backend does the rest.
   */
  conv2dBackward(gy: FloatArray, x: FloatArray, w: FloatArray, p: Conv2dParams, g: ConvGradArrays): boolean;
  /** Per-channel mean and variance of `x` viewed as [N, C, S]. */
  bnChannelStats(x: TypedArray, N: number, C: number, S: number): { mean: Float64Array; variance: Float64Array } | null;
  /** Writes (x − mean)·invstd·weight + bias per channel of `x` [N, C, S] into `out`. */
  bnNormalize(
    x: TypedArray, N: number, C: number, S: number, mean: ArrayLike<number>, invstd: Float64Array,
    weight: TypedArray | null, bias: TypedArray | null, out: FloatArray,
  ): boolean;
  /** Per-channel Σg and Σg·x̂ of batch norm's backward, x̂ = (x − mean)·invstd. */
  bnBackwardReduce(
    g: TypedArray, x: TypedArray, N: number, C: number, S: number, mean: ArrayLike<number>, invstd: Float64Array,
  ): { sumG: Float64Array; sumGXhat: Float64Array } | null;
  /**
   * Writes batch norm's input gradient into `out`, from the sums of `bnBackwardReduce` (`batchStats`: the statistics
   * came from this batch).
   */
  bnBackwardInput(
    g: TypedArray, x: TypedArray, N: number, C: number, S: number, mean: ArrayLike<number>, invstd: Float64Array,
    weight: TypedArray | null, sumG: Float64Array, sumGXhat: Float64Array, batchStats: boolean, out: FloatArray,
  ): boolean;
  /** Writes `out`, returns the argmax indices. */
  maxPool2dForward(x: FloatArray, p: Pool2dParams, out: FloatArray): Int32Array | null;
  /** Scatters `gradOut` into `gradX` at the argmax `indices` of the forward pass. */
  maxPool2dBackward(gradOut: FloatArray, indices: Int32Array, p: Pool2dParams, gradX: FloatArray): boolean;
  /** Writes the 2-D average pooling of `x` into `out`. */
  avgPool2dForward(x: FloatArray, p: Pool2dParams, a: AvgPoolOptions, out: FloatArray): boolean;
  /** Writes average pooling's input gradient into `gradX`. */
  avgPool2dBackward(gradOut: FloatArray, p: Pool2dParams, a: AvgPoolOptions, gradX: FloatArray): boolean;
  /** Writes the adaptive average pooling of `x` (to outH × outW) into `out`. */
  adaptiveAvgPool2dForward(x: FloatArray, p: AdaptivePool2dParams, out: FloatArray): boolean;
  /** Writes adaptive average pooling's input gradient into `gradX`. */
  adaptiveAvgPool2dBackward(gradOut: FloatArray, p: AdaptivePool2dParams, gradX: FloatArray): boolean;
  /** Writes `a op b` (add, sub, mul, div, broadcasting) into `out`. */
  arith(op: ArithOp, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape): boolean;
  /** Writes max(0, x) into `out` (NaN passes through). */
  reluForward(x: TypedArray, out: TypedArray): boolean;
  /** Writes g where x > 0, else 0, into `out`. */
  reluBackward(g: TypedArray, x: TypedArray, out: TypedArray): boolean;
  /** Writes fn(x) elementwise into `out`. */
  mapUnary(x: TypedArray, out: TypedArray, fn: UnaryFn): boolean;
  /** Writes fn(a, b) elementwise, broadcasting, into `out`. */
  mapBinary(a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape, fn: BinaryFn): boolean;
  /** Writes fn(a, b, c) elementwise, broadcasting, into `out`. */
  mapTernary(
    a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, c: TypedArray, cShape: Shape,
    out: TypedArray, outShape: Shape, fn: TernaryFn,
  ): boolean;
  /** Sums `x` over `axes`. */
  sumAxes(x: TypedArray, shape: Shape, axes: readonly number[]): TypedArray | null;
  /** The max (`wantMax`) or min of `x` along `axis`, with the index of each. */
  extremumAxis(x: TypedArray, shape: Shape, axis: number, wantMax: boolean): { values: TypedArray; indices: Int32Array } | null;
  /** One in-place SGD update of `data` from `grad` (momentum buffer `buf`, `first` on its first step), as `torch.optim.SGD`. */
  sgdStep(data: FloatArray, grad: TypedArray, buf: FloatArray | null, first: boolean, h: SgdHyperParams): boolean;
  /** One in-place Adam update of `data` (moments m, v; vMax for AMSGrad; `decoupled` weight decay is AdamW's). */
  adamStep(
    data: FloatArray, grad: TypedArray, m: FloatArray, v: FloatArray, vMax: FloatArray | null,
    h: AdamHyperParams, step: number, decoupled: boolean,
  ): boolean;
}

/** The name of one kernel of {@link Kernels}. */
export type KernelName = keyof Kernels;

/** The kernels, in the order the table lists them. */
export const KERNEL_NAMES: readonly KernelName[] = [
  'gemm', 'conv2dForward', 'conv2dBackward',
  'bnChannelStats', 'bnNormalize', 'bnBackwardReduce', 'bnBackwardInput',
  'maxPool2dForward', 'maxPool2dBackward', 'avgPool2dForward', 'avgPool2dBackward', 'adaptiveAvgPool2dForward', 'adaptiveAvgPool2dBackward',
  'arith', 'reluForward', 'reluBackward', 'mapUnary', 'mapBinary', 'mapTernary',
  'sumAxes', 'extremumAxis', 'sgdStep', 'adamStep',
];

/** The prebuilt fallback chain of every kernel for the backend in use. */
export type KernelChains = { readonly [K in KernelName]: readonly Kernels[K][] };

interface BackendEntry {
  name: string;
  priority: number;
  /** Null when usable, else why not; run once, on first need. */
  probe: () => string | null;
  probed: boolean;
  reason: string | null;
  kernels: Map<KernelName, Kernels[KernelName]>;
}

const backends = new Map<string, BackendEntry>();
let active: string | null = null; // resolved on first use
let chains: KernelChains | null = null;

const invalidate = (): void => {
  chains = null;
};

/**
 * Registers a backend (or re-registers one: its kernels are kept). Higher priority is tried
 * first among the fallbacks; `probe` returns null when the backend can run here, else the reason.
 */
export function registerBackend(name: string, options: { priority: number; probe?: () => string | null }): void {
  if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new Error(`registerBackend: bad backend name '${name}'`);
  if (!Number.isFinite(options.priority)) throw new Error(`registerBackend: ${name}: priority must be a finite number, got ${options.priority}`);
  const prev = backends.get(name);
  backends.set(name, { name, priority: options.priority, probe: options.probe ?? (() => null), probed: false, reason: null, kernels: prev?.kernels ?? new Map() });
  invalidate();
}

/** Removes a backend and its kernels (for tests; 'reference' stays). Falls back to the default if it was in use. */
export function unregisterBackend(name: string): void {
  if (name === 'reference') throw new Error("unregisterBackend: the 'reference' backend cannot be removed");
  backends.delete(name);
  if (active === name) active = null;
  invalidate();
}

/** Registers `backend`'s implementation of `kernel` (replacing any earlier one). */
export function registerKernel<K extends KernelName>(kernel: K, backend: string, impl: Kernels[K]): void {
  const b = backends.get(backend);
  if (!b) throw new Error(`registerKernel: no backend '${backend}' for kernel '${kernel}' (backends: ${[...backends.keys()].join(', ')})`);
  if (!KERNEL_NAMES.includes(kernel)) throw new Error(`registerKernel: unknown kernel '${String(kernel)}'`);
  b.kernels.set(kernel, impl);
  invalidate();
}

function reasonOf(b: BackendEntry): string | null {
  if (!b.probed) {
    b.probed = true;
    try {
      b.reason = b.probe();
    } catch (e) {
      b.reason = `probe failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return b.reason;
}

function entry(name: string, what: string): BackendEntry {
  const b = backends.get(name);
  if (!b) throw new Error(`${what}: unknown backend '${name}' (backends: ${[...backends.keys()].join(', ')})`);
  const reason = reasonOf(b);
  if (reason !== null) throw new Error(`${what}: the '${name}' backend is not available: ${reason}`);
  return b;
}

/** The backend used when none was chosen: native where it loaded, else wasm. */
export function defaultBackend(): string {
  const n = backends.get('native');
  return n && reasonOf(n) === null ? 'native' : 'wasm';
}

function initialBackend(): string {
  const env = process.env.SKIPGRAD_BACKEND?.trim();
  if (env) return entry(env, `SKIPGRAD_BACKEND=${env}`).name;
  if (process.env.SKIPGRAD_KERNELS === 'reference') return 'reference';
  return defaultBackend();
}

/** The backend in use (resolved on first use from SKIPGRAD_BACKEND, SKIPGRAD_KERNELS=reference, or the default). */
export function getBackend(): string {
  if (active === null) active = initialBackend();
  return active;
}

/** Use backend `name` from now on; throws, with the reason, if it is unknown or cannot run here. */
export function setBackend(name: string): void {
  if (typeof name !== 'string') throw new TypeError(`setBackend: expected a backend name, got ${String(name)}`);
  entry(name, 'setBackend');
  if (active !== name) invalidate();
  active = name;
}

/** Usable backends from the one in use down, by priority; the reference always last. */
function fallbackOrder(): BackendEntry[] {
  const first = entry(getBackend(), 'kernels');
  if (first.name === 'reference') return [first];
  const rest = [...backends.values()].filter((b) => b !== first && b.name !== 'reference' && b.priority < first.priority && reasonOf(b) === null);
  return [first, ...rest.sort((a, b) => b.priority - a.priority), backends.get('reference')!];
}

/** The chain of implementations of every kernel for the backend in use (what the dispatchers loop over). */
export function kernelChains(): KernelChains {
  if (chains !== null) return chains;
  const order = fallbackOrder();
  const built: Record<string, unknown[]> = {};
  for (const k of KERNEL_NAMES) built[k] = order.flatMap((b) => (b.kernels.has(k) ? [b.kernels.get(k)!] : []));
  chains = built as unknown as KernelChains;
  return chains;
}

/** Thrown if every backend declined: only possible if the reference kernel is missing (a bug). */
export function noKernel(kernel: KernelName): Error {
  return new Error(`${kernel}: no backend ran this call (backend '${getBackend()}'; the reference implementation is missing)`);
}

/** A registered backend as {@link listBackends} reports it. */
export interface BackendInfo {
  name: string;
  priority: number;
  available: boolean;
  /** Why it is not available, else null. */
  reason: string | null;
}

/** Every registered backend, highest priority first. */
export function listBackends(): BackendInfo[] {
  return [...backends.values()]
    .sort((a, b) => b.priority - a.priority)
    .map((b) => {
      const reason = reasonOf(b);
      return { name: b.name, priority: b.priority, available: reason === null, reason };
    });
}

/** One kernel's row of {@link kernelTable}. */
export interface KernelTableRow {
  kernel: KernelName;
  /** Backends that implement it, highest priority first. */
  providers: string[];
  /** The order it is tried in with the backend in use. */
  chain: string[];
}

/** Which backend provides which kernel, and the fallback order each kernel runs in now. */
export function kernelTable(): KernelTableRow[] {
  const all = [...backends.values()].sort((a, b) => b.priority - a.priority);
  const order = fallbackOrder();
  return KERNEL_NAMES.map((kernel) => ({
    kernel,
    providers: all.filter((b) => b.kernels.has(kernel)).map((b) => b.name),
    chain: order.filter((b) => b.kernels.has(kernel)).map((b) => b.name),
  }));
}

/** The kernel table as text: one row per kernel, a column per backend ('yes' = implements it), then the order tried now. */
export function formatKernelTable(): string {
  const names = listBackends().map((b) => b.name);
  const rows = kernelTable();
  const w0 = Math.max(6, ...rows.map((r) => r.kernel.length)) + 2;
  const cols = names.map((n) => Math.max(n.length, 3) + 2);
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(i === 0 ? w0 : cols[i - 1] ?? 0)).join('').trimEnd();
  const out = [line(['kernel', ...names]) + `  tried now (backend: ${getBackend()})`];
  for (const r of rows) {
    const marks = names.map((n) => (r.providers.includes(n) ? 'yes' : '-'));
    out.push(line([r.kernel, ...marks]).padEnd(w0 + cols.reduce((a, b) => a + b, 0)) + '  ' + r.chain.join(' > '));
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The built-in backends. Their reference and wasm kernels register from the kernel files;
// the native ones when the addon loads (on the first kernel call, or getBackend / info).

/** Where the native kernels come from: the addon's loader, or a test's stand-in. */
export interface NativeSource {
  status(): native.NativeStatus;
  kernels: native.NativeKernels;
  setThreads(n: number): void;
}

const addon: NativeSource = { status: native.nativeStatus, kernels: native.nativeKernels, setThreads: native.setNativeThreads };
let nativeSource: NativeSource = addon;

function probeNative(): string | null {
  const src = nativeSource;
  const s = src.status();
  if (!s.loaded) return s.reason ?? 'the native addon did not load (no reason given)';
  const b = backends.get('native')!;
  b.kernels.clear();
  for (const [k, impl] of Object.entries(nativeKernelImpls(src.kernels))) b.kernels.set(k as KernelName, impl as Kernels[KernelName]);
  src.setThreads(getNumThreads());
  return null;
}

/** The native backend's status as its loader reports it (loads the addon if not tried yet). */
export function nativeBackendStatus(): native.NativeStatus {
  return nativeSource.status();
}

/**
 * For tests: native kernels from `src` instead of the addon (null: the addon again). The
 * native backend is probed afresh; if it was in use and is now unavailable, the default is.
 */
export function setNativeSourceForTests(src: NativeSource | null): void {
  nativeSource = src ?? addon;
  registerBackend('native', { priority: 300, probe: probeNative });
  backends.get('native')!.kernels.clear();
  if (active === 'native' && reasonOf(backends.get('native')!) !== null) active = null;
}

/** For tests: forget the backend in use, so the next use resolves it again from the environment. */
export function resetBackendForTests(): void {
  active = null;
  invalidate();
}

registerBackend('native', { priority: 300, probe: probeNative });
registerBackend('wasm', { priority: 200 });
registerBackend('reference', { priority: 100 });

// One thread budget: the addon's own threads follow setNumThreads.
onNumThreadsChange((n) => nativeSource.setThreads(n));
