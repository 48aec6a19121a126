/* test_tensor_ops.c: the tensor family (ops/tensor_ops.h): concat, slice,
 * select, stack, pad_axis, repeat, softmax, log_softmax.
 * - every op against the plain-loop references of tests/rows/tensor.c on
 *   odd 3-D and 4-D shapes, along every axis (positive and negative);
 * - concat of the slices of x is x (bitwise, also past 4 pieces, which
 *   records a tree of concats), and a 64-input concat's gradients;
 * - softmax of logits of +-1000: finite, sums to 1; log_softmax finite and
 *   equal to log(softmax) where that is finite; both shift invariant;
 * - errors name the shapes (and the input index), and are sticky;
 * - results independent of the thread count; no heap allocation once warm;
 * - (float64) gradcheck and gradgradcheck of the family's op-table rows,
 *   plus 4-D cases, so this file does not wait on tests/test_ops.c.
 * Built for float64 and float32. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "op_table.h"
#include "random_tensor.h"

#ifdef AE_REAL_DOUBLE
#define FTOL 1e-12
#else
#define FTOL 1e-5 /* reference in double rounded once; the op rounds a few times (u = 6e-8) */
#endif

static const op_row *row_named(const char *label) {
  for (int i = 0; i < op_table_count(); i++)
    if (strcmp(op_table_row(i)->label, label) == 0) return op_table_row(i);
  cr_assert_fail("no op-table row '%s'", label);
  return NULL;
}

/* Runs template row `tmpl` with other inputs and attributes: builds it on a
 * tape (inputs as variables or constants) and compares with the row's
 * reference on an output of shape `want`. tol 0: bitwise. */
static void check_case(const op_row *tmpl, int nin, const ae_shape *shapes, int a0, int a1, int a2, ae_shape want,
                       int as_var, double tol, uint64_t seed) {
  op_row r = *tmpl;
  r.nin = nin;
  r.iattr[0] = a0, r.iattr[1] = a1, r.iattr[2] = a2;
  ae_rng rng;
  ae_rng_init(&rng, seed);
  ae_tensor *x[OP_ROW_MAX_IN];
  ae_tape *t = ae_tape_new(0);
  ae_val *in[OP_ROW_MAX_IN];
  for (int k = 0; k < nin; k++) {
    r.in_shape[k] = shapes[k];
    x[k] = rt_uniform(shapes[k], &rng, -3, 3);
    in[k] = as_var ? ae_var_tensor(t, x[k]) : ae_const_tensor(t, x[k]);
  }
  ae_val *y = r.build(t, in, &r);
  char s1[AE_SHAPE_BUF], s2[AE_SHAPE_BUF];
  cr_assert(y && ae_tape_ok(t), "%s (axis %d, %d, %d): %s", tmpl->label, a0, a1, a2, ae_tape_error(t));
  cr_assert(ae_shape_eq(y->t.shape, want), "%s (axis %d): shape %s, want %s", tmpl->label, a0,
            ae_sstr(y->t.shape, s1), ae_sstr(want, s2));
  ae_tensor *ref = ae_tensor_new(want);
  r.reference(x, ref, &r);
  for (int64_t i = 0; i < ref->numel; i++) {
    double g = y->t.data[i], w = ref->data[i];
    int ok = tol == 0 ? g == w : fabs(g - w) <= tol * (1 + fabs(w));
    if (!ok)
      cr_assert_fail("%s, input %s, attrs (%d, %d, %d)%s: element %lld: got %.17g want %.17g", tmpl->label,
                     ae_sstr(shapes[0], s1), a0, a1, a2, as_var ? "" : " (constants)", (long long)i, g, w);
  }
  ae_tensor_free(ref);
  for (int k = 0; k < nin; k++) ae_tensor_free(x[k]);
  ae_tape_free(t);
}

static const ae_shape *odd_shapes(int *n) {
  static ae_shape s[2];
  s[0] = AE_SHAPE(3, 5, 7);
  s[1] = AE_SHAPE(2, 3, 5, 3);
  *n = 2;
  return s;
}

