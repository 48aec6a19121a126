/* run.c: a training run (run.h): configuration resolved against the
 * defaults or the resumed checkpoint, data (with the validation split),
 * model, trainer, the loop over the stage/epoch/step budget, evaluation at
 * epoch ends, checkpoints (best/ too), early stopping, and the pictures at
 * the end. Options: run_config.c; data: run_data.c; the schedules and the
 * data fingerprint: run_support.c; several processes (MPI): run_parallel.c. */
#include "run.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/parallel.h"
#include "pictures.h"
#include "run_internal.h"
#include "zoo/footprint.h"
#include "zoo/plugin.h"

#define RECON_COUNT 32
#define POINTS_COUNT 500
#define SAMPLE_COUNT 64
#define CODES_MAX_UNITS 64 /* codes.png: wider codes would make the PCA slow for a picture */
#define bad ae__run_bad
#define fail ae__run_fail
#define mix64 ae__run_mix64
_Static_assert(AE_MAX_TERMS <= 8, "ae_progress_pos holds 8 terms");

static volatile sig_atomic_t stop_signal;
void ae_run_request_stop(int signal) { stop_signal = signal ? signal : -1; }
static void on_signal(int sig) { stop_signal = sig; }

void ae_run_config_init(ae_run_config *c) {
  memset(c, 0, sizeof *c);
  c->limit = c->test_limit = c->epochs = c->steps = c->batch_size = c->seed = c->early_stop = AE_RUN_UNSET;
  c->lr = c->val_split = c->clip_grad_norm = NAN;
  c->report = stdout;
}

static void run_free(run *r) {
  ae_trainer_free(r->tr);
  ae_model_free(r->m);
  ae_dataset_free(&r->train);
  ae__dataset_u8_free(&r->train_u8);
  ae_dataset_free(&r->val);
  ae_dataset_free(&r->test);
  free(r->perm);
  ae_tensor_free(r->batch);
  ae_train_csv_close(&r->csv);
  ae_run_dir_close(&r->dir);
  ae__par_free(r);
}

void ae_run_epoch_permutation(int64_t *perm, int64_t n, int shuffle, uint64_t seed, int stage, int64_t epoch) {
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  if (!shuffle) return;
  ae_rng r;
  ae_rng_init(&r, mix64(seed ^ mix64(((uint64_t)stage << 40) ^ (uint64_t)epoch)));
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)(((unsigned __int128)ae_rng_u64(&r) * (uint64_t)(i + 1)) >> 64);
    int64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}

/* ---- checkpoints and evaluation ----------------------------------------- */

static int save(run *r) {
  for (int i = 0; i < r->m->nparams; i++) {
    const ae_tensor *v = &r->m->params[i]->value;
    for (int64_t j = 0; j < v->numel; j++)
      if (!isfinite((double)v->data[j])) {
        ae_progress_clear(&r->prog);
        return fail("training stopped: parameter '%s' holds a non-finite value at step %" PRId64
                    "; the last good checkpoint is kept in %s",
                    r->m->params[i]->name, r->meta.step, r->out);
      }
  }
  if (ae__par_check_params(r)) return -1;
  r->meta.rng_seed = r->tr->rng.seed;
  r->meta.rng_counter = r->tr->rng.counter;
  r->meta.wall_time = r->wall0 + (ae_monotonic_seconds() - r->t0);
  r->meta.threads = ae_get_threads();
  ae_train_csv_flush(&r->csv);
  if (ae__par_root(r) && ae_ckpt_save(r->out, r->m, r->tr->opt, &r->meta)) {
    ae_progress_clear(&r->prog);
    return fail("cannot write the checkpoint: %s", ae_last_error());
  }
  r->ckpt_written = 1;
  return 0;
}

/* OUT/best/: the model at the best validation loss (no optimiser state). */
static int save_best(run *r) {
  char dir[4200];
  if (!ae__par_root(r)) return 0;
  snprintf(dir, sizeof dir, "%s/best", r->out);
  if (mkdir(dir, 0755) && !ae_run_is_dir(dir)) return fail("cannot create %s", dir);
  if (ae_ckpt_save(dir, r->m, NULL, &r->meta)) return fail("cannot write the best checkpoint: %s", ae_last_error());
  return 0;
}

