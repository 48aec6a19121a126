/* test_pool.c: the pool family (ops/pool.h) against the plain loops of
 * tests/pool_ref.h on odd shapes (non-square, stride != kernel, padding,
 * batch 1 and 3): forward values and argmax indices (first max on ties,
 * padding ignored on all-negative inputs), max_unpool2d(max_pool2d(x))
 * keeping exactly the maxima (the 2x2 stride-2 kernels' own cases are in
 * test_pool_2x2.c), relu_max_pool2d against max_pool2d(relu(x)) bitwise,
 * the adjoint identities of each linear pair,
 * gradients of <op(x), w> against reference scatters, error messages,
 * thread-count independence, no heap allocation in a warm step, and (in
 * float64) gradcheck + gradgradcheck over this family's op-table rows
 * (tests/rows/pool.c), so the family is checked without tests/test_ops.c.
 * Built for float64 (1e-12) and float32 (relative 1e-5). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "op_table.h"
#include "pool_ref.h"
#include "pool_test_util.h"

#ifdef AE_REAL_DOUBLE
#define TOL 1e-12
#else
#define TOL 1e-5
#endif

static int close_to(double got, double want, double tol) { return fabs(got - want) <= tol * (1.0 + fabs(want)); }

typedef struct cfg {
  int n, c, h, w, k, s, p;
} cfg;

/* Odd shapes: non-square, stride below / equal to / above the kernel, padding 0..2, batch 1 and 3. */
static const cfg CFGS[] = {
    {1, 1, 7, 5, 3, 2, 1}, {3, 2, 6, 9, 2, 2, 0}, {3, 2, 5, 8, 3, 1, 1}, {1, 3, 4, 4, 4, 4, 2},
    {3, 1, 9, 7, 2, 3, 0}, {1, 1, 1, 1, 1, 1, 0}, {3, 1, 5, 6, 5, 1, 2}, {1, 2, 3, 10, 2, 3, 1}, {2, 3, 7, 5, 2, 2, 0},
    {1, 2, 5, 70, 2, 2, 0}, {2, 1, 4, 65, 2, 2, 0},
};
#define NCFG (int)(sizeof CFGS / sizeof CFGS[0])

static void expect_close(const ae_real *got, const ae_real *want, int64_t n, double tol, const char *what, int ci) {
  for (int64_t i = 0; i < n; i++)
    if (!close_to(got[i], want[i], tol)) {
      cr_expect(0, "%s, config %d: element %lld got %.17g want %.17g", what, ci, (long long)i, (double)got[i],
                (double)want[i]);
      return;
    }
}

/* ---- forward against the references ------------------------------------- */

