// Opcodes the shared emitter (wasm/emitter.ts) does not have yet, written straight into a
// FunctionBuilder's code: f64 scalars, f64x2 arithmetic, f32<->f64 lane conversions, max,
// comparisons and bit selection. Kept here so these kernels don't edit the GEMM's emitter.
// Reference: https://webassembly.github.io/spec/core/binary/instructions.html

import { uleb, type FunctionBuilder } from '../wasm/emitter.js';

function raw(f: FunctionBuilder, ...bytes: number[]): FunctionBuilder {
  for (const b of bytes) f.code.push(b);
  return f;
}

function simd(f: FunctionBuilder, opcode: number, ...imm: number[]): FunctionBuilder {
  return raw(f, 0xfd, ...uleb(opcode), ...imm);
}

// -- scalar f32 / f64 -------------------------------------------------------------------------
/** f64.load / f64.store with 8-byte alignment and a constant byte offset. */
export const f64Load = (f: FunctionBuilder, offset = 0) => raw(f, 0x2b, 3, ...uleb(offset));
export const f64Store = (f: FunctionBuilder, offset = 0) => raw(f, 0x39, 3, ...uleb(offset));
export function f64Const(f: FunctionBuilder, x: number): FunctionBuilder {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, x, true);
  return raw(f, 0x44, ...Array.from({ length: 8 }, (_, i) => b.getUint8(i)));
}
export const f64Add = (f: FunctionBuilder) => raw(f, 0xa0);
export const f64Sub = (f: FunctionBuilder) => raw(f, 0xa1);
export const f64Mul = (f: FunctionBuilder) => raw(f, 0xa2);
export const f64PromoteF32 = (f: FunctionBuilder) => raw(f, 0xbb);
export const f32DemoteF64 = (f: FunctionBuilder) => raw(f, 0xb6);

// -- SIMD --------------------------------------------------------------------------------------
export const f64x2Splat = (f: FunctionBuilder) => simd(f, 0x14);
export const f64x2ExtractLane = (f: FunctionBuilder, lane: number) => simd(f, 0x21, lane);
export const i32x4Splat = (f: FunctionBuilder) => simd(f, 0x11);
export const f32x4Ne = (f: FunctionBuilder) => simd(f, 0x42);
export const f32x4Gt = (f: FunctionBuilder) => simd(f, 0x44);
export const v128And = (f: FunctionBuilder) => simd(f, 0x4e);
export const v128Or = (f: FunctionBuilder) => simd(f, 0x50);
/** v128.bitselect(a, b, mask): bits of a where mask is 1, of b elsewhere. */
export const v128Bitselect = (f: FunctionBuilder) => simd(f, 0x52);
/** f32x4.demote_f64x2_zero: two f64 lanes to the low two f32 lanes (high lanes 0). */
export const f32x4DemoteF64x2Zero = (f: FunctionBuilder) => simd(f, 0x5e);
/** f64x2.promote_low_f32x4: the low two f32 lanes to two f64 lanes. */
export const f64x2PromoteLowF32x4 = (f: FunctionBuilder) => simd(f, 0x5f);
export const f32x4Div = (f: FunctionBuilder) => simd(f, 0xe7);
/** IEEE max: NaN in either lane gives NaN, and -0 < +0 (so max(-0, 0) = +0). */
export const f32x4Max = (f: FunctionBuilder) => simd(f, 0xe9);
export const f64x2Add = (f: FunctionBuilder) => simd(f, 0xf0);
export const f64x2Sub = (f: FunctionBuilder) => simd(f, 0xf1);
export const f64x2Mul = (f: FunctionBuilder) => simd(f, 0xf2);
