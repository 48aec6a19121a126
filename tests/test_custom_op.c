/* test_custom_op.c: ops registered at run time (ops/custom_op.h). A
 * registered top-k mask equals the built-in ae_topk_mask (ties included);
 * gradcheck and gradgradcheck pass for it and for a two-input op whose
 * gradient the engine must sum over a broadcast; a wrong backward rule is
 * caught by gradcheck; registration and recording errors name the op, word
 * for word; no-grad and anomaly modes behave as for built-in ops; the
 * attribute blob is copied; concurrent registration gives distinct ids.
 * Criterion runs each test in its own process, so each registers afresh. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "aezoo.h"
#include "random_tensor.h"

/* Node index accessor (autograd/tape.c), to see what was recorded. */
ae_node *ae__tape_node(ae_tape *t, int i);

/* ---- a top-k mask, written here independently of ops/topk.c ---- */

typedef struct { int64_t k; } topk_attrs;

static void keep_mask(const ae_tensor *x, int64_t k, ae_real *keep) {
  int64_t n = x->shape.d[x->shape.ndim - 1];
  for (int64_t i = 0; i < x->numel; i++) {
    const ae_real *row = x->data + i / n * n;
    int64_t c = i % n, above = 0;
    for (int64_t j = 0; j < n; j++) above += row[j] > row[c] || (row[j] == row[c] && j < c);
    keep[i] = above < k;
  }
}
static int topk_shape(const ae_op_args *a, ae_shape *out, char *why, size_t len) {
  int64_t k = ((const topk_attrs *)a->attrs)->k, n = a->in[0]->shape.d[a->in[0]->shape.ndim - 1];
  if (a->in[0]->shape.ndim == 2 && k >= 0 && k <= n) return 0;
  snprintf(why, len, "needs a (B, n) matrix and 0 <= k <= n, got k = %lld", (long long)k);
  return 1;
}
static int topk_forward(const ae_op_args *a, ae_tensor *out, char *why, size_t len) {
  keep_mask(a->in[0], ((const topk_attrs *)a->attrs)->k, out->data);
  for (int64_t i = 0; i < out->numel; i++) out->data[i] *= a->in[0]->data[i];
  return 0;
}
static ae_val *mask_of(ae_tape *t, const ae_node *n) {
  ae_val *m = ae_full(t, n->in[0]->t.shape, 0);
  if (m) keep_mask(&n->in[0]->t, ((const topk_attrs *)ae_op_attrs(n))->k, m->t.data);
  return m;
}
static void topk_backward(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_mul(t, g, mask_of(t, n));
}
/* Wrong on purpose: forgets the mask (the gradient of the identity). */
static void topk_backward_unmasked(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) { gin[0] = g; }
/* Wrong on purpose: off by 1% on the kept entries. */
static void topk_backward_scaled(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_mul(t, ae_scale(t, g, (ae_real)1.01), mask_of(t, n));
}
/* Wrong on purpose: a gradient of the wrong shape. */
static void topk_backward_misshapen(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_full(t, AE_SHAPE(7), 1);
}

static ae_op_def topk_def(const char *name, ae_backward_fn backward) {
  ae_op_def d = {.name = name, .nin = 1, .attrs_size = sizeof(topk_attrs), .shape = topk_shape,
                 .forward = topk_forward, .backward = backward};
  return d;
}

static int register_or_find(const ae_op_def *d) {
  int id = ae_op_find(d->name);
  if (id < 0) id = ae_op_register(d);
  cr_assert(id >= AE_OP_COUNT, "registering %s: %s", d->name, ae_last_error());
  return id;
}

typedef struct { int op; int64_t k; } call_ctx;
static ae_val *call_topk(ae_tape *t, ae_val *const *in, void *ctx) {
  const call_ctx *c = ctx;
  topk_attrs a = {c->k};
  return ae_op_call(t, c->op, in, 1, &a, sizeof a);
}
/* sum_k w_k topk(x)_k^2 style: topk(x)^2 * x, a nonzero second derivative. */
static ae_val *call_topk_cubic(ae_tape *t, ae_val *const *in, void *ctx) {
  return ae_mul(t, ae_square(t, call_topk(t, in, ctx)), in[0]);
}

