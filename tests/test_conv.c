/* test_conv.c: the conv family (ops/conv.h), built twice (conv-f32,
 * conv-f64).
 *  - conv2d, conv_transpose2d and conv2d_weight_grad against the direct
 *    loops of conv_ref.h on odd shapes: batch 1 to 11, non-square images
 *    and kernels, stride 1, 2, 3 and 9 by 10 (and mixed), padding 0 to 3, output
 *    padding 0 and 1, with and without bias. Tolerance: the rounding bound
 *    of a K-term sum, (K + 2) u sum|terms| (u = unit roundoff of ae_real),
 *    plus 1e-30 for exact zeros; any index bug is O(1) off.
 *  - the adjoint identities <conv2d(x,w), y> = <x, conv_transpose2d(y,w)>
 *    (output padding restoring x's size) = <w, conv2d_weight_grad(x, y)>.
 *  - errors: each bad input raises on the tape with the shapes named, and
 *    the op returns NULL.
 *  - bitwise identical results with 1 and 2 threads above the parallel
 *    threshold; scratch memory is given back to the arena.
 *  - float64 only: every conv row of the op table (tests/rows/conv.c)
 *    through gradcheck and gradgradcheck with the default options, and a
 *    third-order check through a conv -> tanh -> conv_transpose chain. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "conv_cases.h"
#include "conv_ref.h"
#include "op_table.h"

#ifdef AE_REAL_DOUBLE
#define UROUND (DBL_EPSILON / 2)
#else
#define UROUND (FLT_EPSILON / 2)
#endif

static void fill(ae_real *p, int64_t n, uint64_t seed) {
  ae_rng r;
  ae_rng_init(&r, seed);
  ae_rng_uniform(&r, p, n, -1, 1);
}

static ae_val *rand_val(ae_tape *t, ae_shape s, uint64_t seed, int grad) {
  ae_val *v = grad ? ae_var(t, s, NULL) : ae_const(t, s, NULL);
  cr_assert(v, "%s", ae_tape_error(t));
  fill(v->t.data, v->t.numel, seed);
  return v;
}

/* got vs want within (K + 2) u mag. */
static void expect_close(const char *what, const ae_real *got, const ae_real *want, const double *mag, int64_t n,
                         int64_t terms) {
  for (int64_t i = 0; i < n; i++) {
    double tol = (double)(terms + 2) * UROUND * mag[i] + 1e-30;
    cr_assert(fabs((double)got[i] - (double)want[i]) <= tol, "%s: element %lld: got %.17g want %.17g (tol %.3g)", what,
              (long long)i, (double)got[i], (double)want[i], tol);
  }
}

Test(conv, conv2d_matches_direct_loops) {
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const conv_case *k = &cases[ci];
    conv_ref_geom g = geom_of(k);
    ae_tape *t = ae_tape_new(0);
    ae_val *x = rand_val(t, AE_SHAPE(k->n, k->c, k->h, k->w), 10 + ci, 0);
    ae_val *w = rand_val(t, AE_SHAPE(k->o, k->c, k->kh, k->kw), 20 + ci, 0);
    ae_val *b = k->bias ? rand_val(t, AE_SHAPE(k->o), 30 + ci, 0) : NULL;
    ae_val *y = ae_conv2d_ex(t, x, w, b, k->sh, k->sw, k->ph, k->pw);
    cr_assert(y, "case %zu: %s", ci, ae_tape_error(t));
    cr_assert(ae_shape_eq(y->t.shape, AE_SHAPE(g.n, g.o, g.oh, g.ow)), "case %zu: shape", ci);
    ae_real *want = malloc(sizeof(ae_real) * (size_t)y->t.numel);
    double *mag = malloc(sizeof(double) * (size_t)y->t.numel);
    conv2d_ref(&g, x->t.data, w->t.data, b ? b->t.data : NULL, want, mag);
    char what[64];
    snprintf(what, sizeof what, "conv2d case %zu", ci);
    expect_close(what, y->t.data, want, mag, y->t.numel, g.c * g.kh * g.kw + 1);
    free(want), free(mag);
    ae_tape_free(t);
  }
}