Test(pool, forward_matches_reference) {
  ae_tape *t = ae_tape_new(0);
  ae_rng r;
  ae_rng_init(&r, 11);
  for (int ci = 0; ci < NCFG; ci++) {
    const cfg *c = &CFGS[ci];
    pool_ref_geom g = pool_ref_geom_make((int64_t)c->n * c->c, c->h, c->w, c->k, c->s, c->p);
    for (int neg = 0; neg < 2; neg++) { /* all-negative inputs: padding must not win */
      ae_tape_reset(t);
      ae_val *x = rand_val(t, AE_SHAPE(c->n, c->c, c->h, c->w), &r, neg ? -3 : -1, neg ? -1 : 1, 0), *idx = NULL;
      ae_val *y = ae_max_pool2d(t, x, c->k, c->s, c->p, &idx);
      ae_val *a = ae_avg_pool2d(t, x, c->k, c->s, c->p);
      cr_assert(y && idx && a, "%s", ae_tape_error(t));
      cr_expect(ae_shape_eq(y->t.shape, AE_SHAPE(c->n, c->c, g.oh, g.ow)) && ae_shape_eq(idx->t.shape, y->t.shape) &&
                ae_shape_eq(a->t.shape, y->t.shape));
      int64_t no = y->t.numel;
      ae_real *ry = scratch(no), *ri = scratch(no), *ra = scratch(no);
      max_pool2d_ref(&g, x->t.data, ry, ri);
      avg_pool2d_ref(&g, x->t.data, ra);
      expect_exact(y->t.data, ry, no, "max_pool2d values", ci);
      expect_exact(idx->t.data, ri, no, "max_pool2d indices", ci);
      expect_close(a->t.data, ra, no, TOL, "avg_pool2d", ci);
      free(ry), free(ri), free(ra);
    }
    /* avg_pool2d_backward: g of the pooled shape, spread back */
    ae_val *gy = rand_val(t, AE_SHAPE(c->n, c->c, g.oh, g.ow), &r, -1, 1, 0);
    ae_val *gx = ae_avg_pool2d_backward(t, gy, c->h, c->w, c->k, c->s, c->p);
    cr_assert(gx, "%s", ae_tape_error(t));
    ae_real *rg = scratch(gx->t.numel);
    avg_pool2d_backward_ref(&g, gy->t.data, rg);
    expect_close(gx->t.data, rg, gx->t.numel, TOL, "avg_pool2d_backward", ci);
    free(rg);
    /* upsample by 1..3, its block sum, global average */
    for (int f = 1; f <= 3; f++) {
      ae_val *x = rand_val(t, AE_SHAPE(c->n, c->c, c->h, c->w), &r, -1, 1, 0);
      ae_val *u = ae_upsample_nearest(t, x, f);
      cr_assert(u, "%s", ae_tape_error(t));
      cr_expect(ae_shape_eq(u->t.shape, AE_SHAPE(c->n, c->c, c->h * f, c->w * f)));
      ae_real *ru = scratch(u->t.numel), *rb = scratch(x->t.numel);
      upsample_ref(g.planes, c->h, c->w, f, x->t.data, ru);
      expect_exact(u->t.data, ru, u->t.numel, "upsample_nearest", ci);
      ae_val *b = ae_upsample_nearest_backward(t, u, f); /* block sum of a copy: f^2 x */
      cr_assert(b, "%s", ae_tape_error(t));
      upsample_backward_ref(g.planes, c->h, c->w, f, u->t.data, rb);
      expect_close(b->t.data, rb, x->t.numel, TOL, "upsample_nearest_backward", ci);
      for (int64_t i = 0; i < x->t.numel; i++) cr_expect(close_to(b->t.data[i], (double)f * f * x->t.data[i], TOL));
      if (f == 2) { /* the zoo's factor, bit for bit: each block's (top pair) + (bottom pair) */
        ae_val *gu = ae_const(t, u->t.shape, NULL); /* full mantissas: sums of uniform draws are often exact */
        cr_assert(gu, "%s", ae_tape_error(t));
        for (int64_t i = 0; i < gu->t.numel; i++) gu->t.data[i] = (ae_real)(3 * sin(0.7 * (double)i + ci));
        ae_val *bg = ae_upsample_nearest_backward(t, gu, 2);
        cr_assert(bg, "%s", ae_tape_error(t));
        const int64_t w2 = 2 * (int64_t)c->w;
        for (int64_t q = 0; q < x->t.numel; q++) {
          const ae_real *s0 = gu->t.data + q / c->w * 2 * w2 + q % c->w * 2, *s1 = s0 + w2;
          rb[q] = (s0[0] + s0[1]) + (s1[0] + s1[1]);
        }
        expect_exact(bg->t.data, rb, x->t.numel, "upsample_nearest_backward, factor 2", ci);
      }
      free(ru), free(rb);
    }
    ae_val *x = rand_val(t, AE_SHAPE(c->n, c->c, c->h, c->w), &r, -1, 1, 0);
    ae_val *m = ae_global_avg_pool(t, x);
    cr_assert(m, "%s", ae_tape_error(t));
    cr_expect(ae_shape_eq(m->t.shape, AE_SHAPE(c->n, c->c)));
    ae_real *rm = scratch(g.planes);
    global_avg_ref(g.planes, (int64_t)c->h * c->w, x->t.data, rm);
    expect_close(m->t.data, rm, g.planes, TOL, "global_avg_pool", ci);
    free(rm);
  }
  ae_tape_free(t);
}

/* The test: max_unpool2d(max_pool2d(x)) keeps exactly the maxima
 * (at their positions, bit for bit) and is zero everywhere else. */
