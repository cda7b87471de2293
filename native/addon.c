// skipgrad's native addon: the Node-API glue. Operands are Float32Array (or Int32Array /
// Float64Array) views used in place, wherever their memory is (the shared WebAssembly.Memory
// kernel arena included, on any thread). Every kernel returns true if it did the work and false
// to decline (bad arguments, oneDNN missing or refusing the shape); the caller then falls back.
// Registered with NAPI_MODULE_INIT, so each worker thread gets its own instance (stream, cache).
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl.h"
#include "batchnorm.h"
#include "loops.h"

// Below ~32K elements the hand-over to a second thread costs more than it saves (as in the wasm kernels).
#define PARALLEL_ELEMENTS (1L << 15)

typedef struct {
  dn_ctx *ctx;
  int threads; // 0: oneDNN's default
} instance;

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

static napi_value boolean(napi_env env, int v) {
  napi_value r;
  napi_get_boolean(env, v != 0, &r);
  return r;
}

static instance *inst_of(napi_env env) {
  instance *in = NULL;
  napi_get_instance_data(env, (void **)&in);
  return in;
}

/** A typed array of `type` (or null, when `nullable`): its data and element count. */
static int typed(napi_env env, napi_value v, napi_typedarray_type type, int nullable, void **data, size_t *len) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) { *data = NULL; *len = 0; return nullable; }
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type at;
  if (napi_get_typedarray_info(env, v, &at, len, data, NULL, NULL) != napi_ok || at != type) return 0;
  return 1;
}

static int f32(napi_env env, napi_value v, int nullable, float **d, size_t *n) { return typed(env, v, napi_float32_array, nullable, (void **)d, n); }

static int number(napi_env env, napi_value v, double *out) { return napi_get_value_double(env, v, out) == napi_ok; }

/** An integer argument in [lo, hi]. */
static int integer(napi_env env, napi_value v, double lo, double hi, long *out) {
  double d;
  if (!number(env, v, &d) || !(d >= lo && d <= hi) || d != (double)(long)d) return 0; // range first: the cast needs it
  *out = (long)d;
  return 1;
}

static napi_value args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) return NULL;
  return argv[0];
}

/** Params packed as an Int32Array of `n` non-negative ints. */
static const int *params(napi_env env, napi_value v, size_t n) {
  void *d;
  size_t len;
  if (!typed(env, v, napi_int32_array, 0, &d, &len) || len < n) return NULL;
  const int *p = d;
  for (size_t i = 0; i < n; i++) if (p[i] < 0) return NULL;
  return p;
}

static int ready(instance *in) {
  if (!in || !dn_load()) return 0;
  if (!in->ctx) in->ctx = dn_ctx_new();
  if (!in->ctx) return 0;
  dn_apply_threads(in->threads);
  return 1;
}

// ---------------------------------------------------------------------------------------------

