// See loops.h (batch norm is in batchnorm.c). Each loop mirrors its TypeScript reference line for line where results depend on
// the order (max pooling's argmax); sums are float64 as in the reference.
#include "loops.h"

#include <stdlib.h>
#include <string.h>

#include "clones.h"

CLONES void relu_forward_range(void *args, long lo, long hi) {
  const eltwise_args *a = args;
  const float *x = a->a;
  float *out = a->out;
  for (long i = lo; i < hi; i++) {
    float v = x[i];
    out[i] = v > 0 ? v : (v != v ? v : 0.0f); // keeps NaN, maps -0 to +0
  }
}

CLONES void relu_backward_range(void *args, long lo, long hi) {
  const eltwise_args *a = args;
  const float *g = a->a, *x = a->b;
  float *out = a->out;
  // A select, as PyTorch's threshold_backward: +0 where x <= 0 even for a NaN or Inf g; a NaN x
  // passes g. Both operands are loaded first so GCC emits a compare and a blend, not a branch
  // (the branchy loop it made of the old product mispredicted on every other element: 25x).
  for (long i = lo; i < hi; i++) {
    const float gi = g[i], xi = x[i];
    out[i] = xi <= 0 ? 0.0f : gi;
  }
}

// float32 results equal the reference's float64 ones rounded to float32: for + - * / of two
// float32 values double rounding never differs from rounding once.
#define ARITH_LOOP(EXPR) \
  if (a->a_scalar) { const float u = A[0]; for (long i = lo; i < hi; i++) { const float x = u, y = B[i]; out[i] = EXPR; } } \
  else if (a->b_scalar) { const float v = B[0]; for (long i = lo; i < hi; i++) { const float x = A[i], y = v; out[i] = EXPR; } } \
  else for (long i = lo; i < hi; i++) { const float x = A[i], y = B[i]; out[i] = EXPR; }

CLONES void arith_range(void *args, long lo, long hi) {
  const eltwise_args *a = args;
  const float *A = a->a, *B = a->b;
  float *out = a->out;
  switch (a->op) {
    case 0: ARITH_LOOP(x + y) break;
    case 1: ARITH_LOOP(x - y) break;
    case 2: ARITH_LOOP(x * y) break;
    default: ARITH_LOOP(x / y) break;
  }
}

// One specialised loop per variant: the branches are hoisted by hand so each loop vectorises.
#define SGD_LOOP(MAX, WD, MOM, NEST)                                                          \
  for (long i = lo; i < hi; i++) {                                                            \
    double d = MAX ? -(double)g[i] : (double)g[i];                                            \
    if (WD) d += wd * (double)p[i];                                                           \
    if (MOM == 1) { buf[i] = (float)d; d = NEST ? d + momentum * (double)buf[i] : (double)buf[i]; } \
    if (MOM == 2) {                                                                           \
      buf[i] = (float)(momentum * (double)buf[i] + damp1 * d);                                \
      d = NEST ? d + momentum * (double)buf[i] : (double)buf[i];                              \
    }                                                                                         \
    p[i] = (float)((double)p[i] - lr * d);                                                    \
  }

#define SGD_NEST(MAX, WD, MOM) if (a->nesterov) { SGD_LOOP(MAX, WD, MOM, 1) } else { SGD_LOOP(MAX, WD, MOM, 0) }
#define SGD_MOM(MAX, WD) \
  if (!buf) { SGD_LOOP(MAX, WD, 0, 0) } else if (a->first) { SGD_NEST(MAX, WD, 1) } else { SGD_NEST(MAX, WD, 2) }

CLONES void sgd_range(void *args, long lo, long hi) {
  const sgd_args *a = args;
  float *restrict p = a->p, *restrict buf = a->buf;
  const float *restrict g = a->g;
  const double lr = a->lr, wd = a->wd, momentum = a->momentum, damp1 = a->damp1;
  if (a->maximize) {
    if (wd != 0) { SGD_MOM(1, 1) } else { SGD_MOM(1, 0) }
  } else {
    if (wd != 0) { SGD_MOM(0, 1) } else { SGD_MOM(0, 0) }
  }
}

