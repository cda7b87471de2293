// Batched matrix multiply on contiguous row-major operands, via the GEMM kernel.

import type { FloatArray } from './dtype.js';

export type GemmFn = (
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatArray, aOffset: number, lda: number,
  B: FloatArray, bOffset: number, ldb: number,
  beta: number, C: FloatArray, cOffset: number, ldc: number,
) => void;

/** Plain TypeScript GEMM (row-major, BLAS semantics); the oracle for faster kernels. */
export const gemmPlain: GemmFn = (transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) => {
  const row = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    row.fill(0);
    for (let k = 0; k < K; k++) {
      const a = transA ? A[aOff + k * lda + i] : A[aOff + i * lda + k];
      if (transB) {
        for (let j = 0; j < N; j++) row[j] += a * B[bOff + j * ldb + k];
      } else {
        const bb = bOff + k * ldb;
        for (let j = 0; j < N; j++) row[j] += a * B[bb + j];
      }
    }
    const cc = cOff + i * ldc;
    if (beta === 0) for (let j = 0; j < N; j++) C[cc + j] = alpha * row[j];
    else for (let j = 0; j < N; j++) C[cc + j] = alpha * row[j] + beta * C[cc + j];
  }
};