/* The loss over data set d (*loss may be NaN: a diverged model). 0 or -1. */
static int eval_loss(run *r, const ae_dataset *d, const char *what, double *loss) {
  ae_eval_result ev;
  int64_t n = d->x->shape.d[0];
  if (ae_evaluate(r->m, d->x, n, r->bsz, r->meta.seed ^ 0x7e57ull, &ev)) {
    ae_progress_clear(&r->prog);
    return fail("%s loss: %s", what, ae_last_error());
  }
  *loss = ev.loss;
  return 0;
}

static void fill_pos(run *r, ae_progress_pos *p) {
  const ae_ckpt_meta *mt = &r->meta;
  memset(p, 0, sizeof *p);
  p->stage = mt->stage;
  p->nstages = mt->nstages;
  p->stage_name = mt->nstages > 1 && r->m->def->stage_name ? r->m->def->stage_name(r->m, mt->stage) : NULL;
  p->epoch = mt->step_in_epoch == 0 && mt->epoch > 0 ? mt->epoch - 1 : mt->epoch;
  p->nepochs = mt->epochs;
  p->step_in_epoch = mt->step_in_epoch == 0 && mt->epoch > 0 ? r->per_epoch : mt->step_in_epoch;
  p->steps_per_epoch = r->per_epoch;
  p->step = mt->step;
  p->total_steps = r->total;
  p->loss = r->epoch_count ? r->epoch_loss / (double)r->epoch_count : NAN;
  p->nterms = r->tr->nterms;
  for (int i = 0; i < p->nterms; i++) {
    p->term_name[i] = r->tr->term_name[i];
    p->term[i] = r->epoch_count ? r->epoch_term[i] / (double)r->epoch_count : NAN;
  }
}

/* At an epoch end with a validation split: best checkpoint, patience. */
static int track_validation(run *r, double val) {
  ae_ckpt_meta *mt = &r->meta;
  if (!isfinite(val)) return 0;
  if (mt->best_step == 0 || val < mt->best_val) {
    mt->best_val = val;
    mt->best_step = mt->step;
    mt->bad_epochs = 0;
    return save_best(r);
  }
  mt->bad_epochs++;
  if (mt->early_stop > 0 && mt->bad_epochs >= mt->early_stop) mt->early_stopped = 1;
  return 0;
}

/* ---- the loop ------------------------------------------------------------- */

static void set_lr(run *r) {
  ae_ckpt_meta *mt = &r->meta;
  double lr = ae_lr_sched_at(&r->sched, mt->lr, mt->stage_step, r->budget, r->per_epoch);
  ae_optim_set_lr(r->tr->opt, lr);
}

/* The thread count pick_threads chose, with the times it chose from. */
static void report_pick(run *r) {
  if (r->c->quiet) return;
  char buf[512];
  int len = snprintf(buf, sizeof buf, "threads: %d, the fastest step of", r->pick.chosen);
  for (int i = 0; i < r->pick.ncand && len > 0 && len < (int)sizeof buf; i++)
    len += snprintf(buf + len, sizeof buf - (size_t)len, "%s %d (%.2f ms)", i ? "," : "", r->pick.cand[i],
                    1e3 * r->pick.best[i]);
  ae_progress_clear(&r->prog);
  fprintf(stderr, "%s\n", buf);
}

/* 0 when the budget is done, early stopping ended the run, or stop_after
 * was reached; AE_RUN_INTERRUPTED's status via res; -1 on a failure. */