/* Rows of distinct values at least 1/n apart (no tie within eps). */
static ae_tensor *separated(int64_t rows, int64_t n, uint64_t seed) {
  ae_rng r;
  ae_rng_init(&r, seed);
  ae_tensor *x = ae_tensor_new(AE_SHAPE(rows, n));
  for (int64_t s = 0; s < rows; s++) {
    int64_t perm[64];
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
      int64_t j = (int64_t)(ae_rng_u64(&r) % (uint64_t)(i + 1)), p = perm[i];
      perm[i] = perm[j], perm[j] = p;
    }
    for (int64_t i = 0; i < n; i++) x->data[s * n + i] = (ae_real)(-1 + (2 * perm[i] + 0.5 + 0.5 * ae_rng_double(&r)) / n);
  }
  return x;
}

Test(custom_op, ids_and_names) {
  ae_op_def a = topk_def("test_topk", topk_backward), b = topk_def("test.topk-2", topk_backward);
  int ia = ae_op_register(&a), ib = ae_op_register(&b);
  cr_expect_eq(ia, AE_OP_COUNT, "first id %d, want AE_OP_COUNT = %d (%s)", ia, AE_OP_COUNT, ae_last_error());
  cr_expect_eq(ib, AE_OP_COUNT + 1);
  cr_expect_str_eq(ae_op_name(ia), "test_topk");
  cr_expect_str_eq(ae_op_name(ib), "test.topk-2");
  cr_expect_eq(ae_op_find("test_topk"), ia);
  cr_expect_eq(ae_op_find("test.topk-2"), ib);
  cr_expect_eq(ae_op_find("topk_mask"), AE_OP_TOPK_MASK);
  cr_expect_str_eq(ae_op_name(ib + 1), "?");
}

/* The registered op equals the built-in one, bit for bit, for every k,
 * on separated values and on rows full of ties (the same tie rule). */
Test(custom_op, forward_equals_builtin_topk) {
  ae_op_def d = topk_def("test_topk", topk_backward);
  int op = register_or_find(&d);
  ae_tensor *sep = separated(5, 12, 3), *ties = ae_tensor_new(AE_SHAPE(6, 12));
  ae_rng r;
  ae_rng_init(&r, 11);
  for (int64_t i = 0; i < ties->numel; i++) ties->data[i] = (ae_real)(ae_rng_u64(&r) % 3) - 1;
  ae_tape *t = ae_tape_new(1 << 20);
  ae_tensor *xs[2] = {sep, ties};
  for (int s = 0; s < 2; s++)
    for (int64_t k = 0; k <= 12; k++) {
      ae_tape_reset(t);
      ae_val *x = ae_var_tensor(t, xs[s]);
      topk_attrs a = {k};
      ae_val *mine = ae_op_call(t, op, &x, 1, &a, sizeof a), *builtin = ae_topk_mask(t, x, k);
      cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
      cr_expect(mine->requires_grad && ae_tape_node_count(t) == 3, "recorded: leaf, test_topk, topk_mask");
      cr_expect_eq(ae__tape_node(t, mine->node)->op, op);
      int64_t kept = 0;
      for (int64_t i = 0; i < x->t.numel; i++) {
        cr_expect_eq(mine->t.data[i], builtin->t.data[i], "%s k %lld element %lld", s ? "ties" : "separated",
                     (long long)k, (long long)i);
        kept += builtin->t.data[i] != 0;
      }
      if (s == 0) cr_expect_eq(kept, 5 * k, "k %lld: %lld kept", (long long)k, (long long)kept);
    }
  ae_tape_free(t);
  ae_tensor_free(sep);
  ae_tensor_free(ties);
}

