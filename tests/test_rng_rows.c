/* test_rng_rows.c: ae_rng_set_rows (base/rng.h). A row slice of a batch
 * draw equals, bitwise, the same rows of the whole draw, for uniform,
 * normal and Bernoulli draws, for slices starting anywhere (odd offsets
 * split a Box-Muller pair), for rows of odd and even widths, across
 * several Philox batches, and the counter advances by the whole draw, so
 * a data-parallel run's noise does not depend on how the batch is split.
 * Every split of a batch into consecutive slices rebuilds the whole draw.
 * A draw whose length is not a multiple of the rows is drawn whole.
 * Built for float32 and float64. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"

enum { UNIFORM, NORMAL, BERNOULLI, NKINDS };

static void draw(ae_rng *r, int kind, ae_real *out, int64_t n) {
  if (kind == UNIFORM) ae_rng_uniform(r, out, n, -2, 5);
  else if (kind == NORMAL) ae_rng_normal(r, out, n, (ae_real)0.5, 3);
  else ae_rng_bernoulli(r, out, n, 0.3);
}

static ae_rng at(uint64_t counter) {
  ae_rng r;
  ae_rng_init(&r, 0xC0FFEEull);
  r.counter = counter;
  return r;
}

Test(rng_rows, a_slice_equals_the_same_rows_of_the_whole_draw) {
  static const int64_t widths[] = {1, 3, 7, 784, 1001};
  static const int64_t totals[] = {1, 2, 5, 64};
  static const uint64_t starts[] = {0, 3, 0xFFFFFFFFull - 100};
  for (int k = 0; k < NKINDS; k++)
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
      for (size_t t = 0; t < sizeof totals / sizeof totals[0]; t++)
        for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++) {
          int64_t per = widths[w], total = totals[t];
          ae_real *whole = malloc(sizeof(ae_real) * (size_t)(per * total));
          ae_real *part = malloc(sizeof(ae_real) * (size_t)(per * total));
          ae_rng r = at(starts[s]);
          draw(&r, k, whole, per * total);
          uint64_t after = r.counter;
          for (int64_t row0 = 0; row0 < total; row0 += 1 + total / 3)
            for (int64_t rows = 1; row0 + rows <= total; rows += 1 + total / 4) {
              ae_rng q = at(starts[s]);
              cr_assert_eq(ae_rng_set_rows(&q, row0, rows, total), 0);
              draw(&q, k, part, per * rows);
              cr_assert_eq(q.counter, after, "kind %d: the counter advances by the whole draw", k);
              cr_assert(memcmp(part, whole + row0 * per, sizeof(ae_real) * (size_t)(per * rows)) == 0,
                        "kind %d width %lld rows [%lld, +%lld) of %lld, start %llx: the slice differs from the whole draw",
                        k, (long long)per, (long long)row0, (long long)rows, (long long)total,
                        (unsigned long long)starts[s]);
            }
          free(whole);
          free(part);
        }
}

Test(rng_rows, any_split_into_slices_rebuilds_the_whole_draw_draw_after_draw) {
  int64_t per = 257, total = 10, cuts[] = {0, 3, 4, 9, 10};
  for (int k = 0; k < NKINDS; k++) {
    ae_real whole[2][257 * 10], got[2][257 * 10];
    ae_rng r = at(11);
    for (int d = 0; d < 2; d++) draw(&r, k, whole[d], per * total);
    for (int c = 0; c + 1 < 5; c++) {
      ae_rng q = at(11);
      ae_rng_set_rows(&q, cuts[c], cuts[c + 1] - cuts[c], total);
      for (int d = 0; d < 2; d++) draw(&q, k, got[d] + cuts[c] * per, per * (cuts[c + 1] - cuts[c]));
      cr_assert_eq(q.counter, r.counter);
    }
    cr_assert(memcmp(got, whole, sizeof whole) == 0, "kind %d: the slices differ from the whole draws", k);
  }
}

Test(rng_rows, a_draw_not_a_multiple_of_the_rows_is_drawn_whole_and_init_clears_rows) {
  ae_real a[13], b[13];
  ae_rng r = at(5), q = at(5);
  cr_assert_eq(ae_rng_set_rows(&q, 1, 2, 4), 0);
  ae_rng_normal(&r, a, 13, 0, 1);
  ae_rng_normal(&q, b, 13, 0, 1);
  cr_assert(memcmp(a, b, sizeof a) == 0);
  cr_assert_eq(q.counter, r.counter);
  ae_rng_init(&q, 5);
  cr_assert_eq(q.total_rows, 0);
  cr_assert_eq(ae_rng_set_rows(&q, 3, 2, 4), -1);
  cr_assert_eq(ae_rng_set_rows(&q, -1, 1, 4), -1);
  cr_assert_eq(ae_rng_set_rows(&q, 0, 0, 4), -1);
  cr_assert_eq(ae_rng_set_rows(&q, 0, 0, 0), 0);
}
