/* run_config.c: a run's options: the metadata of a new run from the
 * config and the defaults, or the resumed checkpoint's metadata checked
 * against the config (options that change the result must match; the
 * budget may grow), then the values checked (run_internal.h). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "run_internal.h"
#include "zoo/plugin.h"

#define DEFAULT_EPOCHS 5
#define DEFAULT_BATCH 64
#define DEFAULT_TEST_LIMIT 2000
#define bad ae__run_bad
#define fail ae__run_fail
#define mix64 ae__run_mix64

uint64_t ae__run_mix64(uint64_t x) { /* splitmix64's finaliser */
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* ---- configuration ------------------------------------------------------ */

static void set_error(const char *fmt, va_list ap) {
  char buf[2048];
  vsnprintf(buf, sizeof buf, fmt, ap);
  ae_set_last_error("%s", buf);
}

int ae__run_bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_error(fmt, ap);
  va_end(ap);
  return AE_RUN_BAD_CONFIG;
}

int ae__run_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_error(fmt, ap);
  va_end(ap);
  return -1;
}

/* Checks the settings against the model's table (usage errors, before any work). */
static int check_settings(const ae_model_def *d, int nset, const char *const *set) {
  ae_settings s;
  ae_settings_init(&s, d->settings, d->nsettings);
  for (int i = 0; i < nset; i++)
    if (ae_settings_parse(&s, set[i])) return bad("model %s: %s", d->name, ae_last_error());
  return 0;
}

/* A new run's metadata from the config and the defaults. */
static int meta_new(run *r, const ae_model_def *d) {
  const ae_run_config *c = r->c;
  ae_ckpt_meta *mt = &r->meta;
  ae_opt_kind kind;
  const char *opt = c->optimizer ? c->optimizer : "adam";
  if (ae_opt_kind_parse(opt, &kind))
    return bad("unknown optimizer '%s'; valid optimizers: sgd momentum nesterov adam adamw nadam rmsprop adagrad",
               opt);
  if (c->epochs != AE_RUN_UNSET && c->steps != AE_RUN_UNSET) return bad("give epochs or steps, not both");
  if ((c->epochs != AE_RUN_UNSET && c->epochs < 1) || (c->steps != AE_RUN_UNSET && c->steps < 1))
    return bad("the budget (epochs or steps) must be at least 1");
  if (c->batch_size != AE_RUN_UNSET && c->batch_size < 1) return bad("batch size must be at least 1");
  ae_optim_config cfg = ae_optim_defaults(kind);
  snprintf(mt->model, sizeof mt->model, "%s", d->name);
  snprintf(mt->plugin, sizeof mt->plugin, "%s", ae_model_plugin(d) ? ae_model_plugin(d) : "");
  snprintf(mt->data, sizeof mt->data, "%s", c->data ? c->data : "fashion-mnist");
  snprintf(mt->test_data, sizeof mt->test_data, "%s", c->test_data ? c->test_data : "");
  mt->limit = c->limit == AE_RUN_UNSET ? 0 : c->limit;
  mt->test_limit = c->test_limit == AE_RUN_UNSET ? DEFAULT_TEST_LIMIT : c->test_limit;
  mt->seed = c->seed == AE_RUN_UNSET ? 1 : (uint64_t)c->seed;
  mt->rng_seed = mix64(mt->seed ^ 0x6e6f697365ull); /* "noise" */
  mt->rng_counter = 0;
  mt->shuffle = !c->no_shuffle;
  mt->shuffle_seed = mix64(mt->seed ^ 0x73687566ull); /* "shuf" */
  mt->batch_size = c->batch_size == AE_RUN_UNSET ? DEFAULT_BATCH : c->batch_size;
  mt->lr = isnan(c->lr) ? cfg.lr : c->lr;
  snprintf(mt->optimizer, sizeof mt->optimizer, "%s", ae_opt_kind_name(kind));
  mt->steps = c->steps == AE_RUN_UNSET ? 0 : c->steps;
  mt->epochs = mt->steps ? 0 : c->epochs == AE_RUN_UNSET ? DEFAULT_EPOCHS : c->epochs;
  mt->val_split = isnan(c->val_split) ? 0 : c->val_split;
  mt->early_stop = c->early_stop == AE_RUN_UNSET ? 0 : c->early_stop;
  snprintf(mt->lr_schedule, sizeof mt->lr_schedule, "%s", c->lr_schedule ? c->lr_schedule : "constant");
  mt->clip_grad_norm = isnan(c->clip_grad_norm) ? 0 : c->clip_grad_norm;
  snprintf(mt->version, sizeof mt->version, "%s", "0.1.0");
  return 0;
}