Test(custom_op, gradcheck_and_gradgradcheck) {
  ae_op_def d = topk_def("test_topk", topk_backward);
  call_ctx c = {register_or_find(&d), 4};
  ae_tensor *x = separated(3, 9, 5);
  ae_gc_report r;
  cr_expect(ae_gradcheck(call_topk, &c, 1, &x, NULL, &r), "gradcheck: %s", r.message);
  cr_expect(ae_gradgradcheck(call_topk, &c, 1, &x, NULL, &r), "gradgradcheck: %s", r.message);
  cr_expect(ae_gradcheck(call_topk_cubic, &c, 1, &x, NULL, &r), "gradcheck of topk(x)^2 x: %s", r.message);
  cr_expect(ae_gradgradcheck(call_topk_cubic, &c, 1, &x, NULL, &r), "gradgradcheck of topk(x)^2 x: %s", r.message);
  ae_tensor_free(x);
}

/* Second derivative by hand: f = sum topk(x)^2 has Hessian 2 diag(mask),
 * so d/dx <grad f, v> = 2 mask v, through the op's rule twice. */
Test(custom_op, hessian_vector_product) {
  ae_op_def d = topk_def("test_topk", topk_backward);
  int op = register_or_find(&d);
  ae_tensor *X = separated(2, 6, 9);
  ae_tape *t = ae_tape_new(1 << 20);
  ae_val *x = ae_var_tensor(t, X);
  topk_attrs a = {2};
  ae_val *f = ae_sum(t, ae_square(t, ae_op_call(t, op, &x, 1, &a, sizeof a)));
  ae_val *g = ae_grad1(t, f, NULL, x, 1);
  ae_real vd[12];
  for (int i = 0; i < 12; i++) vd[i] = (ae_real)(i + 1);
  ae_val *v = ae_const(t, x->t.shape, vd);
  ae_val *hv = ae_grad1(t, ae_sum(t, ae_mul(t, g, v)), NULL, x, 0);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  ae_real keep[12];
  keep_mask(X, 2, keep);
  for (int i = 0; i < 12; i++) {
    cr_expect_float_eq(g->t.data[i], 2 * keep[i] * X->data[i], 1e-15, "grad %d", i);
    cr_expect_float_eq(hv->t.data[i], 2 * keep[i] * vd[i], 1e-15, "Hv %d", i);
  }
  ae_tape_free(t);
  ae_tensor_free(X);
}

Test(custom_op, wrong_backward_is_caught) {
  ae_op_def u = topk_def("test_topk_unmasked", topk_backward_unmasked);
  ae_op_def s = topk_def("test_topk_scaled", topk_backward_scaled);
  ae_tensor *x = separated(3, 8, 21);
  ae_gc_report r;
  call_ctx cu = {register_or_find(&u), 3}, cs = {register_or_find(&s), 3};
  cr_expect_not(ae_gradcheck(call_topk, &cu, 1, &x, NULL, &r), "a rule without the mask passed gradcheck");
  cr_expect(strstr(r.message, "FAIL") != NULL, "%s", r.message);
  cr_expect_float_eq(r.analytic, 1, 1e-12, "the worst entry is a dropped one: analytic 1, numeric 0");
  cr_expect_float_eq(r.numeric, 0, 1e-9);
  cr_expect_not(ae_gradcheck(call_topk, &cs, 1, &x, NULL, &r), "a rule off by 1%% passed gradcheck");
  cr_expect_float_eq(r.rel_err, 0.01, 1e-6, "%s", r.message);
  ae_tensor_free(x);
}

/* ---- a two-input op: y = x * w with w (n,) broadcast over rows; its rule
 * returns w's gradient in the broadcast shape and the engine sums it. ---- */
static int scale_shape(const ae_op_args *a, ae_shape *out, char *why, size_t len) {
  ae_shape x = a->in[0]->shape, w = a->in[1]->shape;
  if (x.ndim == 2 && w.ndim == 1 && w.d[0] == x.d[1]) return 0;
  char s1[AE_SHAPE_BUF], s2[AE_SHAPE_BUF];
  snprintf(why, len, "x %s and w %s: w must be (n,) for x (B, n)", ae_sstr(x, s1), ae_sstr(w, s2));
  return 1;
}
static int scale_forward(const ae_op_args *a, ae_tensor *out, char *why, size_t len) {
  int64_t n = a->in[1]->numel;
  for (int64_t i = 0; i < out->numel; i++) out->data[i] = a->in[0]->data[i] * a->in[1]->data[i % n];
  return 0;
}
static void scale_backward(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_mul(t, g, n->in[1]);
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_mul(t, g, n->in[0]); /* (B, n): summed back to (n,) */
}
static ae_val *call_scale(ae_tape *t, ae_val *const *in, void *ctx) {
  int op = *(int *)ctx;
  return ae_tanh(t, ae_op_call(t, op, in, 2, NULL, 0));
}

