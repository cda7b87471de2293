import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SAFETENSORS_MAX_HEADER_BYTES,
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensorsFile,
  saveSafetensorsFile,
  type RawTensor,
  type RawTensorData,
} from '../src/io/safetensors.js';

const enc = new TextEncoder();

/** A safetensors file from raw parts; `claimed` overrides the length prefix. */
function build(header: string | Uint8Array, data: ArrayLike<number> = [], claimed?: bigint): Uint8Array {
  const h = typeof header === 'string' ? enc.encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, claimed ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function values(d: RawTensorData): (number | bigint)[] {
  return Array.from(d as ArrayLike<number | bigint>);
}

function bytesOf(d: RawTensorData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** The message of the error a decode throws; fails the test if it does not throw a SafetensorsError. */
function decodeError(bytes: Uint8Array): string {
  try {
    decodeSafetensors(bytes, 'evil.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    const msg = (e as Error).message;
    expect(msg.startsWith('evil.safetensors: ')).toBe(true);
    return msg;
  }
  throw new Error('decode did not throw');
}

function entry(dtype: string, shape: unknown, offsets: unknown): string {
  return JSON.stringify({ dtype, shape, data_offsets: offsets });
}

const ALL: Record<string, RawTensor> = {
  f64: { dtype: 'F64', shape: [2, 2], data: Float64Array.of(1 / 3, -0, Infinity, NaN) },
  f32: { dtype: 'F32', shape: [3], data: Float32Array.of(0.1, -2, 3e38) },
  u8: { dtype: 'U8', shape: [3], data: Uint8Array.of(0, 128, 255) },
  i32: { dtype: 'I32', shape: [2, 3], data: Int32Array.of(-2147483648, -1, 0, 1, 2, 2147483647) },
  i64: { dtype: 'I64', shape: [2], data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n) },
  bool: { dtype: 'BOOL', shape: [2], data: Uint8Array.of(1, 0) },
  scalar: { dtype: 'F32', shape: [], data: Float32Array.of(4.25) },
  empty: { dtype: 'F64', shape: [2, 0, 3], data: new Float64Array(0) },
  empty1: { dtype: 'I32', shape: [0], data: new Int32Array(0) },
};

function expectSameTensors(actual: Record<string, RawTensor>, expected: Record<string, RawTensor>): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [k, e] of Object.entries(expected)) {
    const a = actual[k]!;
    expect(a.dtype, k).toBe(e.dtype);
    expect(a.shape, k).toEqual(e.shape);
    expect(a.data.constructor, k).toBe(e.data.constructor);
    // Bit-exact (-0, NaN payloads); a byte diff is only built when they differ, as it is slow for big arrays.
    const [x, y] = [bytesOf(a.data), bytesOf(e.data)];
    if (!Buffer.from(x.buffer, x.byteOffset, x.length).equals(Buffer.from(y.buffer, y.byteOffset, y.length))) {
      expect(Array.from(x), k).toEqual(Array.from(y));
    }
  }
}

function headerOf(bytes: Uint8Array): { n: number; json: string } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, json: new TextDecoder().decode(bytes.subarray(8, 8 + n)) };
}

