/* pool.c: 2-D max and average pooling of NCHW values and the index ops
 * around max pooling (max_unpool2d, the scatter-add that is max_pool2d's
 * backward, and the gather that is the scatter's adjoint), each with its
 * backward rule:
 *   max_pool2d(x) = x at the argmax        -> max_pool2d_backward(g, idx)
 *   relu_max_pool2d(x) = max_pool2d(relu(x)), relu read in the scan
 *                                           -> max_pool2d_backward(relu_backward(g, y), idx)
 *   max_pool2d_backward(g, idx) (scatter+) -> gather2d(gg, idx)
 *   gather2d(x, idx)                       -> max_pool2d_backward(g, idx)
 *   max_unpool2d(x, idx) (scatter=)        -> gather2d(g, idx) * winner mask
 *   avg_pool2d(x) <-> avg_pool2d_backward(g)   (a linear pair of adjoints)
 * Kernels go parallel over the N*C planes (one plane per iteration, so the
 * result does not depend on the thread count); indices are ae_real flat
 * positions within a plane (see pool.h). 2x2 stride-2 pooling, the zoo's,
 * and the index ops on its geometry run pool_2x2.c's plane kernels. */
#include <math.h>
#include <string.h>

#include "base/parallel.h"
#include "oplist.h"
#include "ops.h"
#include "pool.h"
#include "pool_2x2.h"

/* Largest plane whose flat positions ae_real holds exactly. */
#ifdef AE_REAL_DOUBLE
#define MAX_PLANE ((int64_t)1 << 53)
#else
#define MAX_PLANE ((int64_t)1 << 24)
#endif

static int need_4d(ae_tape *t, const char *op, const char *what, ae_val *x) {
  if (x->t.shape.ndim == 4) return 1;
  char s[AE_SHAPE_BUF];
  ae_raise(t, AE_ERR_SHAPE, op, "%s must be 4-D (N,C,H,W), got %s", what, ae_sstr(x->t.shape, s));
  return 0;
}

/* Checks a window over an (N,C,h,w) input and gives the output size. */
static int window(ae_tape *t, const char *op, ae_shape s, int k, int stride, int pad, int64_t *oh, int64_t *ow) {
  char b[AE_SHAPE_BUF];
  if (k < 1 || stride < 1) {
    ae_raise(t, AE_ERR_ARG, op, "kernel size %d and stride %d must be >= 1", k, stride);
    return 0;
  }
  if (pad < 0 || pad > k / 2) {
    ae_raise(t, AE_ERR_ARG, op, "padding %d must be between 0 and half the kernel size %d", pad, k);
    return 0;
  }
  int64_t h = s.d[2] + 2 * pad, w = s.d[3] + 2 * pad;
  if (h < k || w < k) {
    ae_raise(t, AE_ERR_SHAPE, op, "kernel %dx%d is larger than the input %s padded by %d (%lldx%lld)", k, k,
             ae_sstr(s, b), pad, (long long)h, (long long)w);
    return 0;
  }
  *oh = (h - k) / stride + 1;
  *ow = (w - k) / stride + 1;
  return 1;
}

static ae_shape nchw(ae_shape s, int64_t h, int64_t w) { return AE_SHAPE(s.d[0], s.d[1], h, w); }

/* Every index an integer in [0, plane); raises naming the first that is not. */
static inline ae_real floor_real(ae_real v) {
#ifdef AE_REAL_DOUBLE
  return floor(v);
#else
  return floorf(v);
#endif
}

static int check_indices(ae_tape *t, const char *op, const ae_val *idx, int64_t plane, int64_t h, int64_t w) {
  const ae_real *p = idx->t.data, top = (ae_real)plane;
  /* One branch-free pass (it vectorises; the indices of a whole batch are
   * checked on every pooling backward), then the first bad element, if any. */
  int bad = 0;
  for (int64_t i = 0; i < idx->t.numel; i++) bad |= !(p[i] >= 0 && p[i] < top && p[i] == floor_real(p[i]));
  if (!bad) return 1;
  for (int64_t i = 0; i < idx->t.numel; i++) {
    ae_real v = p[i];
    if (v >= 0 && v < top && v == (ae_real)(int64_t)v) continue;
    char s[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ARG, op,
             "indices %s: element %lld is %g, not a flat position in [0, %lld) of a %lldx%lld plane",
             ae_sstr(idx->t.shape, s), (long long)i, (double)v, (long long)plane, (long long)h, (long long)w);
    return 0;
  }
  return 1;
}

