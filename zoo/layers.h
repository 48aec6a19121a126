/* layers.h: the building blocks zoo models compose: dense and convolution
 * layers (parameters with PyTorch's names, layouts and default
 * initialisation), activations by name, and MLP stacks. Layers bind their
 * parameters to the tape when applied; binding a parameter twice (tied
 * weights) is fine: backward accumulates both uses. */
#ifndef AE_LAYERS_H
#define AE_LAYERS_H

#include "base/api.h"
#include "model.h"
#include "ops/ops.h"

/* ae_act (the activations) is ops.h's, where ae_linear_act takes it. */

/* "none|relu|sigmoid|tanh|leaky_relu"; -1 when unknown. */
AE_API int ae_act_parse(const char *name);
AE_API ae_val *ae_act_apply(ae_tape *t, ae_act a, ae_val *x);

/* y = x W^T + b, W (out, in), b (out) or none. */
typedef struct ae_dense {
  ae_param *w, *b;
} ae_dense;

/* Creates "<name>.weight" (out,in) and "<name>.bias" (out), initialised as
 * torch.nn.Linear: U(-1/sqrt(in), 1/sqrt(in)). 0 or -1. */
AE_API int ae_dense_init(ae_model *m, ae_dense *d, const char *name, int64_t in, int64_t out, int bias, ae_rng *rng);
AE_API ae_val *ae_dense_apply(ae_tape *t, const ae_dense *d, ae_val *x);
/* a(x W^T + b) as one op (ae_linear_act; leaky_relu's slope 0.01, as
 * ae_act_apply's): the values and gradients of ae_act_apply(t, a,
 * ae_dense_apply(t, d, x)), one value on the tape instead of three. */
AE_API ae_val *ae_dense_act_apply(ae_tape *t, const ae_dense *d, ae_act a, ae_val *x);

/* A stack of dense layers with one activation between layers and another
 * after the last one. */
#define AE_MAX_LAYERS 8
typedef struct ae_mlp {
  int n;
  ae_dense layer[AE_MAX_LAYERS];
  ae_act hidden, last;
} ae_mlp;

/* sizes[0] is the input size, sizes[n] the output: n layers named
 * "<prefix>.0", "<prefix>.1", ... (indices as in torch.nn.Sequential with
 * activations in between: 0, 2, 4, ...). */
AE_API int ae_mlp_init(ae_model *m, ae_mlp *mlp, const char *prefix, int n, const int64_t *sizes, ae_act hidden, ae_act last,
                       ae_rng *rng);
AE_API ae_val *ae_mlp_apply(ae_tape *t, const ae_mlp *mlp, ae_val *x);

/* Convolution layers, weights (O,C,k,k) for conv and (C_in,C_out,k,k) for
 * transposed conv, initialised as torch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
typedef struct ae_convl {
  ae_param *w, *b;
  int stride, pad, out_pad, transpose;
} ae_convl;
AE_API int ae_conv_init(ae_model *m, ae_convl *c, const char *name, int64_t in_ch, int64_t out_ch, int k, int stride, int pad,
                        ae_rng *rng);
AE_API int ae_conv_transpose_init(ae_model *m, ae_convl *c, const char *name, int64_t in_ch, int64_t out_ch, int k,
                                  int stride, int pad, int out_pad, ae_rng *rng);
AE_API ae_val *ae_conv_apply(ae_tape *t, const ae_convl *c, ae_val *x);
/* relu(ae_conv_apply(t, c, x)) as one fused op (ae_conv2d_relu_ex, ae_conv_transpose2d_relu_ex). */
AE_API ae_val *ae_conv_apply_relu(ae_tape *t, const ae_convl *c, ae_val *x);
/* ae_conv_apply (relu: ae_conv_apply_relu) of upsample_nearest(x, f), for
 * a conv2d layer as one op that reads x upsampled as it pads it
 * (ae_conv2d_upsampled: the composite's values and gradients, bitwise,
 * without the upsampled map written out); a transposed layer gets the
 * composite. */
AE_API ae_val *ae_conv_apply_upsampled(ae_tape *t, const ae_convl *c, ae_val *x, int f, int relu);

/* Uniform initialisation of a parameter in [-bound, bound]. */
AE_API void ae_init_uniform(ae_param *p, double bound, ae_rng *rng);

/* sum of squared weights (not biases) of every parameter named "*.weight",
 * times coef/2: the weight-decay term the zoo's models share. NULL if coef 0. */
AE_API ae_val *ae_weight_decay_term(ae_tape *t, ae_model *m, double coef);

#endif