/* conv_transpose2d of every case's output shape back to its input shape,
 * with output padding 0 and, where the stride allows, 1. */
Test(conv, conv_transpose2d_matches_direct_loops) {
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
    for (int op = 0; op < 2; op++) {
      const conv_case *k = &cases[ci];
      if (op >= k->sh || op >= k->sw) continue;
      conv_ref_geom g = geom_of(k);
      g.h = (g.oh - 1) * g.sh - 2 * g.ph + g.kh + op;
      g.w = (g.ow - 1) * g.sw - 2 * g.pw + g.kw + op;
      ae_tape *t = ae_tape_new(0);
      ae_val *x = rand_val(t, AE_SHAPE(g.n, g.o, g.oh, g.ow), 40 + ci, 0);
      ae_val *w = rand_val(t, AE_SHAPE(g.o, g.c, g.kh, g.kw), 50 + ci, 0);
      ae_val *b = k->bias ? rand_val(t, AE_SHAPE(g.c), 60 + ci, 0) : NULL;
      ae_val *y = ae_conv_transpose2d_ex(t, x, w, b, k->sh, k->sw, k->ph, k->pw, op, op);
      cr_assert(y, "case %zu op %d: %s", ci, op, ae_tape_error(t));
      cr_assert(ae_shape_eq(y->t.shape, AE_SHAPE(g.n, g.c, g.h, g.w)), "case %zu op %d: shape", ci, op);
      ae_real *want = malloc(sizeof(ae_real) * (size_t)y->t.numel);
      double *mag = malloc(sizeof(double) * (size_t)y->t.numel);
      conv_transpose2d_ref(&g, x->t.data, w->t.data, b ? b->t.data : NULL, want, mag);
      char what[64];
      snprintf(what, sizeof what, "conv_transpose2d case %zu op %d", ci, op);
      expect_close(what, y->t.data, want, mag, y->t.numel, g.o * g.kh * g.kw + 1);
      free(want), free(mag);
      ae_tape_free(t);
    }
}

Test(conv, weight_grad_matches_direct_loops) {
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const conv_case *k = &cases[ci];
    conv_ref_geom g = geom_of(k);
    ae_tape *t = ae_tape_new(0);
    ae_val *x = rand_val(t, AE_SHAPE(g.n, g.c, g.h, g.w), 70 + ci, 0);
    ae_val *gy = rand_val(t, AE_SHAPE(g.n, g.o, g.oh, g.ow), 80 + ci, 0);
    ae_val *dw = ae_conv2d_weight_grad(t, x, gy, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw);
    cr_assert(dw, "case %zu: %s", ci, ae_tape_error(t));
    cr_assert(ae_shape_eq(dw->t.shape, AE_SHAPE(g.o, g.c, g.kh, g.kw)), "case %zu: shape", ci);
    ae_real *want = malloc(sizeof(ae_real) * (size_t)dw->t.numel);
    double *mag = malloc(sizeof(double) * (size_t)dw->t.numel);
    conv2d_weight_grad_ref(&g, x->t.data, gy->t.data, want, mag);
    char what[64];
    snprintf(what, sizeof what, "conv2d_weight_grad case %zu", ci);
    expect_close(what, dw->t.data, want, mag, dw->t.numel, g.n * g.oh * g.ow);
    free(want), free(mag);
    ae_tape_free(t);
  }
}

static double dot(const ae_val *a, const ae_val *b, double *mag) {
  double s = 0, m = 0;
  for (int64_t i = 0; i < a->t.numel; i++) s += (double)a->t.data[i] * b->t.data[i], m += fabs((double)a->t.data[i] * b->t.data[i]);
  if (mag) *mag = m;
  return s;
}

