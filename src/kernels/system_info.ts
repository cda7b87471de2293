// What the kernels run on: the backend in use and why (`skipgrad info`), the native library
// it loaded, the wasm runtime, the thread count, the CPU and its vector features, and the
// kernel table. CPU features come from /proc/cpuinfo (Linux); elsewhere they are reported as
// unknown rather than guessed.

import { readFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { defaultBackend, formatKernelTable, getBackend, kernelTable, listBackends, nativeBackendStatus, type BackendInfo, type KernelTableRow } from './backend.js';
import { gemmInfo } from './gemm.js';
import type { NativeStatus } from './native/index.js';
import { getNumThreads } from './threads/pool.js';

/** The CPU flags worth knowing for these kernels (x86 SIMD generations, AMX; Arm's NEON / SVE). */
const INTERESTING = [
  'sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512dq', 'avx512cd', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16',
  'avx512_fp16', 'avx_vnni', 'amx_tile', 'amx_bf16', 'amx_int8', 'asimd', 'asimddp', 'sve', 'sve2',
];

/** The CPU as `skipgrad info` reports it. */
export interface CpuInfo {
  model: string;
  logicalCores: number;
  arch: string;
  platform: string;
  /** The INTERESTING flags the CPU has, or null when unknown here. */
  features: string[] | null;
  /** Where `features` came from, or why they are unknown. */
  featureSource: string;
}

/** Parses the first `flags` (x86) or `Features` (Arm) line of a /proc/cpuinfo text. */
export function cpuFeaturesFrom(cpuinfo: string): string[] | null {
  const line = cpuinfo.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
  if (!line) return null;
  const have = new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  return INTERESTING.filter((f) => have.has(f));
}

export function cpuInfo(): CpuInfo {
  const list = cpus();
  const base = { model: list[0]?.model.trim() || 'unknown', logicalCores: list.length, arch: arch(), platform: platform() };
  try {
    const features = cpuFeaturesFrom(readFileSync('/proc/cpuinfo', 'utf8'));
    return { ...base, features, featureSource: features ? '/proc/cpuinfo' : '/proc/cpuinfo has no flags line' };
  } catch {
    return { ...base, features: null, featureSource: 'unknown (no /proc/cpuinfo on this system)' };
  }
}

/**
 * Everything `skipgrad info` reports: backends and the one in use, native addon status, WebAssembly, threads, CPU, kernel table.
 */
export interface SystemInfo {
  backend: string;
  /** What runs when no backend is chosen: native where it loaded, else wasm. */
  defaultBackend: string;
  /** SKIPGRAD_BACKEND as set, or null. */
  backendEnv: string | null;
  backends: BackendInfo[];
  native: NativeStatus;
  /** Why native is not the backend in use; null when it is. */
  whyNotNative: string | null;
  wasm: { available: boolean; relaxedSimd: boolean; memoryBytes: number };
  threads: number;
  cpu: CpuInfo;
  node: string;
  kernels: KernelTableRow[];
}

/** Collects the {@link SystemInfo} of this process (loads the native addon if not tried yet). */
export function systemInfo(): SystemInfo {
  const backend = getBackend();
  const native = nativeBackendStatus();
  const env = process.env.SKIPGRAD_BACKEND?.trim() || null;
  let whyNotNative: string | null = null;
  if (backend !== 'native') {
    whyNotNative = !native.loaded
      ? `not available: ${native.reason ?? 'the addon did not load'}`
      : `available, but the backend in use is '${backend}' (${env ? `SKIPGRAD_BACKEND=${env}` : 'chosen with setBackend or --backend'})`;
  }
  const g = gemmInfo();
  return {
    backend,
    defaultBackend: defaultBackend(),
    backendEnv: env,
    backends: listBackends(),
    native,
    whyNotNative,
    wasm: { available: g.available, relaxedSimd: g.relaxedSimd, memoryBytes: g.memoryBytes },
    threads: getNumThreads(),
    cpu: cpuInfo(),
    node: process.version,
    kernels: kernelTable(),
  };
}

/** The report `skipgrad info` prints. */
export function formatSystemInfo(info: SystemInfo): string {
  const n = info.native;
  const lines = [
    `backend    ${info.backend}${info.backend === info.defaultBackend ? ' (the default)' : ` (default: ${info.defaultBackend})`}`,
    `native     ${info.whyNotNative === null ? 'in use' : info.whyNotNative}`,
  ];
  if (n.loaded) {
    lines.push(`           library ${n.library ?? 'unknown'}, version ${n.version ?? 'unknown'}`);
    lines.push(`           addon ${n.addonPath ?? 'unknown'}; features it uses: ${n.features.length ? n.features.join(' ') : 'none reported'}`);
  }
  lines.push(`wasm       ${info.wasm.available ? `available${info.wasm.relaxedSimd ? ' (relaxed SIMD)' : ''}` : 'not available here (no WebAssembly SIMD / SharedArrayBuffer): reference kernels instead'}`);
  lines.push(`backends   ${info.backends.map((b) => `${b.name}${b.available ? '' : ' (unavailable)'}`).join(' > ')}`);
  lines.push(`threads    ${info.threads} (setNumThreads / SKIPGRAD_NUM_THREADS)`);
  lines.push(`cpu        ${info.cpu.model}, ${info.cpu.logicalCores} logical cores, ${info.cpu.platform}/${info.cpu.arch}`);
  lines.push(`features   ${info.cpu.features === null ? info.cpu.featureSource : `${info.cpu.features.join(' ') || 'none of interest'} (${info.cpu.featureSource})`}`);
  lines.push(`node       ${info.node}`);
  lines.push('', 'kernels', ...formatKernelTable().split('\n').map((l) => `  ${l}`));
  return lines.join('\n');
}
