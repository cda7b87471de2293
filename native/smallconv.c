// See smallconv.h. The matrix M [C_out·P, C_in·HW] row-major has row co·P + o and column ci·HW + i,
// so that with X as [N, C_in·HW] and Y as [N, C_out·P] (NCHW, as they lie):
//   Y = X·Mᵀ,   gX = gY·M,   gM = gYᵀ·X,   gW[co, ci, t] = Σ gM over the pixel pairs of tap t.
// The forward builds Mᵀ rather than M: oneDNN 2.6's sgemm ran X·Mᵀ with a transposed operand at
// 46 GFLOP/s where the same product untransposed ran at 105-180 (batch 64, 1024x1024). A 1x1
// image with a 1x1 kernel (a cropped 3x3, taps.h) has M = W itself: the backward builds nothing.
// (So does any single output pixel whose taps read the pixels in order: is_weights.)
#include "smallconv.h"

#include <string.h>

#define MAX_PIXELS 64         // input pixels, and output pixels
#define MAX_ENTRIES (1L << 22) // of M (16 MB)

/** tap[o][i]: the kernel tap that output pixel o reads input pixel i through, or -1. */
typedef struct { signed char tap[MAX_PIXELS][MAX_PIXELS]; long P, HW, T; int pairs; } pixel_map;

static int map_of(const int *p, pixel_map *m) {
  int h = p[2], w = p[3], kh = p[5], kw = p[6], sh = p[7], sw = p[8], ph = p[9], pw = p[10], dh = p[11], dw = p[12];
  int oh = p[14], ow = p[15];
  m->P = (long)oh * ow;
  m->HW = (long)h * w;
  m->T = (long)kh * kw;
  m->pairs = 0;
  if (m->P > MAX_PIXELS || m->HW > MAX_PIXELS || m->T > 127) return 0;
  memset(m->tap, -1, sizeof m->tap);
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++)
      for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++) {
          int iy = y * sh - ph + i * dh, ix = x * sw - pw + j * dw;
          if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
          m->tap[y * ow + x][iy * w + ix] = (signed char)(i * kw + j); // distinct taps reach distinct pixels
          m->pairs++;
        }
  return 1;
}

int sc_applies(const int *p) {
  pixel_map m;
  if (p[13] != 1 || !map_of(p, &m)) return 0;
  return m.pairs == m.P * m.HW && (long)p[4] * m.P * p[1] * m.HW <= MAX_ENTRIES;
}

/**
 * M is W itself, with no building: one output pixel whose window is the image, tap i reading
 * pixel i (a 1x1 image through a 1x1 kernel, or a 2x2 one through a stride-2 kernel cropped to
 * 2x2, as in ResNet-18's last downsampling on 28x28 inputs).
 */
static int is_weights(const pixel_map *m) {
  if (m->P != 1 || m->T != m->HW) return 0;
  for (long i = 0; i < m->HW; i++) if (m->tap[0][i] != i) return 0;
  return 1;
}

typedef struct { const pixel_map *m; long cin, cout; const float *src; float *dst; } map_job;

/** Rows [lo, hi) of M (rows co·P + o) from W [C_out, C_in, T]. */
static void build_rows(void *arg, long lo, long hi) {
  const map_job *j = arg;
  const long P = j->m->P, HW = j->m->HW, T = j->m->T, cin = j->cin;
  for (long r = lo; r < hi; r++) {
    const signed char *tap = j->m->tap[r % P];
    const float *w = j->src + (r / P) * cin * T;
    float *row = j->dst + r * cin * HW;
    for (long ci = 0; ci < cin; ci++)
      for (long i = 0; i < HW; i++) row[ci * HW + i] = tap[i] < 0 ? 0.0f : w[ci * T + tap[i]];
  }
}

/** Rows [lo, hi) of Mᵀ (rows ci·HW + i) from W [C_out, C_in, T]. */
static void build_transposed_rows(void *arg, long lo, long hi) {
  const map_job *j = arg;
  const long P = j->m->P, HW = j->m->HW, T = j->m->T, cin = j->cin, cout = j->cout;
  for (long r = lo; r < hi; r++) {
    const long ci = r / HW, i = r % HW;
    const float *w = j->src + ci * T;
    float *row = j->dst + r * cout * P;
    for (long co = 0; co < cout; co++)
      for (long o = 0; o < P; o++) {
        int t = j->m->tap[o][i];
        row[co * P + o] = t < 0 ? 0.0f : w[co * cin * T + t];
      }
  }
}

typedef struct { const float *src; float *dst; long rows, cols; } transpose_job;
#define TILE 32

