/* test_errors.c: user mistakes give a message naming the op and the
 * shapes, a nil result, a sticky tape error (first error wins, later ops
 * return nil), and never a crash. Messages are checked word for word:
 * they are the interface a user reads. Outside a tape, ae_last_error():
 * a message may quote the previous one, and a long one is cut, never
 * overflowed. Built for float64. */
#include <criterion/criterion.h>
#include <string.h>

#include "aezoo.h"

static ae_tape *t;
static void setup(void) { t = ae_tape_new(1 << 20); }
static void teardown(void) { ae_tape_free(t); }
TestSuite(errors, .init = setup, .fini = teardown);

static ae_val *ones(ae_shape s) { return ae_full(t, s, 1); }
static ae_val *var(ae_shape s) {
  ae_real buf[64] = {0};
  return ae_var(t, s, buf);
}

#define EXPECT_ERROR(result, code, text)                                                                     \
  do {                                                                                                       \
    cr_expect_null((result), "the op returned a value despite the error");                                   \
    cr_expect_eq(ae_tape_status(t), (code), "status %d, want %d (%s)", ae_tape_status(t), (code), ae_tape_error(t)); \
    cr_expect_str_eq(ae_tape_error(t), (text));                                                              \
  } while (0)

Test(errors, matmul_inner_mismatch) {
  ae_tape_free(t);
  t = ae_tape_new(0); /* room for (128,784) and (512,784) */
  ae_val *a = ones(AE_SHAPE(128, 784)), *b = ones(AE_SHAPE(512, 784));
  EXPECT_ERROR(ae_matmul(t, a, b, 0, 0), AE_ERR_SHAPE,
               "matmul: (128,784) x (512,784): inner dimensions 784 and 512 differ");
  ae_tape_reset(t);
  a = ones(AE_SHAPE(2, 3));
  b = ones(AE_SHAPE(2, 3));
  EXPECT_ERROR(ae_matmul(t, a, b, 1, 1), AE_ERR_SHAPE, "matmul: (2,3)^T x (2,3)^T: inner dimensions 2 and 3 differ");
  ae_tape_reset(t);
  a = ones(AE_SHAPE(2, 3));
  b = ones(AE_SHAPE(3));
  EXPECT_ERROR(ae_matmul(t, a, b, 0, 0), AE_ERR_SHAPE, "matmul: (2,3) x (3,): both operands must be 2-D");
  ae_tape_reset(t);
  a = ones(AE_SHAPE(4, 3));
  b = ones(AE_SHAPE(5, 3));
  EXPECT_ERROR(ae_linear(t, a, b, ones(AE_SHAPE(4))), AE_ERR_SHAPE,
               "add: (4,5) and (4,) do not broadcast: dimension 1 has sizes 5 and 4");
}

Test(errors, broadcast_mismatch) {
  ae_val *a = ones(AE_SHAPE(3, 4)), *b = ones(AE_SHAPE(5));
  EXPECT_ERROR(ae_add(t, a, b), AE_ERR_SHAPE, "add: (3,4) and (5,) do not broadcast: dimension 1 has sizes 4 and 5");
  ae_tape_reset(t);
  a = ones(AE_SHAPE(2, 3, 4));
  b = ones(AE_SHAPE(3, 1, 4));
  EXPECT_ERROR(ae_mul(t, a, b), AE_ERR_SHAPE,
               "mul: (2,3,4) and (3,1,4) do not broadcast: dimension 0 has sizes 2 and 3");
  ae_tape_reset(t);
  EXPECT_ERROR(ae_broadcast_to(t, ones(AE_SHAPE(3)), AE_SHAPE(3, 4)), AE_ERR_SHAPE,
               "broadcast_to: (3,) does not broadcast to (3,4)");
  ae_tape_reset(t);
  EXPECT_ERROR(ae_sum_to(t, ones(AE_SHAPE(3, 4)), AE_SHAPE(3)), AE_ERR_SHAPE, "sum_to: (3,4) cannot be summed to (3,)");
  ae_tape_reset(t);
  EXPECT_ERROR(ae_where(t, ones(AE_SHAPE(2, 2)), ones(AE_SHAPE(2, 3)), ones(AE_SHAPE())), AE_ERR_SHAPE,
               "where: condition has shape (2,2) but a has shape (2,3) (must match or have one element)");
  ae_tape_reset(t);
  EXPECT_ERROR(ae_tanh_backward(t, ones(AE_SHAPE(2, 2)), ones(AE_SHAPE(4))), AE_ERR_SHAPE,
               "tanh_backward: gradient (2,2) and saved value (4,) differ in shape");
}