Test(pool, unpool_of_pool_keeps_exactly_the_maxima) {
  ae_tape *t = ae_tape_new(0);
  ae_rng r;
  ae_rng_init(&r, 12);
  for (int ci = 0; ci < NCFG; ci++) {
    const cfg *c = &CFGS[ci];
    pool_ref_geom g = pool_ref_geom_make((int64_t)c->n * c->c, c->h, c->w, c->k, c->s, c->p);
    ae_tape_reset(t);
    ae_val *x = rand_val(t, AE_SHAPE(c->n, c->c, c->h, c->w), &r, 0.5, 2, 0), *idx = NULL; /* no zeros */
    ae_val *y = ae_max_pool2d(t, x, c->k, c->s, c->p, &idx);
    ae_val *u = ae_max_unpool2d(t, y, idx, c->h, c->w);
    cr_assert(u, "%s", ae_tape_error(t));
    cr_expect(ae_shape_eq(u->t.shape, x->t.shape));
    int64_t no = g.planes * g.oh * g.ow, nx = x->t.numel, plane = (int64_t)c->h * c->w;
    ae_real *ry = scratch(no), *ri = scratch(no), *want = scratch(nx);
    max_pool2d_ref(&g, x->t.data, ry, ri);
    for (int64_t o = 0; o < no; o++) { /* the argmax set, from the reference */
      int64_t at = o / (g.oh * g.ow) * plane + (int64_t)ri[o];
      want[at] = x->t.data[at];
    }
    expect_exact(u->t.data, want, nx, "max_unpool2d(max_pool2d(x))", ci);
    int64_t kept = 0;
    for (int64_t i = 0; i < nx; i++) kept += want[i] != 0;
    cr_expect(kept >= (int64_t)g.planes, "config %d: no maxima kept", ci);
    free(ry), free(ri), free(want);
  }
  ae_tape_free(t);
}

/* max_unpool2d's winner table is scratch, and so is its mask when no
 * index repeats (2x2 pooling, stride 2): recording the op leaves its
 * value and node on the arena, not 8 bytes per output element more. */
Test(pool, unpool_keeps_no_scratch) {
  ae_tape *t = ae_tape_new(0);
  ae_rng r;
  ae_rng_init(&r, 13);
  ae_val *x = rand_val(t, AE_SHAPE(2, 4, 16, 16), &r, 0.5, 2, 1), *idx = NULL;
  ae_val *y = ae_max_pool2d(t, x, 2, 2, 0, &idx);
  size_t before = ae_tape_arena_used(t);
  ae_val *u = ae_max_unpool2d(t, y, idx, 16, 16);
  cr_assert(u && u->requires_grad, "%s", ae_tape_error(t));
  size_t grew = ae_tape_arena_used(t) - before, value = (size_t)u->t.numel * sizeof(ae_real);
  cr_expect(grew < value + 1024, "max_unpool2d kept %zu bytes for a %zu-byte value", grew, value);
  ae_tape_free(t);
}

Test(pool, ties_pick_the_first_max_in_scan_order) {
  ae_tape *t = ae_tape_new(0);
  /* one 4x4 plane, all equal: each 2x2 window (stride 2) picks its top-left */
  ae_val *x = ae_full(t, AE_SHAPE(1, 1, 4, 4), 1), *idx = NULL;
  ae_val *y = ae_max_pool2d(t, x, 2, 2, 0, &idx);
  cr_assert(y && idx, "%s", ae_tape_error(t));
  const double want[4] = {0, 2, 8, 10};
  for (int i = 0; i < 4; i++)
    cr_expect(idx->t.data[i] == want[i], "window %d: index %g want %g", i, (double)idx->t.data[i], want[i]);
  /* a tie inside one window, not at its start: [[5, 7], [7, 3]] -> the first 7 (position 1) */
  ae_val *x2 = ae_const(t, AE_SHAPE(1, 1, 2, 2), (const ae_real[]){5, 7, 7, 3});
  ae_val *y2 = ae_max_pool2d(t, x2, 2, 1, 0, &idx);
  cr_assert(y2 && idx);
  cr_expect(y2->t.data[0] == 7 && idx->t.data[0] == 1, "got %g at %g", (double)y2->t.data[0], (double)idx->t.data[0]);
  /* with padding 1 and k 3 on a 1x2 row of -5s: -inf padding never wins, first real element does */
  ae_val *x3 = ae_full(t, AE_SHAPE(1, 1, 1, 2), -5);
  ae_val *y3 = ae_max_pool2d(t, x3, 3, 1, 1, &idx);
  cr_assert(y3 && idx);
  cr_expect(y3->t.data[0] == -5 && y3->t.data[1] == -5 && idx->t.data[0] == 0 && idx->t.data[1] == 0);
  /* NaN propagates as in PyTorch */
  ae_val *x4 = ae_const(t, AE_SHAPE(1, 1, 1, 3), (const ae_real[]){1, NAN, 2});
  ae_val *y4 = ae_max_pool2d(t, x4, 3, 1, 1, &idx);
  cr_assert(y4 && idx);
  for (int i = 0; i < 3; i++) cr_expect(isnan(y4->t.data[i]) && idx->t.data[i] == 1, "output %d", i);
  /* indices are constants */
  cr_expect(idx->node == -1 && !idx->requires_grad);
  ae_tape_free(t);
}