/* <conv2d(x,w), y> = <x, conv_transpose2d(y,w)> = <w, conv2d_weight_grad(x,y)>. */
Test(conv, adjoint_identities) {
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const conv_case *k = &cases[ci];
    conv_ref_geom g = geom_of(k);
    int oph = (int)(g.h + 2 * g.ph - g.kh) % k->sh, opw = (int)(g.w + 2 * g.pw - g.kw) % k->sw;
    ae_tape *t = ae_tape_new(0);
    ae_val *x = rand_val(t, AE_SHAPE(g.n, g.c, g.h, g.w), 90 + ci, 0);
    ae_val *w = rand_val(t, AE_SHAPE(g.o, g.c, g.kh, g.kw), 100 + ci, 0);
    ae_val *y = rand_val(t, AE_SHAPE(g.n, g.o, g.oh, g.ow), 110 + ci, 0);
    ae_val *cx = ae_conv2d_ex(t, x, w, NULL, k->sh, k->sw, k->ph, k->pw);
    ae_val *ty = ae_conv_transpose2d_ex(t, y, w, NULL, k->sh, k->sw, k->ph, k->pw, oph, opw);
    ae_val *gw = ae_conv2d_weight_grad(t, x, y, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw);
    cr_assert(cx && ty && gw, "case %zu: %s", ci, ae_tape_error(t));
    cr_assert(ae_shape_eq(ty->t.shape, x->t.shape), "case %zu: transpose does not restore x's shape", ci);
    double m1, m2, m3;
    double a = dot(cx, y, &m1), b = dot(x, ty, &m2), c = dot(w, gw, &m3);
    /* Each side is a sum of the same n*o*oh*ow*c*kh*kw products (fewer at borders). */
    double tol = (double)(g.c * g.kh * g.kw + g.n * g.oh * g.ow + 4) * UROUND * (m1 + m2 + m3) * 4 + 1e-30;
    cr_assert(fabs(a - b) <= tol, "case %zu: <conv2d(x,w),y> = %.17g, <x,conv_transpose2d(y,w)> = %.17g", ci, a, b);
    cr_assert(fabs(a - c) <= tol, "case %zu: <conv2d(x,w),y> = %.17g, <w,weight_grad(x,y)> = %.17g", ci, a, c);
    ae_tape_free(t);
  }
}

/* ---- errors ---- */

static void expect_error(ae_tape *t, ae_val *v, ae_status code, const char *msg) {
  cr_assert_null(v);
  cr_assert_eq(ae_tape_status(t), code, "status %d, error '%s'", ae_tape_status(t), ae_tape_error(t));
  cr_assert(strstr(ae_tape_error(t), msg), "error '%s' does not contain '%s'", ae_tape_error(t), msg);
}