static int train_loop(run *r, ae_run_result *res) {
  ae_ckpt_meta *mt = &r->meta;
  ae_shape bs = r->batch->shape;
  int64_t steps_here = 0;
  int have_perm = 0, stop = 0;
  res->status = AE_RUN_FINISHED;
  while (!(mt->stage == mt->nstages - 1 && mt->stage_step >= r->budget) && !mt->early_stopped) {
    if (mt->stage_step >= r->budget) { /* next stage */
      mt->stage++;
      mt->stage_step = mt->epoch = mt->step_in_epoch = 0;
      have_perm = 0;
      if (ae_trainer_set_stage(r->tr, mt->stage)) return fail("stage %d: %s", mt->stage, ae_trainer_error(r->tr));
    }
    if (!have_perm || mt->step_in_epoch == 0) {
      ae_run_epoch_permutation(r->perm, r->n, mt->shuffle, mt->shuffle_seed, mt->stage, mt->epoch);
      have_perm = 1;
      if (mt->step_in_epoch == 0 || r->epoch_count == 0) {
        r->epoch_loss = 0;
        memset(r->epoch_term, 0, sizeof r->epoch_term);
        r->epoch_count = 0;
      }
    }
    /* this process's rows of the batch (all of them in one process) */
    ae__run_gather(r, r->perm + mt->step_in_epoch * r->bsz + r->par.row0, r->par.rows, r->batch);
    r->batch->shape = bs;
    set_lr(r);
    ae__par_step_begin(r);
    ae_thread_pick_before(&r->pick);
    const double step_t0 = ae_monotonic_seconds();
    if (ae_trainer_step(r->tr, r->batch)) {
      const char *why = ae__par_comm_error(r) ? ae__par_comm_error(r) : ae_trainer_error(r->tr);
      ae_progress_clear(&r->prog);
      if (r->ckpt_written)
        return fail("training stopped: %s; the last good checkpoint is kept in %s (step %" PRId64 ")", why, r->out,
                    mt->step);
      return fail("training stopped: %s; no checkpoint was written", why);
    }
    if (ae_thread_pick_after(&r->pick, ae_monotonic_seconds() - step_t0)) report_pick(r);
    stop = stop_signal;
    if (ae__par_after_step(r, &stop)) return -1;
    mt->step++;
    mt->stage_step++;
    mt->step_in_epoch++;
    steps_here++;
    res->steps_here = steps_here;
    r->epoch_loss += r->tr->loss;
    for (int i = 0; i < r->tr->nterms && i < AE_MAX_TERMS; i++) r->epoch_term[i] += r->tr->term[i];
    r->epoch_count++;
    int epoch_end = mt->step_in_epoch == r->per_epoch;
    int budget_end = mt->stage_step == r->budget;
    double tl = NAN, vl = NAN;
    if (epoch_end || budget_end) {
      if (eval_loss(r, &r->test, "test", &tl)) return -1;
      r->last_test = tl;
      if (r->val.x) {
        if (eval_loss(r, &r->val, "validation", &vl)) return -1;
        r->last_val = vl;
      }
    }
    if ((epoch_end || budget_end) && (!isfinite(tl) || (r->val.x && !isfinite(vl)))) {
      /* a checkpoint that evaluates to NaN is not kept: the last one stays */
      ae_progress_clear(&r->prog);
      return fail("training stopped: the %s loss is %g at step %" PRId64 " (the model diverged); %s",
                  !isfinite(tl) ? "test" : "validation", !isfinite(tl) ? tl : vl, mt->step,
                  r->ckpt_written ? "the last good checkpoint is kept" : "no checkpoint was written");
    }
    if (epoch_end) {
      mt->epoch++;
      mt->step_in_epoch = 0;
    }
    if (!isnan(vl) && track_validation(r, vl)) return -1;
    mt->finished = (budget_end && mt->stage == mt->nstages - 1) || mt->early_stopped;
    ae_train_csv_row(&r->csv, mt->step, mt->stage, mt->step_in_epoch == 0 ? mt->epoch : mt->epoch + 1, r->tr, vl, tl,
                     r->wall0 + (ae_monotonic_seconds() - r->t0));
    ae_progress_pos pos;
    fill_pos(r, &pos);
    ae_progress_step(&r->prog, &pos, r->bsz);
    int saved = 0;
    if (epoch_end || budget_end) {
      ae_progress_epoch(&r->prog, &pos, vl, tl);
      if (save(r)) return -1;
      saved = 1;
    }
    if (mt->early_stopped) {
      res->status = AE_RUN_EARLY_STOPPED;
      break;
    }
    if (stop || (r->c->stop_after > 0 && steps_here >= r->c->stop_after && !mt->finished)) {
      if (!saved && save(r)) return -1;
      ae_progress_clear(&r->prog);
      res->status = stop ? AE_RUN_INTERRUPTED : AE_RUN_STOPPED;
      res->signal = stop > 0 ? stop : 0;
      return 0;
    }
  }
  ae_progress_clear(&r->prog);
  return 0;
}

