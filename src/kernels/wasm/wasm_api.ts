// Minimal typings for the WebAssembly JS API, as the kernels use it.
//
// The project compiles against lib ES2022 without the DOM lib, where the global `WebAssembly`
// namespace is not declared. Declaring it globally ourselves could clash with a lib that does,
// so the kernels go through this module-local, typed view of globalThis.WebAssembly instead.

export interface WasmMemory {
  /** A SharedArrayBuffer for shared memories; a new object after each grow. */
  readonly buffer: ArrayBufferLike;
  /** Grow by `deltaPages` 64 KiB pages; returns the old size in pages; throws RangeError past the maximum. */
  grow(deltaPages: number): number;
}

/** A compiled module (opaque; structured-cloneable to worker threads). */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
}

/** globalThis.WebAssembly, or undefined where the host has none. */
export const wasmApi: WasmApi | undefined = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** globalThis.WebAssembly, or an error saying it is missing. */
export function requireWasm(): WasmApi {
  if (wasmApi === undefined) throw new Error('WebAssembly is not available in this JavaScript runtime');
  return wasmApi;
}