/* x and indices of one 4-D shape, scattered into (N,C,out_h,out_w). */
static ae_val *scatter_begin(ae_tape *t, const char *op, ae_val *x, ae_val *idx, int out_h, int out_w,
                             int check) {
  ae_val *in[2] = {x, idx};
  if (!ae_op_begin(t, op, 2, in) || !need_4d(t, op, "the input", x)) return NULL;
  char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
  if (!ae_shape_eq(x->t.shape, idx->t.shape)) {
    ae_raise(t, AE_ERR_SHAPE, op, "indices %s must have the input's shape %s", ae_sstr(idx->t.shape, a),
             ae_sstr(x->t.shape, b));
    return NULL;
  }
  if (out_h < 1 || out_w < 1) {
    ae_raise(t, AE_ERR_ARG, op, "output size %dx%d must be at least 1x1", out_h, out_w);
    return NULL;
  }
  if (check && !check_indices(t, op, idx, (int64_t)out_h * out_w, out_h, out_w)) return NULL;
  return ae_op_out(t, op, nchw(x->t.shape, out_h, out_w));
}

/* y plane p = zeros, then y[idx[i]] = x[i] (accumulate: +=), in scan order. */
static void scatter_kernel(const ae_val *x, const ae_val *idx, ae_val *y, int accumulate) {
  int64_t planes = x->t.shape.d[0] * x->t.shape.d[1], nin = x->t.shape.d[2] * x->t.shape.d[3];
  int64_t nout = y->t.shape.d[2] * y->t.shape.d[3];
  const ae_real *px = x->t.data, *pi = idx->t.data;
  ae_real *py = y->t.data;
  AE_PAR_FOR(AE_PAR(x->t.numel + y->t.numel), schedule(static),
  for (int64_t p = 0; p < planes; p++) {
    const ae_real *xs = px + p * nin, *is = pi + p * nin;
    ae_real *ys = py + p * nout;
    memset(ys, 0, (size_t)nout * sizeof(ae_real));
    if (accumulate)
      for (int64_t i = 0; i < nin; i++) ys[(int64_t)is[i]] += xs[i];
    else
      for (int64_t i = 0; i < nin; i++) ys[(int64_t)is[i]] = xs[i];
  });
}


/* max_pool2d, of relu(x) when relu (the name op's). */
static ae_val *max_pool(ae_tape *t, const char *op, ae_val *x, int k, int stride, int pad, ae_val **indices,
                        int relu) {
  if (indices) *indices = NULL;
  if (!ae_op_begin(t, op, 1, &x) || !need_4d(t, op, "the input", x)) return NULL;
  int64_t oh, ow, h = x->t.shape.d[2], w = x->t.shape.d[3];
  if (!window(t, op, x->t.shape, k, stride, pad, &oh, &ow)) return NULL;
  if (h * w > MAX_PLANE) {
    char s[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, op, "input %s: a plane of more than %lld elements cannot be indexed in " AE_REAL_NAME,
             ae_sstr(x->t.shape, s), (long long)MAX_PLANE);
    return NULL;
  }
  ae_shape ys = nchw(x->t.shape, oh, ow);
  ae_val *y = ae_op_out(t, op, ys), *idx = y ? ae_op_out(t, op, ys) : NULL;
  if (!idx) return NULL;
  int64_t planes = x->t.shape.d[0] * x->t.shape.d[1];
  const ae_real *px = x->t.data;
  ae_real *py = y->t.data, *pi = idx->t.data;
  if (k == 2 && stride == 2 && pad == 0) {
    AE_PAR_FOR(AE_PAR_WORK(y->t.numel * k * k), schedule(static),
    for (int64_t p = 0; p < planes; p++)
      ae__max_pool_2x2_plane(px + p * h * w, w, oh, ow, py + p * oh * ow, pi + p * oh * ow, relu););
  } else
  AE_PAR_FOR(AE_PAR_WORK(y->t.numel * k * k), schedule(static),
  for (int64_t p = 0; p < planes; p++) {
    const ae_real *xs = px + p * h * w;
    for (int64_t r = 0; r < oh; r++)
      for (int64_t c = 0; c < ow; c++) {
        int64_t h0 = r * stride - pad, w0 = c * stride - pad;
        int64_t h1 = h0 + k < h ? h0 + k : h, w1 = w0 + k < w ? w0 + k : w;
        if (h0 < 0) h0 = 0;
        if (w0 < 0) w0 = 0;
        /* PyTorch's scan: strict > keeps the first maximum; NaN wins */
        ae_real best = -INFINITY;
        int64_t at = h0 * w + w0;
        for (int64_t i = h0; i < h1; i++)
          for (int64_t j = w0; j < w1; j++) {
            ae_real v = relu && !(xs[i * w + j] > 0) ? 0 : xs[i * w + j];
            if (v > best || isnan(v)) best = v, at = i * w + j;
          }
        py[(p * oh + r) * ow + c] = best;
        pi[(p * oh + r) * ow + c] = (ae_real)at;
      }
  });
  ae_node *n = ae_op_record(t, AE_OP_MAX_POOL2D, y, 1, &x);
  if (n) {
    n->saved[0] = idx;
    n->i[0] = k, n->i[1] = stride, n->i[2] = pad, n->i[3] = relu;
  }
  if (!ae_tape_ok(t)) return NULL;
  if (indices) *indices = idx;
  return y;
}

