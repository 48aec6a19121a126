/* ops.h: every differentiable op users call to build a loss. Each takes
 * the tape first and returns a value on it, or NULL when the tape holds an
 * error (then it does nothing). Element-wise binary ops broadcast with
 * numpy's rules (scalars, rows, columns, ...). Values are row-major. */
#ifndef AE_OPS_H
#define AE_OPS_H

#include "base/api.h"
#include "autograd/tape.h"

/* binary.c: element-wise, broadcasting */
AE_API ae_val *ae_add(ae_tape *t, ae_val *a, ae_val *b);
AE_API ae_val *ae_sub(ae_tape *t, ae_val *a, ae_val *b);
AE_API ae_val *ae_mul(ae_tape *t, ae_val *a, ae_val *b);
AE_API ae_val *ae_div(ae_tape *t, ae_val *a, ae_val *b);
/* Select: cond != 0 ? a : b, element-wise. cond is not differentiated;
 * a and b have cond's shape or one element. */
AE_API ae_val *ae_where(ae_tape *t, ae_val *cond, ae_val *a, ae_val *b);

/* pointwise.c */
AE_API ae_val *ae_neg(ae_tape *t, ae_val *x);
AE_API ae_val *ae_scale(ae_tape *t, ae_val *x, ae_real c);        /* c * x */
AE_API ae_val *ae_add_scalar(ae_tape *t, ae_val *x, ae_real c);   /* x + c */
AE_API ae_val *ae_square(ae_tape *t, ae_val *x);
AE_API ae_val *ae_pow(ae_tape *t, ae_val *x, ae_real p);          /* x^p, scalar p */
AE_API ae_val *ae_abs(ae_tape *t, ae_val *x);
AE_API ae_val *ae_clamp(ae_tape *t, ae_val *x, ae_real lo, ae_real hi);
/* 1 - x, a common composite. */
AE_API ae_val *ae_one_minus(ae_tape *t, ae_val *x);

/* transcendental.c */
AE_API ae_val *ae_exp(ae_tape *t, ae_val *x);
AE_API ae_val *ae_log(ae_tape *t, ae_val *x);
AE_API ae_val *ae_sqrt(ae_tape *t, ae_val *x);
AE_API ae_val *ae_softplus(ae_tape *t, ae_val *x);                /* log(1 + e^x), stable */
AE_API ae_val *ae_log_sigmoid(ae_tape *t, ae_val *x);             /* log sigmoid(x), stable */

/* activation.c */
AE_API ae_val *ae_relu(ae_tape *t, ae_val *x);
AE_API ae_val *ae_leaky_relu(ae_tape *t, ae_val *x, ae_real slope);
AE_API ae_val *ae_sigmoid(ae_tape *t, ae_val *x);
AE_API ae_val *ae_tanh(ae_tape *t, ae_val *x);
/* Fused backward kernels, ops in their own right (differentiable again). */
AE_API ae_val *ae_relu_backward(ae_tape *t, ae_val *g, ae_val *x);                   /* g * (x > 0) */
AE_API ae_val *ae_leaky_relu_backward(ae_tape *t, ae_val *g, ae_val *x, ae_real s); /* g * (x > 0 ? 1 : s) */
AE_API ae_val *ae_sigmoid_backward(ae_tape *t, ae_val *g, ae_val *y);                /* g * y * (1 - y) */
AE_API ae_val *ae_tanh_backward(ae_tape *t, ae_val *g, ae_val *y);                   /* g * (1 - y^2) */
/* The activations by kind (a dense layer's, ae_linear_act's). */
typedef enum ae_act { AE_ACT_NONE, AE_ACT_RELU, AE_ACT_SIGMOID, AE_ACT_TANH, AE_ACT_LEAKY_RELU } ae_act;
/* act(x): ae_relu, ae_sigmoid, ae_tanh or ae_leaky_relu(x, slope); x itself for AE_ACT_NONE. */
AE_API ae_val *ae_activation(ae_tape *t, ae_act act, ae_val *x, ae_real slope);
/* The gradient at act's input from g at its output y = act(x), read from
 * y alone: the backward op above with y (relu and leaky_relu with
 * slope >= 0 read y's sign, which is x's); g itself for AE_ACT_NONE. For
 * fused ops that keep only their output. */
AE_API ae_val *ae_activation_backward(ae_tape *t, ae_act act, ae_val *g, ae_val *y, ae_real slope);

/* reduce.c */
AE_API ae_val *ae_sum(ae_tape *t, ae_val *x);                     /* all elements, shape () */
AE_API ae_val *ae_mean(ae_tape *t, ae_val *x);
AE_API ae_val *ae_sum_sq(ae_tape *t, ae_val *x);                  /* sum of squares, shape () */
/* Along one axis (negative counts from the end); keepdim keeps it as size 1. */
AE_API ae_val *ae_sum_axis(ae_tape *t, ae_val *x, int axis, int keepdim);
AE_API ae_val *ae_mean_axis(ae_tape *t, ae_val *x, int axis, int keepdim);
AE_API ae_val *ae_max_axis(ae_tape *t, ae_val *x, int axis, int keepdim);
/* Sum the broadcast dimensions away so the result has shape s (the
 * inverse of broadcasting), and broadcast to shape s. */
AE_API ae_val *ae_sum_to(ae_tape *t, ae_val *x, ae_shape s);
AE_API ae_val *ae_broadcast_to(ae_tape *t, ae_val *x, ae_shape s);

/* shape.c */
AE_API ae_val *ae_reshape(ae_tape *t, ae_val *x, ae_shape s);     /* shares data */
AE_API ae_val *ae_transpose(ae_tape *t, ae_val *x, int d0, int d1);
AE_API ae_val *ae_t(ae_tape *t, ae_val *x);                       /* 2-D transpose */

/* matmul.c: op(a) @ op(b) for 2-D a, b; op transposes when the flag is set. */
AE_API ae_val *ae_matmul(ae_tape *t, ae_val *a, ae_val *b, int trans_a, int trans_b);
/* x @ w^T + b: a dense layer with PyTorch's (out, in) weight layout; b may be NULL.
 * One op (linear): the product, then b added in one pass over its rows. */
AE_API ae_val *ae_linear(ae_tape *t, ae_val *x, ae_val *w, ae_val *b);
/* act(x @ w^T + b) as one op: the product, then the bias and the activation
 * in one pass over its rows, keeping only the output on the tape (the
 * composite keeps three values). Values and gradients, to any order, are
 * bitwise those of ae_linear, then ae_relu / ae_sigmoid / ae_tanh /
 * ae_leaky_relu(slope). slope is read for AE_ACT_LEAKY_RELU only. A
 * negative slope, a bias of a shape other than (n) (it broadcasts as in
 * ae_add), and anomaly mode (so a NaN is reported where it arises) record
 * the composite instead. */
AE_API ae_val *ae_linear_act(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, ae_act act, ae_real slope);

#endif
