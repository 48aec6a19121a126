/* conv.h: 2-D convolution (NCHW, PyTorch layouts and semantics, no
 * dilation or groups) and its transpose, each the other's backward, plus
 * the weight-gradient correlation as an op of its own, so all three
 * differentiate to any order.
 *
 *   conv2d            x (N,C,H,W), w (O,C,KH,KW), b (O) or NULL
 *                     -> (N,O,OH,OW), OH = (H + 2 ph - KH) / sh + 1
 *   conv_transpose2d  x (N,Ci,H,W), w (Ci,Co,KH,KW), b (Co) or NULL
 *                     -> (N,Co,HO,WO), HO = (H - 1) sh - 2 ph + KH + oph,
 *                     0 <= oph < sh (PyTorch's ConvTranspose2d)
 *   conv2d_weight_grad x (N,C,H,W), gy (N,O,OH,OW) -> (O,C,KH,KW), the
 *                     gradient of <conv2d(x, w), gy> with respect to w:
 *                     sum over n, oh, ow of gy[n,o,oh,ow] x[n,c,oh sh - ph + kh, ow sw - pw + kw]
 *
 * Bad shapes or arguments (wrong ndim, channel mismatch, kernel larger
 * than the padded input, stride < 1, pad < 0, output padding >= stride)
 * raise AE_ERR_SHAPE / AE_ERR_ARG naming the shapes; the op returns NULL.
 * Results do not depend on the thread count. */
#ifndef AE_CONV_H
#define AE_CONV_H

#include "base/api.h"
#include "autograd/tape.h"

/* Square stride and padding. */
AE_API ae_val *ae_conv2d(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int stride, int pad);
AE_API ae_val *ae_conv_transpose2d(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int stride, int pad, int output_pad);

/* Separate stride / padding per dimension (height, width). */
AE_API ae_val *ae_conv2d_ex(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph, int pw);
AE_API ae_val *ae_conv_transpose2d_ex(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph, int pw,
                                      int oph, int opw);
/* relu(conv2d_ex(...)) and relu(conv_transpose2d_ex(...)), relu(v) = v > 0 ? v : 0
 * as ae_relu, in one op: the relu is applied as the convolution writes its
 * output, so there is no second pass over it and no pre-activation kept on
 * the tape. Values and gradients (to any order) are bitwise the composite's.
 * In anomaly mode they record the composite, so that a NaN is reported at
 * the convolution and not turned into 0 by the relu. */
AE_API ae_val *ae_conv2d_relu_ex(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph, int pw);
AE_API ae_val *ae_conv_transpose2d_relu_ex(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph,
                                           int pw, int oph, int opw);
/* conv2d(upsample_nearest(x, f), w, b, stride, pad), and with relu as
 * ae_conv2d_relu_ex, without the upsampled image written out: the
 * convolution reads x upsampled as it pads it, in the forward and in the
 * first-order weight gradient. Values and gradients (to any order) are
 * bitwise the composite's; where the padded-grid path cannot run (or
 * AEZOO_CONV=im2col), and in anomaly mode, it records the composite. */
AE_API ae_val *ae_conv2d_upsampled(ae_tape *t, ae_val *x, int f, ae_val *w, ae_val *b, int stride, int pad, int relu);
/* The weight gradient of conv2d for a kh x kw kernel (backward of both ops). */
AE_API ae_val *ae_conv2d_weight_grad(ae_tape *t, ae_val *x, ae_val *gy, int kh, int kw, int sh, int sw, int ph, int pw);

#endif
