/* optim_internal.h: the optimiser struct shared by optim.c (construction,
 * dispatch, state listing) and the per-family update files (sgd.c, adam.c,
 * rmsprop.c, adagrad.c). Not installed.
 *
 * State buffers live in one array, grouped by parameter:
 * state[i * nbuf + k] is buffer k of parameter i (k follows the kind's
 * buffer list in optim.c). Each is a heap tensor of the parameter's shape. */
#ifndef AE_OPTIM_INTERNAL_H
#define AE_OPTIM_INTERNAL_H

#include "optim.h"
#include "base/parallel.h"

#include <math.h>

#define AE_OPT_MAX_BUFS 3

/* sqrt of the real type (sqrtf for float: no round trip through double). */
#ifdef AE_REAL_DOUBLE
#define AE_OPT_SQRT(x) sqrt(x)
#else
#define AE_OPT_SQRT(x) sqrtf(x)
#endif

typedef struct ae_optim_state {
  char name[96];
  ae_tensor *t;
} ae_optim_state;

struct ae_optim {
  ae_optim_config cfg;
  ae_param **params;     /* own copy of the pointer array */
  int nparams;
  int nbuf;              /* state buffers per parameter */
  ae_optim_state *state; /* nparams * nbuf */
  int64_t steps;         /* completed steps */
  double mu_product;     /* NAdam: prod_{s<=steps} mu_s */
};

/* Buffer k of parameter i. */
static inline ae_real *ae__opt_buf(const ae_optim *o, int i, int k) {
  return o->state[i * o->nbuf + k].t->data;
}

/* Per-family updates: step number t = o->steps + 1 (1-based, as torch's
 * state['step'] after its increment). The caller has checked gradients. */
void ae__sgd_step(ae_optim *o, int64_t t);
void ae__adam_step(ae_optim *o, int64_t t);
void ae__nadam_step(ae_optim *o, int64_t t);
void ae__rmsprop_step(ae_optim *o, int64_t t);
void ae__adagrad_step(ae_optim *o, int64_t t);

/* Runs range(o, i, lo, hi, ctx) on elements [lo, hi) of every parameter
 * i, through ae__par_shares (base/base_internal.h): when the parameters
 * total AE_PAR's element count, in one parallel region, each thread its
 * contiguous share of every tensor: one wake of the sleeping threads a
 * step, and each thread updates the rows it mostly packs in the next
 * forward's GEMMs and finds its share of the gradient in its own cache
 * (the copy out of the tape, backward.c, runs through the same helper).
 * Else on the caller, tensor by tensor. The updates are element-wise, so
 * the result is the same either way. */
typedef void (*ae_opt_range_fn)(ae_optim *o, int i, int64_t lo, int64_t hi, const void *ctx);
void ae__opt_for_shares(ae_optim *o, ae_opt_range_fn range, const void *ctx);

/* NAdam's mu_t = beta1 * (1 - 0.5 * 0.96^(t * psi)). */
double ae__nadam_mu(double beta1, double psi, int64_t t);

#endif