/* With resume: every option that changes the result must match the
 * checkpoint, except the budget, which may grow. */
static int check_resume(run *r) {
  const ae_run_config *c = r->c;
  ae_ckpt_meta *mt = &r->meta;
  char why[1024] = "";
#define DIFF(cond, ...) \
  if (!why[0] && (cond)) snprintf(why, sizeof why, __VA_ARGS__)
  if (c->model) {
    const ae_model_def *d = ae_model_resolve(c->model);
    DIFF(!d || strcmp(d->name, mt->model), "model %s differs from the checkpoint's %s", c->model, mt->model);
  }
  DIFF(c->data && strcmp(c->data, mt->data), "--data %.200s differs from the checkpoint's %.200s", c->data, mt->data);
  DIFF(c->test_data && strcmp(c->test_data, mt->test_data), "--test-data %.200s differs from the checkpoint's '%.200s'",
       c->test_data, mt->test_data);
  DIFF(c->epochs != AE_RUN_UNSET && !mt->epochs, "the checkpoint's budget is in steps (%" PRId64 "), not epochs",
       mt->steps);
  DIFF(c->steps != AE_RUN_UNSET && !mt->steps, "the checkpoint's budget is in epochs (%" PRId64 "), not steps",
       mt->epochs);
  DIFF(c->epochs != AE_RUN_UNSET && c->epochs < mt->epochs,
       "--epochs %" PRId64 " is below the checkpoint's %" PRId64 " (a run's budget can grow, not shrink)", c->epochs,
       mt->epochs);
  DIFF(c->steps != AE_RUN_UNSET && c->steps < mt->steps,
       "--steps %" PRId64 " is below the checkpoint's %" PRId64 " (a run's budget can grow, not shrink)", c->steps,
       mt->steps);
  DIFF(c->batch_size != AE_RUN_UNSET && c->batch_size != mt->batch_size,
       "--batch-size %" PRId64 " differs from the checkpoint's %" PRId64, c->batch_size, mt->batch_size);
  DIFF(!isnan(c->lr) && c->lr != mt->lr, "--lr %g differs from the checkpoint's %.17g", c->lr, mt->lr);
  DIFF(c->optimizer && strcasecmp(c->optimizer, mt->optimizer), "--optimizer %s differs from the checkpoint's %s",
       c->optimizer, mt->optimizer);
  DIFF(c->seed != AE_RUN_UNSET && (uint64_t)c->seed != mt->seed,
       "--seed %" PRId64 " differs from the checkpoint's %" PRIu64, c->seed, mt->seed);
  DIFF(c->limit != AE_RUN_UNSET && c->limit != mt->limit, "--limit %" PRId64 " differs from the checkpoint's %" PRId64,
       c->limit, mt->limit);
  DIFF(c->test_limit != AE_RUN_UNSET && c->test_limit != mt->test_limit,
       "--test-limit %" PRId64 " differs from the checkpoint's %" PRId64, c->test_limit, mt->test_limit);
  DIFF(c->no_shuffle && mt->shuffle, "--no-shuffle differs from the checkpoint (shuffled)");
  DIFF(!isnan(c->val_split) && c->val_split != mt->val_split, "--val-split %g differs from the checkpoint's %g",
       c->val_split, mt->val_split);
  DIFF(c->early_stop != AE_RUN_UNSET && c->early_stop != mt->early_stop,
       "--early-stop %" PRId64 " differs from the checkpoint's %" PRId64, c->early_stop, mt->early_stop);
  DIFF(c->lr_schedule && strcmp(c->lr_schedule, mt->lr_schedule), "--lr-schedule %s differs from the checkpoint's %s",
       c->lr_schedule, mt->lr_schedule);
  DIFF(!isnan(c->clip_grad_norm) && c->clip_grad_norm != mt->clip_grad_norm,
       "--clip-grad-norm %g differs from the checkpoint's %g", c->clip_grad_norm, mt->clip_grad_norm);
  DIFF(c->init, "--init cannot be combined with --resume (the checkpoint has the weights)");
  if (!why[0] && c->nset) {
    /* the settings given must equal the checkpoint's resolved ones */
    const ae_model_def *d = ae_model_lookup(mt->model);
    ae_settings a, b;
    char fa[sizeof mt->settings], fb[sizeof mt->settings], buf[sizeof mt->settings];
    char *set[AE_MAX_SETTINGS + 1];
    int n = ae_settings_split(mt->settings, buf, sizeof buf, set, AE_MAX_SETTINGS + 1);
    ae_settings_init(&a, d->settings, d->nsettings);
    for (int i = 0; i < n; i++) ae_settings_parse(&a, set[i]);
    b = a;
    for (int i = 0; i < c->nset; i++) ae_settings_parse(&b, c->set[i]);
    ae_settings_format(&a, fa, sizeof fa);
    ae_settings_format(&b, fb, sizeof fb);
    DIFF(strcmp(fa, fb), "--set changes the checkpoint's settings (%.300s)", mt->settings);
  }
#undef DIFF
  if (why[0])
    return bad("--resume: %s; options that change the result cannot change when resuming (only --epochs/--steps "
               "may grow, and --quiet, --threads, --out and --stop-after may change)",
               why);
  /* a larger budget extends the run */
  if (c->epochs != AE_RUN_UNSET && c->epochs > mt->epochs) mt->epochs = c->epochs, mt->finished = 0;
  if (c->steps != AE_RUN_UNSET && c->steps > mt->steps) mt->steps = c->steps, mt->finished = 0;
  if (mt->early_stopped && (c->epochs != AE_RUN_UNSET || c->steps != AE_RUN_UNSET)) mt->early_stopped = 0;
  return 0;
}

