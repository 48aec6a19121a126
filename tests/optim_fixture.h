/* optim_fixture.h: the shared fixture of the optimiser tests (test_optim.c,
 * test_optim_misc.c): parameters w (2,3) and b (3,) seen as one vector of 9,
 * the gradient fed at each step, and the tolerance of each precision. */
#ifndef AEZOO_TESTS_OPTIM_FIXTURE_H
#define AEZOO_TESTS_OPTIM_FIXTURE_H

#include <criterion/criterion.h>
#include <math.h>

#include "aezoo.h"

#ifdef AE_REAL_DOUBLE
#define TOL 1e-12
#else
#define TOL 2e-5
#endif

static inline int close_to(double got, double want, double tol) {
  return fabs(got - want) <= tol * (1.0 + fabs(want));
}

/* ---- fixture: w (2,3) and b (3,), seen as one vector of 9 ---------------- */

#define NW 6
#define NB 3
#define N (NW + NB)
static const double P0[N] = {0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.1, -0.2, 0.3};
static const double G0[N] = {0.1, -0.3, 0.7, -1.2, 0.05, 0.4, 2.0, -0.6, 0.0};

/* The gradient fed at step t (1-based): varies with t so that state matters. */
static inline double grad_at(int j, int t) { return G0[j] * (1.0 + 0.25 * t) - 0.05 * t; }

typedef struct fixture {
  ae_param *w, *b;
  ae_param *ps[2];
} fixture;

static inline void fx_init(fixture *f) {
  f->w = ae_param_new("w", AE_SHAPE(2, 3));
  f->b = ae_param_new("b", AE_SHAPE(3));
  cr_assert(f->w && f->b);
  for (int j = 0; j < NW; j++) f->w->value.data[j] = (ae_real)P0[j];
  for (int j = 0; j < NB; j++) f->b->value.data[j] = (ae_real)P0[NW + j];
  f->ps[0] = f->w;
  f->ps[1] = f->b;
}
static inline void fx_free(fixture *f) {
  ae_param_free(f->w);
  ae_param_free(f->b);
}
static inline ae_real *fx_elem(fixture *f, int j, int grad) {
  ae_param *p = j < NW ? f->w : f->b;
  int k = j < NW ? j : j - NW;
  return grad ? &p->grad.data[k] : &p->value.data[k];
}
static inline void fx_set_grad(fixture *f, int t) {
  for (int j = 0; j < N; j++) *fx_elem(f, j, 1) = (ae_real)grad_at(j, t);
}

#endif