ae_val *ae_max_pool2d(ae_tape *t, ae_val *x, int k, int stride, int pad, ae_val **indices) {
  return max_pool(t, "max_pool2d", x, k, stride, pad, indices, 0);
}

/* In anomaly mode the composite, so that a NaN in x is reported and not
 * hidden by the relu (as ae_conv2d_relu_ex). */
ae_val *ae_relu_max_pool2d(ae_tape *t, ae_val *x, int k, int stride, int pad, ae_val **indices) {
  if (ae_anomaly_enabled(t)) {
    if (indices) *indices = NULL;
    return ae_max_pool2d(t, ae_relu(t, x), k, stride, pad, indices);
  }
  return max_pool(t, "relu_max_pool2d", x, k, stride, pad, indices, 1);
}

void ae_bw_max_pool2d(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_shape xs = n->in[0]->t.shape;
  /* relu_max_pool2d: the gradient at the pooled pre-activation, relu_backward
   * against the output (y > 0 exactly where the window's winner is), a
   * quarter of the elements the composite's relu_backward reads at 2x2 */
  if (n->i[3] && !(g = ae_activation_backward(t, AE_ACT_RELU, g, n->out, 0))) return; /* the tape's error is set */
  if (!ae_grad_enabled(t) && n->i[0] == 2 && n->i[1] == 2 && n->i[2] == 0) {
    /* first order, the zoo's pooling: one pass, no zeroing then scatter */
    const char *op = "max_pool2d_backward";
    ae_val *y = ae_op_begin(t, op, 2, (ae_val *[]){g, n->saved[0]}) ? ae_op_out(t, op, xs) : NULL;
    if (!y) return;
    int64_t planes = xs.d[0] * xs.d[1], h = xs.d[2], w = xs.d[3], oh = g->t.shape.d[2], ow = g->t.shape.d[3];
    const ae_real *pg = g->t.data, *pi = n->saved[0]->t.data;
    ae_real *py = y->t.data;
    AE_PAR_FOR(AE_PAR(y->t.numel), schedule(static),
    for (int64_t p = 0; p < planes; p++)
      ae__max_pool_2x2_backward_plane(pg + p * oh * ow, pi + p * oh * ow, oh, ow, h, w, py + p * h * w););
    ae_op_record(t, AE_OP_MAX_POOL2D_BACKWARD, y, 0, NULL); /* anomaly mode's check; nothing recorded */
    gin[0] = y;
    return;
  }
  gin[0] = ae_max_pool2d_backward(t, g, n->saved[0], (int)xs.d[2], (int)xs.d[3]);
}

