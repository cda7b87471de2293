// A minimal protocol-buffers writer: what an ONNX file needs and no more. Fields are written in
// the order they are added: varints (wire type 0), 32-bit floats (5) and length-delimited bytes,
// strings, packed arrays and nested messages (2). Our own ~100 lines instead of a dependency:
// ONNX uses five wire-format features, and the core stays dependency-free.

const enum Wire {
  Varint = 0,
  Fixed32 = 5,
  Bytes = 2,
}

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private key(field: number, wire: Wire): void {
    this.rawVarint(BigInt(field) << 3n | BigInt(wire));
  }

  /** Base-128 varint of a non-negative value; negatives are written as their 64-bit two's complement (10 bytes). */
  private rawVarint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  /** int32/int64/enum/bool field. */
  varint(field: number, value: number | bigint | boolean): this {
    const v = typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value);
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`protobuf: field ${field}: ${value} is not an integer`);
    this.key(field, Wire.Varint);
    this.rawVarint(v);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, Wire.Fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, Wire.Bytes);
    this.rawVarint(BigInt(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** A packed repeated int64 field. */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(BigInt(v));
    return this.bytes(field, inner.finish());
  }

  /** A packed repeated float field (little-endian IEEE singles). */
  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(4 * values.length);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