/* The pictures of a finished run. */
static int pictures(run *r) {
  char path[4200];
  ae_model *m = r->m;
  FILE *rep = r->c->no_report ? NULL : r->c->report;
  int points = ae_model_is_points(m);
  int drawable = points || m->example.ndim == 2 ||
                 (m->example.ndim == 3 && (m->example.d[0] == 1 || m->example.d[0] == 3));
  if (!drawable) {
    if (!r->c->quiet) fprintf(stderr, "aezoo: note: no pictures for examples of this shape\n");
    return 0;
  }
  snprintf(path, sizeof path, "%s/reconstructions.png", r->out);
  if (ae_picture_reconstructions(m, &r->test, points ? POINTS_COUNT : RECON_COUNT, r->meta.seed, path))
    return fail("%s", ae_last_error());
  if (rep) fprintf(rep, "reconstructions: %s\n", path);
  if (m->def->sample) {
    snprintf(path, sizeof path, "%s/samples.png", r->out);
    if (ae_picture_samples(m, points ? POINTS_COUNT : SAMPLE_COUNT, r->meta.seed, path))
      return fail("%s", ae_last_error());
    if (rep) fprintf(rep, "samples: %s\n", path);
  }
  int64_t code = ae_model_code_size(m);
  if (code >= 2 && code <= CODES_MAX_UNITS) { /* wider codes by PCA (io/code_plot.h) */
    snprintf(path, sizeof path, "%s/codes.png", r->out);
    if (ae_picture_codes(m, &r->test, 2000, path)) return fail("%s", ae_last_error());
    if (rep) fprintf(rep, "codes: %s\n", path);
  }
  return 0;
}

/* ---- setting up ----------------------------------------------------------- */

static int setup_model(run *r) {
  const ae_run_config *c = r->c;
  ae_ckpt_meta *mt = &r->meta;
  ae_shape ex = ae__run_example_shape(ae__run_train_shape(r));
  if (r->resumed) {
    ae_ckpt_meta again;
    r->m = ae_ckpt_load_model(c->resume, &again);
    if (!r->m) return fail("%s", ae_last_error());
    if (!ae_shape_eq(ex, r->m->example)) {
      char a[64], b[64];
      return fail("resume: the data's examples %s differ from the checkpoint's %s", ae_shape_str(ex, a, sizeof a),
                  ae_shape_str(r->m->example, b, sizeof b));
    }
    return 0;
  }
  {
    const ae_model_def *d = ae_model_lookup(mt->model);
    ae_settings s;
    ae_settings_init(&s, d->settings, d->nsettings);
    if (ae_settings_parse_all(&s, c->nset, c->set) == 0 &&
        ae_model_check_footprint(d, &s, ex, mt->batch_size, c->max_memory))
      return fail("%s", ae_last_error());
  }
  r->m = ae_model_new(mt->model, c->nset, c->set, ex, mt->seed);
  if (!r->m) return fail("%s", ae_last_error());
  if (c->init && ae_ckpt_load_params(c->init, r->m)) return fail("init: %s", ae_last_error());
  ae_settings_format(&r->m->settings, mt->settings, sizeof mt->settings);
  mt->example = ex;
  mt->nstages = ae_model_nstages(r->m);
  return 0;
}