/* ---- relu_max_pool2d is max_pool2d(relu(x)), bitwise ---------------------- */

/* The fused op and the composite on the same x: values, indices and the
 * gradient of <y, w> (first order, and with create_graph) byte for byte.
 * Inputs: uniform in [-1, 1] (windows of all non-positive values, whose
 * composite winner is the first position, not the largest value), a few
 * NaNs (relu(NaN) = 0), and exact zeros and ties. */
static void relu_pool_case(const cfg *c, int ci, int threads) {
  int old = ae_get_threads();
  ae_set_threads(threads);
  ae_real *res[2][4];
  int64_t len[4];
  for (int fused = 0; fused < 2; fused++) {
    ae_tape *t = ae_tape_new(0);
    ae_rng r;
    ae_rng_init(&r, 40 + (uint64_t)ci);
    ae_val *x = rand_val(t, AE_SHAPE(c->n, c->c, c->h, c->w), &r, -1, 1, 1), *idx = NULL;
    for (int64_t i = 0; i < x->t.numel; i += 7) x->t.data[i] = (ae_real)(i % 3 == 0 ? NAN : i % 3 == 1 ? 0 : -0.5);
    ae_val *y = fused ? ae_relu_max_pool2d(t, x, c->k, c->s, c->p, &idx)
                      : ae_max_pool2d(t, ae_relu(t, x), c->k, c->s, c->p, &idx);
    cr_assert(y && idx, "config %d: %s", ci, ae_tape_error(t));
    ae_val *w = rand_val(t, y->t.shape, &r, -1, 1, 0);
    ae_val *outs[4] = {y, idx, ae_grad1(t, y, w, x, 0), ae_grad1(t, y, w, x, 1)};
    for (int k = 0; k < 4; k++) {
      cr_assert(outs[k], "config %d output %d: %s", ci, k, ae_tape_error(t));
      len[k] = outs[k]->t.numel;
      res[fused][k] = malloc(sizeof(ae_real) * (size_t)len[k]);
      memcpy(res[fused][k], outs[k]->t.data, sizeof(ae_real) * (size_t)len[k]);
    }
    ae_tape_free(t);
  }
  ae_set_threads(old);
  static const char *what[4] = {"values", "indices", "gradient", "gradient (create_graph)"};
  for (int k = 0; k < 4; k++) {
    cr_expect(memcmp(res[0][k], res[1][k], sizeof(ae_real) * (size_t)len[k]) == 0,
              "config %d, %d threads: relu_max_pool2d's %s differ from max_pool2d(relu(x))'s", ci, threads, what[k]);
    free(res[0][k]), free(res[1][k]);
  }
}

Test(pool, relu_max_pool2d_is_the_composite_bitwise) {
  for (int ci = 0; ci < NCFG; ci++) relu_pool_case(&CFGS[ci], ci, 1);
  /* above the parallel thresholds, the zoo's 2x2 windows */
  const cfg big = {4, 16, 28, 28, 2, 2, 0};
  relu_pool_case(&big, NCFG, 1);
  relu_pool_case(&big, NCFG, 2);
}

/* The composite's winners where a window's values are all <= 0: its first
 * position, where relu(max_pool2d(x)) would take the largest value's. */
Test(pool, relu_max_pool2d_ties_at_zero_pick_the_first_position) {
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_const(t, AE_SHAPE(1, 1, 2, 4), (const ae_real[]){-3, -1, 2, -1, -2, -0.5, 5, 5}), *idx = NULL;
  ae_val *y = ae_relu_max_pool2d(t, x, 2, 2, 0, &idx);
  cr_assert(y && idx, "%s", ae_tape_error(t));
  cr_expect(y->t.data[0] == 0 && idx->t.data[0] == 0, "window 0: %g at %g", (double)y->t.data[0],
            (double)idx->t.data[0]);
  cr_expect(y->t.data[1] == 5 && idx->t.data[1] == 6, "window 1: %g at %g", (double)y->t.data[1],
            (double)idx->t.data[1]);
  ae_tape_free(t);
}

/* ---- linear pairs are adjoints: <A x, g> = <x, A^T g> --------------------- */

static double dot(const ae_val *a, const ae_val *b) {
  double s = 0;
  for (int64_t i = 0; i < a->t.numel; i++) s += (double)a->t.data[i] * b->t.data[i];
  return s;
}
static double absdot(const ae_val *a, const ae_val *b) {
  double s = 0;
  for (int64_t i = 0; i < a->t.numel; i++) s += fabs((double)a->t.data[i] * b->t.data[i]);
  return s;
}
#define EXPECT_ADJOINT(l, r, scale, what, ci) \
  cr_expect(fabs((l) - (r)) <= TOL * (1 + (scale)), "%s, config %d: %.17g vs %.17g", what, ci, l, r)

