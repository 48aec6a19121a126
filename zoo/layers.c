/* layers.c: dense, MLP and convolution layers for zoo models (layers.h). */
#include "layers.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/conv.h"
#include "ops/loss.h"
#include "ops/ops.h"
#include "ops/pool.h"

int ae_act_parse(const char *name) {
  static const char *names[] = {"none", "relu", "sigmoid", "tanh", "leaky_relu"};
  for (int i = 0; i < 5; i++)
    if (strcmp(names[i], name) == 0) return i;
  return -1;
}

#define LEAKY_SLOPE ((ae_real)0.01) /* leaky_relu's, in every zoo layer */

ae_val *ae_act_apply(ae_tape *t, ae_act a, ae_val *x) { return ae_activation(t, a, x, LEAKY_SLOPE); }

void ae_init_uniform(ae_param *p, double bound, ae_rng *rng) {
  ae_rng_uniform(rng, p->value.data, p->value.numel, (ae_real)-bound, (ae_real)bound);
}

int ae_dense_init(ae_model *m, ae_dense *d, const char *name, int64_t in, int64_t out, int bias, ae_rng *rng) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s.weight", name);
  d->w = ae_model_add_param(m, buf, ae_shape_make(2, (int64_t[]){out, in}));
  d->b = NULL;
  if (!d->w) return -1;
  double bound = 1.0 / sqrt((double)in);
  ae_init_uniform(d->w, bound, rng);
  if (bias) {
    snprintf(buf, sizeof buf, "%s.bias", name);
    d->b = ae_model_add_param(m, buf, ae_shape_make(1, (int64_t[]){out}));
    if (!d->b) return -1;
    ae_init_uniform(d->b, bound, rng);
  }
  return 0;
}

ae_val *ae_dense_act_apply(ae_tape *t, const ae_dense *d, ae_act a, ae_val *x) {
  return ae_linear_act(t, x, ae_param_bind(t, d->w), d->b ? ae_param_bind(t, d->b) : NULL, a, LEAKY_SLOPE);
}

ae_val *ae_dense_apply(ae_tape *t, const ae_dense *d, ae_val *x) { return ae_dense_act_apply(t, d, AE_ACT_NONE, x); }

int ae_mlp_init(ae_model *m, ae_mlp *mlp, const char *prefix, int n, const int64_t *sizes, ae_act hidden, ae_act last,
                ae_rng *rng) {
  if (n < 1 || n > AE_MAX_LAYERS) {
    ae_set_last_error("%s: %d layers; between 1 and %d are supported", prefix, n, AE_MAX_LAYERS);
    return -1;
  }
  mlp->n = n;
  mlp->hidden = hidden;
  mlp->last = last;
  for (int i = 0; i < n; i++) {
    char name[48];
    snprintf(name, sizeof name, "%s.%d", prefix, 2 * i);
    if (ae_dense_init(m, &mlp->layer[i], name, sizes[i], sizes[i + 1], 1, rng)) return -1;
  }
  return 0;
}

ae_val *ae_mlp_apply(ae_tape *t, const ae_mlp *mlp, ae_val *x) {
  for (int i = 0; i < mlp->n; i++)
    x = ae_dense_act_apply(t, &mlp->layer[i], i + 1 < mlp->n ? mlp->hidden : mlp->last, x);
  return x;
}

static int conv_params(ae_model *m, ae_convl *c, const char *name, ae_shape ws, int64_t nbias, double fan_in,
                       ae_rng *rng) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s.weight", name);
  c->w = ae_model_add_param(m, buf, ws);
  snprintf(buf, sizeof buf, "%s.bias", name);
  c->b = c->w ? ae_model_add_param(m, buf, ae_shape_make(1, (int64_t[]){nbias})) : NULL;
  if (!c->b) return -1;
  double bound = 1.0 / sqrt(fan_in);
  ae_init_uniform(c->w, bound, rng);
  ae_init_uniform(c->b, bound, rng);
  return 0;
}

int ae_conv_init(ae_model *m, ae_convl *c, const char *name, int64_t in_ch, int64_t out_ch, int k, int stride, int pad,
                 ae_rng *rng) {
  c->stride = stride, c->pad = pad, c->out_pad = 0, c->transpose = 0;
  return conv_params(m, c, name, ae_shape_make(4, (int64_t[]){out_ch, in_ch, k, k}), out_ch,
                     (double)(in_ch * k * k), rng);
}

int ae_conv_transpose_init(ae_model *m, ae_convl *c, const char *name, int64_t in_ch, int64_t out_ch, int k,
                           int stride, int pad, int out_pad, ae_rng *rng) {
  c->stride = stride, c->pad = pad, c->out_pad = out_pad, c->transpose = 1;
  /* torch computes ConvTranspose2d's fan_in from weight.size(1) * k * k = out_ch * k * k */
  return conv_params(m, c, name, ae_shape_make(4, (int64_t[]){in_ch, out_ch, k, k}), out_ch,
                     (double)(out_ch * k * k), rng);
}

ae_val *ae_conv_apply(ae_tape *t, const ae_convl *c, ae_val *x) {
  ae_val *w = ae_param_bind(t, c->w), *b = ae_param_bind(t, c->b);
  return c->transpose ? ae_conv_transpose2d(t, x, w, b, c->stride, c->pad, c->out_pad)
                      : ae_conv2d(t, x, w, b, c->stride, c->pad);
}

ae_val *ae_conv_apply_relu(ae_tape *t, const ae_convl *c, ae_val *x) {
  ae_val *w = ae_param_bind(t, c->w), *b = ae_param_bind(t, c->b);
  return c->transpose ? ae_conv_transpose2d_relu_ex(t, x, w, b, c->stride, c->stride, c->pad, c->pad, c->out_pad,
                                                    c->out_pad)
                      : ae_conv2d_relu_ex(t, x, w, b, c->stride, c->stride, c->pad, c->pad);
}

ae_val *ae_conv_apply_upsampled(ae_tape *t, const ae_convl *c, ae_val *x, int f, int relu) {
  if (c->transpose) { /* no fused form: the composite */
    ae_val *u = f > 1 ? ae_upsample_nearest(t, x, f) : x;
    return relu ? ae_conv_apply_relu(t, c, u) : ae_conv_apply(t, c, u);
  }
  return ae_conv2d_upsampled(t, x, f, ae_param_bind(t, c->w), ae_param_bind(t, c->b), c->stride, c->pad, relu);
}

ae_val *ae_weight_decay_term(ae_tape *t, ae_model *m, double coef) {
  if (coef == 0) return NULL;
  ae_val *sum = NULL;
  for (int i = 0; i < m->nparams; i++) {
    const char *nm = m->params[i]->name;
    size_t len = strlen(nm);
    if (len < 7 || strcmp(nm + len - 7, ".weight") != 0) continue;
    ae_val *sq = ae_l2_penalty(t, ae_param_bind(t, m->params[i]));
    sum = sum ? ae_add(t, sum, sq) : sq;
  }
  return sum ? ae_scale(t, sum, (ae_real)(coef / 2)) : NULL;
}