describe('safetensors encode/decode', () => {
  it('round-trips every supported dtype, 0-d and empty tensors, and metadata', () => {
    const metadata = { format: 'skipgrad', 'ünïcode 🎉': 'välue "quoted" {braces}', empty: '' };
    const bytes = encodeSafetensors(ALL, metadata);
    const out = decodeSafetensors(bytes);
    expectSameTensors(out.tensors, ALL);
    expect(out.metadata).toEqual(metadata);
    expect(decodeSafetensors(encodeSafetensors(ALL)).metadata).toEqual({});
  });

  it('keeps header keys in insertion order, metadata first', () => {
    const { json } = headerOf(encodeSafetensors(ALL, { k: 'v' }));
    expect(Object.keys(JSON.parse(json))).toEqual(['__metadata__', ...Object.keys(ALL)]);
  });

  it('pads the header to a multiple of 8 with spaces and aligns every tensor', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh']) {
      const bytes = encodeSafetensors({
        [name]: { dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) },
        d: { dtype: 'F64', shape: [1], data: Float64Array.of(1) },
        i: { dtype: 'I32', shape: [1], data: Int32Array.of(1) },
      });
      const { n, json } = headerOf(bytes);
      expect(n % 8).toBe(0);
      const trimmed = json.trimEnd();
      expect(json.slice(trimmed.length)).toMatch(/^ {0,7}$/);
      expect(trimmed.endsWith('}')).toBe(true);
      const header = JSON.parse(json) as Record<string, { dtype: string; data_offsets: [number, number] }>;
      const sizes: Record<string, number> = { U8: 1, I32: 4, F64: 8 };
      for (const e of Object.values(header)) expect((8 + n + e.data_offsets[0]) % sizes[e.dtype]!).toBe(0);
      expect(bytes.length).toBe(8 + n + 3 + 8 + 4);
    }
  });

  it('writes a known vector byte for byte', () => {
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes
    const expected = Uint8Array.from([
      56, 0, 0, 0, 0, 0, 0, 0, // header length 56, little-endian u64
      ...Array.from(header, (c) => c.charCodeAt(0)),
      0x20, 0x20, // padding 54 -> 56
      0x00, 0x00, 0x80, 0x3f, // 1.0f
      0x00, 0x00, 0x00, 0x40, // 2.0f
    ]);
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } });
    expect(Array.from(bytes)).toEqual(Array.from(expected));
    expect(values(decodeSafetensors(expected).tensors.a!.data)).toEqual([1, 2]);
  });

  it('copies out of unaligned input into fresh arrays', () => {
    const bytes = encodeSafetensors({ x: { dtype: 'F64', shape: [2], data: Float64Array.of(1.5, -2) } });
    const big = new Uint8Array(bytes.length + 1);
    big.set(bytes, 1);
    const view = big.subarray(1);
    const x = decodeSafetensors(view).tensors.x!;
    expect(values(x.data)).toEqual([1.5, -2]);
    big.fill(0);
    expect(values(x.data)).toEqual([1.5, -2]); // no aliasing
    // A Node Buffer, whose slice() is a view, must also be copied.
    const buf = Buffer.from(bytes);
    const y = decodeSafetensors(buf).tensors.x!;
    buf.fill(0);
    expect(values(y.data)).toEqual([1.5, -2]);
  });

  it('keeps a tensor called "__proto__" as data', () => {
    const tensors: Record<string, RawTensor> = {};
    Object.defineProperty(tensors, '__proto__', {
      value: { dtype: 'F32', shape: [1], data: Float32Array.of(7) },
      enumerable: true,
    });
    const out = decodeSafetensors(encodeSafetensors(tensors)).tensors;
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Array.from(Object.getOwnPropertyDescriptor(out, '__proto__')!.value.data)).toEqual([7]);
  });

  it('widens F16 and BF16 to F32', () => {
    // F16: 1, -2, 0.5, 65504, smallest subnormal, -0, +inf, NaN
    const f16 = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x7e00];
    // BF16: 1, -2, 3.140625
    const bf16 = [0x3f80, 0xc000, 0x4049];
    const data = [...f16, ...bf16].flatMap((h) => [h & 0xff, h >> 8]);
    const header = `{"h":${entry('F16', [8], [0, 16])},"b":${entry('BF16', [3], [16, 22])}}`;
    const out = decodeSafetensors(build(header, data)).tensors;
    expect(out.h!.dtype).toBe('F32');
    expect(values(out.h!.data)).toEqual([1, -2, 0.5, 65504, 2 ** -24, -0, Infinity, NaN]);
    expect(Object.is(out.h!.data[5], -0)).toBe(true);
    expect(out.b!.dtype).toBe('F32');
    expect(values(out.b!.data)).toEqual([1, -2, 3.140625]);
  });

  it('accepts an empty file body and a null __metadata__', () => {
    expect(decodeSafetensors(build('{}'))).toEqual({ tensors: {}, metadata: {} });
    expect(decodeSafetensors(build('{"__metadata__":null}  '))).toEqual({ tensors: {}, metadata: {} });
    // Tensors may be listed in any order; only the offsets have to tile the buffer.
    const out = decodeSafetensors(build(`{"b":${entry('U8', [1], [1, 2])},"a":${entry('U8', [1], [0, 1])}}`, [5, 6]));
    expect(values(out.tensors.a!.data)).toEqual([5]);
    expect(values(out.tensors.b!.data)).toEqual([6]);
  });

  it('refuses to encode bad input, naming the tensor', () => {
    const bad = (t: Record<string, unknown>, md?: Record<string, unknown>) => () =>
      encodeSafetensors(t as Record<string, RawTensor>, md as Record<string, string>);
    expect(bad({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      /tensor "w": data has 3 elements but shape \[2, 2\] needs 4/,
    );
    expect(bad({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } })).toThrow(
      /tensor "w": dtype F32 needs a Float32Array, got Float64Array/,
    );
    expect(bad({ w: { dtype: 'F16', shape: [1], data: new Float32Array(1) } })).toThrow(/tensor "w": unsupported dtype "F16"/);
    expect(bad({ w: { dtype: 'toString', shape: [1], data: new Float32Array(1) } })).toThrow(/unsupported dtype/);
    expect(bad({ w: { dtype: 'F32', shape: [-1], data: new Float32Array(1) } })).toThrow(/tensor "w": shape must be/);
    expect(bad({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data: new Float32Array(1) } })).toThrow(/too large/);
    expect(bad({ w: { dtype: 'BOOL', shape: [2], data: Uint8Array.of(0, 2) } })).toThrow(/BOOL data must be 0 or 1/);
    expect(bad({ __metadata__: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(/reserved/);
    expect(bad({ ['\ud800']: { dtype: 'U8', shape: [0], data: new Uint8Array(0) } })).toThrow(/well-formed/);
    expect(bad({}, { k: 1 })).toThrow(/metadata "k": value must be a string/);
    expect(bad({}, null as unknown as Record<string, unknown>)).toThrow(/metadata must be an object/);
    expect(bad(null as unknown as Record<string, unknown>)).toThrow(/tensors must be an object/);
  });
});

describe('safetensors decode rejects hostile input', () => {
  const f32x1 = entry('F32', [1], [0, 4]);
  const four = [0, 0, 0, 0];
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /file is 0 bytes, shorter than the 8-byte header length/],
    ['7-byte file', new Uint8Array(7), /file is 7 bytes, shorter than/],
    ['header length past the end', build('{}', [], 100n), /header length 100 runs past the end of the file \(10 bytes\)/],
    ['header length 2^64-1', build('{}', [], 2n ** 64n - 1n), /header length 18446744073709551615 is over the 100000000-byte limit/],
    ['header length over the limit', build('{}', [], BigInt(SAFETENSORS_MAX_HEADER_BYTES + 1)), /is over the 100000000-byte limit/],
    ['invalid UTF-8', build(Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d)), /header is not valid UTF-8/],
    ['truncated JSON', build('{"a":'), /header is not valid JSON/],
    ['NUL padding', build('{}\0\0\0\0\0\0'), /header is not valid JSON/],
    ['JSON array', build('[1, 2]  '), /header is not a JSON object/],
    ['JSON string', build('"{}"'), /header is not a JSON object/],
    ['leading BOM', build('\ufeff{}'), /header is not a JSON object/],
    ['entry is an array', build('{"a":[1]}'), /tensor "a": entry is not an object/],
    ['entry is null', build('{"a":null}'), /tensor "a": entry is not an object/],
    ['missing dtype', build('{"a":{"shape":[1],"data_offsets":[0,4]}}', four), /tensor "a": entry is missing "dtype"/],
    ['missing shape', build('{"a":{"dtype":"F32","data_offsets":[0,4]}}', four), /tensor "a": entry is missing "shape"/],
    ['missing data_offsets', build('{"a":{"dtype":"F32","shape":[1]}}', four), /tensor "a": entry is missing "data_offsets"/],
    ['unknown dtype', build(`{"a":${entry('F33', [1], [0, 4])}}`, four), /tensor "a": unknown dtype "F33"/],
    ['dtype not a string', build('{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', four), /unknown dtype 4/],
    ['inherited name as dtype', build(`{"a":${entry('constructor', [1], [0, 4])}}`, four), /unknown dtype "constructor"/],
    ['unsupported dtype', build(`{"a":${entry('I16', [2], [0, 4])}}`, four), /tensor "a": unsupported dtype I16/],
    ['unsupported spec dtype', build(`{"a":${entry('U32', [1], [0, 4])}}`, four), /unsupported dtype U32/],
    ['negative dim', build(`{"a":${entry('F32', [-1], [0, 4])}}`, four), /tensor "a": shape is not an array of non-negative safe integers/],
    ['fractional dim', build(`{"a":${entry('F32', [1.5], [0, 4])}}`, four), /header number 1\.5 is not written as an integer/],
    ['string dim', build(`{"a":${entry('F32', ['1'], [0, 4])}}`, four), /shape is not an array/],
    ['unsafe dim', build(`{"a":${entry('F32', [2 ** 53], [0, 4])}}`, four), /shape is not an array/],
    ['shape not an array', build(`{"a":${entry('F32', 1, [0, 4])}}`, four), /shape is not an array/],
    ['shape product overflows', build(`{"a":${entry('F64', [2 ** 30, 2 ** 30, 2 ** 30], [0, 4])}}`, four), /tensor "a": shape \[1073741824, 1073741824, 1073741824\] overflows/],
    ['one offset', build(`{"a":${entry('F32', [1], [0])}}`, four), /tensor "a": data_offsets must be \[begin, end\]/],
    ['three offsets', build(`{"a":${entry('F32', [1], [0, 4, 8])}}`, four), /data_offsets must be/],
    ['begin > end', build(`{"a":${entry('F32', [1], [4, 0])}}`, four), /data_offsets must be/],
    ['negative offset', build(`{"a":${entry('F32', [1], [-4, 0])}}`, four), /data_offsets must be/],
    ['huge offset', build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551616]}}', four), /data_offsets must be/],
    ['offset with a fraction', build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', four), /header number 4\.0 is not written as an integer/],
    ['offset with an exponent', build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}', four), /header number 4e0 is not written as an integer/],
    ['dim with a fraction', build('{"a":{"dtype":"F32","shape":[1.0000000000000001],"data_offsets":[0,4]}}', four), /header number 1\.0000000000000001 is not/],
    ['offsets not an array', build(`{"a":${entry('F32', [1], '0,4')}}`, four), /data_offsets must be/],
    ['end past the buffer', build(`{"a":${f32x1}}`, [0, 0]), /tensor "a": data_offsets \[0, 4\] run past the end of the data buffer \(2 bytes\)/],
    // A huge claim must be refused by the checks, not by trying to allocate it.
    ['huge claimed tensor', build(`{"a":${entry('F64', [1e15], [0, 8e15])}}`), /run past the end of the data buffer \(0 bytes\)/],
    ['byte count mismatch', build(`{"a":${entry('F32', [2], [0, 4])}}`, four), /tensor "a": data_offsets \[0, 4\] hold 4 bytes but F32 \[2\] needs 8/],
    ['same range twice', build(`{"a":${f32x1},"b":${f32x1}}`, four), /tensors "a" \[0, 4\] and "b" \[0, 4\] overlap/],
    ['partial overlap', build(`{"a":${entry('F32', [2], [0, 8])},"b":${entry('F32', [1], [4, 8])}}`, [...four, ...four]), /tensors "a" \[0, 8\] and "b" \[4, 8\] overlap/],
    ['empty tensor inside another', build(`{"a":${entry('F32', [2], [0, 8])},"b":${entry('F32', [0], [4, 4])}}`, [...four, ...four]), /overlap/],
    ['gap', build(`{"a":${f32x1},"b":${entry('F32', [1], [8, 12])}}`, [...four, ...four, ...four]), /data bytes \[4, 8\) are not covered by any tensor/],
    ['leading hole', build(`{"a":${entry('F32', [1], [4, 8])}}`, [...four, ...four]), /data bytes \[0, 4\) are not covered/],
    ['trailing bytes', build(`{"a":${f32x1}}`, [...four, 1]), /data bytes \[4, 5\) are not covered/],
    ['data with no tensors', build('{}', [1]), /data bytes \[0, 1\) are not covered/],
    ['duplicate tensor', build(`{"a":${entry('U8', [1], [0, 1])},"a":${entry('U8', [1], [1, 2])}}`, [1, 2]), /header has duplicate key "a"$/],
    ['duplicate via escape', build(`{"a":${entry('U8', [1], [0, 1])},"\\u0061":${entry('U8', [1], [1, 2])}}`, [1, 2]), /duplicate key "a"/],
    ['duplicate field', build('{"a":{"dtype":"I32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', four), /duplicate key "dtype" inside "a"/],
    ['duplicate metadata', build('{"__metadata__":{"k":"1","k":"2"}}'), /duplicate key "k" inside "__metadata__"/],
    ['duplicate __metadata__', build('{"__metadata__":{},"__metadata__":{}}'), /duplicate key "__metadata__"/],
    ['metadata not an object', build('{"__metadata__":["x"]}'), /"__metadata__" is not an object of strings/],
    ['metadata a string', build('{"__metadata__":"x"}'), /"__metadata__" is not an object of strings/],
    ['metadata value not a string', build('{"__metadata__":{"k":1}}'), /"__metadata__" value for "k" is not a string/],
    ['BOOL not 0/1', build(`{"a":${entry('BOOL', [2], [0, 2])}}`, [1, 2]), /tensor "a": BOOL value 2 at index 1 is not 0 or 1/],
    ['deeply nested arrays', build(`{"__metadata__":${'['.repeat(100000)}${']'.repeat(100000)}}`), /header nests deeper than 32 levels/],
    ['deeply nested objects', build(`${'{"a":'.repeat(100000)}1${'}'.repeat(100000)}`), /header nests deeper than 32 levels/],
    ['deeply nested, unbalanced', build(`{"a":${'['.repeat(100000)}}`), /header nests deeper than 32 levels/],
    ['brackets inside strings do not count', build(`{"__metadata__":{"k":"${'['.repeat(100)}"},"a":[]}`), /tensor "a": entry is not an object/],
    ['unterminated string', build('{"a'), /header is not valid JSON/],
    ['metadata nested within the depth limit', build(`{"__metadata__":{"k":${'['.repeat(20)}${']'.repeat(20)}}}`), /"__metadata__" value for "k" is not a string/],
  ];
  it.each(cases)('%s', (_name, bytes, pattern) => {
    expect(decodeError(bytes)).toMatch(pattern);
  });

  it('does not mistake repeated keys in different objects, or key- or number-like strings, for problems', () => {
    const header =
      `{"__metadata__":{"a":"{\\"a\\":1,\\"a\\":2}","x\\"y":"b,c","dtype":"[{","n":"-1.5e3"},` +
      `"a":${entry('U8', [1], [0, 1])},"b":${entry('U8', [1], [1, 2])},"x\\"y":${entry('U8', [1], [2, 3])}}`;
    const out = decodeSafetensors(build(header, [1, 2, 3]));
    expect(Object.keys(out.tensors)).toEqual(['a', 'b', 'x"y']);
    expect(out.metadata).toEqual({ a: '{"a":1,"a":2}', 'x"y': 'b,c', dtype: '[{', n: '-1.5e3' });
  });
});