/**
 * Rows [lo, hi) of dst [cols, rows] = src [rows, cols]ᵀ, tile by tile so that both sides stay in
 * cache (row by row, a 1024-column source was read a cache line and a page per element).
 */
static void transpose_rows(void *arg, long lo, long hi) {
  const transpose_job *j = arg;
  for (long c0 = lo; c0 < hi; c0 += TILE)
    for (long r0 = 0; r0 < j->rows; r0 += TILE) {
      const long c1 = c0 + TILE < hi ? c0 + TILE : hi, r1 = r0 + TILE < j->rows ? r0 + TILE : j->rows;
      for (long c = c0; c < c1; c++)
        for (long r = r0; r < r1; r++) j->dst[c * j->rows + r] = j->src[r * j->cols + c];
    }
}

/** gW rows [lo, hi) (output channels) from gM. */
static void gather_rows(void *arg, long lo, long hi) {
  const map_job *j = arg;
  const long P = j->m->P, HW = j->m->HW, T = j->m->T, cin = j->cin;
  memset(j->dst + lo * cin * T, 0, (size_t)((hi - lo) * cin * T) * sizeof(float));
  for (long co = lo; co < hi; co++) {
    float *gw = j->dst + co * cin * T;
    for (long o = 0; o < P; o++) {
      const signed char *tap = j->m->tap[o];
      const float *row = j->src + (co * P + o) * cin * HW;
      for (long ci = 0; ci < cin; ci++)
        for (long i = 0; i < HW; i++)
          if (tap[i] >= 0) gw[ci * T + tap[i]] += row[ci * HW + i];
    }
  }
}

/** M (or Mᵀ, `transposed`) for W: W itself where it is M, else built in buffer 1. */
static const float *matrix(dn_ctx *c, const int *p, const pixel_map *m, const float *w, int transposed) {
  const long rows = p[4] * m->P, cols = p[1] * m->HW;
  const int weights = is_weights(m);
  if (weights && !transposed) return w;
  float *M = dn_buffer(c, 1, rows * cols);
  if (!M) return NULL;
  if (weights) {
    // Mᵀ = Wᵀ: a plain transpose, by tiles (the general builder below reads W down its columns)
    transpose_job t = {w, M, rows, cols};
    dn_parallel_for(cols, TILE, 1, transpose_rows, &t);
    return M;
  }
  map_job j = {m, p[1], p[4], w, M};
  if (transposed) dn_parallel_for(cols, 1, 1, build_transposed_rows, &j);
  else dn_parallel_for(rows, 1, 1, build_rows, &j);
  return M;
}

int sc_forward(dn_ctx *c, const int *p, const float *x, const float *w, const float *b, float *y) {
  pixel_map m;
  if (!map_of(p, &m)) return 0;
  const long N = p[0], in = (long)p[1] * m.HW, out = (long)p[4] * m.P;
  const float *MT = matrix(c, p, &m, w, 1);
  if (!MT || !dn_sgemm(0, 0, N, out, in, 1.0f, x, in, MT, out, 0.0f, y, out)) return 0;
  if (b)
    for (long n = 0; n < N; n++)
      for (long co = 0; co < p[4]; co++)
        for (long o = 0; o < m.P; o++) y[n * out + co * m.P + o] += b[co];
  return 1;
}

int sc_backward_data(dn_ctx *c, const int *p, const float *gy, const float *w, float *gx) {
  pixel_map m;
  if (!map_of(p, &m)) return 0;
  const long N = p[0], in = (long)p[1] * m.HW, out = (long)p[4] * m.P;
  const float *M = matrix(c, p, &m, w, 0);
  return M && dn_sgemm(0, 0, N, in, out, 1.0f, gy, out, M, in, 0.0f, gx, in);
}

int sc_backward_weights(dn_ctx *c, const int *p, const float *x, const float *gy, float *gw, float *gb) {
  pixel_map m;
  if (!map_of(p, &m)) return 0;
  const long N = p[0], in = (long)p[1] * m.HW, out = (long)p[4] * m.P;
  float *gM = is_weights(&m) ? gw : dn_buffer(c, 1, out * in);
  if (!gM || !dn_sgemm(1, 0, out, in, N, 1.0f, gy, out, x, in, 0.0f, gM, in)) return 0;
  if (gM != gw) {
    map_job j = {&m, p[1], p[4], gM, gw};
    dn_parallel_for(p[4], 1, 1, gather_rows, &j);
  }
  if (gb) {
    for (long co = 0; co < p[4]; co++) {
      double s = 0;
      for (long n = 0; n < N; n++)
        for (long o = 0; o < m.P; o++) s += gy[n * out + co * m.P + o];
      gb[co] = (float)s;
    }
  }
  return 1;
}