Test(pool, linear_pairs_are_adjoints) {
  ae_tape *t = ae_tape_new(0);
  ae_rng r;
  ae_rng_init(&r, 13);
  for (int ci = 0; ci < NCFG; ci++) {
    const cfg *c = &CFGS[ci];
    ae_tape_reset(t);
    ae_shape xs = AE_SHAPE(c->n, c->c, c->h, c->w);
    ae_val *x = rand_val(t, xs, &r, -1, 1, 0), *idx = NULL;
    ae_val *ax = ae_avg_pool2d(t, x, c->k, c->s, c->p);
    ae_val *g = rand_val(t, ax->t.shape, &r, -1, 1, 0);
    ae_val *atg = ae_avg_pool2d_backward(t, g, c->h, c->w, c->k, c->s, c->p);
    cr_assert(atg, "%s", ae_tape_error(t));
    double l = dot(ax, g), rr = dot(x, atg);
    EXPECT_ADJOINT(l, rr, absdot(ax, g), "avg_pool2d", ci);
    /* gather2d and the scatter-add, at max_pool2d's (overlapping) indices */
    ae_max_pool2d(t, rand_val(t, xs, &r, -1, 1, 0), c->k, c->s, c->p, &idx);
    ae_val *gx = ae_gather2d(t, x, idx), *sg = ae_max_pool2d_backward(t, g, idx, c->h, c->w);
    cr_assert(gx && sg, "%s", ae_tape_error(t));
    l = dot(gx, g), rr = dot(x, sg);
    EXPECT_ADJOINT(l, rr, absdot(gx, g), "gather2d / max_pool2d_backward", ci);
    for (int f = 2; f <= 3; f++) {
      ae_val *u = ae_upsample_nearest(t, x, f), *gu = rand_val(t, u->t.shape, &r, -1, 1, 0);
      ae_val *b = ae_upsample_nearest_backward(t, gu, f);
      cr_assert(b, "%s", ae_tape_error(t));
      l = dot(u, gu), rr = dot(x, b);
      EXPECT_ADJOINT(l, rr, absdot(u, gu), "upsample_nearest", ci);
    }
  }
  ae_tape_free(t);
}

/* ---- gradients of <op(x), w> against reference scatters (f32 too) ------- */

Test(pool, gradients_match_reference_scatters) {
  ae_tape *t = ae_tape_new(0);
  ae_rng r;
  ae_rng_init(&r, 14);
  for (int ci = 0; ci < NCFG; ci++) {
    const cfg *c = &CFGS[ci];
    pool_ref_geom g = pool_ref_geom_make((int64_t)c->n * c->c, c->h, c->w, c->k, c->s, c->p);
    ae_tape_reset(t);
    ae_val *x = rand_val(t, AE_SHAPE(c->n, c->c, c->h, c->w), &r, -1, 1, 1), *idx = NULL;
    int64_t nx = x->t.numel, no = g.planes * g.oh * g.ow;
    ae_real *want = scratch(nx), *ry = scratch(no), *ri = scratch(no);
    /* max_pool2d: w added at each window's argmax (windows may share one) */
    ae_val *y = ae_max_pool2d(t, x, c->k, c->s, c->p, &idx);
    ae_val *w = rand_val(t, y->t.shape, &r, -1, 1, 0);
    max_pool2d_ref(&g, x->t.data, ry, ri);
    scatter_ref(g.planes, g.oh * g.ow, (int64_t)c->h * c->w, w->t.data, ri, 1, want);
    expect_close(grad_of(t, y, w, x)->t.data, want, nx, TOL, "d max_pool2d", ci);
    /* avg_pool2d */
    y = ae_avg_pool2d(t, x, c->k, c->s, c->p);
    avg_pool2d_backward_ref(&g, w->t.data, want);
    expect_close(grad_of(t, y, w, x)->t.data, want, nx, TOL, "d avg_pool2d", ci);
    /* upsample x2 */
    y = ae_upsample_nearest(t, x, 2);
    ae_val *wu = rand_val(t, y->t.shape, &r, -1, 1, 0);
    upsample_backward_ref(g.planes, c->h, c->w, 2, wu->t.data, want);
    expect_close(grad_of(t, y, wu, x)->t.data, want, nx, TOL, "d upsample_nearest", ci);
    /* max_unpool2d of x at repeated indices into a 3x2 plane: only the last writer gets w */
    ae_val *ix = ae_const(t, x->t.shape, NULL);
    for (int64_t i = 0; i < nx; i++) ix->t.data[i] = (ae_real)(ae_rng_u64(&r) % 6);
    y = ae_max_unpool2d(t, x, ix, 3, 2);
    cr_assert(y, "%s", ae_tape_error(t));
    ae_val *w6 = rand_val(t, y->t.shape, &r, -1, 1, 0);
    int64_t plane = (int64_t)c->h * c->w;
    for (int64_t i = 0; i < nx; i++) {
      int64_t q = i / plane, at = (int64_t)ix->t.data[i], last = -1;
      for (int64_t j = q * plane; j < (q + 1) * plane; j++)
        if ((int64_t)ix->t.data[j] == at) last = j;
      want[i] = last == i ? w6->t.data[q * 6 + at] : 0;
    }
    expect_exact(grad_of(t, y, w6, x)->t.data, want, nx, "d max_unpool2d (repeats)", ci);
    free(want), free(ry), free(ri);
  }
  ae_tape_free(t);
}

