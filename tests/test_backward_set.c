/* test_backward_set.c: ae__backward_set (grad/backward_internal.h), the
 * trainer's backward that sets the listed parameters' gradients instead of
 * adding to them. On a loss that binds one parameter twice (its gradient
 * is the sum of both uses), reaches a second, and leaves a third listed
 * parameter and an unlisted one out:
 *   - listed and reached: bitwise a zeroed gradient plus ae_backward, over
 *     stale values;
 *   - listed and not reached: zeros;
 *   - unlisted and reached: added to, as ae_backward does;
 *   - a loss that depends on no parameter zeroes every listed gradient.
 * Hidden internal: links the static library. Built for float64. */
#include <criterion/criterion.h>
#include <string.h>

#include "aezoo.h"
#include "grad/backward_internal.h"

enum { N = 6 };

/* loss = sum((W x) * (W x)) + sum(b * W x) + sum(c * c), W bound twice,
 * b and c reached, u never used. */
static ae_val *loss_of(ae_tape *t, ae_param *w, ae_param *b, ae_param *c) {
  ae_real xs[N] = {0.5, -1, 2, 0.25, -0.75, 1.5};
  ae_val *x = ae_const(t, AE_SHAPE(N, 1), xs);
  ae_val *w1 = ae_param_bind(t, w), *w2 = ae_param_bind(t, w);
  ae_val *h1 = ae_matmul(t, w1, x, 0, 0), *h2 = ae_matmul(t, w2, x, 0, 0);
  ae_val *l = ae_add(t, ae_sum(t, ae_mul(t, h1, h2)), ae_sum(t, ae_mul(t, ae_param_bind(t, b), h1)));
  ae_val *cv = ae_param_bind(t, c);
  return ae_add(t, l, ae_sum(t, ae_mul(t, cv, cv)));
}

static void fill(ae_param *p, double base) {
  for (int64_t i = 0; i < p->value.numel; i++) p->value.data[i] = (ae_real)(base + 0.1 * (double)i);
}
static void set_grad(ae_param *p, double v) {
  for (int64_t i = 0; i < p->grad.numel; i++) p->grad.data[i] = (ae_real)v;
}

Test(backward_set, sets_listed_zeroes_unreached_adds_unlisted) {
  ae_param *w = ae_param_new("w", AE_SHAPE(N, N)), *b = ae_param_new("b", AE_SHAPE(N, 1));
  ae_param *c = ae_param_new("c", AE_SHAPE(3)), *u = ae_param_new("u", AE_SHAPE(4));
  fill(w, -0.3), fill(b, 0.2), fill(c, 1), fill(u, 5);
  ae_tape *t = ae_tape_new(0);
  /* the reference: zeroed gradients, then ae_backward */
  set_grad(w, 0), set_grad(b, 0), set_grad(c, 0);
  cr_assert_eq(ae_backward(t, loss_of(t, w, b, c)), 0, "%s", ae_tape_error(t));
  ae_real gw[N * N], gb[N], gc[3];
  memcpy(gw, w->grad.data, sizeof gw), memcpy(gb, b->grad.data, sizeof gb), memcpy(gc, c->grad.data, sizeof gc);
  /* set mode over stale buffers: w, b and u listed, c not */
  ae_tape_reset(t);
  set_grad(w, 7.5), set_grad(b, -3), set_grad(u, 9), set_grad(c, 1);
  ae_param *list[3] = {w, b, u};
  cr_assert_eq(ae__backward_set(t, loss_of(t, w, b, c), list, 3), 0, "%s", ae_tape_error(t));
  cr_assert(memcmp(w->grad.data, gw, sizeof gw) == 0, "w (bound twice): not the zero_grad + backward gradient");
  cr_assert(memcmp(b->grad.data, gb, sizeof gb) == 0, "b: not the zero_grad + backward gradient");
  for (int i = 0; i < 4; i++) cr_assert_eq(u->grad.data[i], 0, "u (listed, unreached): %g", (double)u->grad.data[i]);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(c->grad.data[i], 1 + gc[i], "c (unlisted): %g, want 1 + %g", (double)c->grad.data[i], (double)gc[i]);
  /* a loss that depends on no parameter: every listed gradient zeroed */
  ae_tape_reset(t);
  set_grad(w, 7.5), set_grad(b, -3), set_grad(u, 9);
  ae_val *k = ae_sum(t, ae_full(t, AE_SHAPE(2), 1));
  cr_assert_eq(ae__backward_set(t, k, list, 3), 0, "%s", ae_tape_error(t));
  for (int j = 0; j < 3; j++)
    for (int64_t i = 0; i < list[j]->grad.numel; i++) cr_assert_eq(list[j]->grad.data[i], 0, "%s", list[j]->name);
  ae_tape_free(t);
  ae_param_free(w), ae_param_free(b), ae_param_free(c), ae_param_free(u);
}