Test(tensor_ops, concat_every_axis) {
  int ns;
  const ae_shape *sh = odd_shapes(&ns);
  const op_row *tmpl = row_named("concat 3 inputs axis 0");
  for (int q = 0; q < ns; q++)
    for (int a = 0; a < sh[q].ndim; a++)
      for (int npieces = 1; npieces <= 6; npieces += (npieces == 1 ? 2 : 3)) { /* 1, 3, 6 (a tree) */
        ae_shape in[OP_ROW_MAX_IN], want = sh[q];
        want.d[a] = 0;
        for (int k = 0; k < npieces; k++) {
          in[k] = sh[q];
          in[k].d[a] = k % 3 + 1;
          want.d[a] += in[k].d[a];
        }
        for (int as_var = 0; as_var < 2; as_var++) {
          check_case(tmpl, npieces, in, a, 0, 0, want, as_var, 0, 100 + a);
          check_case(tmpl, npieces, in, a - sh[q].ndim, 0, 0, want, as_var, 0, 200 + a);
        }
      }
}

Test(tensor_ops, slice_select_pad_every_axis) {
  int ns;
  const ae_shape *sh = odd_shapes(&ns);
  const op_row *sl = row_named("slice last axis -1"), *se = row_named("select index -1 (slice + reshape)"),
               *pd = row_named("pad_axis axis 0 after only");
  for (int q = 0; q < ns; q++)
    for (int a = 0; a < sh[q].ndim; a++) {
      int nd = sh[q].ndim;
      int64_t d = sh[q].d[a];
      ae_shape w = sh[q];
      w.d[a] = d - 2; /* an inner slice, where the axis has one */
      if (d >= 3) {
        check_case(sl, 1, &sh[q], a, 1, (int)d - 2, w, 1, 0, 300 + a);
        check_case(sl, 1, &sh[q], a - nd, 1, (int)d - 2, w, 0, 0, 310 + a);
      }
      w.d[a] = 1;
      check_case(sl, 1, &sh[q], a, (int)d - 1, 1, w, 1, 0, 320 + a); /* the last element */
      check_case(sl, 1, &sh[q], a, 0, (int)d, sh[q], 1, 0, 330 + a); /* all of it */
      ae_shape r = sh[q]; /* without axis a */
      for (int k = a; k < nd - 1; k++) r.d[k] = sh[q].d[k + 1];
      r.d[nd - 1] = 1, r.ndim = nd - 1;
      check_case(se, 1, &sh[q], a, (int)d / 2, 0, r, 1, 0, 340 + a);
      check_case(se, 1, &sh[q], a - nd, -1, 0, r, 0, 0, 350 + a);
      w = sh[q];
      w.d[a] = d + 3;
      check_case(pd, 1, &sh[q], a, 2, 1, w, 1, 0, 360 + a);
      check_case(pd, 1, &sh[q], a - nd, 0, 3, w, 0, 0, 370 + a);
    }
}

Test(tensor_ops, repeat_and_stack_every_axis) {
  const op_row *rp = row_named("repeat (3,4) axis 1 n 3"), *st = row_named("stack 3 at axis 1 (reshape + concat)");
  ae_shape shapes[2] = {AE_SHAPE(3, 5, 7), AE_SHAPE(5, 3)};
  for (int q = 0; q < 2; q++) {
    ae_shape s = shapes[q];
    for (int a = 0; a <= s.ndim; a++) {
      ae_shape w;
      w.ndim = s.ndim + 1;
      for (int k = 0, j = 0; k < w.ndim; k++) w.d[k] = k == a ? 0 : s.d[j++];
      for (int k = w.ndim; k < AE_MAX_DIMS; k++) w.d[k] = 1;
      w.d[a] = 3;
      check_case(rp, 1, &s, a, 3, 0, w, 1, 0, 400 + a);
      check_case(rp, 1, &s, a - w.ndim, 3, 0, w, 0, 0, 410 + a);
      w.d[a] = 1;
      check_case(rp, 1, &s, a, 1, 0, w, 1, 0, 420 + a);
      ae_shape in[6] = {s, s, s, s, s, s};
      w.d[a] = 6; /* 6 inputs: a tree of concats when recorded */
      check_case(st, 6, in, a, 0, 0, w, 1, 0, 430 + a);
      check_case(st, 6, in, a - w.ndim, 0, 0, w, 0, 0, 440 + a);
    }
  }
}

