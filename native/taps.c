// See taps.h.
#include "taps.h"

#include <string.h>

#include "clones.h"
#include "dnnl.h"
#include "loops.h"

/** Whether tap `i` of a kernel axis reads the input at some output position. */
static int tap_alive(int i, int in, int stride, int pad, int dil, int out) {
  long off = (long)i * dil - pad; // input index of output 0's tap i
  long o = off >= 0 ? 0 : (-off + stride - 1) / stride; // first output whose tap is at index >= 0
  return o < out && o * stride + off < in;
}

/** The taps [*first, *first + *count) of one axis that some window reads inside the input. */
static void alive_range(int in, int k, int stride, int pad, int dil, int out, int *first, int *count) {
  int lo = -1, hi = -1;
  for (int i = 0; i < k; i++) {
    if (!tap_alive(i, in, stride, pad, dil, out)) continue;
    if (lo < 0) lo = i;
    hi = i;
  }
  *first = 0;
  *count = k;
  if (lo < 0) return; // no tap reads the input (output = bias): nothing to gain
  // The cropped kernel's leading padding must stay >= 0 and its trailing padding (implied by
  // `out`) must not turn negative: where either would, that end keeps its dead taps.
  if (lo * dil > pad) lo = 0;
  long trailing = (long)(out - 1) * stride + (long)hi * dil + 1 - in - pad; // the same for any lo
  if (hi < k - 1 && trailing < 0) hi = k - 1;
  *first = lo;
  *count = hi - lo + 1;
}

int tp_crop(const int *p, int *q, int *i0, int *j0) {
  int kh, kw;
  memcpy(q, p, 16 * sizeof(int));
  alive_range(p[2], p[5], p[7], p[9], p[11], p[14], i0, &kh);
  alive_range(p[3], p[6], p[8], p[10], p[12], p[15], j0, &kw);
  q[5] = kh;
  q[6] = kw;
  q[9] = p[9] - *i0 * p[11];
  q[10] = p[10] - *j0 * p[12];
  return kh < p[5] || kw < p[6];
}

long tp_weight_count(const int *q) { return (long)q[4] * (q[1] / q[13]) * q[5] * q[6]; }

typedef struct {
  const int *p, *q;
  int i0, j0;
  const float *src;
  float *dst;
  int check;             // crop: also look for NaN and +-Inf in every tap (cropped or not)
  volatile int nonfinite; // set by any thread that found one
} crop_job;

// Loops over single floats, not memcpy calls: a crop row is often one tap (a call per float
// made cropping 512x512x3x3 weights cost more than the convolution it saves). Both walk their
// rows in blocks of CHUNK_ROWS, so that the second look at a block (the crop after the finiteness
// scan, the scatter after the zeroing) finds it in cache: a 512x512x3x3 kernel is 9.4 MB, and
// two whole-range passes read or wrote it twice.
#define CHUNK_ROWS 512L

static void crop_chunk(const crop_job *j, long lo, long hi) {
  const int kw = j->p[6], ch = j->q[5], cw = j->q[6], k = j->p[5] * kw, c = ch * cw;
  const float *w = j->src + (long)j->i0 * kw + j->j0;
  float *out = j->dst;
  if (c == 1) {
    for (long r = lo; r < hi; r++) out[r] = w[r * k];
    return;
  }
  for (long r = lo; r < hi; r++)
    for (int i = 0; i < ch; i++)
      for (int t = 0; t < cw; t++) out[r * c + i * cw + t] = w[r * k + i * kw + t];
}

CLONES static void crop_rows(void *arg, long lo, long hi) {
  crop_job *j = arg;
  const long k = (long)j->p[5] * j->p[6];
  for (long a = lo; a < hi; a += CHUNK_ROWS) {
    long b = a + CHUNK_ROWS < hi ? a + CHUNK_ROWS : hi;
    if (j->check && !all_finite(j->src + a * k, (b - a) * k)) { j->nonfinite = 1; return; }
    crop_chunk(j, a, b);
  }
}

static void uncrop_chunk(const crop_job *j, long lo, long hi) {
  const int kw = j->p[6], ch = j->q[5], cw = j->q[6], k = j->p[5] * kw, c = ch * cw;
  const float *in = j->src;
  memset(j->dst + lo * k, 0, (size_t)(hi - lo) * k * sizeof(float));
  float *w = j->dst + (long)j->i0 * kw + j->j0;
  if (c == 1) {
    for (long r = lo; r < hi; r++) w[r * k] = in[r];
    return;
  }
  for (long r = lo; r < hi; r++)
    for (int i = 0; i < ch; i++)
      for (int t = 0; t < cw; t++) w[r * k + i * kw + t] = in[r * c + i * cw + t];
}

CLONES static void uncrop_rows(void *arg, long lo, long hi) {
  for (long a = lo; a < hi; a += CHUNK_ROWS) uncrop_chunk(arg, a, a + CHUNK_ROWS < hi ? a + CHUNK_ROWS : hi);
}

// Two threads pay from a few hundred thousand floats on.
static int worth_threads(const int *p) { return tp_weight_count(p) >= (1L << 18); }

int tp_crop_weights(const int *p, const int *q, int i0, int j0, const float *w, float *wc, int check) {
  crop_job j = {p, q, i0, j0, w, wc, check, 0};
  dn_parallel_for((long)p[4] * (p[1] / p[13]), 16, worth_threads(p), crop_rows, &j);
  return !j.nonfinite;
}

void tp_uncrop_weights(const int *p, const int *q, int i0, int j0, const float *gwc, float *gw) {
  crop_job j = {p, q, i0, j0, gwc, gw, 0, 0};
  dn_parallel_for((long)p[4] * (p[1] / p[13]), 16, worth_threads(p), uncrop_rows, &j);
}
