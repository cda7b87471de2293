// WebAssembly SIMD bodies of the float32 elementwise kernels: ReLU, its backward, and the four
// arithmetic ops (array-array and array-scalar). Every function walks `n` elements four at a
// time and may touch up to 3 elements past n: the JS side gives each buffer that much slack.
// All arguments are byte addresses in the module's memory, except counts and scalars.
//
// Results are bit-identical to the plain TypeScript loops: f32 +, -, *, / computed in float64
// and rounded (what JS does on a Float32Array) equal the f32 operation, and relu's f32x4.max
// has the reference's NaN and signed-zero behaviour.

import { F32, I32, V128, type FunctionBuilder, type Local, type ModuleBuilder } from '../wasm/emitter.js';
import { f32x4Div, f32x4Gt, f32x4Max, f32x4Ne, v128And, v128Or } from './simd.js';

/** The four broadcasting arithmetic ops with their own kernels. */
export type ArithOp = 'add' | 'sub' | 'mul' | 'div';
export const ARITH_OPS: readonly ArithOp[] = ['add', 'sub', 'mul', 'div'];

function emitArith(f: FunctionBuilder, op: ArithOp): void {
  if (op === 'add') f.f32x4_add();
  else if (op === 'sub') f.f32x4_sub();
  else if (op === 'mul') f.f32x4_mul();
  else f32x4Div(f);
}

/** for (i = 0; i < 4n; i += 16) body(i): one v128 per iteration, byte offset i. */
function vectorLoop(f: FunctionBuilder, n: Local, body: (i: Local) => void): void {
  const i = f.local(I32);
  const end = f.local(I32);
  f.push(n).i32_const(2).i32_shl().local_set(end);
  f.for_(i, 0, end, 16, () => body(i));
}

export function emitElementwise(mb: ModuleBuilder): void {
  // relu(src, dst, n): dst = max(src, 0)
  {
    const f = mb.addFunction('relu', [I32, I32, I32], []);
    const [src, dst, n] = f.params;
    vectorLoop(f, n, (i) => {
      f.local_get(dst).local_get(i).i32_add();
      f.local_get(src).local_get(i).i32_add().v128_load();
      f.v128_const_zero();
      f32x4Max(f);
      f.v128_store();
    });
  }
  // relu_backward(g, x, dst, n): dst = g & (x > 0 || x is NaN ? all ones : 0), the reference's
  // select (PyTorch's threshold_backward): +0 where x <= 0 even for a NaN or Inf g, and a NaN x
  // passes the gradient.
  {
    const f = mb.addFunction('relu_backward', [I32, I32, I32, I32], []);
    const [g, x, dst, n] = f.params;
    vectorLoop(f, n, (i) => {
      f.local_get(dst).local_get(i).i32_add();
      f.local_get(g).local_get(i).i32_add().v128_load();
      f.local_get(x).local_get(i).i32_add().v128_load();
      f.v128_const_zero();
      f32x4Gt(f);
      f.local_get(x).local_get(i).i32_add().v128_load();
      f.local_get(x).local_get(i).i32_add().v128_load();
      f32x4Ne(f);
      v128Or(f);
      v128And(f);
      f.v128_store();
    });
  }
  for (const op of ARITH_OPS) {
    // <op>_vv(a, b, dst, n): dst = a op b
    {
      const f = mb.addFunction(`${op}_vv`, [I32, I32, I32, I32], []);
      const [a, b, dst, n] = f.params;
      vectorLoop(f, n, (i) => {
        f.local_get(dst).local_get(i).i32_add();
        f.local_get(a).local_get(i).i32_add().v128_load();
        f.local_get(b).local_get(i).i32_add().v128_load();
        emitArith(f, op);
        f.v128_store();
      });
    }
    // <op>_vs(a, s, dst, n): dst = a op s;  <op>_sv(s, b, dst, n): dst = s op b
    for (const scalarFirst of [false, true]) {
      const f = mb.addFunction(scalarFirst ? `${op}_sv` : `${op}_vs`, scalarFirst ? [F32, I32, I32, I32] : [I32, F32, I32, I32], []);
      const [p0, p1, dst, n] = f.params;
      const [arr, s] = scalarFirst ? [p1, p0] : [p0, p1];
      const sv = f.local(V128);
      f.local_get(s).f32x4_splat().local_set(sv);
      vectorLoop(f, n, (i) => {
        f.local_get(dst).local_get(i).i32_add();
        if (scalarFirst) f.local_get(sv);
        f.local_get(arr).local_get(i).i32_add().v128_load();
        if (!scalarFirst) f.local_get(sv);
        emitArith(f, op);
        f.v128_store();
      });
    }
  }
}
