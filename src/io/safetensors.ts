/**
 * A dependency-free codec for the safetensors format, on raw typed arrays.
 *
 * Layout: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON header, then the
 * data buffer. The header maps each tensor name to
 * `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the
 * start of the data buffer) plus an optional `"__metadata__"` string map.
 * Tensors are little-endian, row-major and packed; the buffer must be covered
 * exactly, with no overlaps and no holes.
 *
 * Files are treated as hostile: every number in the header is checked against
 * the bytes really present before anything is allocated, so the memory a decode
 * uses is bounded by the size of the input, never by what the header claims.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export type RawTensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: RawTensorData;
}

export interface DecodedSafetensors {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Every error this module throws on bad input; the message starts with the file (or source) name. */
export class SafetensorsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SafetensorsError';
  }
}

/** Same cap as the reference implementation: bigger headers are refused before parsing. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** Element sizes of every dtype the spec names, so that "not supported" differs from "not a dtype". */
const SPEC_DTYPE_SIZES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, F4: 1, F6_E2M3: 1, F6_E3M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8, C64: 8,
};

/** Dtypes we can write, with the typed array each must come in. */
const WRITABLE: Readonly<Record<string, { size: number; arrayName: string; is: (d: unknown) => boolean }>> = {
  F64: { size: 8, arrayName: 'Float64Array', is: (d) => d instanceof Float64Array },
  F32: { size: 4, arrayName: 'Float32Array', is: (d) => d instanceof Float32Array },
  I64: { size: 8, arrayName: 'BigInt64Array', is: (d) => d instanceof BigInt64Array },
  I32: { size: 4, arrayName: 'Int32Array', is: (d) => d instanceof Int32Array },
  U8: { size: 1, arrayName: 'Uint8Array', is: (d) => d instanceof Uint8Array },
  BOOL: { size: 1, arrayName: 'Uint8Array', is: (d) => d instanceof Uint8Array },
};

