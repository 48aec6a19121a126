/* test_tape_transposed.c: parameters a reverse sweep keeps transposed
 * (autograd/tape_transposed.c, through ops/matmul.c). A chain that
 * multiplies by a parameter W three times (h = tanh(h) W) sends the sweep
 * three products by W^T; from the second one on the GEMM reads a
 * transpose the tape made once. Checked: the gradients with respect to x
 * and W are bitwise those of the same chain on a plain variable (which is
 * never copied), at 1 and 2 threads; the first sweep that copies makes one
 * heap allocation and the next sweeps none; a parameter changed between
 * sweeps is copied anew (gradients follow the new values); and a
 * parameter multiplied transposed once is not copied (all under the
 * built-in GEMM, the one whose sums the copies keep). Float32 and float64. */
#include <criterion/criterion.h>
#include <string.h>

#include "aezoo.h"
#include "random_tensor.h"

enum { B = 24, D = 96 };

/* Gradients of sum(h3^2), h_k = tanh(h_{k-1}) W (h_0 = x, uses products of
 * W), with respect to x and w, into gx (B x D) and gw (D x D). */
static void chain_grads(ae_tape *t, const ae_tensor *xt, ae_val *w, int uses, ae_real *gx, ae_real *gw) {
  ae_val *x = ae_var_tensor(t, xt), *h = x;
  for (int k = 0; k < uses; k++) h = ae_matmul(t, k ? ae_tanh(t, h) : h, w, 0, 0);
  ae_val *ins[2] = {x, w}, *g[2];
  cr_assert_eq(ae_grad(t, 1, (ae_val *[]){ae_sum(t, ae_square(t, h))}, NULL, 2, ins, g, 0), 0, "%s",
               ae_tape_error(t));
  memcpy(gx, g[0]->t.data, sizeof(ae_real) * B * D);
  memcpy(gw, g[1]->t.data, sizeof(ae_real) * D * D);
}

static int64_t first_difference(const ae_real *a, const ae_real *b, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (memcmp(&a[i], &b[i], sizeof(ae_real))) return i;
  return -1;
}

/* The chain on parameter p and on a variable holding p's values: same bits. */
static void expect_same_as_variable(ae_tape *t, const ae_tensor *xt, ae_param *p, int uses, const char *when) {
  static ae_real px[B * D], pw[D * D], vx[B * D], vw[D * D];
  ae_tape_reset(t);
  chain_grads(t, xt, ae_param_bind(t, p), uses, px, pw);
  ae_tape_reset(t);
  chain_grads(t, xt, ae_var_tensor(t, &p->value), uses, vx, vw);
  int64_t bx = first_difference(px, vx, B * D), bw = first_difference(pw, vw, D * D);
  cr_expect(bx < 0, "%s: d/dx element %lld is %.17g with the parameter, %.17g with a variable", when, (long long)bx,
            bx < 0 ? 0.0 : (double)px[bx], bx < 0 ? 0.0 : (double)vx[bx]);
  cr_expect(bw < 0, "%s: d/dW element %lld is %.17g with the parameter, %.17g with a variable", when, (long long)bw,
            bw < 0 ? 0.0 : (double)pw[bw], bw < 0 ? 0.0 : (double)vw[bw]);
}

Test(tape_transposed, gradients_equal_a_variables_and_follow_a_changed_parameter) {
  ae_gemm_set_backend(AE_GEMM_BUILTIN);
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(B, D), 41, -1, 1), *w0 = rt_uniform_seeded(AE_SHAPE(D, D), 42, -0.2, 0.2);
  ae_param *p = ae_param_new("w", AE_SHAPE(D, D));
  memcpy(p->value.data, w0->data, sizeof(ae_real) * D * D);
  ae_tape *t = ae_tape_new(0);
  for (int threads = 1; threads <= 2; threads++) {
    ae_set_threads(threads);
    expect_same_as_variable(t, xt, p, 3, threads == 1 ? "1 thread" : "2 threads");
  }
  ae_set_threads(1);
  for (int i = 0; i < D * D; i++) p->value.data[i] = -p->value.data[i] * (ae_real)0.75; /* as an optimiser would */
  expect_same_as_variable(t, xt, p, 3, "after the parameter changed");
  ae_tape_free(t);
  ae_param_free(p);
  ae_tensor_free(xt);
  ae_tensor_free(w0);
}

Test(tape_transposed, one_copy_then_no_allocation_and_none_for_a_single_use) {
  ae_gemm_set_backend(AE_GEMM_BUILTIN); /* the copies are made under the built-in GEMM only */
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(B, D), 43, -1, 1);
  ae_param *p = ae_param_new("w", AE_SHAPE(D, D));
  ae_tensor *w0 = rt_uniform_seeded(AE_SHAPE(D, D), 44, -0.2, 0.2);
  memcpy(p->value.data, w0->data, sizeof(ae_real) * D * D);
  static ae_real gx[B * D], gw[D * D];
  ae_tape *t = ae_tape_new(0);
  for (int k = 0; k < 2; k++) { /* the tape's own arrays grown */
    ae_tape_reset(t);
    chain_grads(t, xt, ae_var_tensor(t, &p->value), 3, gx, gw);
  }
  int64_t a0 = ae_heap_allocs();
  ae_tape_reset(t);
  chain_grads(t, xt, ae_param_bind(t, p), 1, gx, gw); /* one product by W^T in the sweep */
  int64_t a1 = ae_heap_allocs();
  cr_expect_eq(a1 - a0, 0, "a parameter multiplied transposed once was copied (%lld allocations)", (long long)(a1 - a0));
  ae_tape_reset(t);
  chain_grads(t, xt, ae_param_bind(t, p), 3, gx, gw); /* three: the second and third read a copy */
  int64_t a2 = ae_heap_allocs();
  cr_expect_eq(a2 - a1, 1, "the first sweep that copies should allocate its buffer once, made %lld allocations",
               (long long)(a2 - a1));
  for (int k = 0; k < 3; k++) {
    ae_tape_reset(t);
    chain_grads(t, xt, ae_param_bind(t, p), 3, gx, gw);
  }
  cr_expect_eq(ae_heap_allocs() - a2, 0, "later sweeps should reuse the copy's buffer, made %lld allocations",
               (long long)(ae_heap_allocs() - a2));
  ae_tape_free(t);
  ae_param_free(p);
  ae_tensor_free(xt);
  ae_tensor_free(w0);
}
