/* train.c: the trainer's step and evaluation (train.h). */
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/tape_internal.h"
#include "base/rowcopy.h"
#include "grad/backward_internal.h"
#include "optim/step_internal.h"
#include "ops/ops.h"

static ae_shape batch_shape(const ae_model *m, int64_t b) {
  ae_shape s = ae_shape_make(m->example.ndim + 1, NULL);
  s.d[0] = b;
  for (int k = 0; k < m->example.ndim; k++) s.d[k + 1] = m->example.d[k];
  return s;
}

ae_trainer *ae_trainer_new(ae_model *m, const ae_optim_config *cfg, uint64_t seed, size_t arena) {
  ae_trainer *tr = calloc(1, sizeof *tr);
  if (!tr) {
    ae_set_last_error("trainer: out of memory");
    return NULL;
  }
  tr->m = m;
  tr->cfg = *cfg;
  ae_rng_init(&tr->rng, seed);
  tr->tape = ae_tape_new(arena ? arena : (size_t)512 << 20);
  if (!tr->tape || ae_trainer_set_stage(tr, 0)) {
    ae_set_last_error("%s", tr->tape ? tr->error_ : ae_last_error());
    ae_trainer_free(tr);
    return NULL;
  }
  return tr;
}

void ae_trainer_free(ae_trainer *tr) {
  if (!tr) return;
  ae_optim_free(tr->opt);
  ae_tape_free(tr->tape);
  free(tr);
}

const char *ae_trainer_error(const ae_trainer *tr) { return tr ? tr->error_ : "trainer is NULL"; }

int ae_trainer_set_stage(ae_trainer *tr, int stage) {
  ae_param *ps[AE_MAX_PARAMS];
  int n = ae_model_stage_params(tr->m, stage, ps, AE_MAX_PARAMS);
  ae_optim *o = ae_optim_new(&tr->cfg, ps, n);
  if (!o) {
    snprintf(tr->error_, sizeof tr->error_, "optimiser: %s", ae_last_error());
    return -1;
  }
  ae_optim_free(tr->opt);
  tr->opt = o;
  tr->stage = tr->m->stage = stage;
  return 0;
}

static void keep_terms(ae_trainer *tr, const ae_terms *tm) {
  tr->nterms = tm->n;
  for (int i = 0; i < tm->n; i++) {
    tr->term_name[i] = tm->name[i];
    tr->term[i] = ae_item(tm->val[i]);
  }
}

/* zero_grad and ae_backward in one: the stage's parameters (the
 * optimiser's) get their gradients set, not added to zeros. The backward
 * tests the values it writes; when all were finite, ps[0..*np) is kept for
 * the optimiser step, which then skips its own scan of them. */
static int set_grads(ae_trainer *tr, ae_val *loss, ae_param **ps, int *np) {
  int n = ae_model_stage_params(tr->m, tr->stage, ps, AE_MAX_PARAMS), finite = 0;
  int rc = ae__backward_set(tr->tape, loss, ps, n, &finite);
  *np = rc == 0 && finite ? n : -1;
  return rc;
}

/* What run_step does: the loss only, the loss and its gradients, or the
 * whole step (gradients, optimiser step, after_step). */
enum { LOSS_ONLY, LOSS_AND_GRADS, FULL_STEP };

/* Builds the loss and takes the step. Returns 0; -1 on a tape error; -2
 * when the loss is not finite; -3 when the optimiser refused a non-finite
 * gradient (nothing moved). */
static int run_step(ae_trainer *tr, const ae_tensor *batch, int mode) {
  ae_model *m = tr->m;
  ae_tape *t = tr->tape;
  ae_tape_reset(t);
  /* a model's own step, or a loss alone: zero_grad here; else the
   * backward below sets the optimiser's parameters' gradients */
  if (m->def->train_step || mode == LOSS_ONLY) ae_optim_zero_grad(tr->opt);
  ae_terms tm = {0};
  ae_param *scanned[AE_MAX_PARAMS];
  int nscanned = -1; /* -1: the gradients were not tested by set_grads */
  ae_val *x = ae__const_borrow(t, batch); /* batch outlives the step and is not written */
  if (m->def->train_step) {
    double loss = NAN;
    if (m->def->train_step(m, t, x, mode == FULL_STEP ? tr->opt : NULL, &tr->rng, &tm, &loss)) return -1;
    tr->loss = loss;
  } else {
    ae_val *loss = m->def->loss(m, t, x, &tr->rng, &tm);
    tr->loss = ae_tape_ok(t) ? ae_item(loss) : NAN;
    if (mode != LOSS_ONLY && (!ae_tape_ok(t) || !isfinite(tr->loss))) ae_optim_zero_grad(tr->opt); /* as before */
    if (!ae_tape_ok(t)) return -1;
    if (!isfinite(tr->loss)) return -2;
    if (mode != LOSS_ONLY && set_grads(tr, loss, scanned, &nscanned)) return -1;
  }
  keep_terms(tr, &tm);
  if (!isfinite(tr->loss)) return -2;
  if (mode == FULL_STEP && !m->def->train_step) {
    if (ae__optim_step_scanned(tr->opt, nscanned >= 0 ? scanned : NULL, nscanned)) {
      snprintf(tr->error_, sizeof tr->error_, "optimiser: %s", ae_last_error());
      return -3;
    }
  }
  if (mode == FULL_STEP && m->def->after_step) m->def->after_step(m);
  return 0;
}