Test(tensor_ops, softmax_log_softmax_every_axis) {
  int ns;
  const ae_shape *sh = odd_shapes(&ns);
  const op_row *sm = row_named("softmax rows"), *ls = row_named("log_softmax rows");
  for (int q = 0; q < ns; q++)
    for (int a = 0; a < sh[q].ndim; a++) {
      check_case(sm, 1, &sh[q], a, 0, 0, sh[q], 1, FTOL, 500 + a);
      check_case(sm, 1, &sh[q], a - sh[q].ndim, 0, 0, sh[q], 0, FTOL, 510 + a);
      check_case(ls, 1, &sh[q], a, 0, 0, sh[q], 1, FTOL, 520 + a);
      check_case(ls, 1, &sh[q], a - sh[q].ndim, 0, 0, sh[q], 0, FTOL, 530 + a);
    }
  ae_shape one = AE_SHAPE(4, 1, 3); /* an axis of size 1: softmax 1, log_softmax 0 */
  check_case(sm, 1, &one, 1, 0, 0, one, 1, FTOL, 540);
  check_case(ls, 1, &one, 1, 0, 0, one, 1, FTOL, 541);
}

/* concat(slices of x along a) == x, bitwise; pieces of 1 then 2, 1, 2, ... */
Test(tensor_ops, concat_of_slices_is_x) {
  ae_shape shapes[3] = {AE_SHAPE(3, 5, 7), AE_SHAPE(2, 3, 5, 3), AE_SHAPE(11)};
  ae_rng r;
  ae_rng_init(&r, 7);
  for (int q = 0; q < 3; q++)
    for (int grad = 0; grad < 2; grad++)
      for (int a = 0; a < shapes[q].ndim; a++) {
        ae_tensor *xt = rt_uniform(shapes[q], &r, -1, 1);
        ae_tape *t = ae_tape_new(0);
        ae_set_grad_enabled(t, grad);
        ae_val *x = ae_var_tensor(t, xt), *piece[16];
        int n = 0;
        for (int64_t at = 0, len = 1; at < shapes[q].d[a]; at += len, len = len == 1 ? 2 : 1) {
          if (at + len > shapes[q].d[a]) len = shapes[q].d[a] - at;
          piece[n++] = ae_slice(t, x, a, at, len);
        }
        ae_val *y = ae_concat(t, n, piece, a);
        cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
        cr_assert(ae_shape_eq(y->t.shape, xt->shape));
        cr_assert(memcmp(y->t.data, xt->data, (size_t)xt->numel * sizeof(ae_real)) == 0,
                  "concat of %d slices along axis %d differs from x", n, a);
        cr_assert_eq(y->requires_grad, grad);
        ae_tape_free(t);
        ae_tensor_free(xt);
      }
}

/* 64 inputs (a two-level tree of concats when recorded): values, and
 * d sum(w * concat(xs)) / d xs[j] = the j-th slice of w. */
Test(tensor_ops, concat_64_inputs_gradients) {
  enum { N = 64 };
  ae_rng r;
  ae_rng_init(&r, 64);
  ae_tape *t = ae_tape_new(0);
  ae_val *xs[N], *gs[N];
  for (int j = 0; j < N; j++) {
    ae_real v[6];
    ae_rng_uniform(&r, v, 6, -1, 1);
    xs[j] = ae_var(t, AE_SHAPE(2, 1, 3), v);
  }
  ae_real wv[2 * N * 3];
  ae_rng_uniform(&r, wv, 2 * N * 3, -1, 1);
  ae_val *w = ae_const(t, AE_SHAPE(2, N, 3), wv);
  int before = ae_tape_node_count(t);
  ae_val *y = ae_concat(t, N, xs, 1);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  cr_expect_eq(ae_tape_node_count(t) - before, 16 + 4 + 1, "a tree of 21 concat nodes, got %d",
               ae_tape_node_count(t) - before);
  for (int o = 0; o < 2; o++)
    for (int j = 0; j < N; j++)
      for (int i = 0; i < 3; i++) cr_assert_eq(y->t.data[(o * N + j) * 3 + i], xs[j]->t.data[o * 3 + i]);
  ae_val *loss = ae_sum(t, ae_mul(t, y, w));
  cr_assert_eq(ae_grad(t, 1, &loss, NULL, N, xs, gs, 0), 0, "%s", ae_tape_error(t));
  for (int j = 0; j < N; j++)
    for (int o = 0; o < 2; o++)
      for (int i = 0; i < 3; i++) cr_assert_eq(gs[j]->t.data[o * 3 + i], wv[(o * N + j) * 3 + i]);
  /* Without recording: one pass, same values, no node. */
  ae_set_grad_enabled(t, 0);
  before = ae_tape_node_count(t);
  ae_val *y2 = ae_concat(t, N, xs, 1);
  cr_assert_eq(ae_tape_node_count(t), before);
  cr_assert(memcmp(y2->t.data, y->t.data, (size_t)y->t.numel * sizeof(ae_real)) == 0);
  ae_tape_free(t);
}