static napi_value status(napi_env env, napi_callback_info info) {
  (void)info;
  int ok = dn_load();
  napi_value o, v;
  CHECK(napi_create_object(env, &o));
  napi_get_boolean(env, ok, &v); napi_set_named_property(env, o, "loaded", v);
  const char *s[3] = {dn_reason(), dn_library(), dn_version()};
  const char *k[3] = {"reason", "library", "version"};
  for (int i = 0; i < 3; i++) {
    if (s[i]) napi_create_string_utf8(env, s[i], NAPI_AUTO_LENGTH, &v);
    else napi_get_null(env, &v);
    napi_set_named_property(env, o, k[i], v);
  }
  napi_create_string_utf8(env, cpu_features(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "features", v);
  return o;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  napi_value a[1];
  long n;
  if (!args(env, info, 1, a) || !integer(env, a[0], 0, 4096, &n)) return boolean(env, 0);
  instance *in = inst_of(env);
  if (in) in->threads = (int)n;
  return boolean(env, 1);
}

// setBlocked / setSmallImages / setWinograd(on): the convolution paths (for tests and benchmarks)
#define CONV_SWITCH(name, setter)                                                                              \
  static napi_value name(napi_env env, napi_callback_info info) {                                              \
    napi_value a[1];                                                                                           \
    bool on;                                                                                                   \
    instance *in = inst_of(env);                                                                               \
    if (!args(env, info, 1, a) || napi_get_value_bool(env, a[0], &on) != napi_ok || !ready(in)) return boolean(env, 0); \
    setter(in->ctx, on);                                                                                       \
    return boolean(env, 1);                                                                                    \
  }
CONV_SWITCH(set_blocked, dn_ctx_set_blocked)
CONV_SWITCH(set_small, dn_ctx_set_small)
CONV_SWITCH(set_winograd, dn_ctx_set_winograd)

/** A row-major rows x cols matrix at offset `off` with row stride `ld` lies inside `len` elements. */
static int fits(long rows, long cols, long off, long ld, size_t len) {
  if (ld < (cols > 1 ? cols : 1)) return 0;
  return rows == 0 || cols == 0 || (size_t)(off + (rows - 1) * ld + cols) <= len;
}

// gemm(transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc)
static napi_value gemm(napi_env env, napi_callback_info info) {
  napi_value a[16];
  bool ta, tb;
  long M, N, K, ao, lda, bo, ldb, co, ldc;
  double alpha, beta;
  float *A, *B, *C;
  size_t an, bn, cn;
  const double big = 2147483647.0;
  if (!args(env, info, 16, a) || napi_get_value_bool(env, a[0], &ta) != napi_ok || napi_get_value_bool(env, a[1], &tb) != napi_ok ||
      !integer(env, a[2], 0, big, &M) || !integer(env, a[3], 0, big, &N) || !integer(env, a[4], 0, big, &K) ||
      !number(env, a[5], &alpha) || !f32(env, a[6], 0, &A, &an) || !integer(env, a[7], 0, big, &ao) || !integer(env, a[8], 0, big, &lda) ||
      !f32(env, a[9], 0, &B, &bn) || !integer(env, a[10], 0, big, &bo) || !integer(env, a[11], 0, big, &ldb) ||
      !number(env, a[12], &beta) || !f32(env, a[13], 0, &C, &cn) || !integer(env, a[14], 0, big, &co) || !integer(env, a[15], 0, big, &ldc))
    return boolean(env, 0);
  if (!fits(ta ? K : M, ta ? M : K, ao, lda, an) || !fits(tb ? N : K, tb ? K : N, bo, ldb, bn) || !fits(M, N, co, ldc, cn)) return boolean(env, 0);
  if (M == 0 || N == 0) return boolean(env, 1);
  float *c = C + co;
  if (K == 0 || alpha == 0) { // C = beta C, as the reference (C not read when beta == 0)
    for (long i = 0; i < M; i++) {
      if (beta == 0) memset(c + i * ldc, 0, (size_t)N * sizeof(float));
      else if (beta != 1) for (long j = 0; j < N; j++) c[i * ldc + j] *= (float)beta;
    }
    return boolean(env, 1);
  }
  if (!ready(inst_of(env))) return boolean(env, 0);
  return boolean(env, dn_sgemm(ta, tb, M, N, K, (float)alpha, A + ao, lda, B + bo, ldb, (float)beta, c, ldc));
}

static long conv_sizes(const int *p, long *xs, long *ws, long *ys) {
  int groups = p[13];
  if (groups < 1 || p[1] % groups || p[4] % groups || p[7] < 1 || p[8] < 1 || p[11] < 1 || p[12] < 1) return 0;
  *xs = (long)p[0] * p[1] * p[2] * p[3];
  *ws = (long)p[4] * (p[1] / groups) * p[5] * p[6];
  *ys = (long)p[0] * p[4] * p[14] * p[15];
  return *xs > 0 && *ws > 0 && *ys > 0;
}

/** Whether any window reaches into padding, leading or the trailing padding implied by outH/outW. */
static int padded(const int *p) {
  long endH = (long)(p[14] - 1) * p[7] + (long)(p[5] - 1) * p[11] + 1 - p[9];
  long endW = (long)(p[15] - 1) * p[8] + (long)(p[6] - 1) * p[12] + 1 - p[10];
  return p[9] > 0 || p[10] > 0 || endH > p[2] || endW > p[3];
}

// The reference multiplies padding zeros too (im2col), so a non-finite weight (forward) or output
// gradient (weight gradient) turns taps in the padding into NaN; oneDNN skips those taps. Where
// that can happen these calls decline and the reference's answer stands. (Scanning costs ~1% of
// the convolution.)

// conv2dForward(x, w, bias | null, params Int32Array(16), out)
static napi_value conv_forward(napi_env env, napi_callback_info info) {
  napi_value a[5];
  float *x, *w, *b, *y;
  size_t xn, wn, bn, yn;
  long xs, ws, ys;
  instance *in = inst_of(env);
  const int *p;
  if (!args(env, info, 5, a) || !f32(env, a[0], 0, &x, &xn) || !f32(env, a[1], 0, &w, &wn) || !f32(env, a[2], 1, &b, &bn) ||
      !(p = params(env, a[3], 16)) || !f32(env, a[4], 0, &y, &yn) || !conv_sizes(p, &xs, &ws, &ys) ||
      xn < (size_t)xs || wn < (size_t)ws || yn < (size_t)ys || (b && bn < (size_t)p[4]) || !ready(in))
    return boolean(env, 0);
  return boolean(env, dn_conv_forward(in->ctx, p, x, w, b, y, padded(p)));
}

// conv2dBackward(gy, x, w, params, gx | null, gw | null, gb | null): all or nothing
static napi_value conv_backward(napi_env env, napi_callback_info info) {
  napi_value a[7];
  float *gy, *x, *w, *gx, *gw, *gb;
  size_t gyn, xn, wn, gxn, gwn, gbn;
  long xs, ws, ys;
  instance *in = inst_of(env);
  const int *p;
  if (!args(env, info, 7, a) || !f32(env, a[0], 0, &gy, &gyn) || !f32(env, a[1], 0, &x, &xn) || !f32(env, a[2], 0, &w, &wn) ||
      !(p = params(env, a[3], 16)) || !f32(env, a[4], 1, &gx, &gxn) || !f32(env, a[5], 1, &gw, &gwn) || !f32(env, a[6], 1, &gb, &gbn) ||
      !conv_sizes(p, &xs, &ws, &ys) || gyn < (size_t)ys || xn < (size_t)xs || wn < (size_t)ws ||
      (gx && gxn < (size_t)xs) || (gw && gwn < (size_t)ws) || (gb && gbn < (size_t)p[4]) || !ready(in))
    return boolean(env, 0);
  if (gb && !gw) return boolean(env, 0); // a bias gradient alone is a plain reduction: not oneDNN's job
  if (gw && padded(p) && !all_finite(gy, ys)) return boolean(env, 0);
  // If the second pass declines after the first ran, the caller's fallback overwrites both.
  int ok = 1;
  if (gx) ok = dn_conv_backward_data(in->ctx, p, gy, w, gx);
  if (ok && gw) ok = dn_conv_backward_weights(in->ctx, p, x, gy, gw, gb);
  return boolean(env, ok);
}

static int f64(napi_env env, napi_value v, int nullable, double **d, size_t *n) { return typed(env, v, napi_float64_array, nullable, (void **)d, n); }

/** N, C, S at argv[0..2], with N·C·S elements in every one of the `k` float arrays of lengths `lens`. */
static int bn_dims(napi_env env, const napi_value *argv, bn_args *b, const size_t *lens, int k) {
  const double big = 2147483647.0;
  if (!integer(env, argv[0], 0, big, &b->N) || !integer(env, argv[1], 0, big, &b->C) || !integer(env, argv[2], 0, big, &b->S)) return 0;
  double total = (double)b->N * (double)b->C * (double)b->S;
  for (int i = 0; i < k; i++) if (total > (double)lens[i]) return 0;
  return 1;
}

/** Runs `fn` over the channels; false if a thread ran out of memory (the caller falls back). */
static napi_value bn_run(napi_env env, bn_args *b, void (*fn)(void *, long, long)) {
  if (!ready(inst_of(env))) return boolean(env, 0);
  b->failed = 0;
  dn_parallel_for(b->C, 1, b->N * b->C * b->S >= PARALLEL_ELEMENTS, fn, b);
  return boolean(env, !b->failed);
}

// bnChannelStats(x, N, C, S, mean Float64Array, variance Float64Array)
static napi_value bn_stats(napi_env env, napi_callback_info info) {
  napi_value a[6];
  bn_args b = {0};
  size_t n[3];
  if (!args(env, info, 6, a) || !f32(env, a[0], 0, (float **)&b.x, &n[0]) || !f64(env, a[4], 0, &b.mean_out, &n[1]) ||
      !f64(env, a[5], 0, &b.var_out, &n[2]) || !bn_dims(env, a + 1, &b, n, 1) || n[1] < (size_t)b.C || n[2] < (size_t)b.C)
    return boolean(env, 0);
  return bn_run(env, &b, bn_stats_range);
}

/** mean, invstd (Float64Array), weight (Float32Array or null) at argv[0..2], each of C values. */
static int bn_channel_args(napi_env env, const napi_value *argv, bn_args *b) {
  size_t mn, sn, wn;
  return f64(env, argv[0], 0, (double **)&b->mean, &mn) && f64(env, argv[1], 0, (double **)&b->invstd, &sn) &&
         f32(env, argv[2], 1, (float **)&b->weight, &wn) && mn >= (size_t)b->C && sn >= (size_t)b->C && (!b->weight || wn >= (size_t)b->C);
}

// bnNormalize(x, N, C, S, mean, invstd, weight | null, bias | null, out)
static napi_value bn_normalize(napi_env env, napi_callback_info info) {
  napi_value a[9];
  bn_args b = {0};
  size_t n[2], bn;
  if (!args(env, info, 9, a) || !f32(env, a[0], 0, (float **)&b.x, &n[0]) || !f32(env, a[8], 0, &b.out, &n[1]) ||
      !bn_dims(env, a + 1, &b, n, 2) || !bn_channel_args(env, a + 4, &b) || !f32(env, a[7], 1, (float **)&b.bias, &bn) ||
      (b.bias && bn < (size_t)b.C))
    return boolean(env, 0);
  return bn_run(env, &b, bn_normalize_range);
}

// bnBackwardReduce(g, x, N, C, S, mean, invstd, sumG Float64Array, sumGXhat Float64Array)
static napi_value bn_reduce(napi_env env, napi_callback_info info) {
  napi_value a[9];
  bn_args b = {0};
  size_t n[2], mn, sn, gn, gxn;
  if (!args(env, info, 9, a) || !f32(env, a[0], 0, (float **)&b.g, &n[0]) || !f32(env, a[1], 0, (float **)&b.x, &n[1]) ||
      !bn_dims(env, a + 2, &b, n, 2) || !f64(env, a[5], 0, (double **)&b.mean, &mn) || !f64(env, a[6], 0, (double **)&b.invstd, &sn) ||
      !f64(env, a[7], 0, &b.sum_g, &gn) || !f64(env, a[8], 0, &b.sum_gxhat, &gxn) ||
      mn < (size_t)b.C || sn < (size_t)b.C || gn < (size_t)b.C || gxn < (size_t)b.C)
    return boolean(env, 0);
  return bn_run(env, &b, bn_reduce_range);
}

// bnBackwardInput(g, x, N, C, S, mean, invstd, weight | null, sumG, sumGXhat, batchStats, out)
static napi_value bn_input(napi_env env, napi_callback_info info) {
  napi_value a[12];
  bn_args b = {0};
  size_t n[3], gn, gxn;
  bool batch;
  if (!args(env, info, 12, a) || !f32(env, a[0], 0, (float **)&b.g, &n[0]) || !f32(env, a[1], 0, (float **)&b.x, &n[1]) ||
      !f32(env, a[11], 0, &b.out, &n[2]) || !bn_dims(env, a + 2, &b, n, 3) || !bn_channel_args(env, a + 5, &b) ||
      !f64(env, a[8], 0, &b.sum_g, &gn) || !f64(env, a[9], 0, &b.sum_gxhat, &gxn) || gn < (size_t)b.C || gxn < (size_t)b.C ||
      napi_get_value_bool(env, a[10], &batch) != napi_ok)
    return boolean(env, 0);
  b.batch_stats = batch;
  return bn_run(env, &b, bn_input_range);
}

static long pool_sizes(const int *p, long *xs, long *ys) {
  if (p[6] < 1 || p[7] < 1 || p[10] < 1 || p[11] < 1) return 0;
  *xs = (long)p[0] * p[1] * p[2] * p[3];
  *ys = (long)p[0] * p[1] * p[12] * p[13];
  return 1;
}

// maxPool2dForward(x, params Int32Array(14), out, indices Int32Array)
static napi_value pool_forward(napi_env env, napi_callback_info info) {
  napi_value a[4];
  float *x, *y;
  int32_t *ix;
  size_t xn, yn, in;
  long xs, ys;
  const int *p;
  if (!args(env, info, 4, a) || !f32(env, a[0], 0, &x, &xn) || !(p = params(env, a[1], 14)) || !f32(env, a[2], 0, &y, &yn) ||
      !typed(env, a[3], napi_int32_array, 0, (void **)&ix, &in) || !pool_sizes(p, &xs, &ys) ||
      xn < (size_t)xs || yn < (size_t)ys || in < (size_t)ys || !ready(inst_of(env)))
    return boolean(env, 0);
  max_pool_forward(x, p, y, ix);
  return boolean(env, 1);
}

// maxPool2dBackward(gy, indices, params, gx)
static napi_value pool_backward(napi_env env, napi_callback_info info) {
  napi_value a[4];
  float *gy, *gx;
  int32_t *ix;
  size_t gyn, in, gxn;
  long xs, ys;
  const int *p;
  if (!args(env, info, 4, a) || !f32(env, a[0], 0, &gy, &gyn) || !typed(env, a[1], napi_int32_array, 0, (void **)&ix, &in) ||
      !(p = params(env, a[2], 14)) || !f32(env, a[3], 0, &gx, &gxn) || !pool_sizes(p, &xs, &ys) ||
      gyn < (size_t)ys || in < (size_t)ys || gxn < (size_t)xs || !ready(inst_of(env)))
    return boolean(env, 0);
  max_pool_backward(gy, ix, p, gx);
  return boolean(env, 1);
}

static napi_value relu_fwd(napi_env env, napi_callback_info info) {
  napi_value a[2];
  float *x, *y;
  size_t xn, yn;
  if (!args(env, info, 2, a) || !f32(env, a[0], 0, &x, &xn) || !f32(env, a[1], 0, &y, &yn) || yn > xn || !ready(inst_of(env)))
    return boolean(env, 0);
  eltwise_args e = {x, NULL, y, 0, 0, 0};
  dn_parallel_for((long)yn, 16, yn >= PARALLEL_ELEMENTS, relu_forward_range, &e);
  return boolean(env, 1);
}

static napi_value relu_bwd(napi_env env, napi_callback_info info) {
  napi_value a[3];
  float *g, *x, *y;
  size_t gn, xn, yn;
  if (!args(env, info, 3, a) || !f32(env, a[0], 0, &g, &gn) || !f32(env, a[1], 0, &x, &xn) || !f32(env, a[2], 0, &y, &yn) ||
      yn > gn || yn > xn || !ready(inst_of(env)))
    return boolean(env, 0);
  eltwise_args e = {g, x, y, 0, 0, 0};
  dn_parallel_for((long)yn, 16, yn >= PARALLEL_ELEMENTS, relu_backward_range, &e);
  return boolean(env, 1);
}

// arith(op 0-3, a, b, out): out = a op b elementwise; a and b have out's length or one element.
static napi_value arith(napi_env env, napi_callback_info info) {
  napi_value v[4];
  long op;
  float *a, *b, *o;
  size_t an, bn, on;
  if (!args(env, info, 4, v) || !integer(env, v[0], 0, 3, &op) || !f32(env, v[1], 0, &a, &an) || !f32(env, v[2], 0, &b, &bn) ||
      !f32(env, v[3], 0, &o, &on) || on == 0 || (an != on && an != 1) || (bn != on && bn != 1) || !ready(inst_of(env)))
    return boolean(env, 0);
  eltwise_args e = {a, b, o, (int)op, an != on, bn != on};
  dn_parallel_for((long)on, 16, on >= PARALLEL_ELEMENTS, arith_range, &e);
  return boolean(env, 1);
}

static int flag(napi_env env, napi_value v, int *out) {
  bool b;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return 0;
  *out = b;
  return 1;
}

// sgdStep(p, g, buf | null, first, lr, weightDecay, momentum, 1 - dampening, nesterov, maximize)
static napi_value sgd_step(napi_env env, napi_callback_info info) {
  napi_value a[10];
  sgd_args s;
  size_t pn, gn, bn;
  if (!args(env, info, 10, a) || !f32(env, a[0], 0, &s.p, &pn) || !f32(env, a[1], 0, (float **)&s.g, &gn) ||
      !f32(env, a[2], 1, &s.buf, &bn) || !flag(env, a[3], &s.first) || !number(env, a[4], &s.lr) || !number(env, a[5], &s.wd) ||
      !number(env, a[6], &s.momentum) || !number(env, a[7], &s.damp1) || !flag(env, a[8], &s.nesterov) || !flag(env, a[9], &s.maximize) ||
      gn < pn || (s.buf && bn < pn) || !ready(inst_of(env)))
    return boolean(env, 0);
  dn_parallel_for((long)pn, 16, pn >= PARALLEL_ELEMENTS, sgd_range, &s);
  return boolean(env, 1);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  instance *in = data;
  dn_ctx_free(in->ctx);
  free(in);
}

NAPI_MODULE_INIT() {
  instance *in = calloc(1, sizeof *in);
  if (!in || napi_set_instance_data(env, in, finalize, NULL) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
    {"status", NULL, status, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
    {"setBlocked", NULL, set_blocked, NULL, NULL, NULL, napi_default, NULL},
    {"setSmallImages", NULL, set_small, NULL, NULL, NULL, napi_default, NULL},
    {"setWinograd", NULL, set_winograd, NULL, NULL, NULL, napi_default, NULL},
    {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
    {"conv2dForward", NULL, conv_forward, NULL, NULL, NULL, napi_default, NULL},
    {"conv2dBackward", NULL, conv_backward, NULL, NULL, NULL, napi_default, NULL},
    {"bnChannelStats", NULL, bn_stats, NULL, NULL, NULL, napi_default, NULL},
    {"bnNormalize", NULL, bn_normalize, NULL, NULL, NULL, napi_default, NULL},
    {"bnBackwardReduce", NULL, bn_reduce, NULL, NULL, NULL, napi_default, NULL},
    {"bnBackwardInput", NULL, bn_input, NULL, NULL, NULL, napi_default, NULL},
    {"maxPool2dForward", NULL, pool_forward, NULL, NULL, NULL, napi_default, NULL},
    {"maxPool2dBackward", NULL, pool_backward, NULL, NULL, NULL, napi_default, NULL},
    {"reluForward", NULL, relu_fwd, NULL, NULL, NULL, napi_default, NULL},
    {"reluBackward", NULL, relu_bwd, NULL, NULL, NULL, napi_default, NULL},
    {"sgdStep", NULL, sgd_step, NULL, NULL, NULL, napi_default, NULL},
    {"arith", NULL, arith, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