Test(errors, bad_axis) {
  ae_val *x = ones(AE_SHAPE(2, 3));
  EXPECT_ERROR(ae_sum_axis(t, x, 2, 0), AE_ERR_ARG, "sum_axis: axis 2 is out of range for shape (2,3)");
  ae_tape_reset(t);
  x = ones(AE_SHAPE(2, 3));
  EXPECT_ERROR(ae_max_axis(t, x, -3, 1), AE_ERR_ARG, "max_axis: axis -3 is out of range for shape (2,3)");
  ae_tape_reset(t);
  x = ones(AE_SHAPE(2, 3));
  EXPECT_ERROR(ae_mean_axis(t, x, 5, 0), AE_ERR_ARG, "mean_axis: axis 5 is out of range for shape (2,3)");
  ae_tape_reset(t);
  x = ones(AE_SHAPE());
  EXPECT_ERROR(ae_sum_axis(t, x, 0, 0), AE_ERR_ARG, "sum_axis: axis 0 is out of range for shape ()");
  ae_tape_reset(t);
  x = ones(AE_SHAPE(2, 3));
  EXPECT_ERROR(ae_transpose(t, x, 0, 2), AE_ERR_ARG, "transpose: axes 0 and 2 are out of range for shape (2,3)");
  ae_tape_reset(t);
  x = ones(AE_SHAPE(2, 3, 4));
  EXPECT_ERROR(ae_t(t, x), AE_ERR_SHAPE, "t: expects a 2-D value, got (2,3,4)");
}

Test(errors, reshape_wrong_count) {
  ae_val *x = ones(AE_SHAPE(2, 3));
  EXPECT_ERROR(ae_reshape(t, x, AE_SHAPE(4, 2)), AE_ERR_SHAPE, "reshape: cannot reshape (2,3) (6 elements) to (4,2)");
}

Test(errors, nil_input) {
  ae_val *x = ones(AE_SHAPE(2));
  EXPECT_ERROR(ae_add(t, NULL, x), AE_ERR_ARG, "add: input 1 is nil");
  ae_tape_reset(t);
  x = ones(AE_SHAPE(2));
  EXPECT_ERROR(ae_where(t, x, x, NULL), AE_ERR_ARG, "where: input 3 is nil");
  ae_tape_reset(t);
  EXPECT_ERROR(ae_exp(t, NULL), AE_ERR_ARG, "exp: input 1 is nil");
  ae_tape_reset(t);
  EXPECT_ERROR(ae_const_tensor(t, NULL), AE_ERR_ARG, "const: tensor is NULL");
  ae_tape_reset(t);
  EXPECT_ERROR(ae_param_bind(t, NULL), AE_ERR_ARG, "param_bind: parameter is NULL");
  ae_tape_reset(t);
  cr_expect_eq(ae_backward(t, NULL), -1);
  cr_expect_str_eq(ae_tape_error(t), "backward: input 1 is nil");
  /* no tape at all: nil, no crash */
  cr_expect_null(ae_add(NULL, x, x));
  cr_expect_null(ae_var(NULL, AE_SHAPE(2), NULL));
  cr_expect_eq(ae_tape_ok(NULL), 0);
}

Test(errors, clamp_bounds) {
  ae_val *x = ones(AE_SHAPE(2));
  EXPECT_ERROR(ae_clamp(t, x, 2, 1), AE_ERR_ARG, "clamp: lower bound 2 is above upper bound 1");
}

Test(errors, backward_of_non_scalar) {
  ae_val *x = var(AE_SHAPE(2, 3));
  ae_val *y = ae_tanh(t, x);
  cr_expect_eq(ae_backward(t, y), -1);
  cr_expect_eq(ae_tape_status(t), AE_ERR_SHAPE);
  cr_expect_str_eq(ae_tape_error(t), "backward: the loss must have one element, got shape (2,3)");
}

Test(errors, grad_needs_output_gradient) {
  ae_val *x = var(AE_SHAPE(2, 3));
  ae_val *y = ae_tanh(t, x);
  EXPECT_ERROR(ae_grad1(t, y, NULL, x, 0), AE_ERR_ARG,
               "grad: output 1 has shape (2,3): give its output gradient (only one-element outputs default to 1)");
  ae_tape_reset(t);
  x = var(AE_SHAPE(2, 3));
  y = ae_tanh(t, x);
  EXPECT_ERROR(ae_grad1(t, y, ones(AE_SHAPE(5)), x, 0), AE_ERR_SHAPE,
               "grad: output 1 has shape (2,3) but its output gradient has shape (5,)");
}

