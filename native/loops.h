// Plain C loops for the memory-bound kernels, with the reference's exact semantics (NaN rules,
// argmax indices). Vector width is picked at run time (target_clones where the compiler has it).
#ifndef SKIPGRAD_LOOPS_H
#define SKIPGRAD_LOOPS_H
#include <stdint.h>

/** Operands of the elementwise loops, which run over [lo, hi) (for dn_parallel_for). */
typedef struct {
  const float *a, *b;  // relu: x; relu backward: g, x; arith: the operands
  float *out;
  int op;              // arith: 0 add, 1 sub, 2 mul, 3 div
  int a_scalar, b_scalar; // arith: the operand has one element, broadcast
} eltwise_args;
void relu_forward_range(void *args, long lo, long hi);
void relu_backward_range(void *args, long lo, long hi);
void arith_range(void *args, long lo, long hi);
/** p: Pool2dParams as 14 ints (n c h w kh kw strideH strideW padH padW dilH dilW outH outW). */
void max_pool_forward(const float *x, const int *p, float *out, int32_t *indices);
void max_pool_backward(const float *gy, const int32_t *indices, const int *p, float *gx);
/**
 * torch.optim.SGD's update of p[lo, hi), in float64 like the reference (kernels/optim.ts
 * sgdReference): d = ±g (+ wd·p); buf = first ? d : momentum·buf + damp1·d (stored as float32);
 * d = nesterov ? d + momentum·buf : buf; p -= lr·d. buf may be NULL (no momentum).
 */
typedef struct {
  float *p, *buf;
  const float *g;
  double lr, wd, momentum, damp1;
  int first, nesterov, maximize;
} sgd_args;
void sgd_range(void *args, long lo, long hi);
/** Whether none of the n floats is NaN or +-Inf. */
int all_finite(const float *x, long n);
/** CPU features found at run time, as a comma-separated list. */
const char *cpu_features(void);
#endif
