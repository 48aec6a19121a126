/* run_parallel.c: data-parallel training across processes (run_internal.h,
 * comm.h). Started by an MPI launcher (`mpirun -np N aezoo train ...`),
 * every rank loads the same data, builds the same model and walks the same
 * seeded permutation; rank r computes rows [r B / N, (r + 1) B / N) of each
 * global batch of B, its generator set to those rows (ae_rng_set_rows) so
 * noise, probes and samples are drawn per global example. In every
 * ae_optim_step (the reduce_grads hook, so custom steps are covered) the
 * gradients, weighted by the rank's share rows / B, are packed into one
 * flat buffer and summed over the ranks in rank order: the global batch
 * mean, with the same bits on every rank, so every rank takes the same
 * step. The loss, its terms and the stop flag are summed after each step.
 * At the start the ranks compare fingerprints of their configuration, data
 * and parameters, and at every checkpoint those of the parameters; rank 0
 * alone writes train.csv, checkpoints and pictures. A failure after the
 * start (when the other ranks may be waiting on this one) ends the job. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

#define bad ae__run_bad
#define fail ae__run_fail
#define mix64 ae__run_mix64

int ae__par_init(run *r) {
  run_par *p = &r->par;
  p->comm = ae__comm_world();
  if (!p->comm) return fail("%s", ae_last_error());
  p->rank = p->comm->rank;
  p->size = p->comm->size;
  return 0;
}

int ae__par_root(const run *r) { return r->par.rank == 0; }

/* ae_batch_share.sum: a batch statistic summed over the ranks. */
static int share_sum(void *ctx, ae_real *buf, int64_t n) {
  run_par *p = ctx;
  if (ae__comm_sum(p->comm, buf, n) == 0) return 0;
  snprintf(p->comm_error, sizeof p->comm_error, "%s", ae_last_error());
  return -1;
}

int ae__par_split(run *r) {
  run_par *p = &r->par;
  int64_t b = r->bsz, n = p->size;
  if (n > b)
    return bad("%d processes cannot share a batch of %" PRId64 " examples: use at most %" PRId64
               " processes or a larger --batch-size",
               p->size, b, b);
  p->row0 = b * p->rank / n;
  p->rows = b * (p->rank + 1) / n - p->row0;
  p->weight = (ae_real)((double)p->rows / (double)b);
  if (n == 1) return 0;
  int64_t total = 0;
  for (int i = 0; i < r->m->nparams; i++) total += r->m->params[i]->grad.numel;
  p->flat = malloc(sizeof(ae_real) * (size_t)(total > 0 ? total : 1));
  if (!p->flat) return fail("out of memory for the gradients' buffer");
  p->flat_n = total;
  if (ae_rng_set_rows(&r->tr->rng, p->row0, p->rows, b)) return fail("%s", ae_last_error());
  p->share = (ae_batch_share){p->row0, p->rows, b, share_sum, p};
  return 0;
}

void ae__par_free(run *r) {
  free(r->par.flat);
  r->par.flat = NULL;
}

/* ae_optim_config.reduce_grads: every gradient := the sum over the ranks
 * of rows/B times the rank's gradient (a mean over its rows), one sum over
 * one buffer. */
static int reduce_grads(void *ctx, ae_param **ps, int n) {
  run_par *p = ctx;
  int64_t k = 0;
  for (int i = 0; i < n; i++) {
    const ae_tensor *g = &ps[i]->grad;
    if (k + g->numel > p->flat_n) {
      ae_set_last_error("the gradients outgrow their buffer (%" PRId64 " values)", p->flat_n);
      return -1;
    }
    for (int64_t j = 0; j < g->numel; j++) p->flat[k + j] = g->data[j] * p->weight;
    k += g->numel;
  }
  if (ae__comm_sum(p->comm, p->flat, k)) {
    snprintf(p->comm_error, sizeof p->comm_error, "%s", ae_last_error());
    return -1;
  }
  k = 0;
  for (int i = 0; i < n; i++) {
    ae_tensor *g = &ps[i]->grad;
    memcpy(g->data, p->flat + k, sizeof(ae_real) * (size_t)g->numel);
    k += g->numel;
  }
  return 0;
}

const char *ae__par_comm_error(const run *r) { return r->par.comm_error[0] ? r->par.comm_error : NULL; }