Test(custom_op, two_inputs_broadcast_gradient) {
  ae_op_def d = {.name = "test_scale_cols", .nin = 2, .shape = scale_shape, .forward = scale_forward,
                 .backward = scale_backward};
  int op = register_or_find(&d);
  ae_rng r;
  ae_rng_init(&r, 4);
  ae_tensor *x = rt_uniform(AE_SHAPE(3, 4), &r, -1, 1), *w = rt_uniform(AE_SHAPE(4), &r, -1, 1);
  ae_tensor *in[2] = {x, w};
  ae_gc_report rep;
  cr_expect(ae_gradcheck(call_scale, &op, 2, in, NULL, &rep), "gradcheck: %s", rep.message);
  cr_expect(ae_gradgradcheck(call_scale, &op, 2, in, NULL, &rep), "gradgradcheck: %s", rep.message);
  /* Only w differentiated: the rule skips x (ae_needs_grad). */
  ae_gc_opts o = ae_gc_defaults();
  o.nondiff = 1;
  cr_expect(ae_gradcheck(call_scale, &op, 2, in, &o, &rep), "gradcheck, x constant: %s", rep.message);
  ae_tensor_free(x);
  ae_tensor_free(w);
}

/* ---- errors ---- */

static int fwd_nan(const ae_op_args *a, ae_tensor *out, char *why, size_t len) {
  for (int64_t i = 0; i < out->numel; i++) out->data[i] = a->in[0]->data[i] < 0 ? NAN : a->in[0]->data[i];
  return 0;
}
static int fwd_fails(const ae_op_args *a, ae_tensor *out, char *why, size_t len) {
  snprintf(why, len, "x holds %lld elements, this kernel wants at most 4", (long long)a->in[0]->numel);
  return 1;
}
static int shape_silent_no(const ae_op_args *a, ae_shape *out, char *why, size_t len) { return 1; }

#define EXPECT_TAPE_ERROR(t, result, code, text)                                                       \
  do {                                                                                                 \
    cr_expect_null((result), "the op returned a value despite the error");                             \
    cr_expect_eq(ae_tape_status(t), (code), "status %d, want %d (%s)", ae_tape_status(t), (code),      \
                 ae_tape_error(t));                                                                    \
    cr_expect_str_eq(ae_tape_error(t), (text));                                                        \
  } while (0)