int ae_trainer_step(ae_trainer *tr, const ae_tensor *batch) {
  ae_rng saved = tr->rng;
  int rc = run_step(tr, batch, FULL_STEP);
  if (rc == -1) {
    snprintf(tr->error_, sizeof tr->error_, "%s", ae_tape_error(tr->tape));
    return -1;
  }
  if (rc == -2 || rc == -3) {
    /* Replay the same step in anomaly mode (through the backward pass when
     * a gradient was the first non-finite value) to name the op. */
    char why[sizeof tr->error_];
    snprintf(why, sizeof why, "%s", tr->error_);
    tr->rng = saved;
    const ae_batch_share *share = tr->m->share;
    tr->m->share = NULL; /* the replay runs on this process alone */
    ae_set_anomaly(tr->tape, 1);
    run_step(tr, batch, rc == -2 ? LOSS_ONLY : LOSS_AND_GRADS);
    ae_set_anomaly(tr->tape, 0);
    tr->m->share = share;
    const char *op = ae_tape_ok(tr->tape) ? "no op produced a NaN or Inf in anomaly mode" : ae_tape_error(tr->tape);
    if (rc == -2)
      snprintf(tr->error_, sizeof tr->error_, "the loss is %g at step %lld: %s", tr->loss, (long long)tr->step, op);
    else
      snprintf(tr->error_, sizeof tr->error_, "the loss's gradient is not finite at step %lld: %s (%.200s)",
               (long long)tr->step, op, why);
    return -1;
  }
  if (rc < 0) return -1;
  tr->step++;
  return 0;
}

/* The rows are at random places in a data set far larger than the
 * caches: every row's ends are asked for first, then the rest of each row
 * two rows ahead of the copy (base/rowcopy.h). 128 random rows of 784
 * floats out of 60000, 8 MB read between gathers (microbenchmark, 1
 * thread): 45-51 us a batch with the whole next row asked for, 30-31 so. */
void ae_gather_rows(const ae_tensor *data, const int64_t *idx, int64_t n, ae_tensor *out) {
  const int64_t row = data->numel / data->shape.d[0];
  const int64_t bytes = (int64_t)sizeof(ae_real) * row;
  ae_rc_prefetch_row_ends(data->data, idx, n, bytes);
  for (int64_t i = 0; i < n; i++) {
    ae_rc_prefetch_row_rest(data->data, idx, n, i, bytes);
    memcpy(out->data + i * row, data->data + idx[i] * row, (size_t)bytes);
  }
}

int ae_evaluate(ae_model *m, const ae_tensor *data, int64_t n, int64_t batch, uint64_t seed, ae_eval_result *r) {
  memset(r, 0, sizeof *r);
  if (n > data->shape.d[0]) n = data->shape.d[0];
  if (n < 1 || batch < 1) {
    ae_set_last_error("evaluate: nothing to evaluate (%lld examples, batch %lld)", (long long)n, (long long)batch);
    return -1;
  }
  ae_tape *t = ae_tape_new((size_t)512 << 20);
  ae_tensor *xb = ae_tensor_new(batch_shape(m, batch < n ? batch : n));
  if (!t || !xb) {
    ae_set_last_error("evaluate: %s", ae_last_error());
    ae_tape_free(t);
    ae_tensor_free(xb);
    return -1;
  }
  ae_rng rng;
  ae_rng_init(&rng, seed);
  int64_t row = m->dim;
  double sq = 0;
  int rc = 0;
  for (int64_t lo = 0; lo < n && rc == 0; lo += batch) {
    int64_t b = n - lo < batch ? n - lo : batch;
    ae_tensor view = *xb;
    view.shape = batch_shape(m, b);
    view.numel = b * row;
    memcpy(view.data, data->data + lo * row, sizeof(ae_real) * (size_t)(b * row));
    ae_tape_reset(t);
    ae_set_grad_enabled(t, m->def->train_step != NULL); /* psd infers codes by gradients */
    ae_terms tm = {0};
    ae_val *x = ae_const_tensor(t, &view);
    ae_val *loss = m->def->loss(m, t, x, &rng, &tm);
    ae_set_grad_enabled(t, 0);
    ae_val *y = m->def->reconstruct(m, t, x);
    if (!ae_tape_ok(t)) {
      ae_set_last_error("evaluate: %s", ae_tape_error(t));
      rc = -1;
      break;
    }
    r->loss += ae_item(loss) * (double)b;
    r->nterms = tm.n;
    for (int i = 0; i < tm.n; i++) {
      r->term_name[i] = tm.name[i];
      r->term[i] += ae_item(tm.val[i]) * (double)b;
    }
    for (int64_t i = 0; i < b * row; i++) {
      double d = (double)y->t.data[i] - (double)x->t.data[i];
      sq += d * d;
    }
  }
  if (rc == 0) {
    r->count = n;
    r->loss /= (double)n;
    for (int i = 0; i < r->nterms; i++) r->term[i] /= (double)n;
    r->mse_pixel = sq / (double)(n * row);
  }
  ae_tape_free(t);
  ae_tensor_free(xb);
  return rc;
}