/* ---- errors --------------------------------------------------------------- */

static void expect_error(ae_tape *t, ae_val *v, ae_status code, const char *a, const char *b, const char *what) {
  cr_expect(v == NULL, "%s: returned a value", what);
  cr_expect(ae_tape_status(t) == code, "%s: status %d want %d (%s)", what, ae_tape_status(t), code, ae_tape_error(t));
  cr_expect(strstr(ae_tape_error(t), a) && (!b || strstr(ae_tape_error(t), b)), "%s: message '%s' lacks '%s' / '%s'",
            what, ae_tape_error(t), a, b ? b : "");
  ae_tape_reset(t);
}

Test(pool, errors_name_the_op_and_shapes) {
  ae_tape *t = ae_tape_new(0);
  ae_val *idx = (ae_val *)1;
  expect_error(t, ae_max_pool2d(t, ae_full(t, AE_SHAPE(2, 5, 6), 0), 2, 2, 0, &idx), AE_ERR_SHAPE, "max_pool2d",
               "(2,5,6)", "3-D max_pool2d");
  cr_expect(idx == NULL, "indices not cleared on error");
  expect_error(t, ae_max_pool2d(t, ae_full(t, AE_SHAPE(1, 1, 2, 3), 0), 5, 1, 1, NULL), AE_ERR_SHAPE, "larger",
               "(1,1,2,3)", "kernel larger than the padded input");
  expect_error(t, ae_avg_pool2d(t, ae_full(t, AE_SHAPE(1, 1, 4, 4), 0), 2, 0, 0), AE_ERR_ARG, "avg_pool2d", "stride 0",
               "stride 0");
  expect_error(t, ae_avg_pool2d(t, ae_full(t, AE_SHAPE(1, 1, 4, 4), 0), 3, 1, 2), AE_ERR_ARG, "padding 2", NULL,
               "padding above k/2");
  expect_error(t, ae_upsample_nearest(t, ae_full(t, AE_SHAPE(1, 1, 2, 2), 0), 0), AE_ERR_ARG, "upsample_nearest",
               "factor 0", "factor 0");
  expect_error(t, ae_upsample_nearest(t, ae_full(t, AE_SHAPE(4, 4), 0), 2), AE_ERR_SHAPE, "(4,4)", NULL,
               "2-D upsample");
  expect_error(t, ae_upsample_nearest_backward(t, ae_full(t, AE_SHAPE(1, 1, 4, 5), 0), 2), AE_ERR_SHAPE,
               "(1,1,4,5)", "multiples", "block sum of a non-multiple");
  expect_error(t, ae_global_avg_pool(t, ae_full(t, AE_SHAPE(3, 4, 5), 0)), AE_ERR_SHAPE, "global_avg_pool",
               "(3,4,5)", "3-D global_avg_pool");
  expect_error(t, ae_avg_pool2d_backward(t, ae_full(t, AE_SHAPE(1, 1, 2, 2), 0), 5, 6, 3, 2, 1), AE_ERR_SHAPE,
               "(1,1,2,2)", "(1,1,3,3)", "avg_pool2d_backward shape");
  /* indices: out of range (naming the first bad one), non-integer, negative, wrong shape */
  ae_val *x = ae_full(t, AE_SHAPE(1, 2, 2, 2), 1);
  ae_val *bad = ae_const(t, AE_SHAPE(1, 2, 2, 2), (const ae_real[]){0, 1, 2, 3, 4, 9, 12, 1});
  expect_error(t, ae_max_unpool2d(t, x, bad, 3, 4), AE_ERR_ARG, "element 6 is 12", "[0, 12)", "index out of range");
  x = ae_full(t, AE_SHAPE(1, 1, 1, 2), 1);
  expect_error(t, ae_max_unpool2d(t, x, ae_const(t, AE_SHAPE(1, 1, 1, 2), (const ae_real[]){0, 1.5}), 2, 2),
               AE_ERR_ARG, "element 1 is 1.5", NULL, "fractional index");
  x = ae_full(t, AE_SHAPE(1, 1, 1, 2), 1);
  expect_error(t, ae_max_pool2d_backward(t, x, ae_const(t, AE_SHAPE(1, 1, 1, 2), (const ae_real[]){-1, 0}), 2, 2),
               AE_ERR_ARG, "max_pool2d_backward", "element 0 is -1", "negative index");
  x = ae_full(t, AE_SHAPE(1, 1, 1, 2), 1);
  expect_error(t, ae_max_unpool2d(t, x, ae_full(t, AE_SHAPE(1, 1, 2, 1), 0), 2, 2), AE_ERR_SHAPE, "(1,1,2,1)",
               "(1,1,1,2)", "indices of another shape");
  x = ae_full(t, AE_SHAPE(1, 1, 1, 2), 1);
  expect_error(t, ae_max_unpool2d(t, x, ae_full(t, AE_SHAPE(1, 1, 1, 2), 0), 0, 2), AE_ERR_ARG, "0x2", NULL,
               "empty output");
  x = ae_full(t, AE_SHAPE(1, 1, 2, 2), 1);
  expect_error(t, ae_gather2d(t, x, ae_full(t, AE_SHAPE(1, 1, 1, 1), 4)), AE_ERR_ARG, "gather2d", "2x2 plane",
               "gather out of range");
  /* sticky: once an error is set, pool ops do nothing */
  ae_avg_pool2d(t, ae_full(t, AE_SHAPE(1, 1, 4, 4), 0), 2, 0, 0);
  cr_expect(ae_upsample_nearest(t, ae_full(t, AE_SHAPE(1, 1, 2, 2), 0), 2) == NULL);
  cr_expect(strstr(ae_tape_error(t), "avg_pool2d"));
  ae_tape_free(t);
}