Test(custom_op, registration_errors) {
  ae_op_def good = topk_def("test_topk", topk_backward);
  int id = ae_op_register(&good);
  cr_assert_geq(id, AE_OP_COUNT);
  char want[256];
  snprintf(want, sizeof want, "op_register: test_topk: an op of that name already exists (registered op %d)", id);
  cr_expect_eq(ae_op_register(&good), -1);
  cr_expect_str_eq(ae_last_error(), want);
  ae_op_def d = topk_def("topk_mask", topk_backward);
  snprintf(want, sizeof want, "op_register: topk_mask: an op of that name already exists (built-in op %d)",
           (int)AE_OP_TOPK_MASK);
  cr_expect_eq(ae_op_register(&d), -1);
  cr_expect_str_eq(ae_last_error(), want);
  d = topk_def("no_forward", topk_backward);
  d.forward = NULL;
  cr_expect_eq(ae_op_register(&d), -1);
  cr_expect_str_eq(ae_last_error(), "op_register: no_forward: forward is NULL (every op needs a forward kernel)");
  d = topk_def("no_backward", NULL);
  cr_expect_eq(ae_op_register(&d), -1);
  cr_expect_str_eq(ae_last_error(),
                   "op_register: no_backward: backward is NULL (give a rule; one that sets no gin makes the op a constant)");
  cr_expect_eq(ae_op_register(NULL), -1);
  cr_expect_str_eq(ae_last_error(), "op_register: the definition is NULL");
  d = topk_def(NULL, topk_backward);
  cr_expect_eq(ae_op_register(&d), -1);
  cr_expect_str_eq(ae_last_error(), "op_register: the op has no name");
  d = topk_def("has space", topk_backward);
  cr_expect_eq(ae_op_register(&d), -1);
  cr_expect_str_eq(ae_last_error(), "op_register: name \"has space\": only letters, digits, '_', '.' and '-' are allowed");
  d = topk_def("a_name_much_longer_than_the_forty_seven_bytes_allowed", topk_backward);
  cr_expect_eq(ae_op_register(&d), -1);
  cr_expect_str_eq(ae_last_error(), "op_register: name \"a_name_much_long...\" has 53 characters, at most 47");
  d = topk_def("five_inputs", topk_backward);
  d.nin = 5;
  cr_expect_eq(ae_op_register(&d), -1);
  cr_expect_str_eq(ae_last_error(), "op_register: five_inputs: nin = 5, must be 1..4");
  d.nin = 0;
  cr_expect_eq(ae_op_register(&d), -1);
  cr_expect_str_eq(ae_last_error(), "op_register: five_inputs: nin = 0, must be 1..4");
  cr_expect_eq(ae_op_find("no_forward"), -1, "a failed registration left an entry");
  cr_expect_eq(ae_op_register(&(ae_op_def){.name = "next", .nin = 1, .forward = fwd_nan, .backward = topk_backward}),
               id + 1, "failed registrations took ids");
}

Test(custom_op, table_full) {
  char names[AE_CUSTOM_OP_MAX + 1][16];
  int last = -1;
  for (int i = 0; i < AE_CUSTOM_OP_MAX; i++) {
    snprintf(names[i], sizeof names[i], "op%d", i);
    ae_op_def d = topk_def(names[i], topk_backward);
    last = ae_op_register(&d);
    cr_assert_eq(last, AE_OP_COUNT + i, "op %d: %s", i, ae_last_error());
  }
  ae_op_def d = topk_def("one_too_many", topk_backward);
  cr_expect_eq(ae_op_register(&d), -1);
  cr_expect_str_eq(ae_last_error(), "op_register: one_too_many: the table of registered ops is full (64 ops)");
  cr_expect_str_eq(ae_op_name(last), "op63");
}

