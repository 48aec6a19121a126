/* custom_op.c: the README's custom-op example. A top-k mask op registered
 * from outside the library, with its own forward kernel and a backward
 * rule written in ops, checked to second order in float64 (libaezoo64). */
#include <stdio.h>
#include "aezoo.h"

typedef struct { int64_t k; } topk_attrs;   /* the op's attribute blob */

/* keep[i] = 1 when x[i] is among the k largest of its row (equal values: the lower index first), else 0. */
static void topk_keep(const ae_tensor *x, int64_t k, ae_real *keep) {
  int64_t n = x->shape.d[1];
  for (int64_t i = 0; i < x->numel; i++) {
    const ae_real *row = x->data + i / n * n;
    int64_t c = i % n, above = 0;
    for (int64_t j = 0; j < n; j++) above += row[j] > row[c] || (row[j] == row[c] && j < c);
    keep[i] = above < k;
  }
}
static int shape(const ae_op_args *a, ae_shape *out, char *why, size_t len) {   /* out: x's shape */
  int64_t k = ((const topk_attrs *)a->attrs)->k;
  if (a->in[0]->shape.ndim == 2 && k >= 0 && k <= a->in[0]->shape.d[1]) return 0;
  return snprintf(why, len, "needs a (B, n) matrix and 0 <= k <= n, got k = %lld", (long long)k), 1;
}
static int forward(const ae_op_args *a, ae_tensor *out, char *why, size_t len) {
  topk_keep(a->in[0], ((const topk_attrs *)a->attrs)->k, out->data);
  for (int64_t i = 0; i < out->numel; i++) out->data[i] *= a->in[0]->data[i];
  return 0;
}
/* dy/dx is the mask, a constant of x away from ties: gx = mask * g, written in ops. */
static void backward(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *mask = ae_full(t, n->in[0]->t.shape, 0);
  if (!mask) return;
  topk_keep(&n->in[0]->t, ((const topk_attrs *)ae_op_attrs(n))->k, mask->t.data);
  gin[0] = ae_mul(t, g, mask);
}

static int topk_op;   /* the id ae_op_register gave */
static ae_val *my_topk_mask(ae_tape *t, ae_val *x, int64_t k) {
  topk_attrs a = {k};
  return ae_op_call(t, topk_op, &x, 1, &a, sizeof a);
}
static ae_val *sparse_energy(ae_tape *t, ae_val *const *in, void *ctx) {   /* topk(x)^2: nonzero 2nd derivative */
  return ae_square(t, my_topk_mask(t, in[0], 3));
}

int main(void) {
  ae_op_def def = {.name = "my_topk_mask", .nin = 1, .attrs_size = sizeof(topk_attrs), .shape = shape,
                   .forward = forward, .backward = backward};
  if ((topk_op = ae_op_register(&def)) < 0) return fprintf(stderr, "%s\n", ae_last_error()), 1;
  ae_rng rng;
  ae_rng_init(&rng, 7);
  ae_tensor *X = ae_tensor_new(AE_SHAPE(4, 10));
  ae_rng_uniform(&rng, X->data, X->numel, -1, 1);   /* distinct values: away from ties */
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_var_tensor(t, X);
  ae_val *diff = ae_sum(t, ae_abs(t, ae_sub(t, my_topk_mask(t, x, 3), ae_topk_mask(t, x, 3))));
  printf("%s (op %d): |mine - built-in| = %g\n", ae_op_name(topk_op), topk_op, ae_item(diff));
  ae_gc_report r1, r2;
  int ok = ae_gradcheck(sparse_energy, NULL, 1, &X, NULL, &r1) & ae_gradgradcheck(sparse_energy, NULL, 1, &X, NULL, &r2);
  ae_gc_report_print(stdout, "gradcheck", &r1);
  ae_gc_report_print(stdout, "gradgradcheck", &r2);
  ok &= ae_tape_ok(t) && ae_item(diff) == 0;
  ae_tape_free(t);
  ae_tensor_free(X);
  return ok ? 0 : 1;
}
