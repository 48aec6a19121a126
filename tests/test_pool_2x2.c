/* test_pool_2x2.c: the 2x2 stride-2 plane kernels (ops/pool_2x2.c), the
 * zoo's pooling, against written-out references: the pooling's scan rule
 * on ties, NaN and infinities (rows long enough for several AVX-512
 * chunks), max_unpool2d's and gather2d's window-local fast path and their
 * fallback to the general scatter, and relu commuting with the pooling
 * bitwise (conv-dae's order). Built into the pool tests, float64 and
 * float32. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "pool_ref.h"
#include "pool_test_util.h"

/* The 2x2 stride-2 kernel (its own vectorised path) against PyTorch's scan
 * rule written out: the first maximum in scan order, NaN wins (the last
 * NaN of a window), -inf windows keep their first position. Values from
 * {-inf, -1, 0, 1, NaN} make ties and NaNs common; odd sizes leave an
 * unused last row and column; rows of 35 and 32 windows take several of
 * the AVX-512 path's vector chunks. */
Test(pool, max_2x2_stride_2_ties_nan_and_infinities) {
  static const int64_t sizes[][2] = {{6, 8}, {7, 9}, {2, 2}, {3, 33}, {28, 28}, {5, 70}, {4, 65}};
  const ae_real vals[5] = {-INFINITY, -1, 0, 1, NAN};
  ae_tape *t = ae_tape_new(0);
  uint64_t lcg = 12345;
  for (int si = 0; si < 7; si++) {
    int64_t h = sizes[si][0], w = sizes[si][1], oh = h / 2, ow = w / 2, planes = 6;
    ae_tape_reset(t);
    ae_val *x = ae_const(t, AE_SHAPE(2, 3, h, w), NULL), *idx = NULL;
    cr_assert(x);
    for (int64_t i = 0; i < x->t.numel; i++) {
      lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
      x->t.data[i] = vals[(lcg >> 33) % 5];
    }
    ae_val *y = ae_max_pool2d(t, x, 2, 2, 0, &idx);
    cr_assert(y && idx, "%s", ae_tape_error(t));
    for (int64_t q = 0; q < planes; q++)
      for (int64_t r = 0; r < oh; r++)
        for (int64_t c = 0; c < ow; c++) {
          const ae_real *xs = x->t.data + q * h * w;
          ae_real best = -INFINITY;
          int64_t at = 2 * r * w + 2 * c;
          for (int64_t i = 2 * r; i < 2 * r + 2; i++)
            for (int64_t j = 2 * c; j < 2 * c + 2; j++)
              if (xs[i * w + j] > best || isnan(xs[i * w + j])) best = xs[i * w + j], at = i * w + j;
          int64_t o = (q * oh + r) * ow + c;
          cr_assert((isnan(best) ? isnan(y->t.data[o]) : y->t.data[o] == best) && idx->t.data[o] == (ae_real)at,
                    "%lldx%lld plane %lld window (%lld, %lld): got %g at %g, want %g at %lld", (long long)h,
                    (long long)w, (long long)q, (long long)r, (long long)c, (double)y->t.data[o],
                    (double)idx->t.data[o], (double)best, (long long)at);
        }
  }
  ae_tape_free(t);
}

/* max_unpool2d into the plane a 2x2 stride-2 pooling came from takes a
 * compare-and-write pass when every index lies in its own window (pool.c's
 * unpool_2x2), else the general scatter. Both against the reference
 * scatter, bit for bit: window-local indices drawn at random (not from a
 * pooling), odd output sizes, then one index moved to another window (a
 * repeat: the last writer wins, and the gradient reaches it alone), then
 * an index that is no position at all (the error names it). */