CLONES int all_finite(const float *x, long n) {
  const uint32_t *u = (const uint32_t *)x;
  uint32_t bad = 0;
  for (long i = 0; i < n; i++) bad |= (u[i] & 0x7f800000u) == 0x7f800000u; // exponent all ones
  return !bad;
}

/** The outputs o in [*o0, *o1) whose tap at start = o * stride + off lies inside [0, size). */
static void valid_outputs(int off, int stride, int size, int outs, int *o0, int *o1) {
  int a = off >= 0 ? 0 : (-off + stride - 1) / stride;
  int b = off >= size ? 0 : (size - 1 - off) / stride + 1;
  *o0 = a < outs ? a : outs;
  *o1 = b < outs ? b : outs;
}

// One output row at a time, taps outermost: each tap updates a run of independent outputs, which
// vectorizes (a per-output tap loop is one long compare-and-branch chain: 4x slower). The taps
// still reach each output in the reference's order, with its rule: the first valid tap starts
// the search, a larger value or any NaN takes over (so the last NaN wins).
CLONES void max_pool_forward(const float *x, const int *p, float *out, int32_t *indices) {
  int n = p[0], c = p[1], h = p[2], w = p[3], kh = p[4], kw = p[5], sh = p[6], sw = p[7];
  int ph = p[8], pw = p[9], dh = p[10], dw = p[11], oh = p[12], ow = p[13];
  // each column tap's run of outputs, computed once (divisions per row would cost as much as the max)
  int stack[2 * 64], *runs = kw <= 64 ? stack : malloc(2 * sizeof(int) * (size_t)kw);
  if (!runs) return;
  for (int j = 0; j < kw; j++) valid_outputs(j * dw - pw, sw, w, ow, &runs[2 * j], &runs[2 * j + 1]);
  for (long plane = 0; plane < (long)n * c; plane++) {
    const float *base = x + plane * h * w;
    for (int oy = 0; oy < oh; oy++) {
      float *best = out + (plane * oh + oy) * ow;
      int32_t *arg = indices + (plane * oh + oy) * ow;
      for (int ox = 0; ox < ow; ox++) { best[ox] = -__builtin_inff(); arg[ox] = -1; }
      for (int i = 0; i < kh; i++) {
        int iy = oy * sh - ph + i * dh;
        if (iy < 0 || iy >= h) continue;
        const float *row = base + (long)iy * w;
        for (int j = 0; j < kw; j++) {
          int off = j * dw - pw, o1 = runs[2 * j + 1];
          for (int ox = runs[2 * j]; ox < o1; ox++) {
            int ix = ox * sw + off;
            float v = row[ix];
            int take = (arg[ox] < 0) | (v > best[ox]) | (v != v);
            best[ox] = take ? v : best[ox];
            arg[ox] = take ? iy * w + ix : arg[ox];
          }
        }
      }
    }
  }
  if (runs != stack) free(runs);
}

void max_pool_backward(const float *gy, const int32_t *indices, const int *p, float *gx) {
  long planes = (long)p[0] * p[1], hw = (long)p[2] * p[3], L = (long)p[12] * p[13];
  memset(gx, 0, (size_t)(planes * hw) * sizeof(float));
  for (long plane = 0; plane < planes; plane++) {
    const float *g = gy + plane * L;
    const int32_t *ix = indices + plane * L;
    float *dst = gx + plane * hw;
    for (long k = 0; k < L; k++) {
      int32_t i = ix[k];
      if (i >= 0 && i < hw) dst[i] += g[k];
    }
  }
}

const char *cpu_features(void) {
  static char buf[160];
  if (buf[0]) return buf;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  __builtin_cpu_init();
  const char *names[] = {"sse4.2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl"};
  int has[] = {__builtin_cpu_supports("sse4.2"), __builtin_cpu_supports("avx"), __builtin_cpu_supports("avx2"),
               __builtin_cpu_supports("fma"), __builtin_cpu_supports("avx512f"), __builtin_cpu_supports("avx512bw"),
               __builtin_cpu_supports("avx512vl")};
  for (unsigned i = 0; i < sizeof has / sizeof has[0]; i++) {
    if (!has[i]) continue;
    if (buf[0]) strcat(buf, ",");
    strcat(buf, names[i]);
  }
#elif defined(__aarch64__)
  strcpy(buf, "neon");
#endif
  if (!buf[0]) strcpy(buf, " ");
  return buf;
}
