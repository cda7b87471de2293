// oneDNN, opened with dlopen. The few types, enum values and prototypes used are declared here
// (values checked against Debian's 2.6 headers and upstream 3.x headers) so the addon compiles
// with no oneDNN headers and loads, and says why, where there is no oneDNN.
//
// API generations: memory descriptors are structs filled in place in 2.x and opaque handles in
// 3.x; both are passed by pointer, so a `void *` stands for either. Convolutions are created
// with *_desc_init + dnnl_primitive_desc_create in 2.x and *_primitive_desc_create in 3.x.
#define _GNU_SOURCE
#include "dnnl.h"

#include "loops.h"
#include "smallconv.h"
#include "taps.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t dim;
typedef struct { int arg; void *mem; } exec_arg;
typedef struct { int major, minor, patch; const char *hash; unsigned cpu_runtime, gpu_runtime; } version_t;

enum { F32 = 3, TAG_ANY = 1, TAG_A = 2, TAG_ABCD = 5 };           // same in 2.x and 3.x
enum { FWD_TRAINING = 64, BWD_DATA = 160, BWD_WEIGHTS = 192, CONV_DIRECT = 1, CONV_WINOGRAD = 2, ENGINE_CPU = 1 };
enum { Q_SRC = 129, Q_DIFF_SRC, Q_WEIGHTS, Q_DIFF_WEIGHTS, Q_DST, Q_DIFF_DST };
enum { ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33, ARG_BIAS = 41, ARG_DIFF_SRC = 129, ARG_DIFF_DST = 145,
       ARG_DIFF_WEIGHTS = 161, ARG_DIFF_BIAS = 169 };
#define MD2_BYTES 2048      // sizeof(dnnl_memory_desc_t) is 696 in 2.6; room for other 2.x
#define OPDESC2_BYTES 16384 // sizeof(dnnl_convolution_desc_t) is 5976 in 2.6

typedef int st;
static struct {
  void *lib;
  int major;
  int tag_abcde; // 7 in 2.x (dnnl_acbd comes first), 6 in 3.x
  char library[512], version[64], reason[512];
  const version_t *(*version_fn)(void);
  st (*engine_create)(void **, int, size_t);
  st (*stream_create)(void **, void *, unsigned);
  st (*stream_wait)(void *);
  st (*stream_destroy)(void *);
  st (*sgemm)(char, char, dim, dim, dim, float, const float *, dim, const float *, dim, float, float *, dim);
  st (*md_init2)(void *, int, const dim *, int, int);
  st (*md_create3)(void **, int, const dim *, int, int);
  st (*md_destroy3)(void *);
  int (*md_equal)(const void *, const void *);
  size_t (*md_size)(const void *);
  st (*fwd2)(void *, int, int, const void *, const void *, const void *, const void *, const dim *, const dim *, const dim *, const dim *);
  st (*bwd_data2)(void *, int, const void *, const void *, const void *, const dim *, const dim *, const dim *, const dim *);
  st (*bwd_w2)(void *, int, const void *, const void *, const void *, const void *, const dim *, const dim *, const dim *, const dim *);
  st (*pd_create2)(void **, const void *, const void *, void *, const void *);
  st (*fwd3)(void **, void *, int, int, const void *, const void *, const void *, const void *, const dim *, const dim *, const dim *, const dim *, const void *);
  st (*bwd_data3)(void **, void *, int, const void *, const void *, const void *, const dim *, const dim *, const dim *, const dim *, const void *, const void *);
  st (*bwd_w3)(void **, void *, int, const void *, const void *, const void *, const void *, const dim *, const dim *, const dim *, const dim *, const void *, const void *);
  const void *(*query_md)(const void *, int, int);
  st (*pd_destroy)(void *);
  st (*reorder_pd)(void **, const void *, void *, const void *, void *, const void *);
  st (*prim_create)(void **, const void *);
  st (*prim_execute)(const void *, void *, int, const exec_arg *);
  st (*prim_destroy)(void *);
  st (*mem_create)(void **, const void *, void *, void *);
  st (*mem_set_handle)(void *, void *);
  st (*mem_destroy)(void *);
  void (*omp_set_num_threads)(int);
  int (*omp_get_max_threads)(void);
  // libgomp's entry for `#pragma omp parallel` (its ABI since GCC 4.9), for the addon's loops
  void (*gomp_parallel)(void (*)(void *), void *, unsigned, unsigned);
  int (*omp_get_thread_num)(void);
  int (*omp_get_num_threads)(void);
  void *engine;
  int ok;
} D;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void *sym(const char *name, int required) {
  void *f = dlsym(D.lib, name);
  if (!f && required && !D.reason[0]) snprintf(D.reason, sizeof D.reason, "%.400s has no symbol %.80s", D.library, name);
  return f;
}
#define SYM(field, name) (*(void **)&D.field = sym(name, 1))
#define OPT(field, name) (*(void **)&D.field = sym(name, 0))