/* ---- parallel kernels: same bits whatever the thread count ---------------- */

Test(pool, results_do_not_depend_on_thread_count) {
  ae_shape xs = AE_SHAPE(2, 16, 96, 96); /* 294912 elements: above the parallel thresholds */
  ae_real *res[2][7];
  int64_t len[7];
  int old = ae_get_threads();
  for (int run = 0; run < 2; run++) {
    ae_set_threads(run ? 4 : 1);
    ae_tape *t = ae_tape_new(0);
    ae_rng r;
    ae_rng_init(&r, 15);
    ae_val *x = rand_val(t, xs, &r, -1, 1, 1), *idx = NULL;
    ae_val *outs[7];
    outs[0] = ae_max_pool2d(t, x, 3, 2, 1, &idx);
    outs[1] = ae_avg_pool2d(t, x, 3, 2, 1);
    outs[2] = ae_upsample_nearest(t, x, 2);
    ae_val *w = rand_val(t, outs[0]->t.shape, &r, -1, 1, 0);
    outs[3] = ae_grad1(t, outs[0], w, x, 0);  /* scatter-add */
    outs[4] = ae_grad1(t, outs[1], w, x, 0);  /* avg_pool2d_backward */
    ae_val *wu = rand_val(t, outs[2]->t.shape, &r, -1, 1, 0);
    outs[5] = ae_grad1(t, outs[2], wu, x, 0); /* block sum */
    ae_val *ix = ae_const(t, xs, NULL);
    for (int64_t i = 0; i < ix->t.numel; i++) ix->t.data[i] = (ae_real)(ae_rng_u64(&r) % 100);
    outs[6] = ae_grad1(t, ae_max_unpool2d(t, x, ix, 10, 10), ae_full(t, AE_SHAPE(2, 16, 10, 10), 1), x, 0);
    for (int k = 0; k < 7; k++) {
      cr_assert(outs[k], "output %d: %s", k, ae_tape_error(t));
      len[k] = outs[k]->t.numel;
      res[run][k] = malloc(sizeof(ae_real) * (size_t)len[k]);
      memcpy(res[run][k], outs[k]->t.data, sizeof(ae_real) * (size_t)len[k]);
    }
    ae_tape_free(t);
  }
  ae_set_threads(old);
  for (int k = 0; k < 7; k++) {
    cr_expect(memcmp(res[0][k], res[1][k], sizeof(ae_real) * (size_t)len[k]) == 0, "output %d differs", k);
    free(res[0][k]), free(res[1][k]);
  }
}