ae_val *ae_max_pool2d_backward(ae_tape *t, ae_val *g, ae_val *indices, int in_h, int in_w) {
  ae_val *y = scatter_begin(t, "max_pool2d_backward", g, indices, in_h, in_w, 1);
  if (!y) return NULL;
  scatter_kernel(g, indices, y, 1);
  ae_op_record(t, AE_OP_MAX_POOL2D_BACKWARD, y, 2, (ae_val *[]){g, indices});
  return y;
}
void ae_bw_max_pool2d_backward(ae_tape *t, const ae_node *n, ae_val *gg, ae_val **gin) {
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_gather2d(t, gg, n->in[1]);
}

ae_val *ae_gather2d(ae_tape *t, ae_val *x, ae_val *indices) {
  const char *op = "gather2d";
  ae_val *in[2] = {x, indices};
  if (!ae_op_begin(t, op, 2, in) || !need_4d(t, op, "the input", x) || !need_4d(t, op, "indices", indices))
    return NULL;
  ae_shape xs = x->t.shape, is = indices->t.shape;
  if (xs.d[0] != is.d[0] || xs.d[1] != is.d[1]) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, op, "indices %s and input %s differ in N or C", ae_sstr(is, a), ae_sstr(xs, b));
    return NULL;
  }
  int64_t nx = xs.d[2] * xs.d[3], ni = is.d[2] * is.d[3], planes = xs.d[0] * xs.d[1];
  ae_val *y = ae_op_out(t, op, is);
  if (!y) return NULL;
  const ae_real *px = x->t.data, *pi = indices->t.data;
  ae_real *py = y->t.data;
  /* the indices of a 2x2 stride-2 pooling of x: its windows, read in one
   * pass with no index check (as max_unpool2d's fast path) */
  int local = xs.d[2] / 2 == is.d[2] && xs.d[3] / 2 == is.d[3];
  if (local) {
    int64_t oh = is.d[2], ow = is.d[3], w = xs.d[3];
    AE_PAR_FOR(AE_PAR(y->t.numel), schedule(static) reduction(& : local),
    for (int64_t p = 0; p < planes; p++) local &= ae__gather_2x2_plane(px + p * nx, pi + p * ni, oh, ow, w, py + p * ni););
  }
  if (!local) {
    if (!check_indices(t, op, indices, nx, xs.d[2], xs.d[3])) return NULL;
    AE_PAR_FOR(AE_PAR(y->t.numel), schedule(static),
    for (int64_t p = 0; p < planes; p++)
      for (int64_t i = 0; i < ni; i++) py[p * ni + i] = px[p * nx + (int64_t)pi[p * ni + i]];);
  }
  ae_op_record(t, AE_OP_GATHER2D, y, 2, in);
  return y;
}
void ae_bw_gather2d(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (!ae_needs_grad(t, n, 0)) return;
  ae_shape xs = n->in[0]->t.shape;
  gin[0] = ae_max_pool2d_backward(t, g, n->in[1], (int)xs.d[2], (int)xs.d[3]);
}

/* Constant mask of x's shape: 1 where entry i is the last in its plane to
 * write its index (the one max_unpool2d keeps), 0 where a later entry
 * overwrites it; NULL (no mask needed) when no index repeats. The owner
 * table (8 bytes per output element) is scratch, and so is the mask when
 * it is not needed (pooling windows that do not overlap): the arena takes
 * both back. */
static ae_val *winner_mask(ae_tape *t, const ae_val *idx, const ae_val *y) {
  int64_t planes = idx->t.shape.d[0] * idx->t.shape.d[1], nin = idx->t.shape.d[2] * idx->t.shape.d[3];
  int64_t nout = y->t.shape.d[2] * y->t.shape.d[3];
  ae_tape_mark before = ae_tape_get_mark(t);
  ae_val *mask = ae_op_out(t, "max_unpool2d", idx->t.shape);
  ae_tape_mark scratch = ae_tape_get_mark(t);
  int64_t *owner = mask ? ae_arena_alloc(t, "max_unpool2d", (size_t)y->t.numel * sizeof(int64_t)) : NULL;
  if (!owner || !mask) return NULL;
  const ae_real *pi = idx->t.data;
  ae_real *pm = mask->t.data;
  int64_t losers = 0;
  AE_PAR_FOR(AE_PAR(idx->t.numel + y->t.numel), schedule(static) reduction(+ : losers),
  for (int64_t p = 0; p < planes; p++) {
    int64_t *own = owner + p * nout;
    const ae_real *is = pi + p * nin;
    for (int64_t i = 0; i < nin; i++) own[(int64_t)is[i]] = i;
    for (int64_t i = 0; i < nin; i++) {
      int win = own[(int64_t)is[i]] == i;
      pm[p * nin + i] = (ae_real)win;
      losers += !win;
    }
  });
  ae_tape_rewind(t, losers ? scratch : before);
  return losers ? mask : NULL;
}

