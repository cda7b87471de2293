// The oneDNN layer of the native addon: opens libdnnl at run time (no link-time dependency),
// speaks both C API generations (2.x *_desc_init, 3.x *_primitive_desc_create), and caches
// convolution primitives by shape. Kernel taps that only ever meet padding are cropped first
// (taps.h). Every function returns 1 if it did the work, 0 to decline.
#ifndef SKIPGRAD_DNNL_H
#define SKIPGRAD_DNNL_H
#include <stddef.h>

/** Opens oneDNN once (thread-safe); 1 on success, else 0 with the reason in dn_reason(). */
int dn_load(void);
const char *dn_reason(void);
const char *dn_library(void);
const char *dn_version(void);

/** Threads oneDNN may use for calls from the calling thread (OpenMP's setting is per thread). */
void dn_apply_threads(int n);

/**
 * fn(arg, lo, hi) over [0, n) split into contiguous ranges starting at multiples of `align`, one
 * per thread of oneDNN's OpenMP team (libgomp's); fn(arg, 0, n) on the calling thread when not
 * `parallel`, with one thread, or without libgomp.
 */
void dn_parallel_for(long n, long align, int parallel, void (*fn)(void *, long, long), void *arg);

/** Row-major sgemm, C = alpha op(A) op(B) + beta C; C is not read when beta == 0. */
int dn_sgemm(int ta, int tb, long M, long N, long K, float alpha, const float *A, long lda,
             const float *B, long ldb, float beta, float *C, long ldc);

/** Per-thread state: a stream and the primitive cache. */
typedef struct dn_ctx dn_ctx;
dn_ctx *dn_ctx_new(void);
void dn_ctx_free(dn_ctx *c);
/** Blocked (oneDNN's preferred) layouts inside a call, or plain NCHW throughout. */
void dn_ctx_set_blocked(dn_ctx *c, int on);
/** Small images through smallconv.c (default), or through oneDNN's primitives like the rest. */
void dn_ctx_set_small(dn_ctx *c, int on);
/** Winograd for 3x3 stride-1 convolutions where oneDNN has it (default), or the direct algorithm only. */
void dn_ctx_set_winograd(dn_ctx *c, int on);
/** The context's reusable buffer `slot` (0 to DN_BUFFERS - 1), grown to at least `floats`; NULL if out of memory. */
#define DN_BUFFERS 4
float *dn_buffer(dn_ctx *c, int slot, long floats);

/** p: Conv2dParams as 16 ints (n cIn h w cOut kh kw strideH strideW padH padW dilH dilW groups outH outW). */
/** With finite_w, declines if w holds NaN or +-Inf (the caller's padding rule, addon.c). */
int dn_conv_forward(dn_ctx *c, const int *p, const float *x, const float *w, const float *b, float *y, int finite_w);
int dn_conv_backward_data(dn_ctx *c, const int *p, const float *gy, const float *w, float *gx);
/** gb may be NULL. */
int dn_conv_backward_weights(dn_ctx *c, const int *p, const float *x, const float *gy, float *gw, float *gb);
#endif
