/* conv.c: conv2d, conv_transpose2d and conv2d_weight_grad (conv.h): input
 * checks, forward through conv_kernels.c, and the backward rules, each
 * written with these same three ops (and relu_backward for the fused
 * relu variants) so they differentiate to any order:
 *   y = conv2d(x, w, b):            dx = conv_transpose2d(g, w) (output padding restores x's size)
 *                                   dw = conv2d_weight_grad(x, g),  db = sum of g over n, h, w
 *   y = conv_transpose2d(x, w, b):  dx = conv2d(g, w)
 *                                   dw = conv2d_weight_grad(g, x),  db = sum of g over n, h, w
 *   G = conv2d_weight_grad(x, gy):  dx = conv_transpose2d(gy, gG),  dgy = conv2d(x, gG)
 *   y = conv2d_upsampled(x, f, w, b) = conv2d(upsample_nearest(x, f), w, b):
 *                                   dx = upsample_nearest_backward(conv_transpose2d(g, w), f),
 *                                   dw = conv2d_weight_grad(upsample_nearest(x, f), g) (without
 *                                   create_graph: the weight kernel reading x upsampled), db as conv2d
 * Node attributes: i[0..3] = sh, sw, ph, pw; conv_transpose2d adds
 * i[4..5] = oph, opw; conv2d_weight_grad adds i[4..5] = kh, kw; i[6] = 1
 * for the fused relu variants, whose rules first take g through
 * relu_backward against the output; i[7] = f for conv2d_upsampled (a
 * conv2d node whose input is x as given). */
#include "conv.h"

#include "conv_kernels.h"
#include "oplist.h"
#include "ops.h"
#include "pool.h"

/* Output padding that makes conv_transpose2d give back `in` rows from `out`. */
static int restore_pad(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p) { return (int)(in - ((out - 1) * s - 2 * p + k)); }

static int check_args(ae_tape *t, const char *op, int sh, int sw, int ph, int pw) {
  if (sh < 1 || sw < 1) {
    ae_raise(t, AE_ERR_ARG, op, "stride (%d,%d) must be at least 1", sh, sw);
    return 0;
  }
  if (ph < 0 || pw < 0) {
    ae_raise(t, AE_ERR_ARG, op, "padding (%d,%d) must not be negative", ph, pw);
    return 0;
  }
  return 1;
}

static int check_4d(ae_tape *t, const char *op, const char *xname, ae_shape x, const char *wname, ae_shape w) {
  if (x.ndim == 4 && w.ndim == 4) return 1;
  char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
  ae_raise(t, AE_ERR_SHAPE, op, "%s %s and %s %s: both must be 4-D", xname, ae_sstr(x, a), wname, ae_sstr(w, b));
  return 0;
}

static int check_bias(ae_tape *t, const char *op, ae_val *b, int64_t ch) {
  if (!b || (b->t.shape.ndim == 1 && b->t.shape.d[0] == ch)) return 1;
  char s[AE_SHAPE_BUF], want[AE_SHAPE_BUF];
  ae_raise(t, AE_ERR_SHAPE, op, "bias %s must have shape %s, one value per output channel", ae_sstr(b->t.shape, s),
           ae_sstr(AE_SHAPE(ch), want));
  return 0;
}

/* The geometry of conv2d from image x (n,c,h,w) with a kh x kw kernel and o
 * output channels; 0 with an error when the kernel exceeds the padded image. */
static int conv_geom(ae_tape *t, const char *op, ae_shape x, ae_shape w, int64_t o, int64_t kh, int64_t kw, int sh,
                     int sw, int ph, int pw, ae_conv_geom *g) {
  *g = (ae_conv_geom){.n = x.d[0], .c = x.d[1], .h = x.d[2], .w = x.d[3], .o = o, .kh = kh, .kw = kw,
                      .sh = sh, .sw = sw, .ph = ph, .pw = pw, .op = op};
  if (x.d[2] + 2 * ph < kh || x.d[3] + 2 * pw < kw) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, op, "input %s and weight %s: kernel %lldx%lld is larger than the padded input %lldx%lld",
             ae_sstr(x, a), ae_sstr(w, b), (long long)kh, (long long)kw, (long long)(x.d[2] + 2 * ph),
             (long long)(x.d[3] + 2 * pw));
    return 0;
  }
  g->oh = (g->h + 2 * ph - kh) / sh + 1;
  g->ow = (g->w + 2 * pw - kw) / sw + 1;
  return 1;
}

static void set_attrs(ae_node *nd, int sh, int sw, int ph, int pw, int64_t a4, int64_t a5, int relu) {
  if (!nd) return;
  nd->i[0] = sh, nd->i[1] = sw, nd->i[2] = ph, nd->i[3] = pw, nd->i[4] = a4, nd->i[5] = a5, nd->i[6] = relu;
}