Test(pool, warm_step_allocates_nothing) {
  ae_tape *t = ae_tape_new(0);
  ae_rng r;
  ae_rng_init(&r, 16);
  int64_t before = 0;
  for (int step = 0; step < 3; step++) {
    if (step == 2) before = ae_heap_allocs();
    ae_tape_reset(t);
    ae_val *x = rand_val(t, AE_SHAPE(2, 3, 8, 6), &r, -1, 1, 1), *idx = NULL;
    ae_val *p = ae_max_pool2d(t, x, 2, 2, 0, &idx);
    ae_val *u = ae_max_unpool2d(t, p, idx, 8, 6);
    ae_val *a = ae_avg_pool2d(t, ae_upsample_nearest(t, u, 2), 3, 2, 1);
    ae_val *loss = ae_sum(t, ae_square(t, ae_global_avg_pool(t, a)));
    ae_val *g = ae_grad1(t, loss, NULL, x, 1);
    ae_val *gg = ae_grad1(t, ae_sum(t, ae_square(t, g)), NULL, x, 0); /* second order too */
    cr_assert(gg, "%s", ae_tape_error(t));
  }
  cr_expect(ae_heap_allocs() == before, "a warm step made %lld heap allocations",
            (long long)(ae_heap_allocs() - before));
  ae_tape_free(t);
}

/* ---- this family's op-table rows: forward, gradcheck, gradgradcheck ------ */

static uint64_t label_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static void make_inputs(const op_row *row, ae_tensor **x) {
  ae_rng r;
  ae_rng_init(&r, row->seed ? row->seed : label_hash(row->label));
  for (int k = 0; k < row->nin; k++) {
    x[k] = ae_tensor_new(row->in_shape[k]);
    cr_assert(x[k]);
    ae_rng_uniform(&r, x[k]->data, x[k]->numel, (ae_real)row->lo, (ae_real)row->hi);
  }
  if (row->init) row->init(x, &r, row);
}

#ifdef AE_REAL_DOUBLE
static ae_val *row_fn(ae_tape *t, ae_val *const *in, void *ctx) {
  const op_row *row = ctx;
  return row->build(t, in, row);
}
#endif

Test(pool, op_table_rows) {
  int n = op_table_count();
#ifdef AE_REAL_DOUBLE
  int checked = 0;
#endif
  cr_assert(n >= 8, "only %d rows registered", n);
  for (int i = 0; i < n; i++) {
    const op_row *row = op_table_row(i);
    ae_tensor *x[OP_ROW_MAX_IN];
    make_inputs(row, x);
    ae_tape *t = ae_tape_new(0);
    ae_val *in[OP_ROW_MAX_IN];
    for (int k = 0; k < row->nin; k++)
      in[k] = row->nondiff & (1u << k) ? ae_const_tensor(t, x[k]) : ae_var_tensor(t, x[k]);
    ae_val *y = row->build(t, in, row);
    cr_assert(y, "%s: %s", row->label, ae_tape_error(t));
    ae_tensor *ref = ae_tensor_new(row->out_shape);
    cr_assert(ref && ae_shape_eq(y->t.shape, row->out_shape), "%s: output shape", row->label);
    row->reference(x, ref, row);
    expect_close(y->t.data, ref->data, ref->numel, TOL, row->label, i);
    ae_tensor_free(ref);
    ae_tape_free(t);
#ifdef AE_REAL_DOUBLE
    if (!(row->flags & OP_ROW_FWD_ONLY)) {
      ae_gc_opts o = ae_gc_defaults();
      o.nondiff = row->nondiff;
      ae_gc_report rep;
      int ok = ae_gradcheck(row_fn, (void *)row, row->nin, x, &o, &rep);
      cr_expect(ok, "%s: gradcheck: %s", row->label, rep.message);
      ok = ok && ae_gradgradcheck(row_fn, (void *)row, row->nin, x, &o, &rep);
      cr_expect(ok, "%s: gradgradcheck: %s", row->label, rep.message);
      checked += ok;
    }
#endif
    for (int k = 0; k < row->nin; k++) ae_tensor_free(x[k]);
  }
#ifdef AE_REAL_DOUBLE
  cr_expect(checked >= 12, "only %d rows passed both checks", checked);
#endif
}