static void load(void) {
  const char *env = getenv("SKIPGRAD_DNNL_PATH");
  static const char *names[] = {
#ifdef __APPLE__
    "libdnnl.3.dylib", "/opt/homebrew/lib/libdnnl.3.dylib", "/usr/local/lib/libdnnl.3.dylib",
    "libdnnl.2.dylib", "/opt/homebrew/lib/libdnnl.2.dylib", "/usr/local/lib/libdnnl.2.dylib",
#else
    "libdnnl.so.3", "libdnnl.so.2",
#endif
    NULL};
  char tried[256] = "";
  // How long OpenMP threads spin before sleeping after a parallel region. libgomp's default
  // (300000 spins, ~3 ms) takes the cores from the wasm worker pool's kernels that run next;
  // sleeping at once (PASSIVE) makes every region of a call (reorders, the convolution) wait for
  // a futex wake-up. ~30 us (3000 spins) catches the next region: a ResNet-18 28x28 b64 step on
  // 2 threads took 149 ms passive, 132-137 ms at 1000-10000 spins, 135 ms at the default. With
  // both cores busy with other processes a conv fwd+bwd took 4.9 ms passive, 6.6 ms at 3000
  // spins, 6.8 ms at the default. PASSIVE is for OpenMP runtimes other than libgomp (it does
  // not override GOMP_SPINCOUNT there). The user's own settings win. Read when dlopen loads it.
  if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) {
    setenv("GOMP_SPINCOUNT", "3000", 0);
    setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
  }
  if (env && env[0]) {
    D.lib = dlopen(env, RTLD_NOW | RTLD_LOCAL);
    if (!D.lib) { snprintf(D.reason, sizeof D.reason, "SKIPGRAD_DNNL_PATH=%s: %s", env, dlerror()); return; }
    snprintf(D.library, sizeof D.library, "%s", env);
  } else {
    for (int i = 0; names[i] && !D.lib; i++) {
      D.lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
      if (D.lib) snprintf(D.library, sizeof D.library, "%s", names[i]);
      else snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "%s%s", i ? ", " : "", names[i]);
    }
    if (!D.lib) {
      snprintf(D.reason, sizeof D.reason, "oneDNN not found (tried %s; apt-get install libdnnl-dev, or brew install onednn)", tried);
      return;
    }
  }
  SYM(version_fn, "dnnl_version");
  if (!D.version_fn) return;
  const version_t *v = D.version_fn();
  D.major = v->major;
  snprintf(D.version, sizeof D.version, "%d.%d.%d", v->major, v->minor, v->patch);
  Dl_info info;
  if (dladdr((void *)D.version_fn, &info) && info.dli_fname) snprintf(D.library, sizeof D.library, "%s", info.dli_fname);
  if (v->major != 2 && v->major != 3) { snprintf(D.reason, sizeof D.reason, "oneDNN %s is not 2.x or 3.x", D.version); return; }
  if (v->cpu_runtime != 2) { /* 2 = OpenMP; others (TBB, threadpool, sequential) work, threads are theirs */ }
  D.tag_abcde = v->major == 2 ? 7 : 6;
  SYM(engine_create, "dnnl_engine_create");
  SYM(stream_create, "dnnl_stream_create");
  SYM(stream_wait, "dnnl_stream_wait");
  SYM(stream_destroy, "dnnl_stream_destroy");
  SYM(sgemm, "dnnl_sgemm");
  SYM(md_equal, "dnnl_memory_desc_equal");
  SYM(md_size, "dnnl_memory_desc_get_size");
  SYM(query_md, "dnnl_primitive_desc_query_md");
  SYM(pd_destroy, "dnnl_primitive_desc_destroy");
  SYM(reorder_pd, "dnnl_reorder_primitive_desc_create");
  SYM(prim_create, "dnnl_primitive_create");
  SYM(prim_execute, "dnnl_primitive_execute");
  SYM(prim_destroy, "dnnl_primitive_destroy");
  SYM(mem_create, "dnnl_memory_create");
  SYM(mem_set_handle, "dnnl_memory_set_data_handle");
  SYM(mem_destroy, "dnnl_memory_destroy");
  if (v->major == 2) {
    SYM(md_init2, "dnnl_memory_desc_init_by_tag");
    SYM(fwd2, "dnnl_dilated_convolution_forward_desc_init");
    SYM(bwd_data2, "dnnl_dilated_convolution_backward_data_desc_init");
    SYM(bwd_w2, "dnnl_dilated_convolution_backward_weights_desc_init");
    SYM(pd_create2, "dnnl_primitive_desc_create");
  } else {
    SYM(md_create3, "dnnl_memory_desc_create_with_tag");
    SYM(md_destroy3, "dnnl_memory_desc_destroy");
    SYM(fwd3, "dnnl_convolution_forward_primitive_desc_create");
    SYM(bwd_data3, "dnnl_convolution_backward_data_primitive_desc_create");
    SYM(bwd_w3, "dnnl_convolution_backward_weights_primitive_desc_create");
  }
  // OpenMP builds (Debian's, Homebrew's): the thread count is OpenMP's, reached through the
  // library's own dependency tree.
  OPT(omp_set_num_threads, "omp_set_num_threads");
  OPT(omp_get_max_threads, "omp_get_max_threads");
  // The addon's own loops run on the same OpenMP team (same threads, passive waits, one budget)
  // where oneDNN's runtime is libgomp; elsewhere they run on the calling thread.
  OPT(gomp_parallel, "GOMP_parallel");
  OPT(omp_get_thread_num, "omp_get_thread_num");
  OPT(omp_get_num_threads, "omp_get_num_threads");
  if (!D.omp_get_thread_num || !D.omp_get_num_threads) D.gomp_parallel = NULL;
  if (D.reason[0]) return;
  if (D.engine_create(&D.engine, ENGINE_CPU, 0) != 0) { snprintf(D.reason, sizeof D.reason, "oneDNN %s: no CPU engine", D.version); return; }
  D.ok = 1;
}

