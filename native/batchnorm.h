// Batch norm's loops for x viewed as [N, C, S] (see batchnorm.c). Each runs over the channels
// [lo, hi) of its arguments, so a call splits across threads by channel ranges.
#ifndef SKIPGRAD_BATCHNORM_H
#define SKIPGRAD_BATCHNORM_H

typedef struct {
  const float *x, *g;               // input, and the output's gradient (backward)
  float *out;                       // normalized output, or input gradient
  long N, C, S;
  const double *mean, *invstd;      // per channel (mean is read, or written by bn_stats_range)
  const float *weight, *bias;       // NULL: 1 and 0
  double *mean_out, *var_out;       // bn_stats_range's results
  double *sum_g, *sum_gxhat;        // bn_reduce_range's results, bn_input_range's inputs
  int batch_stats;                  // bn_input_range: the statistics came from this batch
  int failed;                       // set when a thread ran out of memory: outputs are incomplete
} bn_args;

/** Per-channel mean and biased variance, two passes in float64 as the reference. */
void bn_stats_range(void *args, long lo, long hi);
/** out = x·scale + shift with scale = invstd·weight, shift = bias − mean·scale. */
void bn_normalize_range(void *args, long lo, long hi);
/** sum_g = Σg, sum_gxhat = Σg·(x − mean) · invstd. */
void bn_reduce_range(void *args, long lo, long hi);
/** The input gradient from the sums (batch statistics), or g·invstd·weight (fixed ones). */
void bn_input_range(void *args, long lo, long hi);
#endif