/* Unpooling the output of a 2x2 stride-2 pooling (the output plane 2h or
 * 2h + 1 by 2w or 2w + 1): when every index is one of its own window's
 * four positions, as max_pool2d's are, the windows are disjoint, so the
 * scatter is the compare-and-write pass of the pooling backward (no index
 * check needed: such an index is a valid position) and no two inputs share
 * a position (no winner mask). Returns 0, having written part of y, when
 * some index is not: the general path then runs. deconv-ae spent 10% of
 * its step in the scatter, its check and its winner mask. */
static int unpool_2x2(const ae_val *x, const ae_val *idx, ae_val *y) {
  int64_t planes = x->t.shape.d[0] * x->t.shape.d[1], h = x->t.shape.d[2], w = x->t.shape.d[3];
  int64_t H = y->t.shape.d[2], W = y->t.shape.d[3];
  if (H / 2 != h || W / 2 != w) return 0;
  const ae_real *px = x->t.data, *pi = idx->t.data;
  ae_real *py = y->t.data;
  int ok = 1;
  AE_PAR_FOR(AE_PAR(y->t.numel), schedule(static) reduction(& : ok),
  for (int64_t p = 0; p < planes; p++)
    ok &= ae__max_pool_2x2_backward_plane(px + p * h * w, pi + p * h * w, h, w, H, W, py + p * H * W););
  return ok;
}

ae_val *ae_max_unpool2d(ae_tape *t, ae_val *x, ae_val *indices, int out_h, int out_w) {
  const char *op = "max_unpool2d";
  ae_val *y = scatter_begin(t, op, x, indices, out_h, out_w, 0);
  if (!y) return NULL;
  int local = unpool_2x2(x, indices, y);
  if (!local) {
    if (!check_indices(t, op, indices, (int64_t)out_h * out_w, out_h, out_w)) return NULL;
    scatter_kernel(x, indices, y, 0);
  }
  ae_node *n = ae_op_record(t, AE_OP_MAX_UNPOOL2D, y, 2, (ae_val *[]){x, indices});
  if (n && !local) n->saved[0] = winner_mask(t, indices, y);
  return ae_tape_ok(t) ? y : NULL;
}
void ae_bw_max_unpool2d(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (!ae_needs_grad(t, n, 0)) return;
  ae_val *gx = ae_gather2d(t, g, n->in[1]);
  gin[0] = n->saved[0] ? ae_mul(t, gx, n->saved[0]) : gx;
}