Test(pool, unpool_2x2_fast_path_and_fallback) {
  static const int64_t sizes[][2] = {{14, 14}, {7, 9}, {28, 70}, {2, 3}};
  ae_tape *t = ae_tape_new(0);
  ae_rng r;
  ae_rng_init(&r, 21);
  for (int si = 0; si < 4; si++)
    for (int stray = 0; stray < 2; stray++) {
      int64_t H = sizes[si][0], W = sizes[si][1], h = H / 2, w = W / 2, planes = 6, nin = h * w, nout = H * W;
      ae_tape_reset(t);
      ae_val *x = rand_val(t, AE_SHAPE(2, 3, h, w), &r, 0.5, 2, 1), *idx = ae_const(t, x->t.shape, NULL);
      cr_assert(idx);
      for (int64_t q = 0; q < planes; q++)
        for (int64_t i = 0; i < nin; i++) {
          int64_t rr = i / w, cc = i % w, k = (int64_t)(ae_rng_u64(&r) % 4);
          idx->t.data[q * nin + i] = (ae_real)((2 * rr + k / 2) * W + 2 * cc + k % 2);
        }
      if (stray) idx->t.data[nin + nin - 1] = idx->t.data[nin]; /* plane 1: the last window repeats the first's */
      ae_val *u = ae_max_unpool2d(t, x, idx, (int)H, (int)W);
      cr_assert(u, "%s", ae_tape_error(t));
      ae_real *want = scratch(planes * nout);
      scatter_ref(planes, nin, nout, x->t.data, idx->t.data, 0, want);
      expect_exact(u->t.data, want, planes * nout, stray ? "unpool, a repeated index" : "unpool, window-local", si);
      /* the gradient: g at each input's position, 0 for an overwritten one */
      ae_val *g = rand_val(t, u->t.shape, &r, -1, 1, 0);
      ae_real *gw = scratch(x->t.numel);
      for (int64_t i = 0; i < x->t.numel; i++) {
        int64_t q = i / nin, at = (int64_t)idx->t.data[i], last = -1;
        for (int64_t j = q * nin; j < (q + 1) * nin; j++)
          if ((int64_t)idx->t.data[j] == at) last = j;
        gw[i] = last == i ? g->t.data[q * nout + at] : 0;
      }
      expect_exact(grad_of(t, u, g, x)->t.data, gw, x->t.numel, "d unpool", si);
      free(want), free(gw);
    }
  ae_tape_reset(t);
  ae_val *x = ae_full(t, AE_SHAPE(1, 1, 2, 2), 1), *idx = ae_full(t, AE_SHAPE(1, 1, 2, 2), 0);
  idx->t.data[3] = (ae_real)16.5;
  cr_expect(ae_max_unpool2d(t, x, idx, 4, 4) == NULL && strstr(ae_tape_error(t), "16.5"), "%s", ae_tape_error(t));
  ae_tape_free(t);
}

/* conv-dae computes pool(relu(conv)) as relu(pool(conv)) (zoo/conv_dae.c):
 * for 2x2 stride-2 pooling the two orders give bitwise the same values and
 * the same gradient, on inputs with ties, zeros, windows whose maximum is
 * negative or zero, and odd sizes. */
Test(pool, relu_commutes_with_max_pool_2x2) {
  ae_tape *t = ae_tape_new(0);
  ae_rng r;
  ae_rng_init(&r, 23);
  ae_shape s = AE_SHAPE(2, 3, 9, 7);
  ae_real *vals[2][2];
  for (int order = 0; order < 2; order++) {
    ae_tape_reset(t);
    ae_rng_init(&r, 23);
    ae_val *x = rand_val(t, s, &r, -1, 1, 1);
    for (int64_t i = 0; i < x->t.numel; i++) /* a coarse grid: many ties, exact zeros, all-negative windows */
      x->t.data[i] = (ae_real)(floor(4 * (double)x->t.data[i]) / 4 - (i % 5 == 0 ? 1 : 0));
    ae_val *y = order ? ae_relu(t, ae_max_pool2d(t, x, 2, 2, 0, NULL)) : ae_max_pool2d(t, ae_relu(t, x), 2, 2, 0, NULL);
    ae_val *w = rand_val(t, y->t.shape, &r, -1, 1, 0);
    ae_val *gx = grad_of(t, y, w, x);
    vals[order][0] = scratch(y->t.numel), vals[order][1] = scratch(x->t.numel);
    memcpy(vals[order][0], y->t.data, sizeof(ae_real) * (size_t)y->t.numel);
    memcpy(vals[order][1], gx->t.data, sizeof(ae_real) * (size_t)x->t.numel);
  }
  int64_t ny = 2 * 3 * 4 * 3, nx = ae_shape_numel(s);
  cr_assert(memcmp(vals[0][0], vals[1][0], sizeof(ae_real) * (size_t)ny) == 0, "values differ");
  cr_assert(memcmp(vals[0][1], vals[1][1], sizeof(ae_real) * (size_t)nx) == 0, "gradients differ");
  for (int o = 0; o < 2; o++) free(vals[o][0]), free(vals[o][1]);
  ae_tape_free(t);
}