Test(errors, sticky_first_error_wins) {
  ae_val *a = ones(AE_SHAPE(3, 4)), *b = ones(AE_SHAPE(5)), *c = ones(AE_SHAPE(3, 4));
  cr_assert_null(ae_add(t, a, b));
  const char *first = "add: (3,4) and (5,) do not broadcast: dimension 1 has sizes 4 and 5";
  cr_expect_null(ae_matmul(t, a, b, 0, 0), "a second bad op returns nil");
  cr_expect_str_eq(ae_tape_error(t), first, "the second error replaced the first");
  cr_expect_eq(ae_tape_status(t), AE_ERR_SHAPE);
  /* valid ops on a failed tape return nil and do nothing */
  size_t used = ae_tape_arena_used(t);
  cr_expect_null(ae_add(t, a, c));
  cr_expect_null(ae_sum(t, c));
  cr_expect_null(ae_full(t, AE_SHAPE(2), 0));
  cr_expect_null(ae_var(t, AE_SHAPE(2), NULL));
  cr_expect_eq(ae_backward(t, a), -1);
  cr_expect_eq(ae_tape_arena_used(t), used, "ops on a failed tape allocated");
  ae_raise(t, AE_ERR_ARG, "user", "another");
  cr_expect_str_eq(ae_tape_error(t), first);
  ae_tape_reset(t);
  cr_expect(ae_tape_ok(t) && ae_tape_error(t)[0] == 0, "reset clears the error");
  cr_expect_not_null(ae_add(t, ones(AE_SHAPE(2)), ones(AE_SHAPE(2))));
}

Test(errors, bad_shapes_outside_tapes) {
  ae_shape zero = AE_SHAPE(3, 0);
  cr_expect_null(ae_tensor_new(zero));
  cr_expect_str_eq(ae_last_error(), "shape: dimension 1 has size 0, must be at least 1");
  ae_shape five = AE_SHAPE(1, 1, 1, 1);
  five.ndim = 5;
  cr_expect_null(ae_tensor_new(five));
  cr_expect_str_eq(ae_last_error(), "shape: 5 dimensions, at most 4 allowed");
  ae_shape neg = AE_SHAPE(-2);
  cr_expect_null(ae_param_new("p", neg));
  cr_expect_str_eq(ae_last_error(), "shape: dimension 0 has size -2, must be at least 1");
  /* the same shape on a tape */
  EXPECT_ERROR(ae_full(t, zero, 1), AE_ERR_SHAPE, "full: shape: dimension 1 has size 0, must be at least 1");
  ae_tape_reset(t);
  EXPECT_ERROR(ae_reshape(t, ones(AE_SHAPE(2)), neg), AE_ERR_SHAPE, "reshape: cannot reshape (2,) (2 elements) to (-2,)");
}

/* ---- ae_last_error: the convention for everything outside a tape ---- */

Test(last_error, prefixing_the_previous_message) {
  ae_set_last_error("bad byte at %d", 7);
  ae_set_last_error("loading %s: %s", "/data/x.npy", ae_last_error());
  cr_expect_str_eq(ae_last_error(), "loading /data/x.npy: bad byte at 7");
  ae_set_last_error("%s; %s", ae_last_error(), ae_last_error());
  cr_expect_str_eq(ae_last_error(), "loading /data/x.npy: bad byte at 7; loading /data/x.npy: bad byte at 7");
}

Test(last_error, long_messages_kept_whole_or_cut) {
  static char msg[2 * AE_LAST_ERROR_MAX];
  memset(msg, 'a', AE_LAST_ERROR_MAX - 1);
  msg[AE_LAST_ERROR_MAX - 1] = 0;
  ae_set_last_error("%s", msg);
  cr_expect_eq(strlen(ae_last_error()), (size_t)AE_LAST_ERROR_MAX - 1, "an 8191-byte message was cut");
  cr_expect_str_eq(ae_last_error(), msg);
  /* one byte more, and twice as long, prefixed by the previous message */
  memset(msg, 'b', sizeof msg - 1);
  msg[sizeof msg - 1] = 0;
  ae_set_last_error("%s", msg);
  cr_expect_eq(strlen(ae_last_error()), (size_t)AE_LAST_ERROR_MAX - 1);
  cr_expect_eq(strncmp(ae_last_error(), msg, AE_LAST_ERROR_MAX - 1), 0);
  ae_set_last_error("x: %s", ae_last_error());
  cr_expect_eq(strlen(ae_last_error()), (size_t)AE_LAST_ERROR_MAX - 1);
  cr_expect_eq(strncmp(ae_last_error(), "x: bbb", 6), 0);
  cr_expect_eq(ae_last_error()[AE_LAST_ERROR_MAX - 2], 'b');
}
