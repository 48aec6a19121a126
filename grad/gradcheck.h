/* gradcheck.h: finite differences against the analytic gradient.
 *
 * ae_gradcheck builds fn's output from its inputs on a fresh tape and
 * compares, for every differentiable input, the analytic Jacobian (one
 * vector-Jacobian product per output element) with central differences
 * (f(x + eps e_j) - f(x - eps e_j)) / 2 eps, element by element:
 * |analytic - numeric| <= atol + rtol |numeric|. Fast mode instead
 * compares v^T J u for random u, v (one VJP and two forward passes per
 * input), as PyTorch's fast gradcheck does. ae_gradgradcheck checks the
 * gradient itself: for each input k it gradchecks
 * G_k(x, v) = d<fn(x), v>/dx_k, computed with create_graph, with respect to
 * x and v. Meant for the float64 build (libaezoo64): in float32, finite
 * differences cannot tell a 1e-3 bug from rounding. */
#ifndef AE_GRADCHECK_H
#define AE_GRADCHECK_H

#include <stdio.h>

#include "base/api.h"
#include "autograd/tape.h"

/* Builds one output from the inputs (all on tape t). */
typedef ae_val *(*ae_gc_fn)(ae_tape *t, ae_val *const *in, void *ctx);

typedef struct ae_gc_opts {
  double eps, atol, rtol;
  int fast;              /* check v^T J u instead of every element */
  uint64_t seed;         /* for fast mode's u, v and gradgradcheck's v */
  uint32_t nondiff;      /* bit k set: input k is not differentiated (a mask, indices) */
  size_t arena;          /* tape arena bytes (0: default) */
} ae_gc_opts;

typedef struct ae_gc_report {
  int ok;
  int checked;           /* Jacobian entries (or projections) compared */
  int input;             /* where the worst mismatch is: input index, */
  int64_t out_index;     /* output element (-1 in fast mode), */
  int64_t in_index;      /* input element (-1 in fast mode) */
  double analytic, numeric, abs_err, rel_err;
  char message[512];     /* a one-paragraph summary, or the tape error */
} ae_gc_report;

/* PyTorch's float64 defaults: eps 1e-6, atol 1e-5, rtol 1e-3. */
AE_API ae_gc_opts ae_gc_defaults(void);
/* 1 when every entry is within tolerance; fills r (may be NULL). */
AE_API int ae_gradcheck(ae_gc_fn fn, void *ctx, int nin, ae_tensor *const *inputs, const ae_gc_opts *o, ae_gc_report *r);
AE_API int ae_gradgradcheck(ae_gc_fn fn, void *ctx, int nin, ae_tensor *const *inputs, const ae_gc_opts *o,
                            ae_gc_report *r);
AE_API void ae_gc_report_print(FILE *f, const char *label, const ae_gc_report *r);

#endif
