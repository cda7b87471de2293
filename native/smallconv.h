// Convolutions of images so small that oneDNN's direct kernels idle: with a 2x2 output (ResNet-18's
// third stage on 28x28 input) a 3x3 window meets the image at 4 of its 9 taps and the blocked
// kernels ran at under half of peak, the weight gradient at a fifth. For such an image the
// convolution is a plain linear map from its C_in·H·W inputs to its C_out·P outputs, and where
// every output pixel's window covers the whole image, that map is a matrix of weights with no
// structural zeros. This path writes it out and runs each pass as one GEMM over the batch, in
// NCHW order as the tensors lie. (With structural zeros a NaN or Inf input would leak through
// 0·Inf into pixels that never read it; such maps are left to oneDNN.) Padding taps are never
// multiplied, as in oneDNN; the caller's finiteness checks (addon.c) cover the reference's 0·Inf.
#ifndef SKIPGRAD_SMALLCONV_H
#define SKIPGRAD_SMALLCONV_H
#include "dnnl.h"

/**
 * Whether this path takes the convolution p (Conv2dParams as 16 ints, as dnnl.h): one group, at
 * most 64 pixels in and out, every (output pixel, input pixel) pair joined by a tap, and a matrix
 * of at most 4M entries.
 */
int sc_applies(const int *p);
int sc_forward(dn_ctx *c, const int *p, const float *x, const float *w, const float *b, float *y);
int sc_backward_data(dn_ctx *c, const int *p, const float *gy, const float *w, float *gx);
/** gb may be NULL. */
int sc_backward_weights(dn_ctx *c, const int *p, const float *x, const float *gy, float *gw, float *gb);
#endif