Test(custom_op, recording_errors_name_the_op) {
  ae_op_def d = topk_def("test_topk", topk_backward);
  int op = register_or_find(&d);
  ae_tape *t = ae_tape_new(1 << 20);
  ae_real z[12] = {0};
  ae_val *x = ae_var(t, AE_SHAPE(3, 4), z), *two[2] = {x, x};
  topk_attrs a = {2};
  EXPECT_TAPE_ERROR(t, ae_op_call(t, op, two, 2, &a, sizeof a), AE_ERR_ARG, "test_topk: takes 1 input, got 2");
  EXPECT_TAPE_ERROR(t, ae_add(t, x, x), AE_ERR_ARG, "test_topk: takes 1 input, got 2"); /* sticky */
  ae_tape_reset(t);
  x = ae_var(t, AE_SHAPE(3, 4), z);
  int k32 = 2;
  EXPECT_TAPE_ERROR(t, ae_op_call(t, op, &x, 1, &k32, sizeof k32), AE_ERR_ARG,
                    "test_topk: takes attributes of 8 bytes, got 4");
  ae_tape_reset(t);
  EXPECT_TAPE_ERROR(t, ae_op_call(t, op, &x, 1, NULL, sizeof a), AE_ERR_ARG,
                    "test_topk: takes attributes of 8 bytes, got 8 at NULL");
  ae_tape_reset(t);
  ae_val *nil = NULL;
  EXPECT_TAPE_ERROR(t, ae_op_call(t, op, &nil, 1, &a, sizeof a), AE_ERR_ARG, "test_topk: input 1 is nil");
  ae_tape_reset(t);
  x = ae_var(t, AE_SHAPE(3, 4), z);
  a.k = 5;
  EXPECT_TAPE_ERROR(t, ae_op_call(t, op, &x, 1, &a, sizeof a), AE_ERR_SHAPE,
                    "test_topk: needs a (B, n) matrix and 0 <= k <= n, got k = 5");
  ae_tape_reset(t);
  x = ae_var(t, AE_SHAPE(3, 4), z);
  char want[256];
  snprintf(want, sizeof want, "op_call: no op has id 9999 (registered ops have ids from %d, as ae_op_register returns)",
           (int)AE_OP_COUNT);
  EXPECT_TAPE_ERROR(t, ae_op_call(t, 9999, &x, 1, NULL, 0), AE_ERR_ARG, want);
  ae_tape_reset(t);
  x = ae_var(t, AE_SHAPE(3, 4), z);
  snprintf(want, sizeof want, "op_call: op %d (add) is built in: call its own function (ae_add)", (int)AE_OP_ADD);
  EXPECT_TAPE_ERROR(t, ae_op_call(t, AE_OP_ADD, two, 2, NULL, 0), AE_ERR_ARG, want);
  /* Callbacks that fail: with a reason, and a shape callback without one. */
  ae_op_def f = {.name = "test_fails", .nin = 1, .forward = fwd_fails, .backward = topk_backward};
  ae_op_def q = {.name = "test_quiet", .nin = 2, .shape = shape_silent_no, .forward = fwd_nan, .backward = topk_backward};
  int fop = register_or_find(&f), qop = register_or_find(&q);
  ae_tape_reset(t);
  x = ae_var(t, AE_SHAPE(3, 4), z);
  EXPECT_TAPE_ERROR(t, ae_op_call(t, fop, &x, 1, NULL, 0), AE_ERR_ARG,
                    "test_fails: x holds 12 elements, this kernel wants at most 4");
  ae_tape_reset(t);
  two[0] = ae_var(t, AE_SHAPE(3, 4), z), two[1] = ae_var(t, AE_SHAPE(2), z);
  EXPECT_TAPE_ERROR(t, ae_op_call(t, qop, two, 2, NULL, 0), AE_ERR_SHAPE,
                    "test_quiet: the shape callback rejects inputs of shapes (3,4), (2,) (it gave no reason)");
  ae_tape_free(t);
}

/* A rule returning a gradient that does not fit its input is named. */
Test(custom_op, misshapen_gradient_names_the_op) {
  ae_op_def d = topk_def("test_topk_misshapen", topk_backward_misshapen);
  int op = register_or_find(&d);
  ae_tape *t = ae_tape_new(1 << 20);
  ae_real z[12] = {0};
  ae_val *x = ae_var(t, AE_SHAPE(3, 4), z);
  topk_attrs a = {2};
  ae_val *g = ae_grad1(t, ae_sum(t, ae_op_call(t, op, &x, 1, &a, sizeof a)), NULL, x, 0);
  EXPECT_TAPE_ERROR(t, g, AE_ERR_SHAPE,
                    "test_topk_misshapen: the backward rule returned a gradient of shape (7,) for input 1 of shape (3,4)");
  ae_tape_free(t);
}

Test(custom_op, no_grad_mode_records_nothing) {
  ae_op_def d = topk_def("test_topk", topk_backward);
  int op = register_or_find(&d);
  ae_tensor *X = separated(2, 5, 1);
  ae_tape *t = ae_tape_new(1 << 20);
  ae_val *x = ae_var_tensor(t, X);
  topk_attrs a = {2};
  int before = ae_tape_node_count(t);
  ae_set_grad_enabled(t, 0);
  ae_val *y = ae_op_call(t, op, &x, 1, &a, sizeof a);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  cr_expect_eq(ae_tape_node_count(t), before);
  cr_expect_eq(y->requires_grad, 0);
  cr_expect_eq(y->node, -1);
  ae_real keep[10];
  keep_mask(X, 2, keep);
  for (int i = 0; i < 10; i++) cr_expect_eq(y->t.data[i], keep[i] * X->data[i]);
  /* A constant input records nothing with grad mode on either. */
  ae_set_grad_enabled(t, 1);
  ae_val *c = ae_const_tensor(t, X);
  y = ae_op_call(t, op, &c, 1, &a, sizeof a);
  cr_expect(y && !y->requires_grad && ae_tape_node_count(t) == before);
  ae_tape_free(t);
  ae_tensor_free(X);
}