describe('safetensors files', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skipgrad-st-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('saves and loads every dtype, leaving no temp file', async () => {
    const path = join(dir, 'model.safetensors');
    await saveSafetensorsFile(path, ALL, { epoch: '3' });
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    const onDisk = new Uint8Array(await readFile(path));
    expect(Array.from(onDisk)).toEqual(Array.from(encodeSafetensors(ALL, { epoch: '3' })));
    const out = await loadSafetensorsFile(path);
    expectSameTensors(out.tensors, ALL);
    expect(out.metadata).toEqual({ epoch: '3' });
    // Overwrite in place.
    await saveSafetensorsFile(path, { s: ALL.scalar! });
    expect(Object.keys((await loadSafetensorsFile(path)).tensors)).toEqual(['s']);
  });

  it('loads tensors bigger than a read chunk and runs of small ones that span several chunks', async () => {
    const fill = <T extends Float64Array | Float32Array>(a: T): T => {
      for (let i = 0; i < a.length; i++) a[i] = i * 0.5 - 7;
      return a;
    };
    const tensors: Record<string, RawTensor> = {
      small: { dtype: 'U8', shape: [3], data: Uint8Array.of(9, 8, 7) },
      big: { dtype: 'F64', shape: [1100, 1000], data: fill(new Float64Array(1_100_000)) }, // 8.8 MB
      m1: { dtype: 'F32', shape: [786432], data: fill(new Float32Array(786432)) }, // 3 MB each
      m2: { dtype: 'F32', shape: [786432], data: fill(new Float32Array(786432)).reverse() },
      m3: { dtype: 'F32', shape: [3, 262144], data: fill(new Float32Array(786432)) },
    };
    const path = join(dir, 'chunks.safetensors');
    await saveSafetensorsFile(path, tensors);
    expectSameTensors((await loadSafetensorsFile(path)).tensors, tensors);
  });

  it('a failed save leaves the existing file untouched and no temp file', async () => {
    const path = join(dir, 'model.safetensors');
    await saveSafetensorsFile(path, ALL);
    const before = await readFile(path);
    const bad = { ok: ALL.f32!, w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } as RawTensor };
    await expect(saveSafetensorsFile(path, bad)).rejects.toThrow(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tensor "w": data has 3 elements`),
    );
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    expect((await readFile(path)).equals(before)).toBe(true);
  });

  it('cleans up the temp file when the rename fails', async () => {
    // A non-empty directory where the file should go makes rename() fail after the write.
    const path = join(dir, 'taken.safetensors');
    await mkdir(path);
    await writeFile(join(path, 'keep'), 'x');
    await expect(saveSafetensorsFile(path, ALL)).rejects.toThrow(/taken\.safetensors: cannot save: /);
    expect(await readdir(dir)).toEqual(['taken.safetensors']);
    expect(await readdir(path)).toEqual(['keep']);
  });

  it('load errors name the file', async () => {
    const missing = join(dir, 'missing.safetensors');
    await expect(loadSafetensorsFile(missing)).rejects.toThrow(`${missing}: cannot open`);

    const short = join(dir, 'short.safetensors');
    await writeFile(short, Uint8Array.of(1, 2, 3));
    await expect(loadSafetensorsFile(short)).rejects.toThrow(`${short}: file is 3 bytes, shorter than the 8-byte header length`);

    // A hostile length is checked against the file size before anything is allocated or read.
    const huge = join(dir, 'huge.safetensors');
    await writeFile(huge, build('{}', [], 2n ** 63n));
    await expect(loadSafetensorsFile(huge)).rejects.toThrow(`${huge}: header length 9223372036854775808 is over the`);
    const past = join(dir, 'past.safetensors');
    await writeFile(past, build('{}', [], 90_000_000n));
    await expect(loadSafetensorsFile(past)).rejects.toThrow(`${past}: header length 90000000 runs past the end of the file (10 bytes)`);

    const dup = join(dir, 'dup.safetensors');
    await writeFile(dup, build('{"__metadata__":{},"__metadata__":{}}'));
    await expect(loadSafetensorsFile(dup)).rejects.toThrow(`${dup}: header has duplicate key "__metadata__"`);

    const hole = join(dir, 'hole.safetensors');
    await writeFile(hole, build(`{"a":${entry('U8', [1], [0, 1])}}`, [1, 2]));
    await expect(loadSafetensorsFile(hole)).rejects.toThrow(`${hole}: data bytes [1, 2) are not covered`);

    await expect(loadSafetensorsFile(dir)).rejects.toThrow(`${dir}: not a regular file`);
  });
});

/** Values as check_safetensors.py writes them: int64 as strings, non-finite floats as 'nan'/'inf'. */
function asPythonValues(data: RawTensorData): unknown[] {
  return Array.from(data as ArrayLike<number | bigint>, (v) => {
    if (typeof v === 'bigint') return String(v);
    if (Number.isFinite(v)) return v;
    return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  });
}

// Optional cross-check against the reference library: set SKIPGRAD_SAFETENSORS_PYTHON to a Python
// with `safetensors` and `numpy` installed. Skipped otherwise; the suite never needs Python.
const python = process.env.SKIPGRAD_SAFETENSORS_PYTHON;
describe.skipIf(!python)('safetensors against the Python reference library', () => {
  it('each side reads what the other wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skipgrad-st-py-'));
    try {
      const meta = { format: 'skipgrad', 'ünï 🎉': 'cödé' };
      await saveSafetensorsFile(join(dir, 'from_ts.safetensors'), ALL, meta);
      const script = fileURLToPath(new URL('../scripts/check_safetensors.py', import.meta.url));
      execFileSync(python!, [script, dir], { stdio: 'pipe' });

      const seen = JSON.parse(await readFile(join(dir, 'from_ts.json'), 'utf8'));
      expect(seen.metadata).toEqual(meta);
      expect(new Set(seen.keys)).toEqual(new Set(Object.keys(ALL)));
      const npName: Record<string, string> = { F64: 'float64', F32: 'float32', I32: 'int32', I64: 'int64', U8: 'uint8', BOOL: 'bool' };
      for (const [k, t] of Object.entries(ALL)) {
        const s = seen.tensors[k];
        expect(s.dtype, k).toBe(npName[t.dtype]);
        expect(s.shape, k).toEqual(t.shape);
        expect(s.values, k).toEqual(asPythonValues(t.data));
      }

      const fromPy = await loadSafetensorsFile(join(dir, 'from_py.safetensors'));
      const described = JSON.parse(await readFile(join(dir, 'from_py.json'), 'utf8'));
      expect(fromPy.metadata).toEqual({ who: 'python', ünï: 'cödé' });
      expect(Object.keys(fromPy.tensors).sort()).toEqual(Object.keys(described).sort());
      for (const [k, d] of Object.entries<{ shape: number[]; values: unknown[] }>(described)) {
        const t = fromPy.tensors[k]!;
        expect(t.shape, k).toEqual(d.shape);
        expect(asPythonValues(t.data), k).toEqual(d.values);
      }
      const bf = await loadSafetensorsFile(join(dir, 'from_py_bf16.safetensors'));
      expect(values(bf.tensors.bf16!.data)).toEqual([1, -2, 3.140625]);

      const known = new Uint8Array(await readFile(join(dir, 'known_vector.safetensors')));
      const ours = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) } });
      expect(Array.from(ours)).toEqual(Array.from(known));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