/* Logits of +-1000 (rows with one winner, ties, all equal, all -1000). */
Test(tensor_ops, softmax_extreme_logits) {
  enum { R = 6, C = 9 };
  ae_real x[R * C];
  ae_rng r;
  ae_rng_init(&r, 1000);
  for (int i = 0; i < R * C; i++) x[i] = (ae_real)((ae_rng_u64(&r) & 1) ? 1000 : -1000);
  for (int j = 0; j < C; j++) x[3 * C + j] = 1000, x[4 * C + j] = -1000; /* all equal rows */
  x[5 * C + 2] = 1000, x[5 * C + 7] = 1000;
  ae_tape *t = ae_tape_new(0);
  ae_val *xv = ae_const(t, AE_SHAPE(R, C), x);
  for (int a = 0; a < 2; a++) {
    ae_val *p = ae_softmax(t, xv, a), *lp = ae_log_softmax(t, xv, a);
    cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
    int n = a == 0 ? R : C, m = a == 0 ? C : R;
    for (int o = 0; o < m; o++) {
      double sum = 0;
      for (int k = 0; k < n; k++) {
        int i = a == 0 ? k * C + o : o * C + k;
        double pi = p->t.data[i], li = lp->t.data[i];
        cr_assert(isfinite(pi) && pi >= 0 && pi <= 1, "softmax axis %d element %d = %g", a, i, pi);
        cr_assert(isfinite(li) && li <= 0, "log_softmax axis %d element %d = %g", a, i, li);
        if (pi > 0)
          cr_assert(fabs(li - log(pi)) <= 1e-5 * (1 + fabs(li)), "log_softmax %.17g vs log(softmax) %.17g at %d",
                    li, log(pi), i);
        else
          cr_assert(li < -80, "softmax underflowed to 0 but log_softmax is %g", li);
        sum += pi;
      }
      cr_assert(fabs(sum - 1) <= 8 * AE_REAL_EPS * n, "axis %d slice %d sums to %.17g", a, o, sum);
    }
  }
  ae_tape_free(t);
}

/* log_softmax = log(softmax) on ordinary inputs of every axis. */
Test(tensor_ops, log_softmax_is_log_of_softmax) {
  ae_shape s = AE_SHAPE(2, 3, 5, 3);
  ae_rng r;
  ae_rng_init(&r, 11);
  ae_tensor *xt = rt_uniform(s, &r, -20, 20);
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_const_tensor(t, xt);
  for (int a = 0; a < 4; a++) {
    ae_val *p = ae_softmax(t, x, a), *lp = ae_log_softmax(t, x, a);
    for (int64_t i = 0; i < xt->numel; i++) {
      double pi = p->t.data[i], li = lp->t.data[i];
      if (pi > 0 && isfinite(log(pi)))
        cr_assert(fabs(li - log(pi)) <= 10 * FTOL * (1 + fabs(li)), "axis %d at %lld: %.17g vs %.17g", a,
                  (long long)i, li, log(pi));
    }
  }
  ae_tape_free(t);
  ae_tensor_free(xt);
}

