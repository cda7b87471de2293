// A small WebAssembly binary emitter, in the spirit of V8's wasm-module-builder.
//
// Kernels are emitted from TypeScript at runtime rather than shipped as .wasm files: the core
// then has no build step and no binary assets, and kernel variants (relaxed SIMD or not, tile
// sizes) are a function argument away. Only what the kernels need is here: one imported
// memory, functions with locals, exports, and the integer / f32 / SIMD opcodes we use.
// Reference: https://webassembly.github.io/spec/core/binary/ and the relaxed-simd proposal.

/** Value types (binary encodings). */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** Block type for blocks/loops/ifs that neither take nor produce values. */
const BLOCK_VOID = 0x40;

// ---------------------------------------------------------------------------------------------
// LEB128: every integer in the binary format (sizes, indices, immediates) is variable length.

export function uleb(n: number, out: number[] = []): number[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`uleb: ${n}`);
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number, out: number[] = []): number[] {
  if (!Number.isInteger(n)) throw new RangeError(`sleb: ${n}`);
  for (;;) {
    const byte = n & 0x7f;
    n = Math.floor(n / 128); // arithmetic shift that also works past 32 bits
    const signBitSet = (byte & 0x40) !== 0;
    if ((n === 0 && !signBitSet) || (n === -1 && signBitSet)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function utf8(s: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb(bytes.length), ...bytes];
}

/** A vector in the binary format: its length, then its items. */
function vec(items: number[][]): number[] {
  const out = uleb(items.length);
  for (const it of items) out.push(...it);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Function bodies.

/** A local variable (or parameter) handle: just its index, typed so it can't be mixed up with ints. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

/**
 * Emits one function body. Methods append instructions in stack-machine order; structured
 * helpers (block, loop, if_) take a callback for the body so nesting mirrors the TS code.
 * Labels are relative depths, as in the binary format: 0 is the innermost enclosing block.
 */
export class FunctionBuilder {
  readonly code: number[] = [];
  readonly params: Local[];
  private readonly localTypes: ValType[] = [];
  private nextIndex: number;

  constructor(
    readonly name: string,
    readonly index: number,
    readonly paramTypes: ValType[],
    readonly resultTypes: ValType[],
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
    this.nextIndex = paramTypes.length;
  }

  /** Declare a new local of the given type. */
  local(type: ValType): Local {
    this.localTypes.push(type);
    return { index: this.nextIndex++, type };
  }

  private op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  // -- control ---------------------------------------------------------------------------------
  block(body: () => void): this {
    this.op(0x02, BLOCK_VOID);
    body();
    return this.op(0x0b);
  }
  loop(body: () => void): this {
    this.op(0x03, BLOCK_VOID);
    body();
    return this.op(0x0b);
  }
  /** `if` on the i32 at the top of the stack; optional else branch. */
  if_(then: () => void, otherwise?: () => void): this {
    this.op(0x04, BLOCK_VOID);
    then();
    if (otherwise) {
      this.op(0x05);
      otherwise();
    }
    return this.op(0x0b);
  }
  br(depth: number): this {
    return this.op(0x0c, ...uleb(depth));
  }
  br_if(depth: number): this {
    return this.op(0x0d, ...uleb(depth));
  }
  return_(): this {
    return this.op(0x0f);
  }
  call(fn: FunctionBuilder | number): this {
    return this.op(0x10, ...uleb(typeof fn === 'number' ? fn : fn.index));
  }
  drop(): this {
    return this.op(0x1a);
  }
  select(): this {
    return this.op(0x1b);
  }

  /**
   * `for (i = start; i < end; i += step) body()` with i32 values, where start/end/step are
   * emitters that push one i32 each (or constants). Emitted as block { loop { br_if exit; ...} }
   * with the test at the top, so zero-trip loops are handled.
   */
  for_(i: Local, start: Operand, end: Operand, step: Operand, body: () => void): this {
    this.push(start).local_set(i);
    return this.block(() => {
      this.loop(() => {
        this.local_get(i).push(end).i32_ge_s().br_if(1);
        body();
        this.local_get(i).push(step).i32_add().local_set(i);
        this.br(0);
      });
    });
  }

  /** Push an operand: a local, an i32 constant, or an emitter callback. */
  push(x: Operand): this {
    if (typeof x === 'number') return this.i32_const(x);
    if (typeof x === 'function') {
      x();
      return this;
    }
    return this.local_get(x);
  }

  // -- variables -------------------------------------------------------------------------------
  local_get(l: Local): this {
    return this.op(0x20, ...uleb(l.index));
  }
  local_set(l: Local): this {
    return this.op(0x21, ...uleb(l.index));
  }
  local_tee(l: Local): this {
    return this.op(0x22, ...uleb(l.index));
  }

  // -- memory (memarg = alignment exponent, constant byte offset) -----------------------------
  private mem(opcode: number, alignLog2: number, offset: number): this {
    return this.op(opcode, ...uleb(alignLog2), ...uleb(offset));
  }
  i32_load(offset = 0): this {
    return this.mem(0x28, 2, offset);
  }
  f32_load(offset = 0): this {
    return this.mem(0x2a, 2, offset);
  }
  i32_store(offset = 0): this {
    return this.mem(0x36, 2, offset);
  }
  f32_store(offset = 0): this {
    return this.mem(0x38, 2, offset);
  }

  // -- constants -------------------------------------------------------------------------------
  i32_const(n: number): this {
    return this.op(0x41, ...sleb(n | 0));
  }
  f32_const(x: number): this {
    const b = new DataView(new ArrayBuffer(4));
    b.setFloat32(0, x, true); // IEEE 754 little-endian, whatever the host's byte order
    return this.op(0x43, b.getUint8(0), b.getUint8(1), b.getUint8(2), b.getUint8(3));
  }

  // -- i32 arithmetic and comparisons ----------------------------------------------------------
  i32_eqz(): this { return this.op(0x45); }
  i32_eq(): this { return this.op(0x46); }
  i32_ne(): this { return this.op(0x47); }
  i32_lt_s(): this { return this.op(0x48); }
  i32_gt_s(): this { return this.op(0x4a); }
  i32_le_s(): this { return this.op(0x4c); }
  i32_ge_s(): this { return this.op(0x4e); }
  i32_add(): this { return this.op(0x6a); }
  i32_sub(): this { return this.op(0x6b); }
  i32_mul(): this { return this.op(0x6c); }
  i32_and(): this { return this.op(0x71); }
  i32_or(): this { return this.op(0x72); }
  i32_shl(): this { return this.op(0x74); }
  i32_shr_s(): this { return this.op(0x75); }

  // -- f32 arithmetic --------------------------------------------------------------------------
  f32_eq(): this { return this.op(0x5b); }
  f32_add(): this { return this.op(0x92); }
  f32_sub(): this { return this.op(0x93); }
  f32_mul(): this { return this.op(0x94); }

  // -- SIMD (prefix 0xfd, then the opcode as a u32 LEB) ---------------------------------------
  private simd(opcode: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...imm);
  }
  v128_load(offset = 0): this {
    return this.simd(0x00, ...uleb(4), ...uleb(offset));
  }
  /** Load one f32/i32 and broadcast it to all four lanes (one instruction instead of load+splat). */
  v128_load32_splat(offset = 0): this {
    return this.simd(0x09, ...uleb(2), ...uleb(offset));
  }
  v128_store(offset = 0): this {
    return this.simd(0x0b, ...uleb(4), ...uleb(offset));
  }
  v128_const_zero(): this {
    return this.simd(0x0c, ...new Array<number>(16).fill(0));
  }
  /** Pick 16 bytes out of two vectors (lanes 0-15 from the first, 16-31 from the second). */
  i8x16_shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error('i8x16.shuffle needs 16 lane indices');
    return this.simd(0x0d, ...lanes);
  }
  /** i8x16.shuffle spelled with 32-bit lanes (0-3 first operand, 4-7 second): transposes read better. */
  shuffle32(l0: number, l1: number, l2: number, l3: number): this {
    const bytes: number[] = [];
    for (const l of [l0, l1, l2, l3]) bytes.push(4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3);
    return this.i8x16_shuffle(bytes);
  }
  f32x4_splat(): this { return this.simd(0x13); }
  f32x4_extract_lane(lane: number): this { return this.simd(0x1f, lane); }
  f32x4_add(): this { return this.simd(0xe4); }
  f32x4_sub(): this { return this.simd(0xe5); }
  f32x4_mul(): this { return this.simd(0xe6); }
  /**
   * Relaxed SIMD fused multiply-add: a*b + c, fused or not depending on the hardware (the same
   * choice every time on one machine, so results stay reproducible there). Stack: a b c.
   */
  f32x4_relaxed_madd(): this { return this.simd(0x105); }

  /** The encoded body: local declarations (run-length grouped by type), code, `end`. */
  encodeBody(): number[] {
    const groups: number[][] = [];
    for (let i = 0; i < this.localTypes.length; ) {
      let j = i;
      while (j < this.localTypes.length && this.localTypes[j] === this.localTypes[i]) j++;
      groups.push([...uleb(j - i), this.localTypes[i]]);
      i = j;
    }
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** What `push` and `for_` accept: a local, an i32 constant, or a callback that emits one i32. */
export type Operand = Local | number | (() => void);

// ---------------------------------------------------------------------------------------------
// Modules.

export interface MemoryImport {
  module: string;
  name: string;
  initialPages: number;
  maximumPages: number;
  shared: boolean;
}

export class ModuleBuilder {
  private readonly types: string[] = []; // deduplicated, keyed by encoding
  private readonly functions: { fn: FunctionBuilder; typeIndex: number; exported: boolean }[] = [];
  private memory: MemoryImport | null = null;

  /** Import the linear memory (`env.memory`), shared so worker threads can run on it too. */
  importMemory(m: MemoryImport): this {
    this.memory = m;
    return this;
  }

  /** Declare a function; its index is fixed now so others can call it before its body exists. */
  addFunction(name: string, params: ValType[], results: ValType[], exported = true): FunctionBuilder {
    const sig = [0x60, ...vec(params.map((t) => [t])), ...vec(results.map((t) => [t]))];
    const key = sig.join(',');
    let typeIndex = this.types.indexOf(key);
    if (typeIndex < 0) {
      typeIndex = this.types.length;
      this.types.push(key);
    }
    // No function imports, so function indices start at 0.
    const fn = new FunctionBuilder(name, this.functions.length, params, results);
    this.functions.push({ fn, typeIndex, exported });
    return fn;
  }

  /** Export a function declared with exported = false. */
  exportFunction(fn: FunctionBuilder): this {
    const f = this.functions.find((x) => x.fn === fn);
    if (!f) throw new Error(`unknown function ${fn.name}`);
    f.exported = true;
    return this;
  }

  toBytes(): Uint8Array<ArrayBuffer> {
    const section = (id: number, payload: number[]): number[] => [id, ...uleb(payload.length), ...payload];
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1

    out.push(...section(1, vec(this.types.map((k) => k.split(',').map(Number)))));

    if (this.memory) {
      const m = this.memory;
      // limits flags: bit 0 = has maximum, bit 1 = shared (shared memories must have a maximum)
      const flags = (m.shared ? 2 : 0) | 1;
      const imp = [...utf8(m.module), ...utf8(m.name), 0x02, flags, ...uleb(m.initialPages), ...uleb(m.maximumPages)];
      out.push(...section(2, vec([imp])));
    }

    out.push(...section(3, vec(this.functions.map((f) => uleb(f.typeIndex)))));

    const exports = this.functions.filter((f) => f.exported).map((f) => [...utf8(f.fn.name), 0x00, ...uleb(f.fn.index)]);
    out.push(...section(7, vec(exports)));

    out.push(...section(10, vec(this.functions.map((f) => f.fn.encodeBody()))));
    return new Uint8Array(out);
  }
}