/** Dtypes we can read: the writable ones, plus F16/BF16 which are widened to F32. */
const READABLE = new Set(['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'U8', 'BOOL']);

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------
// Encoding

interface Prepared {
  /** 8-byte length prefix followed by the space-padded header. */
  head: Uint8Array;
  /** Little-endian bytes of each tensor, in data-buffer order. */
  pieces: Uint8Array[];
  dataLength: number;
}

function isWellFormedString(s: string): boolean {
  // Lone surrogates survive JSON.stringify as \udXXX escapes, which strict UTF-8 readers refuse.
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Product of the dims, or undefined if it exceeds Number.MAX_SAFE_INTEGER.
 * A zero dim makes the product 0 whatever the others are, so it is found first:
 * otherwise [2^40, 2^40, 0] would be refused as an overflow.
 */
function checkedProduct(dims: readonly number[], factor: number): number | undefined {
  if (dims.includes(0)) return 0;
  let p = factor;
  for (const d of dims) {
    p *= d;
    if (p > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return p;
}

function isShape(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
}

/** The tensor's bytes in little-endian order: a view on LE hosts, a swapped copy on BE ones. */
function littleEndianBytes(data: RawTensorData, size: number): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN || size === 1) return view;
  const copy = view.slice();
  swapInPlace(copy, size);
  return copy;
}

function swapInPlace(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

function ownEntries<T>(record: Record<string, T>): [string, T][] {
  return Object.keys(record).map((k) => [k, record[k] as T]);
}

function prepare(
  tensors: Record<string, RawTensor>,
  metadata: Record<string, string> | undefined,
  where: string,
): Prepared {
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`${where}: ${msg}`);
  };
  if (tensors === null || typeof tensors !== 'object') fail('tensors must be an object');

  const items: { name: string; dtype: string; shape: number[]; bytes: Uint8Array; size: number; index: number }[] = [];
  for (const [name, t] of ownEntries(tensors)) {
    const label = `tensor ${JSON.stringify(name)}`;
    if (name === METADATA_KEY) fail(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (!isWellFormedString(name)) fail(`${label}: name is not well-formed Unicode`);
    if (t === null || typeof t !== 'object') fail(`${label}: not a tensor object`);
    const spec = WRITABLE[t.dtype];
    if (spec === undefined || !Object.hasOwn(WRITABLE, t.dtype)) {
      fail(`${label}: unsupported dtype ${JSON.stringify(t.dtype)} for writing (supported: ${Object.keys(WRITABLE).join(', ')})`);
    }
    const { size, arrayName, is } = spec!;
    if (!isShape(t.shape)) fail(`${label}: shape must be an array of non-negative safe integers`);
    if (!is(t.data)) fail(`${label}: dtype ${t.dtype} needs a ${arrayName}, got ${describe(t.data)}`);
    const numel = checkedProduct(t.shape, 1);
    const byteCount = checkedProduct(t.shape, size);
    if (numel === undefined || byteCount === undefined) fail(`${label}: shape ${shapeText(t.shape)} is too large`);
    if (t.data.length !== numel) {
      fail(`${label}: data has ${t.data.length} elements but shape ${shapeText(t.shape)} needs ${numel}`);
    }
    if (t.dtype === 'BOOL') {
      const bad = (t.data as Uint8Array).findIndex((v) => v > 1);
      if (bad >= 0) fail(`${label}: BOOL data must be 0 or 1, found ${t.data[bad]} at index ${bad}`);
    }
    items.push({ name, dtype: t.dtype, shape: t.shape.slice(), bytes: littleEndianBytes(t.data, size), size, index: items.length });
  }

  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object')) fail('metadata must be an object');
  const metaEntries = metadata === undefined ? undefined : ownEntries(metadata);
  for (const [k, v] of metaEntries ?? []) {
    if (typeof v !== 'string') fail(`metadata ${JSON.stringify(k)}: value must be a string`);
    if (!isWellFormedString(k) || !isWellFormedString(v)) fail(`metadata ${JSON.stringify(k)}: not well-formed Unicode`);
  }

  // Widest dtype first (stable, so insertion order within a width), as the reference
  // writer does: with the header padded to 8 bytes every tensor then starts on a
  // multiple of its element size, so readers can map it without copying.
  const layout = items.slice().sort((a, b) => b.size - a.size || a.index - b.index);
  const offsets = new Map<string, [number, number]>();
  let dataLength = 0;
  for (const it of layout) {
    offsets.set(it.name, [dataLength, dataLength + it.bytes.length]);
    dataLength += it.bytes.length;
    if (dataLength > Number.MAX_SAFE_INTEGER) fail('total data size is too large');
  }

  // Built by hand so the header keys keep insertion order, metadata first like the reference.
  const parts: string[] = [];
  if (metaEntries !== undefined) {
    const meta = metaEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',');
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${meta}}`);
  }
  for (const it of items) {
    const [begin, end] = offsets.get(it.name)!;
    parts.push(
      `${JSON.stringify(it.name)}:{"dtype":${JSON.stringify(it.dtype)},"shape":[${it.shape.join(',')}],"data_offsets":[${begin},${end}]}`,
    );
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  if (headerLength > SAFETENSORS_MAX_HEADER_BYTES) fail(`header would be ${headerLength} bytes, over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`);
  const head = new Uint8Array(8 + headerLength).fill(0x20); // padding is spaces
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);

  return { head, pieces: layout.map((it) => it.bytes), dataLength };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/**
 * Serialises tensors to safetensors bytes. Header keys keep insertion order
 * (JavaScript lists integer-like keys such as "0" first); the data buffer is
 * ordered widest dtype first so every tensor is aligned to its element size.
 */
export function encodeSafetensors(tensors: Record<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  const { head, pieces, dataLength } = prepare(tensors, metadata, 'safetensors encode');
  const out = new Uint8Array(head.length + dataLength);
  out.set(head, 0);
  let pos = head.length;
  for (const p of pieces) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Decoding

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  numel: number;
  begin: number;
  end: number;
}

interface ParsedHeader {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
}

function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  // defineProperty, not assignment: a tensor called "__proto__" must stay data.
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Reads the u64 header length and checks it against the limit and the real file size. */
function checkHeaderLength(prefix: Uint8Array, fileSize: number, source: string): number {
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw new SafetensorsError(`${source}: header length ${n} is over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`);
  }
  if (n > BigInt(fileSize - 8)) {
    throw new SafetensorsError(`${source}: header length ${n} runs past the end of the file (${fileSize} bytes)`);
  }
  return Number(n);
}

function tooShort(size: number, source: string): SafetensorsError {
  return new SafetensorsError(`${source}: file is ${size} bytes, shorter than the 8-byte header length`);
}

/** Index of the quote closing the string that opens at `i` (text.length if unterminated). */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === 0x22) return j;
    j += d === 0x5c ? 2 : 1;
  }
  return text.length;
}

/** Real headers nest 3 deep; this leaves room for extra fields while refusing bombs. */
const MAX_HEADER_DEPTH = 32;

/**
 * Decoding costs about 1 KB of heap per tensor (its header object, entry, typed array and
 * record slot) and tens of bytes per other JSON value, far more than the bytes that describe
 * them: a 97 MB file of 1.4 M one-byte tensors needed ~1.5 GB. These caps keep decoding within a
 * small multiple of the file size (about 100 MB at the caps); real models have thousands of
 * tensors at most.
 */
export const SAFETENSORS_MAX_TENSORS = 100_000;
const MAX_HEADER_VALUES = 2_000_000;

interface HeaderShape {
  tooDeep: boolean;
  /** Objects opened at depth 2: one per tensor entry (plus __metadata__). */
  entries: number;
  /** Commas outside strings: about one per JSON value. */
  values: number;
}

/**
 * One pass over the header text before JSON.parse, which would otherwise build millions of values
 * (nested "[[[[...", or a million tiny tensors) at many times the header's size in memory.
 */
function headerShape(text: string): HeaderShape {
  let depth = 0;
  let entries = 0;
  let values = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) i = stringEnd(text, i);
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_HEADER_DEPTH) return { tooDeep: true, entries, values };
      if (depth === 2 && c === 0x7b) entries++;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c) values++;
  }
  return { tooDeep: false, entries, values };
}

type ScanProblem = { kind: 'duplicate'; key: string; inside?: string } | { kind: 'number'; token: string };

/**
 * Scans already-validated JSON text for what JSON.parse hides: a repeated key in
 * any object (JSON.parse silently keeps the last one, and a reviver only sees
 * the result) and numbers written with a fraction or exponent (JSON.parse turns
 * "4.0" or "4.0000000000000001" into 4, where the reference reader refuses them;
 * a header's only numbers are shapes and offsets). Iterative, so deep nesting
 * cannot overflow the stack.
 */
function scanHeaderText(text: string): ScanProblem | undefined {
  interface Frame { keys: Set<string> | null; expectKey: boolean; openedBy: string | undefined }
  const stack: Frame[] = [];
  let lastKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: find its closing quote (the text is valid JSON, so one exists).
      const j = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top !== undefined && top.keys !== null && top.expectKey) {
        const raw = text.slice(i + 1, j);
        // Decode escapes so that "a" and "\u0061" count as the same key.
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (top.keys.has(key)) return { kind: 'duplicate', key, inside: stack[1]?.openedBy };
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
      i = j;
    } else if (c === 0x7b) {
      stack.push({ keys: new Set(), expectKey: true, openedBy: lastKey });
    } else if (c === 0x5b) {
      stack.push({ keys: null, expectKey: false, openedBy: lastKey });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top !== undefined && top.keys !== null) top.expectKey = true;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let integral = true;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x2e || d === 0x65 || d === 0x45) integral = false; // . e E
        else if (!(d >= 0x30 && d <= 0x39) && d !== 0x2b && d !== 0x2d) break;
      }
      if (!integral) return { kind: 'number', token: text.slice(i, j) };
      i = j - 1;
    }
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and fully validates a header against a data buffer of `dataLength` bytes. */
function parseHeader(header: Uint8Array, dataLength: number, source: string): ParsedHeader {
  const fail: (msg: string) => never = (msg) => {
    throw new SafetensorsError(`${source}: ${msg}`);
  };
  let text = '';
  try {
    // fatal: refuse invalid UTF-8 instead of substituting U+FFFD; ignoreBOM: keep a BOM so it is refused below.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(header);
  } catch {
    fail('header is not valid UTF-8');
  }
  // The spec requires the header to start with '{'; this also rules out arrays, strings and numbers.
  if (text.charCodeAt(0) !== 0x7b) fail(`header is not a JSON object (it must start with '{')`);
  const shape = headerShape(text);
  if (shape.tooDeep) fail(`header nests deeper than ${MAX_HEADER_DEPTH} levels`);
  if (shape.entries > SAFETENSORS_MAX_TENSORS + 1) {
    fail(`header lists ${shape.entries} entries; skipgrad reads at most ${SAFETENSORS_MAX_TENSORS} tensors per file`);
  }
  if (shape.values > MAX_HEADER_VALUES) fail(`header holds over ${MAX_HEADER_VALUES} JSON values; refusing to decode it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isPlainObject(parsed)) return fail('header is not a JSON object');
  const problem = scanHeaderText(text);
  if (problem?.kind === 'duplicate') {
    const inside = problem.inside === undefined ? '' : ` inside ${JSON.stringify(problem.inside)}`;
    fail(`header has duplicate key ${JSON.stringify(problem.key)}${inside}`);
  }
  if (problem?.kind === 'number') fail(`header number ${problem.token} is not written as an integer`);

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const name of Object.keys(parsed)) {
    const value = parsed[name];
    if (name === METADATA_KEY) {
      // null is what the reference writes for "no metadata" in some versions; accept it as empty.
      if (value === null) continue;
      if (!isPlainObject(value)) return fail(`"${METADATA_KEY}" is not an object of strings`);
      for (const k of Object.keys(value)) {
        if (typeof value[k] !== 'string') fail(`"${METADATA_KEY}" value for ${JSON.stringify(k)} is not a string`);
        setOwn(metadata, k, value[k] as string);
      }
      continue;
    }
    const label = `tensor ${JSON.stringify(name)}`;
    if (!isPlainObject(value)) return fail(`${label}: entry is not an object`);
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!Object.hasOwn(value, field)) fail(`${label}: entry is missing "${field}"`);
    }
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== 'string' || !Object.hasOwn(SPEC_DTYPE_SIZES, dtype)) {
      return fail(`${label}: unknown dtype ${JSON.stringify(dtype)}`);
    }
    if (!READABLE.has(dtype)) fail(`${label}: unsupported dtype ${dtype}`);
    if (!isShape(shape)) return fail(`${label}: shape is not an array of non-negative safe integers`);
    const size = SPEC_DTYPE_SIZES[dtype]!;
    const numel = checkedProduct(shape, 1);
    const byteCount = checkedProduct(shape, size);
    if (numel === undefined || byteCount === undefined) return fail(`${label}: shape ${shapeText(shape)} overflows`);
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) ||
      (offsets[0] as number) > (offsets[1] as number)
    ) {
      return fail(`${label}: data_offsets must be [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) fail(`${label}: data_offsets [${begin}, ${end}] run past the end of the data buffer (${dataLength} bytes)`);
    if (end - begin !== byteCount) {
      fail(`${label}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${shapeText(shape)} needs ${byteCount}`);
    }
    entries.push({ name, dtype, shape: shape.map((d) => d + 0 /* -0 -> 0 */), numel, begin, end });
  }

  // The tensors must tile the data buffer exactly: overlaps would let one byte mean
  // two things, holes would let a file smuggle unchecked content (polyglots).
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: HeaderEntry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) {
      fail(`tensors ${JSON.stringify(prev!.name)} [${prev!.begin}, ${prev!.end}] and ${JSON.stringify(e.name)} [${e.begin}, ${e.end}] overlap`);
    }
    if (e.begin > pos) fail(`data bytes [${pos}, ${e.begin}) are not covered by any tensor (holes are not allowed)`);
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLength) fail(`data bytes [${pos}, ${dataLength}) are not covered by any tensor (holes are not allowed)`);

  return { entries, metadata };
}

/** Builds the typed array for an entry from a fresh, exclusively owned, aligned byte copy. */
function materialize(e: HeaderEntry, bytes: Uint8Array, source: string): RawTensor {
  const shape = e.shape;
  const n = e.numel;
  switch (e.dtype) {
    case 'U8':
      return { dtype: 'U8', shape, data: bytes };
    case 'BOOL': {
      const bad = bytes.findIndex((v) => v > 1);
      if (bad >= 0) {
        throw new SafetensorsError(`${source}: tensor ${JSON.stringify(e.name)}: BOOL value ${bytes[bad]} at index ${bad} is not 0 or 1`);
      }
      return { dtype: 'BOOL', shape, data: bytes };
    }
    case 'F16': {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToNumber(dv.getUint16(2 * i, true));
      return { dtype: 'F32', shape, data: out };
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: shifting keeps every bit, NaN payloads included.
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return { dtype: 'F32', shape, data: new Float32Array(bits.buffer) };
    }
  }
  const size = SPEC_DTYPE_SIZES[e.dtype]!;
  if (!HOST_IS_LITTLE_ENDIAN) swapInPlace(bytes, size);
  // `bytes` was allocated for this tensor alone (byteOffset 0), so the views below are aligned.
  switch (e.dtype) {
    case 'F64':
      return { dtype: 'F64', shape, data: new Float64Array(bytes.buffer, 0, n) };
    case 'F32':
      return { dtype: 'F32', shape, data: new Float32Array(bytes.buffer, 0, n) };
    case 'I64':
      return { dtype: 'I64', shape, data: new BigInt64Array(bytes.buffer, 0, n) };
    case 'I32':
      return { dtype: 'I32', shape, data: new Int32Array(bytes.buffer, 0, n) };
  }
  throw new SafetensorsError(`${source}: tensor ${JSON.stringify(e.name)}: unsupported dtype ${e.dtype}`);
}

/** IEEE 754 binary16 bits to a number (exact: every half is a float32). */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

function assemble(parsed: ParsedHeader, read: (e: HeaderEntry) => Uint8Array, source: string): DecodedSafetensors {
  const tensors: Record<string, RawTensor> = {};
  for (const e of parsed.entries) setOwn(tensors, e.name, materialize(e, read(e), source));
  return { tensors, metadata: parsed.metadata };
}

/**
 * Parses safetensors bytes. Every tensor's bytes are copied into a fresh typed
 * array (offsets in the input may be unaligned, and the result must not alias it).
 * F16 and BF16 tensors come back widened to F32. Errors are SafetensorsError
 * with a message starting with `source`.
 */
export function decodeSafetensors(bytes: Uint8Array, source = '<buffer>'): DecodedSafetensors {
  if (bytes.length < 8) throw tooShort(bytes.length, source);
  const n = checkHeaderLength(bytes.subarray(0, 8), bytes.length, source);
  const parsed = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, source);
  const dataStart = 8 + n;
  // new Uint8Array(view) copies; Buffer#slice would not.
  return assemble(parsed, (e) => new Uint8Array(bytes.subarray(dataStart + e.begin, dataStart + e.end)), source);
}

// ---------------------------------------------------------------------------
// Files

function ioError(path: string, what: string, e: unknown): SafetensorsError {
  const msg = e instanceof Error ? e.message : String(e);
  return new SafetensorsError(`${path}: ${what}: ${msg}`, { cause: e });
}

const READ_CHUNK_BYTES = 8 << 20;

async function readExactly(fh: FileHandle, length: number, position: number, path: string): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new SafetensorsError(`${path}: file ended early (was it changed while being read?)`);
    done += bytesRead;
  }
  return buf;
}

/**
 * Reads a safetensors file. The length prefix and header are checked against
 * the file size before the header is read, and each tensor is read straight
 * into its own array, so no allocation is sized by an unchecked claim and the
 * whole file is never held twice.
 */
export async function loadSafetensorsFile(path: string): Promise<DecodedSafetensors> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw ioError(path, 'cannot open', e);
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new SafetensorsError(`${path}: not a regular file`);
    const size = stat.size;
    if (size < 8) throw tooShort(size, path);
    const n = checkHeaderLength(await readExactly(fh, 8, 0, path), size, path);
    const parsed = parseHeader(await readExactly(fh, n, 8, path), size - 8 - n, path);
    const dataStart = 8 + n;
    // Small neighbouring tensors are read together (one read each would cost a
    // thread-pool round trip per tensor); a big one is read straight into its own array.
    const sorted = parsed.entries.slice().sort((a, b) => a.begin - b.begin);
    const chunks = new Map<HeaderEntry, Uint8Array>();
    for (let i = 0; i < sorted.length; ) {
      const first = sorted[i]!;
      if (first.end - first.begin >= READ_CHUNK_BYTES) {
        chunks.set(first, await readExactly(fh, first.end - first.begin, dataStart + first.begin, path));
        i++;
        continue;
      }
      let j = i;
      while (j < sorted.length && sorted[j]!.end - first.begin <= READ_CHUNK_BYTES) j++;
      const last = sorted[j - 1]!;
      const buf = await readExactly(fh, last.end - first.begin, dataStart + first.begin, path);
      for (let k = i; k < j; k++) {
        const e = sorted[k]!;
        chunks.set(e, buf.slice(e.begin - first.begin, e.end - first.begin)); // a copy with its own buffer
      }
      i = j;
    }
    return assemble(parsed, (e) => chunks.get(e)!, path);
  } catch (e) {
    throw e instanceof SafetensorsError ? e : ioError(path, 'cannot read', e);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/**
 * Writes a safetensors file atomically: everything is validated first, then
 * written to `.NAME.tmp-PID-RANDOM` beside the target, fsynced and renamed over
 * it. On any failure the temp file is removed and an existing file is untouched.
 * The arrays are written from in place: do not change them until this settles.
 */
export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  // Validation errors happen here, before anything touches the disk.
  const { head, pieces } = prepare(tensors, metadata, path);
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(tmp, 'wx'); // wx: never clobber someone else's file
    await writeAll(fh, head);
    for (const p of pieces) await writeAll(fh, p);
    await fh.sync(); // data on disk before the rename makes it visible
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ioError(path, 'cannot save', e);
  }
  // Best effort: persist the rename itself. Not every platform lets a directory be fsynced.
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* ignore */
  }
}
