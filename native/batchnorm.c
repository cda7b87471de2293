// Batch norm's four loops, over a range of channels so that every channel is summed by one
// thread in a fixed order (results do not depend on the thread count). Large planes are walked
// plane by plane; shorter ones row by row (n outer, the range's (hi − lo)·S columns
// inner, per-channel values spread over their S columns), which vectorises where loops over
// planes of 1 or 4 elements cannot. Elementwise results are float64 with the reference's
// operations in its order (kernels/batchnorm.ts), so bit for bit the same given the same
// statistics; sums differ from the reference's order by rounding only.
#include "batchnorm.h"

#include <stdlib.h>

#include "clones.h"

// The sums (stats, backward reduce) go by columns below planes of 1024: a plane walk reads N
// strided planes per channel, which cost 2-4x the row walk at ResNet-18's 14x14 to 4x4 planes
// (Xeon, 2 threads). The elementwise passes gain nothing from it above 16.
#define SUM_COLUMNS_BELOW_S 1024
#define COLUMNS_BELOW_S 16

/** Row r's columns of the channel range [lo, hi). */
#define ROW(p, a, r, lo) ((p) + ((r) * (a)->C + (lo)) * (a)->S)

/** v[0 .. L), each value repeated S times (NULL if out of memory). */
static double *spread(const double *v, long L, long S) {
  double *o = malloc(sizeof(double) * (size_t)(L * S + 1));
  if (o) for (long c = 0, j = 0; c < L; c++) for (long s = 0; s < S; s++) o[j++] = v[c];
  return o;
}

static void *fail(const bn_args *a) {
  ((bn_args *)a)->failed = 1; // any thread may set it; the call then declines
  return NULL;
}

// Plane sums with 8 partial sums, which vectorise (one float64 chain cannot be reordered).
static inline double sum_plane(const float *x, long S) {
  double p[8] = {0}, t = 0;
  long i = 0;
  for (; i + 8 <= S; i += 8) for (int k = 0; k < 8; k++) p[k] += x[i + k];
  for (; i < S; i++) t += x[i];
  return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])) + t;
}

static inline double sumsq_plane(const float *x, long S, double m) {
  double p[8] = {0}, t = 0;
  long i = 0;
  for (; i + 8 <= S; i += 8) for (int k = 0; k < 8; k++) { double d = x[i + k] - m; p[k] += d * d; }
  for (; i < S; i++) { double d = x[i] - m; t += d * d; }
  return ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])) + t;
}

/** Σg and Σg·(x − m) over a plane, as above. */
static inline void sums_gx_plane(const float *g, const float *x, long S, double m, double *sg, double *sgx) {
  double p[8] = {0}, q[8] = {0}, t = 0, u = 0;
  long i = 0;
  for (; i + 8 <= S; i += 8) for (int k = 0; k < 8; k++) { p[k] += g[i + k]; q[k] += g[i + k] * (x[i + k] - m); }
  for (; i < S; i++) { t += g[i]; u += g[i] * (x[i] - m); }
  *sg += ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7])) + t;
  *sgx += ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7])) + u;
}

/** Column sums folded per channel: out[c] = Σ_s acc[(c − lo)·S + s]. */
static void fold(const double *acc, long lo, long hi, long S, double *out) {
  for (long c = lo; c < hi; c++) {
    double t = 0;
    for (long s = 0; s < S; s++) t += acc[(c - lo) * S + s];
    out[c] = t;
  }
}

CLONES void bn_stats_range(void *p, long lo, long hi) {
  const bn_args *a = p;
  const long N = a->N, S = a->S, W = (hi - lo) * S;
  const double count = (double)N * (double)S;
  if (S >= SUM_COLUMNS_BELOW_S) {
    for (long c = lo; c < hi; c++) {
      double s = 0, q = 0;
      for (long n = 0; n < N; n++) s += sum_plane(ROW(a->x, a, n, c), S);
      const double m = s / count;
      for (long n = 0; n < N; n++) q += sumsq_plane(ROW(a->x, a, n, c), S, m);
      a->mean_out[c] = m;
      a->var_out[c] = q / count;
    }
    return;
  }
  double *acc = calloc((size_t)W + 1, sizeof(double));
  if (!acc) { fail(a); return; }
  for (long n = 0; n < N; n++) { const float *x = ROW(a->x, a, n, lo); for (long j = 0; j < W; j++) acc[j] += x[j]; }
  fold(acc, lo, hi, S, a->mean_out);
  for (long c = lo; c < hi; c++) a->mean_out[c] /= count;
  double *m = spread(a->mean_out + lo, hi - lo, S);
  if (!m) fail(a);
  else {
    for (long j = 0; j < W; j++) acc[j] = 0;
    for (long n = 0; n < N; n++) { const float *x = ROW(a->x, a, n, lo); for (long j = 0; j < W; j++) { double d = x[j] - m[j]; acc[j] += d * d; } }
    fold(acc, lo, hi, S, a->var_out);
    for (long c = lo; c < hi; c++) a->var_out[c] /= count;
  }
  free(m);
  free(acc);
}

