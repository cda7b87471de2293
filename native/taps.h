// Dead-tap cropping for convolutions. On small images most of a padded kernel can only ever
// meet padding: a 3x3 pad-1 convolution of a 1x1 image (ResNet-18's last stage on 28x28 input)
// reads its centre tap only, yet oneDNN still reorders and differentiates all nine. Cropping the
// kernel to the taps some window reads inside the image (and moving the padding to match) gives
// the same convolution with a fraction of the weight traffic.
#ifndef SKIPGRAD_TAPS_H
#define SKIPGRAD_TAPS_H

/**
 * p: Conv2dParams as 16 ints (as dnnl.h). Writes into q the same convolution with the kernel
 * cropped to rows [*i0, *i0 + q[5]) and columns [*j0, *j0 + q[6]) of p's kernel and the leading
 * padding reduced to match; returns 1 if that drops any tap, else 0 (q is then p).
 */
int tp_crop(const int *p, int *q, int *i0, int *j0);
/** Floats in the cropped weight [cOut, cIn/groups, q.kh, q.kw]. */
long tp_weight_count(const int *q);
/**
 * wc = w's taps inside the crop (parallel over kernel rows). With `check`, returns 0 (wc then
 * undefined) if any tap of w, cropped or not, is NaN or +-Inf; else 1.
 */
int tp_crop_weights(const int *p, const int *q, int i0, int j0, const float *w, float *wc, int check);
/** gw = gwc at the crop's taps, 0 at every other tap (the gradient of a tap that reads only padding). */
void tp_uncrop_weights(const int *p, const int *q, int i0, int j0, const float *gwc, float *gw);
#endif