void ae__par_optim_hook(run *r, ae_optim_config *cfg) {
  if (r->par.size == 1) return;
  cfg->reduce_grads = reduce_grads;
  cfg->reduce_ctx = &r->par;
}

/* ---- fingerprints ---------------------------------------------------------- */

static uint64_t fold(uint64_t h, uint64_t v) { return mix64(h ^ v) + 0x9E37ull; }

/* Everything in the configuration that changes what a rank computes, with
 * the budget and position; not the paths (the data's values are in the
 * data fingerprint, and machines may mount them at different places). */
static uint64_t config_print(const run *r) {
  const ae_ckpt_meta *m = &r->meta;
  char b[8192];
  int n = snprintf(b, sizeof b,
                   "%s|%s|%d:%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "|%" PRId64 "|%" PRId64 "|%" PRIu64
                   "|%" PRIu64 "|%" PRIu64 "|%d|%" PRIu64 "|%" PRId64 "|%a|%s|%" PRId64 "|%" PRId64 "|%" PRId64
                   "|%d|%" PRId64 ",%" PRId64 ",%" PRId64 "|%d|%a|%" PRId64 "|%s|%a|%" PRId64 "|%a|%" PRId64
                   "|%" PRId64 "|%d",
                   m->model, m->settings, m->example.ndim, m->example.d[0], m->example.d[1], m->example.d[2],
                   m->example.d[3], m->limit, m->test_limit, m->seed, m->rng_seed, m->rng_counter, m->shuffle,
                   m->shuffle_seed, m->batch_size, m->lr, m->optimizer, m->epochs, m->steps, m->step, m->stage,
                   m->stage_step, m->epoch, m->step_in_epoch, m->finished, m->val_split, m->early_stop,
                   m->lr_schedule, m->clip_grad_norm, m->best_step, m->best_val, m->bad_epochs, r->c->stop_after,
                   m->early_stopped);
  return ae_ckpt_hash(b, (size_t)(n < (int)sizeof b ? n : (int)sizeof b - 1));
}

static uint64_t data_print(const run *r) {
  uint64_t h = fold(r->meta.data_hash, (uint64_t)r->n);
  if (r->test.x) h = fold(h, ae_run_data_hash(r->test.x));
  if (r->val.x) h = fold(h, ae_run_data_hash(r->val.x));
  return h;
}

/* The parameters and the optimiser's state. */
static uint64_t params_print(run *r) {
  uint64_t h = 0;
  for (int i = 0; i < r->m->nparams; i++) {
    const ae_tensor *v = &r->m->params[i]->value;
    h = fold(h, ae_ckpt_hash(v->data, sizeof(ae_real) * (size_t)v->numel));
  }
  int ns = ae_optim_state_count(r->tr->opt);
  for (int i = 0; i < ns; i++) {
    const ae_tensor *v = ae_optim_state_tensor(r->tr->opt, i, NULL);
    h = fold(h, ae_ckpt_hash(v->data, sizeof(ae_real) * (size_t)v->numel));
  }
  return fold(h, (uint64_t)ae_optim_steps_taken(r->tr->opt));
}

typedef struct {
  int32_t failed, size;
  uint64_t print[3]; /* configuration, data, parameters */
} start_note;

int ae__par_start(run *r, int failed) {
  run_par *p = &r->par;
  if (p->started || !p->comm) return 0;
  p->started = 1;
  if (p->size == 1) return 0;
  start_note mine = {failed != 0, p->size, {0, 0, 0}}, *all = calloc((size_t)p->size, sizeof *all);
  if (!all) return fail("out of memory");
  if (!failed) {
    mine.print[0] = config_print(r);
    mine.print[1] = data_print(r);
    mine.print[2] = params_print(r);
  }
  char keep[2048];
  snprintf(keep, sizeof keep, "%s", ae_last_error());
  if (ae__comm_allgather(p->comm, &mine, sizeof mine, all)) {
    free(all);
    return fail("at the start: %s", ae_last_error());
  }
  int rc = 0;
  static const char *const what[3] = {"configuration (the model, its settings and the options)", "data",
                                      "initial parameters"};
  for (int k = 0; k < p->size && rc == 0; k++) {
    if (all[k].failed) {
      if (failed)
        ae_set_last_error("%s", keep);
      else
        fail("rank %d of %d could not start the run (its own message says why); rank %d stops too", k, p->size,
             p->rank);
      rc = -1;
    }
  }
  for (int k = 1; k < p->size && rc == 0; k++)
    for (int f = 0; f < 3 && rc == 0; f++)
      if (all[k].print[f] != all[0].print[f]) {
        rc = (f == 0 ? bad : fail)("the ranks differ at the start: rank %d's %s (fingerprint %016" PRIx64
                                   ") is not rank 0's (%016" PRIx64
                                   "); every rank must be started with the same arguments on the same data",
                                   k, what[f], all[k].print[f], all[0].print[f]);
      }
  free(all);
  p->running = rc == 0;
  return rc;
}