static int setup_trainer(run *r) {
  ae_ckpt_meta *mt = &r->meta;
  ae_opt_kind kind;
  ae_opt_kind_parse(mt->optimizer, &kind);
  ae_optim_config cfg = ae_optim_defaults(kind);
  cfg.lr = mt->lr;
  cfg.max_grad_norm = mt->clip_grad_norm;
  ae__par_optim_hook(r, &cfg);
  r->tr = ae_trainer_new(r->m, &cfg, mt->rng_seed, 0);
  if (!r->tr) return fail("%s", ae_last_error());
  if (!r->resumed) return 0;
  if (mt->stage > 0 && ae_trainer_set_stage(r->tr, mt->stage)) return fail("resume: %s", ae_trainer_error(r->tr));
  if (ae_ckpt_load_optim(r->c->resume, r->tr->opt, mt)) return fail("%s", ae_last_error());
  r->tr->rng.seed = mt->rng_seed;
  r->tr->rng.counter = mt->rng_counter;
  r->tr->step = mt->step;
  return 0;
}

/* Batches and budget; on resume the position is checked against them. */
static int setup_budget(run *r) {
  ae_ckpt_meta *mt = &r->meta;
  ae_shape ex = r->m->example;
  r->n = ae__run_train_rows(r);
  r->bsz = mt->batch_size < r->n ? mt->batch_size : r->n;
  r->per_epoch = r->n / r->bsz;
  r->budget = mt->epochs ? mt->epochs * r->per_epoch : mt->steps;
  r->total = r->budget * mt->nstages;
  int rc = ae__par_split(r);
  if (rc) return rc;
  uint64_t hash = ae__run_train_hash(r);
  if (r->resumed) {
    if (mt->data_rows && (mt->data_rows != r->n || mt->data_hash != hash)) {
      if (!r->c->allow_data_change)
        return fail("resume: the training data differs from the checkpoint's: %" PRId64 " examples with fingerprint "
                    "%016" PRIx64 ", the checkpoint's %" PRId64 " with %016" PRIx64
                    " (--allow-data-change continues on the new data from the start of the epoch)",
                    r->n, hash, mt->data_rows, mt->data_hash);
      /* continue on the new data from the start of the current epoch */
      mt->step_in_epoch = 0;
      if (mt->epochs) mt->stage_step = mt->epoch * r->per_epoch < r->budget ? mt->epoch * r->per_epoch : r->budget;
    }
    if (mt->step_in_epoch >= r->per_epoch || mt->stage_step > r->budget ||
        (mt->epochs && mt->epoch * r->per_epoch + mt->step_in_epoch != mt->stage_step))
      return fail("resume: the checkpoint's position (stage %d, epoch %" PRId64 ", step %" PRId64
                  " in the epoch, %" PRId64 " in the stage) does not fit %" PRId64 " steps per epoch and a budget of %" PRId64,
                  mt->stage, mt->epoch, mt->step_in_epoch, mt->stage_step, r->per_epoch, r->budget);
  }
  mt->data_rows = r->n;
  mt->data_hash = hash;
  ae_shape bs = ae_shape_make(ex.ndim + 1, NULL);
  bs.d[0] = r->par.rows;
  for (int k = 0; k < ex.ndim; k++) bs.d[k + 1] = ex.d[k];
  r->perm = malloc(sizeof(int64_t) * (size_t)r->n);
  r->batch = ae_tensor_new(bs);
  if (!r->perm || !r->batch) return fail("out of memory");
  return 0;
}

/* SIGINT/SIGTERM stop the run after its step (a second one takes the
 * default action); the previous handlers come back when the run returns. */
static struct sigaction old_int, old_term;
static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
}
static void restore_signals(void) {
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
}