CLONES void bn_normalize_range(void *p, long lo, long hi) {
  const bn_args *a = p;
  const long N = a->N, S = a->S, W = (hi - lo) * S;
  double *scale = malloc(sizeof(double) * (size_t)(2 * (hi - lo) + 1)), *shift = scale + (hi - lo); // indexed c − lo
  if (!scale) { fail(a); return; }
  for (long c = lo; c < hi; c++) {
    scale[c - lo] = a->invstd[c] * (a->weight ? (double)a->weight[c] : 1);
    shift[c - lo] = (a->bias ? (double)a->bias[c] : 0) - a->mean[c] * scale[c - lo];
  }
  if (S >= COLUMNS_BELOW_S) {
    for (long n = 0; n < N; n++)
      for (long c = lo; c < hi; c++) {
        const float *x = ROW(a->x, a, n, c);
        float *o = ROW(a->out, a, n, c);
        const double k = scale[c - lo], b = shift[c - lo];
        for (long i = 0; i < S; i++) o[i] = (float)(x[i] * k + b);
      }
    free(scale);
    return;
  }
  double *k = spread(scale, hi - lo, S), *b = spread(shift, hi - lo, S);
  if (!k || !b) fail(a);
  else
    for (long n = 0; n < N; n++) {
      const float *x = ROW(a->x, a, n, lo);
      float *o = ROW(a->out, a, n, lo);
      for (long j = 0; j < W; j++) o[j] = (float)(x[j] * k[j] + b[j]);
    }
  free(k);
  free(b);
  free(scale);
}

CLONES void bn_reduce_range(void *p, long lo, long hi) {
  const bn_args *a = p;
  const long N = a->N, S = a->S, W = (hi - lo) * S;
  if (S >= SUM_COLUMNS_BELOW_S) {
    for (long c = lo; c < hi; c++) {
      const double m = a->mean[c];
      double sg = 0, sgx = 0;
      for (long n = 0; n < N; n++) sums_gx_plane(ROW(a->g, a, n, c), ROW(a->x, a, n, c), S, m, &sg, &sgx);
      a->sum_g[c] = sg;
      a->sum_gxhat[c] = sgx * a->invstd[c];
    }
    return;
  }
  double *acc = calloc(2 * (size_t)W + 1, sizeof(double)), *m = spread(a->mean + lo, hi - lo, S);
  if (!acc || !m) fail(a);
  else {
    double *ag = acc, *agx = acc + W;
    for (long n = 0; n < N; n++) {
      const float *g = ROW(a->g, a, n, lo), *x = ROW(a->x, a, n, lo);
      for (long j = 0; j < W; j++) { ag[j] += g[j]; agx[j] += g[j] * (x[j] - m[j]); }
    }
    fold(ag, lo, hi, S, a->sum_g);
    fold(agx, lo, hi, S, a->sum_gxhat);
    for (long c = lo; c < hi; c++) a->sum_gxhat[c] *= a->invstd[c];
  }
  free(m);
  free(acc);
}

CLONES void bn_input_range(void *p, long lo, long hi) {
  const bn_args *a = p;
  const long N = a->N, S = a->S, W = (hi - lo) * S, L = hi - lo;
  const double count = (double)N * (double)S;
  // per channel c − lo: k = invstd·weight, mean, invstd, mean(g), mean(g·xhat)
  double *v[5], *all = malloc(sizeof(double) * (size_t)(5 * L + 1));
  if (!all) { fail(a); return; }
  for (int t = 0; t < 5; t++) v[t] = all + t * L;
  for (long c = lo; c < hi; c++) {
    v[0][c - lo] = a->invstd[c] * (a->weight ? (double)a->weight[c] : 1);
    v[1][c - lo] = a->mean[c];
    v[2][c - lo] = a->invstd[c];
    v[3][c - lo] = a->batch_stats ? a->sum_g[c] / count : 0;
    v[4][c - lo] = a->batch_stats ? a->sum_gxhat[c] / count : 0;
  }
  if (S >= COLUMNS_BELOW_S) {
    for (long n = 0; n < N; n++)
      for (long c = lo; c < hi; c++) {
        const float *g = ROW(a->g, a, n, c), *x = ROW(a->x, a, n, c);
        float *o = ROW(a->out, a, n, c);
        const double k = v[0][c - lo], m = v[1][c - lo], is = v[2][c - lo], mg = v[3][c - lo], mgx = v[4][c - lo];
        if (!a->batch_stats) for (long i = 0; i < S; i++) o[i] = (float)(g[i] * k);
        else for (long i = 0; i < S; i++) { double xhat = (x[i] - m) * is; o[i] = (float)(k * (g[i] - mg - xhat * mgx)); }
      }
    free(all);
    return;
  }
  double *e[5] = {0};
  int ok = 1;
  for (int t = 0; t < 5; t++) ok &= (e[t] = spread(v[t], L, S)) != NULL;
  if (!ok) fail(a);
  else
    for (long n = 0; n < N; n++) {
      const float *g = ROW(a->g, a, n, lo), *x = ROW(a->x, a, n, lo);
      float *o = ROW(a->out, a, n, lo);
      const double *k = e[0], *m = e[1], *is = e[2], *mg = e[3], *mgx = e[4];
      if (!a->batch_stats) for (long j = 0; j < W; j++) o[j] = (float)(g[j] * k[j]);
      else for (long j = 0; j < W; j++) { double xhat = (x[j] - m[j]) * is[j]; o[j] = (float)(k[j] * (g[j] - mg[j] - xhat * mgx[j])); }
    }
  for (int t = 0; t < 5; t++) free(e[t]);
  free(all);
}
