/* check.h: gradient checks of a whole zoo model's loss with respect to its
 * parameters (what `aezoo gradcheck` and the zoo's tests run, in float64).
 * First order: every parameter element's analytic gradient (ae_backward)
 * against central differences of the loss. Second order: Hessian-vector
 * products H v (the gradient differentiated again, with create_graph)
 * against central differences of the gradient along a random v.
 * The loss's noise is drawn from a generator reset to the same seed for
 * every evaluation, so the loss is a deterministic function of the
 * parameters. Only the parameters of the model's current stage
 * (ae_model_stage_params(m, m->stage)) are perturbed and checked: the
 * others are constants of that stage's loss (their entries in out stay ok
 * with zero errors). */
#ifndef AE_CHECK_H
#define AE_CHECK_H

#include "base/api.h"
#include "grad/gradcheck.h"
#include "model.h"

typedef struct ae_param_check {
  char name[64];
  int64_t numel;
  double max_abs;   /* worst |analytic - numeric| */
  double max_rel;   /* ... relative to |numeric| (denominator at least atol) */
  int64_t worst;    /* element index of the worst excess */
  int ok;           /* every element within atol + rtol |numeric| */
} ae_param_check;

/* Fills out[0..m->nparams) and returns 1 when every parameter passes, 0 when
 * one fails, -1 on an error (message in ae_last_error()). x: a batch (B, example...). */
AE_API int ae_model_gradcheck(ae_model *m, const ae_tensor *x, uint64_t seed, const ae_gc_opts *o, ae_param_check *out);
AE_API int ae_model_gradgradcheck(ae_model *m, const ae_tensor *x, uint64_t seed, const ae_gc_opts *o,
                                  ae_param_check *out);

#endif