Test(custom_op, anomaly_mode_names_the_op) {
  ae_op_def d = {.name = "test_nan_below_0", .nin = 1, .forward = fwd_nan, .backward = topk_backward};
  int op = register_or_find(&d);
  ae_tape *t = ae_tape_new(1 << 20);
  ae_set_anomaly(t, 1);
  ae_real v[6] = {1, 2, 3, -4, 5, 6};
  ae_val *x = ae_var(t, AE_SHAPE(2, 3), v);
  ae_val *y = ae_exp(t, x);
  y = ae_op_call(t, op, &x, 1, NULL, 0);
  cr_expect_not_null(y, "the op that produced the NaN still returns its value");
  cr_expect_eq(ae_tape_status(t), AE_ERR_ANOMALY);
  cr_expect_str_eq(ae_tape_error(t), "test_nan_below_0: produced NaN or Inf in its output (2,3) (op #1 on the tape)");
  cr_expect_null(ae_exp(t, x), "later ops return nil");
  ae_tape_free(t);
}

/* The blob is copied when recorded: the caller may change or drop its own. */
Test(custom_op, attributes_are_copied) {
  ae_op_def d = topk_def("test_topk", topk_backward);
  int op = register_or_find(&d);
  ae_tensor *X = separated(2, 6, 8);
  ae_tape *t = ae_tape_new(1 << 20);
  ae_val *x = ae_var_tensor(t, X);
  topk_attrs a = {3};
  ae_val *y = ae_op_call(t, op, &x, 1, &a, sizeof a);
  a.k = 0;
  const ae_node *n = ae__tape_node(t, y->node);
  cr_assert_not_null(ae_op_attrs(n));
  cr_expect_neq(ae_op_attrs(n), (const void *)&a);
  cr_expect_eq(((const topk_attrs *)ae_op_attrs(n))->k, 3);
  cr_expect_null(ae_op_attrs(ae__tape_node(t, x->node)), "a leaf has no attribute blob");
  ae_val *g = ae_grad1(t, ae_sum(t, y), NULL, x, 0);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  double kept = 0;
  for (int i = 0; i < 12; i++) kept += g->t.data[i];
  cr_expect_eq(kept, 6, "the gradient keeps k = 3 per row: %g of 12", kept);
  ae_tape_free(t);
  ae_tensor_free(X);
}

/* Threads registering at once get distinct, consecutive ids that name
 * their own ops. */
enum { THREADS = 8, PER_THREAD = 6 };
typedef struct { int thread, ids[PER_THREAD]; char names[PER_THREAD][32]; } reg_job;
static void *register_some(void *arg) {
  reg_job *j = arg;
  for (int i = 0; i < PER_THREAD; i++) {
    snprintf(j->names[i], sizeof j->names[i], "t%d_op%d", j->thread, i);
    ae_op_def d = topk_def(j->names[i], topk_backward);
    j->ids[i] = ae_op_register(&d);
  }
  return NULL;
}
Test(custom_op, concurrent_registration) {
  pthread_t th[THREADS];
  reg_job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i].thread = i;
    cr_assert_eq(pthread_create(&th[i], NULL, register_some, &jobs[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  unsigned char seen[THREADS * PER_THREAD] = {0};
  for (int i = 0; i < THREADS; i++)
    for (int k = 0; k < PER_THREAD; k++) {
      int id = jobs[i].ids[k], slot = id - AE_OP_COUNT;
      cr_assert(slot >= 0 && slot < THREADS * PER_THREAD, "id %d out of range", id);
      cr_expect_eq(seen[slot]++, 0, "id %d given twice", id);
      cr_expect_str_eq(ae_op_name(id), jobs[i].names[k]);
      cr_expect_eq(ae_op_find(jobs[i].names[k]), id);
    }
}