Test(conv, errors_name_the_shapes) {
  struct {
    ae_shape x, w;
    int kind; /* 0 conv2d, 1 conv_transpose2d, 2 weight_grad (w is gy), 3 conv2d with bad bias */
    int s, p, op;
    ae_status code;
    const char *msg;
  } bad[] = {
      {AE_SHAPE(3, 2, 7, 5), AE_SHAPE(4, 3, 3, 3), 0, 1, 0, 0, AE_ERR_SHAPE,
       "conv2d: input (3,2,7,5) and weight (4,3,3,3): input has 2 channels, weight expects 3"},
      {AE_SHAPE(1, 2, 2, 5), AE_SHAPE(4, 2, 5, 3), 0, 1, 1, 0, AE_ERR_SHAPE,
       "conv2d: input (1,2,2,5) and weight (4,2,5,3): kernel 5x3 is larger than the padded input 4x7"},
      {AE_SHAPE(1, 2, 7, 5), AE_SHAPE(4, 2, 3, 3), 0, 0, 0, 0, AE_ERR_ARG, "conv2d: stride (0,0) must be at least 1"},
      {AE_SHAPE(1, 2, 7, 5), AE_SHAPE(4, 2, 3, 3), 0, 1, -1, 0, AE_ERR_ARG, "conv2d: padding (-1,-1) must not be negative"},
      {AE_SHAPE(2, 7, 5), AE_SHAPE(4, 2, 3, 3), 0, 1, 0, 0, AE_ERR_SHAPE,
       "conv2d: input (2,7,5) and weight (4,2,3,3): both must be 4-D"},
      {AE_SHAPE(1, 2, 7, 5), AE_SHAPE(4, 2, 3, 3), 3, 1, 0, 0, AE_ERR_SHAPE,
       "conv2d: bias (3,) must have shape (4,)"},
      {AE_SHAPE(1, 3, 4, 4), AE_SHAPE(2, 5, 3, 3), 1, 2, 1, 0, AE_ERR_SHAPE,
       "conv_transpose2d: input (1,3,4,4) and weight (2,5,3,3): input has 3 channels, weight expects 2"},
      {AE_SHAPE(1, 2, 4, 4), AE_SHAPE(2, 5, 3, 3), 1, 2, 1, 2, AE_ERR_ARG,
       "conv_transpose2d: output padding (2,2) must be in [0, stride) for stride (2,2)"},
      {AE_SHAPE(1, 2, 1, 1), AE_SHAPE(2, 5, 1, 1), 1, 1, 1, 0, AE_ERR_SHAPE, "output -1x-1 is empty"},
      {AE_SHAPE(2, 3, 7, 5), AE_SHAPE(2, 4, 4, 3), 2, 1, 0, 0, AE_ERR_SHAPE,
       "conv2d_weight_grad: input (2,3,7,5) and output gradient (2,4,4,3): a 3x3 kernel with stride (1,1), padding (0,0) gives output (2,*,5,3)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ae_tape *t = ae_tape_new(0);
    ae_val *x = rand_val(t, bad[i].x, 1, 1), *w = rand_val(t, bad[i].w, 2, 1), *v = NULL;
    switch (bad[i].kind) {
      case 0: v = ae_conv2d(t, x, w, NULL, bad[i].s, bad[i].p); break;
      case 1: v = ae_conv_transpose2d(t, x, w, NULL, bad[i].s, bad[i].p, bad[i].op); break;
      case 2: v = ae_conv2d_weight_grad(t, x, w, 3, 3, bad[i].s, bad[i].s, bad[i].p, bad[i].p); break;
      case 3: v = ae_conv2d(t, x, w, rand_val(t, AE_SHAPE(3), 3, 1), bad[i].s, bad[i].p); break;
    }
    expect_error(t, v, bad[i].code, bad[i].msg);
    /* Sticky: a valid call after the error does nothing. */
    cr_assert_null(ae_conv2d(t, x, x, NULL, 1, 0));
    ae_tape_free(t);
  }
}

Test(conv, nil_input_raises) {
  ae_tape *t = ae_tape_new(0);
  ae_val *x = rand_val(t, AE_SHAPE(1, 1, 3, 3), 1, 0);
  expect_error(t, ae_conv2d(t, x, NULL, NULL, 1, 0), AE_ERR_ARG, "conv2d: input 2 is nil");
  ae_tape_free(t);
}

/* ---- determinism and memory ---- */

#ifdef _OPENMP
/* Shapes: many small images per column block, bands of rows of
 * images too large for one, and a single output channel. */
static void threads_case(ae_shape xs, ae_shape ws, int st) {
  int old = ae_get_threads();
  ae_real *res[2][3];
  int64_t len[3];
  for (int pass = 0; pass < 2; pass++) {
    ae_set_threads(pass + 1);
    ae_tape *t = ae_tape_new(0);
    ae_val *x = rand_val(t, xs, 5, 0), *w = rand_val(t, ws, 6, 0);
    ae_val *b = rand_val(t, AE_SHAPE(ws.d[0]), 7, 0);
    ae_val *y = ae_conv2d(t, x, w, b, st, 1);
    cr_assert(y, "%s", ae_tape_error(t));
    int oph = (int)(xs.d[2] - 1) % st, opw = (int)(xs.d[3] - 1) % st;
    ae_val *vals[3] = {y, ae_conv_transpose2d_ex(t, y, w, NULL, st, st, 1, 1, oph, opw),
                       ae_conv2d_weight_grad(t, x, y, 3, 3, st, st, 1, 1)};
    for (int k = 0; k < 3; k++) {
      cr_assert(vals[k], "%s", ae_tape_error(t));
      len[k] = vals[k]->t.numel;
      res[pass][k] = malloc(sizeof(ae_real) * (size_t)len[k]);
      memcpy(res[pass][k], vals[k]->t.data, sizeof(ae_real) * (size_t)len[k]);
    }
    ae_tape_free(t);
  }
  ae_set_threads(old);
  const char *names[3] = {"conv2d", "conv_transpose2d", "conv2d_weight_grad"};
  for (int k = 0; k < 3; k++) {
    cr_assert(memcmp(res[0][k], res[1][k], sizeof(ae_real) * (size_t)len[k]) == 0, "%s differs with 2 threads",
              names[k]);
    free(res[0][k]), free(res[1][k]);
  }
}

Test(conv, bitwise_equal_for_1_and_2_threads) {
  threads_case(AE_SHAPE(11, 6, 15, 13), AE_SHAPE(7, 6, 3, 3), 2);
  threads_case(AE_SHAPE(3, 16, 40, 30), AE_SHAPE(5, 16, 3, 3), 1);
  threads_case(AE_SHAPE(9, 8, 20, 18), AE_SHAPE(1, 8, 3, 3), 1); /* direct path, and (data) one input channel */
  threads_case(AE_SHAPE(4, 16, 40, 64), AE_SHAPE(1, 16, 3, 3), 1); /* direct path on images cut into bands */
}
#endif

/* The ops take scratch from the arena and give it back: a no-grad call
 * keeps only its output. */
Test(conv, scratch_is_given_back) {
  ae_tape *t = ae_tape_new(0);
  ae_set_grad_enabled(t, 0);
  ae_val *x = rand_val(t, AE_SHAPE(4, 5, 12, 10), 1, 0), *w = rand_val(t, AE_SHAPE(6, 5, 3, 3), 2, 0);
  ae_val *gy = rand_val(t, AE_SHAPE(4, 6, 10, 8), 3, 0);
  size_t val = (sizeof(ae_val) + 63) / 64 * 64;
  ae_val *gs = rand_val(t, AE_SHAPE(4, 6, 6, 5), 4, 0); /* stride 2: the phase planes and col */
  struct {
    int k;
    int64_t numel;
  } calls[4] = {{0, 4 * 6 * 10 * 8}, {1, 4 * 5 * 12 * 10}, {2, 6 * 5 * 3 * 3}, {3, 4 * 5 * 12 * 10}};
  for (int i = 0; i < 4; i++) {
    size_t before = ae_tape_arena_used(t);
    ae_val *v = calls[i].k == 0   ? ae_conv2d(t, x, w, NULL, 1, 0)
                : calls[i].k == 1 ? ae_conv_transpose2d(t, gy, w, NULL, 1, 0, 0)
                : calls[i].k == 2 ? ae_conv2d_weight_grad(t, x, gy, 3, 3, 1, 1, 0, 0)
                                  : ae_conv_transpose2d(t, gs, w, NULL, 2, 1, 1);
    cr_assert(v, "%s", ae_tape_error(t));
    size_t want = val + ((size_t)calls[i].numel * sizeof(ae_real) + 63) / 64 * 64;
    cr_assert_eq(ae_tape_arena_used(t) - before, want, "call %d kept %zu bytes, its output needs %zu", i,
                 ae_tape_arena_used(t) - before, want);
  }
  ae_tape_free(t);
}

/* ---- gradients (float64) ---- */

#ifdef AE_REAL_DOUBLE
static ae_val *row_fn(ae_tape *t, ae_val *const *in, void *ctx) {
  const op_row *row = ctx;
  return row->build(t, in, row);
}

/* The family's op-table rows: forward vs reference, gradcheck, gradgradcheck. */
Test(conv, table_rows_gradcheck_and_gradgradcheck) {
  int nrows = 0, seen[3] = {0};
  for (const op_rows *f = op_table_first(); f; f = f->next) {
    if (strcmp(f->family, "conv") != 0) continue;
    for (int i = 0; i < f->count; i++) {
      const op_row *row = &f->rows[i];
      ae_tensor *in[OP_ROW_MAX_IN];
      for (int k = 0; k < row->nin; k++) {
        in[k] = ae_tensor_new(row->in_shape[k]);
        fill(in[k]->data, in[k]->numel, 1000 + 10 * (uint64_t)i + (uint64_t)k);
      }
      ae_tensor *ref = ae_tensor_new(row->out_shape);
      row->reference(in, ref, row);
      ae_tape *t = ae_tape_new(0);
      ae_val *vin[OP_ROW_MAX_IN];
      for (int k = 0; k < row->nin; k++) vin[k] = ae_var_tensor(t, in[k]);
      ae_val *y = row->build(t, vin, row);
      cr_assert(y, "%s: %s", row->label, ae_tape_error(t));
      cr_assert(ae_shape_eq(y->t.shape, row->out_shape), "%s: output shape", row->label);
      for (int64_t j = 0; j < ref->numel; j++)
        cr_assert(fabs(y->t.data[j] - ref->data[j]) <= 1e-12 * (1 + fabs(ref->data[j])), "%s: forward element %lld",
                  row->label, (long long)j);
      ae_tape_free(t);
      ae_gc_opts o = ae_gc_defaults();
      ae_gc_report r;
      int ok = ae_gradcheck(row_fn, (void *)row, row->nin, in, &o, &r);
      if (!ok) ae_gc_report_print(stderr, row->label, &r);
      cr_assert(ok, "%s: gradcheck: %s", row->label, r.message);
      ok = ae_gradgradcheck(row_fn, (void *)row, row->nin, in, &o, &r);
      if (!ok) ae_gc_report_print(stderr, row->label, &r);
      cr_assert(ok, "%s: gradgradcheck: %s", row->label, r.message);
      seen[row->op - AE_OP_CONV2D]++;
      nrows++;
      ae_tensor_free(ref);
      for (int k = 0; k < row->nin; k++) ae_tensor_free(in[k]);
    }
  }
  cr_assert(seen[0] && seen[1] && seen[2], "rows: conv2d %d, conv_transpose2d %d, weight_grad %d", seen[0], seen[1],
            seen[2]);
  cr_assert_geq(nrows, 7);
}

/* A decoder-like chain: conv (stride 2) -> tanh -> conv_transpose back up,
 * checked to second order as a whole (the rules compose). */
static ae_val *chain_fn(ae_tape *t, ae_val *const *in, void *ctx) {
  (void)ctx;
  ae_val *h = ae_tanh(t, ae_conv2d(t, in[0], in[1], in[2], 2, 1));
  return ae_conv_transpose2d(t, h, in[3], NULL, 2, 1, 0);
}

Test(conv, chain_gradgradcheck) {
  ae_shape s[4] = {AE_SHAPE(2, 2, 5, 5), AE_SHAPE(3, 2, 3, 3), AE_SHAPE(3), AE_SHAPE(3, 2, 3, 3)};
  ae_tensor *in[4];
  for (int k = 0; k < 4; k++) {
    in[k] = ae_tensor_new(s[k]);
    fill(in[k]->data, in[k]->numel, 500 + (uint64_t)k);
  }
  ae_gc_opts o = ae_gc_defaults();
  ae_gc_report r;
  cr_assert(ae_gradcheck(chain_fn, NULL, 4, in, &o, &r), "gradcheck: %s", r.message);
  cr_assert(ae_gradgradcheck(chain_fn, NULL, 4, in, &o, &r), "gradgradcheck: %s", r.message);
  for (int k = 0; k < 4; k++) ae_tensor_free(in[k]);
}
#endif