int dn_load(void) { pthread_once(&load_once, load); return D.ok; }
const char *dn_reason(void) { return D.ok ? NULL : D.reason; }
const char *dn_library(void) { return D.lib ? D.library : NULL; }
const char *dn_version(void) { return D.version[0] ? D.version : NULL; }

static __thread int applied_threads = -1;
void dn_apply_threads(int n) {
  if (n > 0 && n != applied_threads && D.omp_set_num_threads) {
    D.omp_set_num_threads(n);
    applied_threads = n;
  }
}
static int current_threads(void) { return D.omp_get_max_threads ? D.omp_get_max_threads() : 0; }

// Asynchronous signals stay blocked on the calling thread while oneDNN runs. With V8's CPU
// profiler sending SIGPROF to the JavaScript thread, an inference of ResNet-18 (28x28 b256)
// aborted in one run of two ("corrupted size vs. prev_size" in free() inside dnnl_sgemm, or a
// segfault); with them blocked, none in 12. A signal arriving meanwhile (SIGINT from Ctrl-C,
// a profiler tick) is delivered as soon as the call returns. OpenMP's threads, created inside
// the first parallel region, inherit the mask and so never take process signals. Faults
// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT) are never blocked.
static void block_signals(sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT};
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) sigdelset(&all, faults[i]);
  pthread_sigmask(SIG_BLOCK, &all, old);
}
static void restore_signals(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }

typedef struct { void (*fn)(void *, long, long); void *arg; long n, align; } par_job;

static void par_body(void *p) {
  const par_job *j = p;
  long t = D.omp_get_thread_num(), T = D.omp_get_num_threads();
  // Whole multiples of `align` per thread, so vector loops do not split mid-vector.
  long lo = j->n * t / T / j->align * j->align, hi = t == T - 1 ? j->n : j->n * (t + 1) / T / j->align * j->align;
  if (lo < hi) j->fn(j->arg, lo, hi);
}