/* softmax(x + c) == softmax(x) bitwise when x + c is exact (x in eighths),
 * since both subtract their own max exactly; log_softmax within the
 * rounding of (max + c) + log(sum), a few ulp of |c| + |max| + |y|. */
Test(tensor_ops, shift_invariance) {
  ae_shape s = AE_SHAPE(3, 5, 7);
  ae_real xv[105];
  ae_rng r;
  ae_rng_init(&r, 5);
  for (int i = 0; i < 105; i++) xv[i] = (ae_real)((double)(int64_t)(ae_rng_u64(&r) % 161) / 8 - 10);
  const double shifts[3] = {37.5, -200, 1000};
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_const(t, s, xv);
  for (int a = 0; a < 3; a++)
    for (int c = 0; c < 3; c++) {
      ae_val *xc = ae_add_scalar(t, x, (ae_real)shifts[c]);
      ae_val *p0 = ae_softmax(t, x, a), *p1 = ae_softmax(t, xc, a);
      ae_val *l0 = ae_log_softmax(t, x, a), *l1 = ae_log_softmax(t, xc, a);
      cr_assert(ae_tape_ok(t));
      cr_assert(memcmp(p0->t.data, p1->t.data, sizeof xv) == 0, "softmax axis %d changes under a shift of %g", a,
                shifts[c]);
      for (int i = 0; i < 105; i++)
        cr_assert(fabs(l0->t.data[i] - l1->t.data[i]) <= 4 * AE_REAL_EPS * (20 + fabs(shifts[c]) + fabs(l0->t.data[i])),
                  "log_softmax axis %d shift %g at %d: %.17g vs %.17g", a, shifts[c], i, (double)l0->t.data[i],
                  (double)l1->t.data[i]);
    }
  ae_tape_free(t);
}

static int has(const char *msg, const char *part) { return strstr(msg, part) != NULL; }