int ae_run(const ae_run_config *c, ae_run_result *res_out) {
  run r;
  ae_run_result res;
  memset(&r, 0, sizeof r);
  memset(&res, 0, sizeof res);
  res.test_loss = res.val_loss = res.best_val = NAN;
  r.c = c;
  r.last_test = r.last_val = NAN;
  stop_signal = 0;
  int rc = ae__par_init(&r);
  if (!rc) rc = ae__run_setup_meta(&r);
  if (!rc) rc = ae__run_check_options(&r);
  if (rc) goto done;
  const char *out = c->out ? c->out : c->resume;
  if (out)
    snprintf(r.out, sizeof r.out, "%s", out);
  else
    snprintf(r.out, sizeof r.out, "runs/%s", r.meta.model);
  int same_dir = c->resume && strcmp(c->resume, r.out) == 0;
  if (ae__par_root(&r) && (rc = ae_run_dir_open(&r.dir, r.out, same_dir, c->force))) goto done;
  rc = -1;
  if (ae__run_open_data(&r) || setup_model(&r) || setup_trainer(&r) || (rc = setup_budget(&r))) {
    if (rc == 0) rc = -1;
    goto done;
  }
  rc = -1;
  if (ae__par_root(&r) &&
      ae_train_csv_open(&r.csv, r.out, c->resume, r.meta.step, r.m, r.test.x, r.val.x != NULL)) {
    fail("%s", ae_last_error());
    goto done;
  }
  if ((rc = ae__par_start(&r, 0))) goto done;
  rc = -1;
  FILE *rep = c->no_report || !ae__par_root(&r) ? NULL : c->report;
  if (r.meta.finished) {
    if (rep) fprintf(rep, "the run in %s is already finished (step %" PRId64 ")\n", c->resume, r.meta.step);
    res.status = r.meta.early_stopped ? AE_RUN_EARLY_STOPPED : AE_RUN_FINISHED;
    rc = 0;
    goto done;
  }
  r.ckpt_written = r.resumed;
  r.t0 = ae_monotonic_seconds();
  r.wall0 = r.meta.wall_time;
  int quiet = c->quiet || !ae__par_root(&r);
  ae_progress_init(&r.prog, quiet, r.meta.step);
  if (!quiet && r.prog.mode == AE_PROGRESS_LINES)
    fprintf(stderr, "training %s (%" PRId64 " parameters) on %s: %" PRId64 " examples%s, %" PRId64 " steps of %" PRId64
                    "%s%s\n",
            r.meta.model, ae_model_param_count(r.m), r.train.name, r.n, r.val.x ? " (validation split off)" : "",
            r.total, r.bsz, r.par.size > 1 ? " split over processes" : "", r.resumed ? " (resumed)" : "");
  if (c->pick_threads && r.par.size == 1)
    ae_thread_pick_init(&r.pick, ae_get_threads());
  else
    r.pick.chosen = ae_get_threads();
  if (c->handle_signals) install_signals();
  rc = train_loop(&r, &res);
  if (c->handle_signals) restore_signals();
  if (rc == 0 && (res.status == AE_RUN_FINISHED || res.status == AE_RUN_EARLY_STOPPED)) {
    if (rep) {
      if (res.status == AE_RUN_EARLY_STOPPED)
        fprintf(rep, "early stop: validation loss did not improve for %" PRId64 " epochs (best %.6g at step %" PRId64
                     ", kept in %s/best)\n",
                r.meta.early_stop, r.meta.best_val, r.meta.best_step, r.out);
      fprintf(rep, "trained %s for %" PRId64 " steps; checkpoint: %s/%s\n", r.meta.model, r.meta.step, r.out,
              AE_CKPT_MODEL_FILE);
    }
    if (!c->no_pictures && ae__par_root(&r) && pictures(&r)) rc = -1;
  }
  if (rc == 0 && ae__par_finish(&r)) rc = -1;
done:
  if (!r.par.started) ae__par_start(&r, 1); /* the other ranks learn that this one could not start */
  if (rc < 0) ae__par_fail(&r);             /* after the start: ends every rank */
  res.step = r.meta.step;
  res.threads = ae_get_threads();
  res.total_steps = r.total;
  res.test_loss = r.last_test;
  res.val_loss = r.last_val;
  res.best_val = r.meta.best_step ? r.meta.best_val : NAN;
  snprintf(res.out, sizeof res.out, "%s", r.out);
  if (res_out) *res_out = res;
  run_free(&r);
  return rc;
}