void dn_parallel_for(long n, long align, int parallel, void (*fn)(void *, long, long), void *arg) {
  if (n <= 0) return;
  if (!D.ok || !D.gomp_parallel || !parallel || n < 2 * align || current_threads() <= 1) { fn(arg, 0, n); return; }
  par_job j = {fn, arg, n, align};
  sigset_t old;
  block_signals(&old);
  D.gomp_parallel(par_body, &j, 0 /* the calling thread's omp_set_num_threads */, 0);
  restore_signals(&old);
}

int dn_sgemm(int ta, int tb, long M, long N, long K, float alpha, const float *A, long lda,
             const float *B, long ldb, float beta, float *C, long ldc) {
  if (!D.ok) return 0;
  // BLAS semantics: with beta == 0, C is output only (NaN there must not propagate). oneDNN 2.6
  // does not read C then on any shape tried, but its API does not promise it; zeroing costs ~1%.
  if (beta == 0.0f) for (long i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(float));
  sigset_t old;
  block_signals(&old);
  int ok = D.sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0;
  restore_signals(&old);
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Memory descriptors for either generation.

static void *md_new(int nd, const dim *dims, int tag) {
  if (D.major == 2) {
    void *md = calloc(1, MD2_BYTES);
    if (md && D.md_init2(md, nd, dims, F32, tag) != 0) { free(md); md = NULL; }
    return md;
  }
  void *md = NULL;
  return D.md_create3(&md, nd, dims, F32, tag) == 0 ? md : NULL;
}
static void md_free(void *md) {
  if (!md) return;
  if (D.major == 2) free(md);
  else D.md_destroy3(md);
}

// ---------------------------------------------------------------------------------------------
// Cached convolution primitives. A tensor slot holds the caller's plain-layout memory (its data
// handle set on every call) and, where the primitive chose another layout, its own buffer and the
// reorder between them: inputs are reordered in before the primitive, outputs out after.

enum { K_FWD, K_BWD_DATA, K_BWD_W };
#define KEY_INTS 21
#define MAX_SLOTS 4
#define CACHE_SIZE 256

typedef struct {
  void *user_md, *user_mem, *mem, *reorder;
  size_t bytes; // of `mem` when it is the primitive's own layout (placed in the context's scratch)
  int arg, output;
} slot;

typedef struct {
  int key[KEY_INTS];
  int used, failed;
  void *prim;
  int nslots;
  slot s[MAX_SLOTS];
} entry;

struct dn_ctx {
  void *stream;
  int blocked;
  // One buffer for every reordered tensor of the call in flight: the primitives' layouts live
  // there only for the span of a call, so entries do not each keep their own copies (which cost
  // ~90 MB of peak RSS in a ResNet-18 28x28 b64 training step).
  void *scratch;
  size_t scratch_bytes;
  int small;    // small images go to smallconv.c
  int winograd; // 3x3 stride-1 convolutions may use Winograd (conv_forward)
  // dn_buffer's: 0 = the cropped weights (or weight gradient) of a convolution with dead taps
  // (taps.h), 1 = smallconv.c's matrix.
  float *buf[DN_BUFFERS];
  size_t buf_bytes[DN_BUFFERS];
  int next; // round-robin eviction
  entry cache[CACHE_SIZE];
};

dn_ctx *dn_ctx_new(void) {
  if (!D.ok) return NULL;
  dn_ctx *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->blocked = 1;
  c->small = 1;
  c->winograd = 1;
  if (D.stream_create(&c->stream, D.engine, 1 /* in order */) != 0) { free(c); return NULL; }
  return c;
}

static void entry_clear(entry *e) {
  for (int i = 0; i < e->nslots; i++) {
    slot *s = &e->s[i];
    if (s->reorder) D.prim_destroy(s->reorder);
    if (s->mem && s->mem != s->user_mem) D.mem_destroy(s->mem);
    if (s->user_mem) D.mem_destroy(s->user_mem);
    md_free(s->user_md);
  }
  if (e->prim) D.prim_destroy(e->prim);
  memset(e, 0, sizeof *e);
}

void dn_ctx_free(dn_ctx *c) {
  if (!c) return;
  for (int i = 0; i < CACHE_SIZE; i++) if (c->cache[i].used) entry_clear(&c->cache[i]);
  D.stream_destroy(c->stream);
  free(c->scratch);
  for (int i = 0; i < DN_BUFFERS; i++) free(c->buf[i]);
  free(c);
}

void dn_ctx_set_blocked(dn_ctx *c, int on) { if (c) c->blocked = on != 0; }
void dn_ctx_set_small(dn_ctx *c, int on) { if (c) c->small = on != 0; }
void dn_ctx_set_winograd(dn_ctx *c, int on) { if (c) c->winograd = on != 0; }

float *dn_buffer(dn_ctx *c, int slot, long floats) {
  size_t bytes = (size_t)floats * sizeof(float);
  if (slot < 0 || slot >= DN_BUFFERS || floats < 0) return NULL;
  if (bytes > c->buf_bytes[slot]) {
    free(c->buf[slot]);
    c->buf_bytes[slot] = 0;
    if (posix_memalign((void **)&c->buf[slot], 64, bytes) != 0) { c->buf[slot] = NULL; return NULL; }
    c->buf_bytes[slot] = bytes;
  }
  return c->buf[slot];
}

/** Adds a slot for `user_md` (ownership passes) bound to the primitive's md `md`. */
static int add_slot(entry *e, void *user_md, const void *md, int arg, int output) {
  slot *s = &e->s[e->nslots++];
  s->user_md = user_md;
  s->arg = arg;
  s->output = output;
  if (!user_md || !md || D.mem_create(&s->user_mem, user_md, D.engine, NULL) != 0) return 0;
  if (D.md_equal(user_md, md)) { s->mem = s->user_mem; return 1; }
  s->bytes = (D.md_size(md) + 63) & ~(size_t)63;
  if (D.mem_create(&s->mem, md, D.engine, NULL) != 0) { s->mem = NULL; return 0; } // placed per call
  void *rpd = NULL;
  if (D.reorder_pd(&rpd, output ? md : user_md, D.engine, output ? user_md : md, D.engine, NULL) != 0) return 0;
  int ok = D.prim_create(&s->reorder, rpd) == 0;
  D.pd_destroy(rpd);
  return ok;
}

typedef struct {
  dim src[4], wei[5], bias[1], dst[4], strides[2], dil[2], pl[2], pr[2];
  int wnd, alg;
} geometry;

/** oneDNN's trailing padding for PyTorch's output size (the smallest that gives outH x outW). */
static dim trailing_pad(int in, int k, int stride, int padl, int dil, int out) {
  dim pr = (dim)(out - 1) * stride + (dim)(k - 1) * dil + 1 - in - padl;
  if (pr < 0 && pr + stride - 1 >= 0) pr = 0; // rows past the last window are never read
  return pr;
}

static void geometry_of(const int *p, geometry *g) {
  int n = p[0], cIn = p[1], h = p[2], w = p[3], cOut = p[4], kh = p[5], kw = p[6], groups = p[13];
  dim src[4] = {n, cIn, h, w}, dst[4] = {n, cOut, p[14], p[15]};
  memcpy(g->src, src, sizeof src);
  memcpy(g->dst, dst, sizeof dst);
  g->bias[0] = cOut;
  if (groups == 1) {
    dim wei[4] = {cOut, cIn, kh, kw};
    memcpy(g->wei, wei, sizeof wei);
    g->wnd = 4;
  } else {
    dim wei[5] = {groups, cOut / groups, cIn / groups, kh, kw};
    memcpy(g->wei, wei, sizeof wei);
    g->wnd = 5;
  }
  g->strides[0] = p[7]; g->strides[1] = p[8];
  g->dil[0] = p[11] - 1; g->dil[1] = p[12] - 1;
  g->pl[0] = p[9]; g->pl[1] = p[10];
  g->pr[0] = trailing_pad(h, kh, p[7], p[9], p[11], p[14]);
  g->pr[1] = trailing_pad(w, kw, p[8], p[10], p[12], p[15]);
}

/** The primitive descriptor for one pass; `any` mds let oneDNN pick its layouts. */
static void *make_pd(int kind, const geometry *g, const void *src, const void *wei, const void *bias, const void *dst, const void *hint) {
  void *pd = NULL;
  st s;
  if (D.major == 2) {
    void *od = calloc(1, OPDESC2_BYTES);
    if (!od) return NULL;
    if (kind == K_FWD) s = D.fwd2(od, FWD_TRAINING, g->alg, src, wei, bias, dst, g->strides, g->dil, g->pl, g->pr);
    else if (kind == K_BWD_DATA) s = D.bwd_data2(od, g->alg, src, wei, dst, g->strides, g->dil, g->pl, g->pr);
    else s = D.bwd_w2(od, g->alg, src, wei, bias, dst, g->strides, g->dil, g->pl, g->pr);
    if (s == 0) s = D.pd_create2(&pd, od, NULL, D.engine, hint);
    free(od);
  } else if (kind == K_FWD) {
    s = D.fwd3(&pd, D.engine, FWD_TRAINING, g->alg, src, wei, bias, dst, g->strides, g->dil, g->pl, g->pr, NULL);
  } else if (kind == K_BWD_DATA) {
    s = D.bwd_data3(&pd, D.engine, g->alg, src, wei, dst, g->strides, g->dil, g->pl, g->pr, hint, NULL);
  } else {
    s = D.bwd_w3(&pd, D.engine, g->alg, src, wei, bias, dst, g->strides, g->dil, g->pl, g->pr, hint, NULL);
  }
  return s == 0 ? pd : NULL;
}

static int build(dn_ctx *c, entry *e, int kind, int with_bias, int alg, const int *p) {
  geometry g;
  geometry_of(p, &g);
  g.alg = alg;
  int wtag = g.wnd == 4 ? TAG_ABCD : D.tag_abcde;
  int any = c->blocked;
  void *src = md_new(4, g.src, any ? TAG_ANY : TAG_ABCD);
  void *wei = md_new(g.wnd, g.wei, any ? TAG_ANY : wtag);
  void *dst = md_new(4, g.dst, any ? TAG_ANY : TAG_ABCD);
  void *bias = with_bias ? md_new(1, g.bias, TAG_A) : NULL;
  void *hint = NULL, *pd = NULL;
  int ok = src && wei && dst && (bias || !with_bias);
  if (ok && kind != K_FWD) ok = (hint = make_pd(K_FWD, &g, src, wei, NULL, dst, NULL)) != NULL;
  if (ok) ok = (pd = make_pd(kind, &g, src, wei, bias, dst, hint)) != NULL;
  void *usrc = md_new(4, g.src, TAG_ABCD), *uwei = md_new(g.wnd, g.wei, wtag), *udst = md_new(4, g.dst, TAG_ABCD);
  void *ubias = with_bias ? md_new(1, g.bias, TAG_A) : NULL;
  if (ok && kind == K_FWD) {
    ok = add_slot(e, usrc, D.query_md(pd, Q_SRC, 0), ARG_SRC, 0) &&
         add_slot(e, uwei, D.query_md(pd, Q_WEIGHTS, 0), ARG_WEIGHTS, 0) &&
         (!with_bias || add_slot(e, ubias, D.query_md(pd, Q_WEIGHTS, 1), ARG_BIAS, 0)) &&
         add_slot(e, udst, D.query_md(pd, Q_DST, 0), ARG_DST, 1);
  } else if (ok && kind == K_BWD_DATA) {
    ok = add_slot(e, udst, D.query_md(pd, Q_DIFF_DST, 0), ARG_DIFF_DST, 0) &&
         add_slot(e, uwei, D.query_md(pd, Q_WEIGHTS, 0), ARG_WEIGHTS, 0) &&
         add_slot(e, usrc, D.query_md(pd, Q_DIFF_SRC, 0), ARG_DIFF_SRC, 1);
  } else if (ok) {
    ok = add_slot(e, usrc, D.query_md(pd, Q_SRC, 0), ARG_SRC, 0) &&
         add_slot(e, udst, D.query_md(pd, Q_DIFF_DST, 0), ARG_DIFF_DST, 0) &&
         add_slot(e, uwei, D.query_md(pd, Q_DIFF_WEIGHTS, 0), ARG_DIFF_WEIGHTS, 1) &&
         (!with_bias || add_slot(e, ubias, D.query_md(pd, Q_DIFF_WEIGHTS, 1), ARG_DIFF_BIAS, 1));
  }
  // user mds not handed to a slot (failure part-way, or a kind that does not use them)
  void *user[4] = {usrc, uwei, udst, ubias};
  for (int i = 0; i < 4; i++) {
    int owned = 0;
    for (int j = 0; j < e->nslots; j++) owned |= e->s[j].user_md == user[i];
    if (!owned) md_free(user[i]);
  }
  if (ok) ok = D.prim_create(&e->prim, pd) == 0;
  if (pd) D.pd_destroy(pd);
  if (hint) D.pd_destroy(hint);
  md_free(src); md_free(wei); md_free(dst); md_free(bias);
  return ok;
}

static entry *lookup(dn_ctx *c, int kind, int with_bias, int alg, const int *p) {
  int key[KEY_INTS];
  memcpy(key, p, 16 * sizeof(int));
  key[16] = kind; key[17] = with_bias; key[18] = c->blocked; key[19] = current_threads(); key[20] = alg;
  for (int i = 0; i < CACHE_SIZE; i++) {
    entry *e = &c->cache[i];
    if (e->used && memcmp(e->key, key, sizeof key) == 0) return e->failed ? NULL : e;
  }
  entry *e = &c->cache[c->next];
  c->next = (c->next + 1) % CACHE_SIZE;
  if (e->used) entry_clear(e);
  e->used = 1;
  memcpy(e->key, key, sizeof key);
  if (!build(c, e, kind, with_bias, alg, p)) {
    entry_clear(e);
    e->used = 1;
    e->failed = 1; // remember the refusal: creating costs more than declining
    memcpy(e->key, key, sizeof key);
    return NULL;
  }
  return e;
}

static int run_blocked(dn_ctx *c, entry *e, void *const *handles);

static int run(dn_ctx *c, entry *e, void *const *handles) {
  sigset_t old;
  block_signals(&old);
  int ok = run_blocked(c, e, handles);
  restore_signals(&old);
  return ok;
}

static int run_blocked(dn_ctx *c, entry *e, void *const *handles) {
  exec_arg args[MAX_SLOTS];
  size_t need = 0;
  for (int i = 0; i < e->nslots; i++) if (e->s[i].mem != e->s[i].user_mem) need += e->s[i].bytes;
  if (need > c->scratch_bytes) {
    free(c->scratch);
    c->scratch_bytes = 0;
    if (posix_memalign(&c->scratch, 64, need) != 0) { c->scratch = NULL; return 0; }
    c->scratch_bytes = need;
  }
  size_t at = 0;
  for (int i = 0; i < e->nslots; i++) {
    slot *s = &e->s[i];
    if (D.mem_set_handle(s->user_mem, handles[i]) != 0) return 0;
    if (s->mem != s->user_mem) {
      if (D.mem_set_handle(s->mem, (char *)c->scratch + at) != 0) return 0;
      at += s->bytes;
    }
    args[i].arg = s->arg;
    args[i].mem = s->mem;
  }
  for (int i = 0; i < e->nslots; i++) {
    slot *s = &e->s[i];
    if (s->output || !s->reorder) continue;
    exec_arg r[2] = {{ARG_SRC, s->user_mem}, {ARG_DST, s->mem}};
    if (D.prim_execute(s->reorder, c->stream, 2, r) != 0) return 0;
  }
  if (D.prim_execute(e->prim, c->stream, e->nslots, args) != 0) return 0;
  for (int i = 0; i < e->nslots; i++) {
    slot *s = &e->s[i];
    if (!s->output || !s->reorder) continue;
    exec_arg r[2] = {{ARG_SRC, s->mem}, {ARG_DST, s->user_mem}};
    if (D.prim_execute(s->reorder, c->stream, 2, r) != 0) return 0;
  }
  return D.stream_wait(c->stream) == 0;
}

// Winograd F(4x4, 3x3) (oneDNN's avx512 kernels; it refuses other CPUs and shapes, and then the
// direct algorithm runs) for 3x3, stride-1, undilated, ungrouped convolutions: on Zen 4 it took
// 40-65 % of the direct kernels' time per pass at ResNet-18's 7x7 and 4x4 (28x28 input) and
// 24x24 to 6x6 (96x96) sizes. Its error stays far inside the tests' bound (measured at most
// 14 u of the sum of |terms|, against 4.8 u direct; the tests allow 1e-5 of it, ~168 u). Its
// transforms mix every input of a 6x6 tile into every output of it, so a NaN or Inf input would
// reach outputs that never read it (Inf - Inf). Only the outputs are checked: any output that
// reads an input does so through a chain of sums and products in the transforms, and IEEE
// arithmetic keeps a NaN or Inf non-finite along it (0 * Inf is NaN), so a non-finite input always
// leaves a non-finite output; finite outputs mean finite inputs and no overflow in the transforms.
// Otherwise the direct algorithm runs again and its answer stands. (Checking the inputs too cost
// ~3 % of a ResNet-18 28x28 b64 training step's CPU time on an AVX-512 Xeon.)
static int winograd_shape(const dn_ctx *c, const int *p) {
  return c->winograd && p[5] == 3 && p[6] == 3 && p[7] == 1 && p[8] == 1 && p[11] == 1 && p[12] == 1 && p[13] == 1;
}
static long count4(int a, int b, int c, int d) { return (long)a * b * c * d; }
static long x_count(const int *p) { return count4(p[0], p[1], p[2], p[3]); }
static long y_count(const int *p) { return count4(p[0], p[4], p[14], p[15]); }

/** Runs `kind` with Winograd where it may (its outputs o1, o2 come out finite), else direct. */
static int run_pass(dn_ctx *c, int kind, int with_bias, const int *p, void *const *h,
                    const float *o1, long n1, const float *o2, long n2) {
  entry *w = winograd_shape(c, p) ? lookup(c, kind, with_bias, CONV_WINOGRAD, p) : NULL; // NULL where refused
  if (w && run(c, w, h) && all_finite(o1, n1) && (!o2 || all_finite(o2, n2))) return 1;
  entry *e = lookup(c, kind, with_bias, CONV_DIRECT, p);
  return e && run(c, e, h);
}

static int conv_forward(dn_ctx *c, const int *p, const float *x, const float *w, const float *b, float *y) {
  void *h[4] = {(void *)x, (void *)w, b ? (void *)b : y, y};
  return run_pass(c, K_FWD, b != NULL, p, h, y, y_count(p), NULL, 0);
}

static int conv_backward_data(dn_ctx *c, const int *p, const float *gy, const float *w, float *gx) {
  void *h[3] = {(void *)gy, (void *)w, gx};
  return run_pass(c, K_BWD_DATA, 0, p, h, gx, x_count(p), NULL, 0);
}

static int conv_backward_weights(dn_ctx *c, const int *p, const float *x, const float *gy, float *gw, float *gb) {
  void *h[4] = {(void *)x, (void *)gy, gw, gb};
  return run_pass(c, K_BWD_W, gb != NULL, p, h, gw, tp_weight_count(p), gb, p[4]);
}

// The public entries crop dead taps first (taps.h), then send small images to smallconv.c and
// the rest to oneDNN's primitives, which see the cropped kernel.

int dn_conv_forward(dn_ctx *c, const int *p, const float *x, const float *w, const float *b, float *y, int finite_w) {
  int q[16], i0, j0;
  if (!c) return 0;
  if (tp_crop(p, q, &i0, &j0)) {
    float *wc = dn_buffer(c, 0, tp_weight_count(q));
    if (!wc || !tp_crop_weights(p, q, i0, j0, w, wc, finite_w)) return 0;
    p = q;
    w = wc;
  } else if (finite_w && !all_finite(w, tp_weight_count(p))) {
    return 0;
  }
  return c->small && sc_applies(p) ? sc_forward(c, p, x, w, b, y) : conv_forward(c, p, x, w, b, y);
}

int dn_conv_backward_data(dn_ctx *c, const int *p, const float *gy, const float *w, float *gx) {
  int q[16], i0, j0;
  if (!c) return 0;
  if (tp_crop(p, q, &i0, &j0)) {
    float *wc = dn_buffer(c, 0, tp_weight_count(q));
    if (!wc) return 0;
    tp_crop_weights(p, q, i0, j0, w, wc, 0);
    p = q;
    w = wc;
  }
  return c->small && sc_applies(p) ? sc_backward_data(c, p, gy, w, gx) : conv_backward_data(c, p, gy, w, gx);
}

static int backward_weights(dn_ctx *c, const int *p, const float *x, const float *gy, float *gw, float *gb) {
  return c->small && sc_applies(p) ? sc_backward_weights(c, p, x, gy, gw, gb) : conv_backward_weights(c, p, x, gy, gw, gb);
}

int dn_conv_backward_weights(dn_ctx *c, const int *p, const float *x, const float *gy, float *gw, float *gb) {
  int q[16], i0, j0;
  if (!c) return 0;
  if (!tp_crop(p, q, &i0, &j0)) return backward_weights(c, p, x, gy, gw, gb);
  float *gwc = dn_buffer(c, 0, tp_weight_count(q));
  if (!gwc || !backward_weights(c, q, x, gy, gwc, gb)) return 0;
  tp_uncrop_weights(p, q, i0, j0, gwc, gw);
  return 1;
}