/* The gradient at the pre-activation of a fused op's output: relu_backward
 * against the output, whose sign is the pre-activation's (y > 0 exactly
 * where v > 0), so the same values as the composite's rule; NULL with the
 * tape's error set when that op fails (arena full). */
static ae_val *pre_relu_grad(ae_tape *t, const ae_node *n, ae_val *g) {
  return ae_activation_backward(t, n->i[6] ? AE_ACT_RELU : AE_ACT_NONE, g, n->out, 0);
}

static ae_val *weight_grad(ae_tape *t, ae_val *x, ae_val *gy, int kh, int kw, int sh, int sw, int ph, int pw,
                           int up);

/* d/db: g summed over batch and space, as a (ch) vector. */
static ae_val *bias_grad(ae_tape *t, ae_val *g) {
  int64_t ch = g->t.shape.d[1];
  return ae_reshape(t, ae_sum_to(t, g, AE_SHAPE(1, ch, 1, 1)), AE_SHAPE(ch));
}

/* ---- conv2d ---- */

/* up > 1: of upsample_nearest(x, up), x read upsampled (conv2d_upsampled;
 * the composite where ae_conv_up_ok says no). */
static ae_val *conv2d(ae_tape *t, const char *op, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph, int pw,
                      int relu, int up) {
  ae_val *in[3] = {x, w, b};
  if (!ae_op_begin(t, op, 2, in) || !check_4d(t, op, "input", x->t.shape, "weight", w->t.shape) ||
      !check_args(t, op, sh, sw, ph, pw))
    return NULL;
  ae_shape xs = x->t.shape, ws = w->t.shape;
  if (up > 1) xs.d[2] *= up, xs.d[3] *= up;
  if (xs.d[1] != ws.d[1]) {
    char a[AE_SHAPE_BUF], c[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, op, "input %s and weight %s: input has %lld channels, weight expects %lld",
             ae_sstr(xs, a), ae_sstr(ws, c), (long long)xs.d[1], (long long)ws.d[1]);
    return NULL;
  }
  ae_conv_geom g;
  if (!check_bias(t, op, b, ws.d[0]) || !conv_geom(t, op, xs, ws, ws.d[0], ws.d[2], ws.d[3], sh, sw, ph, pw, &g))
    return NULL;
  g.relu = relu, g.up = up > 1 ? up : 0;
  if (g.up && !ae_conv_up_ok(&g)) return conv2d(t, op, ae_upsample_nearest(t, x, up), w, b, sh, sw, ph, pw, relu, 1);
  ae_val *y = ae_op_out(t, op, AE_SHAPE(g.n, g.o, g.oh, g.ow));
  if (!y || ae_conv_fwd_kernel(t, &g, x->t.data, w->t.data, b ? b->t.data : NULL, y->t.data)) return NULL;
  ae_node *n = ae_op_record(t, AE_OP_CONV2D, y, b ? 3 : 2, in);
  set_attrs(n, sh, sw, ph, pw, 0, 0, relu);
  if (n && up > 1) n->i[7] = up;
  return y;
}

ae_val *ae_conv2d_ex(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph, int pw) {
  return conv2d(t, "conv2d", x, w, b, sh, sw, ph, pw, 0, 1);
}

/* In anomaly mode the composite, so that a NaN the convolution makes is
 * reported there and not hidden by the relu (relu(NaN) = 0). */
ae_val *ae_conv2d_relu_ex(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph, int pw) {
  if (ae_anomaly_enabled(t)) return ae_relu(t, ae_conv2d_ex(t, x, w, b, sh, sw, ph, pw));
  return conv2d(t, "conv2d_relu", x, w, b, sh, sw, ph, pw, 1, 1);
}

ae_val *ae_conv2d(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int stride, int pad) {
  return ae_conv2d_ex(t, x, w, b, stride, stride, pad, pad);
}

/* conv2d (relu: conv2d_relu) of upsample_nearest(x, f), the image read
 * upsampled as it is padded; in anomaly mode the composite. Node: a
 * conv2d node whose in[0] is x as given, i[7] = f. */
ae_val *ae_conv2d_upsampled(ae_tape *t, ae_val *x, int f, ae_val *w, ae_val *b, int stride, int pad, int relu) {
  const char *op = relu ? "conv2d_upsampled_relu" : "conv2d_upsampled";
  if (!ae_op_begin(t, op, 2, (ae_val *[]){x, w, b})) return NULL;
  if (f < 1) {
    ae_raise(t, AE_ERR_ARG, op, "upsampling factor %d must be at least 1", f);
    return NULL;
  }
  if (f > 1 && !ae_anomaly_enabled(t)) return conv2d(t, op, x, w, b, stride, stride, pad, pad, relu, f);
  ae_val *u = f > 1 ? ae_upsample_nearest(t, x, f) : x;
  return relu ? ae_conv2d_relu_ex(t, u, w, b, stride, stride, pad, pad)
              : ae_conv2d_ex(t, u, w, b, stride, stride, pad, pad);
}