ae_val *ae_avg_pool2d(ae_tape *t, ae_val *x, int k, int stride, int pad) {
  const char *op = "avg_pool2d";
  if (!ae_op_begin(t, op, 1, &x) || !need_4d(t, op, "the input", x)) return NULL;
  int64_t oh, ow, h = x->t.shape.d[2], w = x->t.shape.d[3];
  if (!window(t, op, x->t.shape, k, stride, pad, &oh, &ow)) return NULL;
  ae_val *y = ae_op_out(t, op, nchw(x->t.shape, oh, ow));
  if (!y) return NULL;
  int64_t planes = x->t.shape.d[0] * x->t.shape.d[1];
  const ae_real *px = x->t.data;
  ae_real *py = y->t.data;
  double kk = (double)k * k;
  AE_PAR_FOR(AE_PAR_WORK(y->t.numel * k * k), schedule(static),
  for (int64_t p = 0; p < planes; p++) {
    const ae_real *xs = px + p * h * w;
    for (int64_t r = 0; r < oh; r++)
      for (int64_t c = 0; c < ow; c++) {
        int64_t h0 = r * stride - pad, w0 = c * stride - pad;
        int64_t h1 = h0 + k < h ? h0 + k : h, w1 = w0 + k < w ? w0 + k : w;
        if (h0 < 0) h0 = 0;
        if (w0 < 0) w0 = 0;
        double acc = 0;
        for (int64_t i = h0; i < h1; i++)
          for (int64_t j = w0; j < w1; j++) acc += xs[i * w + j];
        py[(p * oh + r) * ow + c] = (ae_real)(acc / kk);
      }
  });
  ae_node *n = ae_op_record(t, AE_OP_AVG_POOL2D, y, 1, &x);
  if (n) n->i[0] = k, n->i[1] = stride, n->i[2] = pad;
  return y;
}
void ae_bw_avg_pool2d(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_shape xs = n->in[0]->t.shape;
  gin[0] = ae_avg_pool2d_backward(t, g, (int)xs.d[2], (int)xs.d[3], (int)n->i[0], (int)n->i[1], (int)n->i[2]);
}

/* Output rows r whose window [r s - pad, r s - pad + k) holds input row i. */
static void covering(int64_t i, int k, int stride, int pad, int64_t n_out, int64_t *lo, int64_t *hi) {
  int64_t a = i + pad - k + 1, b = (i + pad) / stride;
  *lo = a <= 0 ? 0 : (a + stride - 1) / stride;
  *hi = b < n_out - 1 ? b : n_out - 1; /* inclusive; empty when hi < lo */
}

ae_val *ae_avg_pool2d_backward(ae_tape *t, ae_val *g, int in_h, int in_w, int k, int stride, int pad) {
  const char *op = "avg_pool2d_backward";
  if (!ae_op_begin(t, op, 1, &g) || !need_4d(t, op, "the gradient", g)) return NULL;
  if (in_h < 1 || in_w < 1) {
    ae_raise(t, AE_ERR_ARG, op, "input size %dx%d must be at least 1x1", in_h, in_w);
    return NULL;
  }
  ae_shape xs = nchw(g->t.shape, in_h, in_w);
  int64_t oh, ow;
  if (!window(t, op, xs, k, stride, pad, &oh, &ow)) return NULL;
  if (g->t.shape.d[2] != oh || g->t.shape.d[3] != ow) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, op,
             "gradient %s is not the pooled shape %s of a %dx%d input (kernel %d, stride %d, padding %d)",
             ae_sstr(g->t.shape, a), ae_sstr(nchw(g->t.shape, oh, ow), b), in_h, in_w, k, stride, pad);
    return NULL;
  }
  ae_val *y = ae_op_out(t, op, xs);
  if (!y) return NULL;
  int64_t planes = xs.d[0] * xs.d[1];
  const ae_real *pg = g->t.data;
  ae_real *py = y->t.data;
  double kk = (double)k * k;
  AE_PAR_FOR(AE_PAR_WORK(g->t.numel * k * k), schedule(static),
  for (int64_t p = 0; p < planes; p++) {
    const ae_real *gs = pg + p * oh * ow;
    for (int64_t i = 0; i < in_h; i++) {
      int64_t r0, r1;
      covering(i, k, stride, pad, oh, &r0, &r1);
      for (int64_t j = 0; j < in_w; j++) {
        int64_t c0, c1;
        covering(j, k, stride, pad, ow, &c0, &c1);
        double acc = 0;
        for (int64_t r = r0; r <= r1; r++)
          for (int64_t c = c0; c <= c1; c++) acc += gs[r * ow + c];
        py[(p * in_h + i) * in_w + j] = (ae_real)(acc / kk);
      }
    }
  });
  ae_node *n = ae_op_record(t, AE_OP_AVG_POOL2D_BACKWARD, y, 1, &g);
  if (n) n->i[0] = k, n->i[1] = stride, n->i[2] = pad;
  return y;
}
void ae_bw_avg_pool2d_backward(ae_tape *t, const ae_node *n, ae_val *gg, ae_val **gin) {
  gin[0] = ae_avg_pool2d(t, gg, (int)n->i[0], (int)n->i[1], (int)n->i[2]);
}
