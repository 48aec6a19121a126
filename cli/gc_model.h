/* gc_model.h: a zoo model's training loss as a function of its current
 * stage's parameter entries, for `aezoo gradcheck`'s experiments: the loss
 * (its noise from a generator reset to one seed, so it is deterministic),
 * the analytic gradient of every entry, and finite differences of one
 * entry (forward, central, Richardson-extrapolated central) at any eps.
 * Works in either build: float64 (aezoo64) or float32 (aezoo, for the
 * float32 columns of --float32 and --sweep-eps). Mirrors zoo/check.c's
 * evaluator, entry by entry. */
#ifndef AE_CLI_GC_MODEL_H
#define AE_CLI_GC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "zoo/model.h"

typedef enum gc_scheme { GC_FORWARD = 0, GC_CENTRAL = 1, GC_RICHARDSON = 2, GC_NSCHEMES = 3 } gc_scheme;
extern const char *const gc_scheme_name[GC_NSCHEMES];

typedef struct gc_model {
  ae_model *m;
  const ae_tensor *x;
  uint64_t seed;
  ae_tape *t;
  int64_t n;      /* entries: every element of the current stage's parameters */
  int *param;     /* entry k: parameter m->params[param[k]], */
  int64_t *index; /* element index[k] */
  char err[1024];
} gc_model;

/* 0, or -1 with g->err. */
int gc_model_open(gc_model *g, ae_model *m, const ae_tensor *x, uint64_t seed);
void gc_model_close(gc_model *g);
/* The loss at the current parameters (NaN and g->err on a tape error). */
double gc_model_loss(gc_model *g);
/* grad[k] = dL/d entry k (analytic, ae_backward). 0, or -1 with g->err. */
int gc_model_grad(gc_model *g, double *grad);
/* A finite-difference estimate of dL/d entry k at step eps. NaN on an error. */
double gc_model_diff(gc_model *g, int64_t k, gc_scheme s, double eps);
/* Keeps a random subset of `count` entries (chosen by seed; the same
 * subset for the same entries, count and seed), in their original order.
 * Nothing happens when count <= 0 or count >= g->n. */
void gc_model_keep(gc_model *g, int64_t count, uint64_t seed);
/* "enc.w[17]" */
void gc_model_entry_name(const gc_model *g, int64_t k, char *buf, size_t len);

#endif