void ae_bw_conv2d(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *x = n->in[0], *w = n->in[1];
  if (!(g = pre_relu_grad(t, n, g))) return; /* the tape's error is set */
  int sh = (int)n->i[0], sw = (int)n->i[1], ph = (int)n->i[2], pw = (int)n->i[3], f = n->i[7] > 1 ? (int)n->i[7] : 1;
  ae_shape xs = x->t.shape, ws = w->t.shape, gs = g->t.shape;
  if (ae_needs_grad(t, n, 0)) { /* conv2d_upsampled: the composite's, upsample's backward after */
    ae_val *d = ae_conv_transpose2d_ex(t, g, w, NULL, sh, sw, ph, pw,
                                       restore_pad(xs.d[2] * f, gs.d[2], ws.d[2], sh, ph),
                                       restore_pad(xs.d[3] * f, gs.d[3], ws.d[3], sw, pw));
    gin[0] = f > 1 ? ae_upsample_nearest_backward(t, d, f) : d;
  }
  if (ae_needs_grad(t, n, 1)) /* conv2d_upsampled with create_graph: the composite's, on x upsampled */
    gin[1] = f > 1 && ae_grad_enabled(t)
                 ? ae_conv2d_weight_grad(t, ae_upsample_nearest(t, x, f), g, (int)ws.d[2], (int)ws.d[3], sh, sw, ph, pw)
                 : weight_grad(t, x, g, (int)ws.d[2], (int)ws.d[3], sh, sw, ph, pw, f);
  if (n->nin > 2 && ae_needs_grad(t, n, 2)) gin[2] = bias_grad(t, g);
}

/* ---- conv_transpose2d ---- */

static ae_val *conv_transpose2d(ae_tape *t, const char *op, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph,
                                int pw, int oph, int opw, int relu) {
  ae_val *in[3] = {x, w, b};
  if (!ae_op_begin(t, op, 2, in) || !check_4d(t, op, "input", x->t.shape, "weight", w->t.shape) ||
      !check_args(t, op, sh, sw, ph, pw))
    return NULL;
  ae_shape xs = x->t.shape, ws = w->t.shape;
  char a[AE_SHAPE_BUF], c[AE_SHAPE_BUF];
  if (xs.d[1] != ws.d[0]) {
    ae_raise(t, AE_ERR_SHAPE, op, "input %s and weight %s: input has %lld channels, weight expects %lld",
             ae_sstr(xs, a), ae_sstr(ws, c), (long long)xs.d[1], (long long)ws.d[0]);
    return NULL;
  }
  if (oph < 0 || opw < 0 || oph >= sh || opw >= sw) {
    ae_raise(t, AE_ERR_ARG, op, "output padding (%d,%d) must be in [0, stride) for stride (%d,%d)", oph, opw, sh,
             sw);
    return NULL;
  }
  int64_t ho = (xs.d[2] - 1) * sh - 2 * ph + ws.d[2] + oph, wo = (xs.d[3] - 1) * sw - 2 * pw + ws.d[3] + opw;
  if (ho < 1 || wo < 1) {
    ae_raise(t, AE_ERR_SHAPE, op, "input %s and weight %s with stride (%d,%d), padding (%d,%d): output %lldx%lld is empty",
             ae_sstr(xs, a), ae_sstr(ws, c), sh, sw, ph, pw, (long long)ho, (long long)wo);
    return NULL;
  }
  if (!check_bias(t, op, b, ws.d[1])) return NULL;
  /* The conv2d whose backward this is: image (n, co, ho, wo) -> output (n, ci, h, w). */
  ae_shape img = AE_SHAPE(xs.d[0], ws.d[1], ho, wo);
  ae_conv_geom g;
  if (!conv_geom(t, op, img, ws, ws.d[0], ws.d[2], ws.d[3], sh, sw, ph, pw, &g)) return NULL;
  g.relu = relu;
  ae_val *y = ae_op_out(t, op, img);
  if (!y || ae_conv_data_kernel(t, &g, x->t.data, w->t.data, b ? b->t.data : NULL, y->t.data)) return NULL;
  set_attrs(ae_op_record(t, AE_OP_CONV_TRANSPOSE2D, y, b ? 3 : 2, in), sh, sw, ph, pw, oph, opw, relu);
  return y;
}

ae_val *ae_conv_transpose2d_ex(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph, int pw,
                               int oph, int opw) {
  return conv_transpose2d(t, "conv_transpose2d", x, w, b, sh, sw, ph, pw, oph, opw, 0);
}