/* Metadata: new, or read from the checkpoint and checked against the config. */
int ae__run_setup_meta(run *r) {
  const ae_run_config *c = r->c;
  if (c->resume) {
    if (!ae_run_is_dir(c->resume))
      return fail("resume %s: %s", c->resume, ae_run_exists(c->resume) ? "not a directory" : "no such directory");
    if (ae_ckpt_read_meta(c->resume, &r->meta)) return fail("%s", ae_last_error());
    if (r->meta.plugin[0] && !ae_model_lookup(r->meta.model) && ae_plugin_load(r->meta.plugin, NULL) < 0)
      return fail("resume: model %s comes from a plugin that cannot be loaded: %s", r->meta.model, ae_last_error());
    if (!ae_model_lookup(r->meta.model)) return fail("resume: the checkpoint's model '%s' is unknown", r->meta.model);
    int rc = check_resume(r);
    if (rc) return rc;
    r->resumed = 1;
    return 0;
  }
  if (!c->model) return bad("no model given");
  const ae_model_def *d = ae_model_resolve(c->model);
  if (!d) return bad("%s", ae_last_error());
  int rc = check_settings(d, c->nset, c->set);
  if (!rc) rc = meta_new(r, d);
  return rc;
}

int ae__run_check_options(run *r) {
  const ae_ckpt_meta *mt = &r->meta;
  if (!(mt->val_split >= 0 && mt->val_split < 1)) return bad("val split %g is not in [0, 1)", mt->val_split);
  if (mt->early_stop < 0) return bad("early stop %" PRId64 " is negative", mt->early_stop);
  if (mt->early_stop > 0 && mt->val_split <= 0)
    return bad("early stopping watches the validation loss: give a validation split too (--val-split F)");
  if (!(mt->clip_grad_norm >= 0) || !isfinite(mt->clip_grad_norm))
    return bad("clip grad norm %g is not a finite number >= 0", mt->clip_grad_norm);
  if (ae_lr_sched_parse(mt->lr_schedule, &r->sched)) return bad("%s", ae_last_error());
  return 0;
}