void ae__par_step_begin(run *r) {
  if (r->par.size > 1) r->m->share = &r->par.share;
}

int ae__par_after_step(run *r, int *stop) {
  run_par *p = &r->par;
  if (p->size == 1) return 0;
  r->m->share = NULL; /* evaluation and pictures see their own batches */
  enum { MAXV = AE_MAX_TERMS + 2 };
  double mine[MAXV], all[64 * MAXV], *v = all;
  int nt = r->tr->nterms < AE_MAX_TERMS ? r->tr->nterms : AE_MAX_TERMS, nv = nt + 2;
  if (p->size > 64 && !(v = malloc(sizeof(double) * (size_t)(MAXV * p->size)))) return fail("out of memory");
  mine[0] = r->tr->loss * (double)p->weight;
  for (int i = 0; i < nt; i++) mine[1 + i] = r->tr->term[i] * (double)p->weight;
  mine[nt + 1] = (double)*stop;
  int rc = ae__comm_allgather(p->comm, mine, sizeof(double) * (size_t)nv, v);
  if (rc == 0) {
    /* sums in rank order; the stop flag of the lowest rank that has one */
    double loss = 0, term[AE_MAX_TERMS] = {0};
    int s = 0;
    for (int k = 0; k < p->size; k++) {
      const double *x = v + (size_t)k * (size_t)nv;
      loss += x[0];
      for (int i = 0; i < nt; i++) term[i] += x[1 + i];
      if (!s && x[nt + 1] != 0) s = (int)x[nt + 1];
    }
    r->tr->loss = loss;
    for (int i = 0; i < nt; i++) r->tr->term[i] = term[i];
    *stop = s;
  } else {
    fail("step %" PRId64 ": %s", r->meta.step, ae_last_error());
  }
  if (v != all) free(v);
  return rc;
}

int ae__par_check_params(run *r) {
  run_par *p = &r->par;
  if (p->size == 1) return 0;
  uint64_t mine = params_print(r), *all = calloc((size_t)p->size, sizeof *all);
  if (!all) return fail("out of memory");
  int rc = ae__comm_allgather(p->comm, &mine, sizeof mine, all);
  if (rc) {
    fail("checkpoint at step %" PRId64 ": %s", r->meta.step, ae_last_error());
  } else {
    for (int k = 1; k < p->size && rc == 0; k++)
      if (all[k] != all[0])
        rc = fail("the ranks' parameters differ at step %" PRId64 ": rank %d's fingerprint %016" PRIx64
                  " is not rank 0's %016" PRIx64,
                  r->meta.step, k, all[k], all[0]);
  }
  free(all);
  return rc;
}

int ae__par_finish(run *r) {
  run_par *p = &r->par;
  if (p->size == 1 || !p->running) return 0;
  char one = 0, all[256], *v = p->size <= 256 ? all : malloc((size_t)p->size);
  if (!v) return fail("out of memory");
  int rc = ae__comm_allgather(p->comm, &one, 1, v);
  if (v != all) free(v);
  return rc ? fail("at the end: %s", ae_last_error()) : 0;
}

void ae__par_fail(run *r) {
  run_par *p = &r->par;
  if (p->size == 1 || !p->running) return;
  fprintf(stderr, "aezoo: rank %d of %d: %s\naezoo: rank %d: ending every rank of the run\n", p->rank, p->size,
          ae_last_error(), p->rank);
  fflush(stderr);
  ae__comm_abort(p->comm, 1);
}