ae_val *ae_conv_transpose2d_relu_ex(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int sh, int sw, int ph, int pw,
                                    int oph, int opw) {
  if (ae_anomaly_enabled(t)) return ae_relu(t, ae_conv_transpose2d_ex(t, x, w, b, sh, sw, ph, pw, oph, opw));
  return conv_transpose2d(t, "conv_transpose2d_relu", x, w, b, sh, sw, ph, pw, oph, opw, 1);
}

ae_val *ae_conv_transpose2d(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, int stride, int pad, int output_pad) {
  return ae_conv_transpose2d_ex(t, x, w, b, stride, stride, pad, pad, output_pad, output_pad);
}

void ae_bw_conv_transpose2d(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *x = n->in[0], *w = n->in[1];
  if (!(g = pre_relu_grad(t, n, g))) return; /* the tape's error is set */
  int sh = (int)n->i[0], sw = (int)n->i[1], ph = (int)n->i[2], pw = (int)n->i[3];
  ae_shape ws = w->t.shape;
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_conv2d_ex(t, g, w, NULL, sh, sw, ph, pw);
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_conv2d_weight_grad(t, g, x, (int)ws.d[2], (int)ws.d[3], sh, sw, ph, pw);
  if (n->nin > 2 && ae_needs_grad(t, n, 2)) gin[2] = bias_grad(t, g);
}

/* ---- conv2d_weight_grad ---- */

/* up > 1: of upsample_nearest(x, up), x read upsampled; without
 * create_graph only (conv2d_upsampled's rule), so no node is recorded. */
static ae_val *weight_grad(ae_tape *t, ae_val *x, ae_val *gy, int kh, int kw, int sh, int sw, int ph, int pw,
                           int up) {
  ae_val *in[2] = {x, gy};
  const char *op = "conv2d_weight_grad";
  if (!ae_op_begin(t, op, 2, in) || !check_4d(t, op, "input", x->t.shape, "output gradient", gy->t.shape) ||
      !check_args(t, op, sh, sw, ph, pw))
    return NULL;
  if (kh < 1 || kw < 1) {
    ae_raise(t, AE_ERR_ARG, op, "kernel size %dx%d must be at least 1x1", kh, kw);
    return NULL;
  }
  ae_shape xs = x->t.shape, gs = gy->t.shape, ws = AE_SHAPE(gs.d[1], xs.d[1], kh, kw);
  if (up > 1) xs.d[2] *= up, xs.d[3] *= up;
  ae_conv_geom g;
  if (!conv_geom(t, op, xs, ws, gs.d[1], kh, kw, sh, sw, ph, pw, &g)) return NULL;
  g.up = up > 1 ? up : 0;
  if (gs.d[0] != g.n || gs.d[2] != g.oh || gs.d[3] != g.ow) {
    char a[AE_SHAPE_BUF], c[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, op,
             "input %s and output gradient %s: a %dx%d kernel with stride (%d,%d), padding (%d,%d) gives output (%lld,*,%lld,%lld)",
             ae_sstr(xs, a), ae_sstr(gs, c), kh, kw, sh, sw, ph, pw, (long long)g.n, (long long)g.oh,
             (long long)g.ow);
    return NULL;
  }
  ae_val *y = ae_op_out(t, op, ws);
  if (!y || ae_conv_weight_kernel(t, &g, x->t.data, gy->t.data, y->t.data)) return NULL;
  /* upsampled: nothing to record (anomaly mode's check only) */
  set_attrs(ae_op_record(t, AE_OP_CONV2D_WEIGHT_GRAD, y, g.up ? 0 : 2, in), sh, sw, ph, pw, kh, kw, 0);
  return y;
}

ae_val *ae_conv2d_weight_grad(ae_tape *t, ae_val *x, ae_val *gy, int kh, int kw, int sh, int sw, int ph, int pw) {
  return weight_grad(t, x, gy, kh, kw, sh, sw, ph, pw, 1);
}

void ae_bw_conv2d_weight_grad(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *x = n->in[0], *gy = n->in[1];
  int sh = (int)n->i[0], sw = (int)n->i[1], ph = (int)n->i[2], pw = (int)n->i[3];
  int64_t kh = n->i[4], kw = n->i[5];
  ae_shape xs = x->t.shape, gs = gy->t.shape;
  if (ae_needs_grad(t, n, 0))
    gin[0] = ae_conv_transpose2d_ex(t, gy, g, NULL, sh, sw, ph, pw, restore_pad(xs.d[2], gs.d[2], kh, sh, ph),
                                    restore_pad(xs.d[3], gs.d[3], kw, sw, pw));
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_conv2d_ex(t, x, g, NULL, sh, sw, ph, pw);
}