#define EXPECT_ERR(expr, code, ...)                                                                     \
  do {                                                                                                 \
    ae_tape *t_ = ae_tape_new(1 << 20);                                                                \
    ae_tape *t = t_;                                                                                   \
    ae_val *x23 = ae_full(t, AE_SHAPE(2, 3), 1), *x24 = ae_full(t, AE_SHAPE(2, 4), 1);                 \
    ae_val *x4d = ae_full(t, AE_SHAPE(2, 2, 2, 2), 1);                                                  \
    (void)x23, (void)x24, (void)x4d;                                                                   \
    ae_val *r_ = (expr);                                                                               \
    cr_assert_null(r_, "%s returned a value", #expr);                                                  \
    cr_assert_eq(ae_tape_status(t), code, "%s: status %d (%s)", #expr, ae_tape_status(t), ae_tape_error(t)); \
    const char *parts_[] = {__VA_ARGS__};                                                              \
    for (size_t k_ = 0; k_ < sizeof parts_ / sizeof parts_[0]; k_++)                                   \
      cr_assert(has(ae_tape_error(t), parts_[k_]), "%s: message '%s' lacks '%s'", #expr, ae_tape_error(t), \
                parts_[k_]);                                                                           \
    cr_assert_null(ae_softmax(t, x23, 0), "errors are sticky");                                        \
    ae_tape_free(t_);                                                                                  \
  } while (0)

Test(tensor_ops, errors_name_shapes) {
  EXPECT_ERR(ae_concat(t, 2, (ae_val *[]){x23, x24}, 0), AE_ERR_SHAPE, "concat", "xs[1]", "(2,4)", "(2,3)");
  EXPECT_ERR(ae_concat(t, 3, (ae_val *[]){x23, x23, x4d}, 1), AE_ERR_SHAPE, "xs[2]", "(2,2,2,2)", "(2,3)");
  EXPECT_ERR(ae_concat(t, 0, (ae_val *[]){x23}, 0), AE_ERR_ARG, "concat");
  EXPECT_ERR(ae_concat(t, 2, (ae_val *[]){x23, NULL}, 0), AE_ERR_ARG, "concat", "nil");
  EXPECT_ERR(ae_concat(t, 2, (ae_val *[]){x23, x24}, 2), AE_ERR_ARG, "axis 2", "(2,3)");
  EXPECT_ERR(ae_slice(t, x24, 1, 2, 3), AE_ERR_ARG, "slice", "[2, 5)", "(2,4)");
  EXPECT_ERR(ae_slice(t, x24, 1, -1, 2), AE_ERR_ARG, "slice", "(2,4)");
  EXPECT_ERR(ae_slice(t, x24, 1, 0, 0), AE_ERR_ARG, "slice", "(2,4)");
  EXPECT_ERR(ae_slice(t, x24, -3, 0, 1), AE_ERR_ARG, "axis -3", "(2,4)");
  EXPECT_ERR(ae_select(t, x24, 1, 4), AE_ERR_ARG, "select", "index 4", "(2,4)");
  EXPECT_ERR(ae_select(t, x24, 1, -5), AE_ERR_ARG, "select", "(2,4)");
  EXPECT_ERR(ae_pad_axis(t, x24, 0, -1, 0), AE_ERR_ARG, "pad_axis", "(2,4)");
  EXPECT_ERR(ae_repeat(t, x4d, 0, 2), AE_ERR_SHAPE, "repeat", "(2,2,2,2)");
  EXPECT_ERR(ae_repeat(t, x23, 3, 2), AE_ERR_ARG, "repeat", "axis 3", "(2,3)");
  EXPECT_ERR(ae_repeat(t, x23, 0, 0), AE_ERR_ARG, "repeat", "(2,3)");
  EXPECT_ERR(ae_stack(t, 3, (ae_val *[]){x23, x23, x24}, 0), AE_ERR_SHAPE, "stack", "xs[2]", "(2,4)", "(2,3)");
  EXPECT_ERR(ae_stack(t, 2, (ae_val *[]){x4d, x4d}, 0), AE_ERR_SHAPE, "stack", "(2,2,2,2)");
  EXPECT_ERR(ae_softmax(t, x23, 2), AE_ERR_ARG, "softmax", "axis 2", "(2,3)");
  EXPECT_ERR(ae_log_softmax(t, x23, -3), AE_ERR_ARG, "log_softmax", "axis -3", "(2,3)");
  EXPECT_ERR(ae_softmax(t, ae_sum(t, x23), 0), AE_ERR_ARG, "softmax", "()");
}

/* Large values take the parallel paths: same bits with 1 and 4 threads. */
Test(tensor_ops, thread_count_independent) {
  ae_shape s = AE_SHAPE(96, 5, 80); /* 38400 elements, above AE_PAR_MIN_ELEMS */
  ae_rng r;
  ae_rng_init(&r, 3);
  ae_tensor *xt = rt_uniform(s, &r, -4, 4);
  ae_real *out[2][8];
  int old = ae_get_threads();
  ae_tape *tp[2];
  for (int run = 0; run < 2; run++) {
    ae_set_threads(run ? 4 : 1);
    ae_tape *t = tp[run] = ae_tape_new(0);
    ae_val *x = ae_const_tensor(t, xt);
    ae_val *y[8] = {ae_softmax(t, x, 0),          ae_softmax(t, x, 1),          ae_log_softmax(t, x, 2),
                    ae_concat(t, 2, (ae_val *[]){x, x}, 1), ae_slice(t, x, 2, 3, 70), ae_pad_axis(t, x, 1, 2, 1),
                    ae_repeat(t, x, 1, 2),        ae_log_softmax(t, x, 0)};
    cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
    for (int k = 0; k < 8; k++) out[run][k] = y[k]->t.data;
    if (run)
      for (int k = 0; k < 8; k++)
        cr_assert(memcmp(out[0][k], out[1][k], (size_t)y[k]->t.numel * sizeof(ae_real)) == 0,
                  "result %d differs between 1 and 4 threads", k);
  }
  ae_set_threads(old);
  ae_tape_free(tp[0]);
  ae_tape_free(tp[1]);
  ae_tensor_free(xt);
}

static void all_ops_step(ae_tape *t, ae_val *x) {
  ae_val *parts[6] = {x, x, x, x, x, x};
  ae_val *y = ae_concat(t, 6, parts, 1);
  y = ae_add(t, ae_slice(t, y, 1, 2, 4), ae_select(t, ae_stack(t, 6, parts, 0), 0, 1));
  y = ae_softmax(t, ae_pad_axis(t, ae_repeat(t, y, 0, 2), 2, 1, 1), -1);
  ae_val *loss = ae_sum(t, ae_log_softmax(t, y, 1));
  ae_val *g = ae_grad1(t, loss, NULL, x, 1);
  ae_grad1(t, ae_sum(t, ae_square(t, g)), NULL, x, 0);
}

Test(tensor_ops, no_heap_allocation_once_warm) {
  ae_real xv[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  ae_tape *t = ae_tape_new(0);
  all_ops_step(t, ae_var(t, AE_SHAPE(3, 4), xv));
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  ae_tape_reset(t);
  int64_t before = ae_heap_allocs();
  all_ops_step(t, ae_var(t, AE_SHAPE(3, 4), xv));
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  cr_assert_eq(ae_heap_allocs(), before, "%lld heap allocations in a warm step", (long long)(ae_heap_allocs() - before));
  ae_tape_free(t);
}

#ifdef AE_REAL_DOUBLE
static ae_val *row_fn(ae_tape *t, ae_val *const *in, void *ctx) {
  const op_row *row = ctx;
  return row->build(t, in, row);
}

static void gradchecks(const op_row *row) {
  ae_rng r;
  ae_rng_init(&r, 99);
  ae_tensor *x[OP_ROW_MAX_IN];
  for (int k = 0; k < row->nin; k++) x[k] = rt_uniform(row->in_shape[k], &r, row->lo, row->hi);
  ae_gc_opts o = ae_gc_defaults();
  o.nondiff = row->nondiff;
  ae_gc_report rep;
  int ok = ae_gradcheck(row_fn, (void *)row, row->nin, x, &o, &rep);
  if (!ok) ae_gc_report_print(stderr, row->label, &rep);
  cr_expect(ok, "%s: gradcheck: %s", row->label, rep.message);
  ok = ae_gradgradcheck(row_fn, (void *)row, row->nin, x, &o, &rep);
  if (!ok) ae_gc_report_print(stderr, row->label, &rep);
  cr_expect(ok, "%s: gradgradcheck: %s", row->label, rep.message);
  for (int k = 0; k < row->nin; k++) ae_tensor_free(x[k]);
}

/* Every gradchecked row of this family, and 4-D variants. */
Test(tensor_ops, gradcheck_and_gradgradcheck) {
  int n = 0;
  for (int i = 0; i < op_table_count(); i++)
    if (strcmp(op_table_family(i), "tensor") == 0 && !(op_table_row(i)->flags & OP_ROW_FWD_ONLY)) {
      gradchecks(op_table_row(i));
      n++;
    }
  cr_assert_geq(n, 6, "only %d tensor rows", n);
  op_row r = *row_named("softmax 3-D middle axis");
  r.in_shape[0] = AE_SHAPE(2, 2, 3, 2), r.iattr[0] = 2;
  gradchecks(&r);
  r = *row_named("log_softmax rows");
  r.in_shape[0] = AE_SHAPE(2, 2, 2, 3), r.iattr[0] = -1;
  gradchecks(&r);
  r = *row_named("repeat (3,4) axis 1 n 3");
  r.in_shape[0] = AE_SHAPE(2, 1, 3), r.iattr[0] = 2, r.iattr[1] = 2;
  gradchecks(&r);
  r = *row_named("slice 3-D middle axis");
  r.in_shape[0] = AE_SHAPE(2, 1, 2, 4), r.iattr[0] = 3, r.iattr[1] = 1, r.iattr[2] = 2;
  gradchecks(&r);
  r = *row_named("pad_axis 3-D middle axis");
  r.in_shape[0] = AE_SHAPE(1, 2, 2, 2), r.iattr[0] = 0, r.iattr[1] = 1, r.iattr[2] = 1;
  gradchecks(&r);
  r = *row_named("concat 6 inputs last axis (tree of concats)");
  for (int k = 0; k < 6; k++) r.in_shape[k] = AE_SHAPE(1, 2, k % 2 + 1, 2);
  r.iattr[0] = 2;
  gradchecks(&r);
}
#endif
