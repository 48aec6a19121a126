/* cmd_train.c: `aezoo train`: the training loop over epochs or a step
 * budget, with per-epoch shuffling, stages (stacked models), train.csv,
 * test loss at epoch ends, checkpoints at epoch ends and on SIGINT/SIGTERM,
 * --resume and --init, and the pictures at the end.
 *
 * Budget: --epochs N or --steps N is the budget of EACH stage: a stacked
 * model with 3 stages trains 3 x N epochs (or steps) in all, so every
 * greedy layer and the fine-tuning get the same budget.
 * Batches: batch = min(--batch-size, N examples); an epoch is N / batch
 * batches (the remainder of the permutation is dropped, as drop_last).
 * Shuffling: the permutation of epoch e in stage s is a Fisher-Yates
 * shuffle driven by a Philox generator keyed by (shuffle_seed, s, e), so a
 * resumed run rebuilds it from the checkpoint's position alone.
 * Test loss: at each epoch end (and at the end of a --steps budget), over
 * the first --test-limit examples (default 2000; 0 = all) of --test-data
 * (default: the test split of --data), noise drawn from a fixed seed.
 * Signals: SIGINT or SIGTERM makes the loop stop after the current step,
 * write a checkpoint and exit with 128 + the signal number (130, 143), as
 * shells expect of an interrupted command; a second signal kills at once
 * (checkpoint files are replaced atomically, so nothing is lost but the
 * steps since the last checkpoint). */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "autograd/parallel.h"
#include "run/checkpoint.h"
#include "commands.h"
#include "common.h"
#include "run/pictures.h"
#include "run/progress.h"
#include "run/train_csv.h"
#include "zoo/train.h"

#define DEFAULT_EPOCHS 5
#define DEFAULT_BATCH 64
#define DEFAULT_TEST_LIMIT 2000
#define RECON_COUNT 32
#define POINTS_COUNT 500
#define SAMPLE_COUNT 64

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static void install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND; /* a second signal takes the default action */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

static uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* The permutation of epoch `epoch` of stage `stage`. */
static void epoch_permutation(int64_t *perm, int64_t n, int shuffle, uint64_t seed, int stage, int64_t epoch) {
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

/* The options of one invocation. */
typedef struct train_opts {
  const char *model, *data, *test_data, *optimizer, *out, *init, *resume;
  int64_t epochs, steps, batch, seed, threads, limit, test_limit, stop_after;
  double lr;
  int no_shuffle, quiet, force;
  cli_list set;
} train_opts;

/* With --resume: every option that changes the result must match the checkpoint. */
static int check_resume_opts(cli_opt *opts, int nopts, const train_opts *o, const ae_ckpt_meta *meta) {
  char why[512] = "";
#define DIFF(cond, ...) \
  if (!why[0] && (cond)) snprintf(why, sizeof why, __VA_ARGS__)
  DIFF(o->model && strcmp(o->model, meta->model), "model %s differs from the checkpoint's %s", o->model, meta->model);
  DIFF(cli_find_opt(opts, nopts, "--data")->given && strcmp(o->data, meta->data),
       "--data %.200s differs from the checkpoint's %.200s", o->data, meta->data);
  DIFF(cli_find_opt(opts, nopts, "--test-data")->given && strcmp(o->test_data, meta->test_data),
       "--test-data %.200s differs from the checkpoint's '%.200s'", o->test_data, meta->test_data);
  DIFF(cli_find_opt(opts, nopts, "--epochs")->given && o->epochs != meta->epochs,
       "--epochs %" PRId64 " differs from the checkpoint's %" PRId64, o->epochs, meta->epochs);
  DIFF(cli_find_opt(opts, nopts, "--steps")->given && o->steps != meta->steps,
       "--steps %" PRId64 " differs from the checkpoint's %" PRId64, o->steps, meta->steps);
  DIFF(cli_find_opt(opts, nopts, "--batch-size")->given && o->batch != meta->batch_size,
       "--batch-size %" PRId64 " differs from the checkpoint's %" PRId64, o->batch, meta->batch_size);
  DIFF(cli_find_opt(opts, nopts, "--lr")->given && o->lr != meta->lr, "--lr %g differs from the checkpoint's %.17g",
       o->lr, meta->lr);
  DIFF(cli_find_opt(opts, nopts, "--optimizer")->given && strcasecmp(o->optimizer, meta->optimizer),
       "--optimizer %s differs from the checkpoint's %s", o->optimizer, meta->optimizer);
  DIFF(cli_find_opt(opts, nopts, "--seed")->given && (uint64_t)o->seed != meta->seed,
       "--seed %" PRId64 " differs from the checkpoint's %" PRIu64, o->seed, meta->seed);
  DIFF(cli_find_opt(opts, nopts, "--limit")->given && o->limit != meta->limit,
       "--limit %" PRId64 " differs from the checkpoint's %" PRId64, o->limit, meta->limit);
  DIFF(cli_find_opt(opts, nopts, "--test-limit")->given && o->test_limit != meta->test_limit,
       "--test-limit %" PRId64 " differs from the checkpoint's %" PRId64, o->test_limit, meta->test_limit);
  DIFF(o->no_shuffle && meta->shuffle, "--no-shuffle differs from the checkpoint (shuffled)");
  DIFF(o->init, "--init cannot be combined with --resume (the checkpoint has the weights)");
  if (!why[0] && o->set.n) {
    /* the settings given must equal the checkpoint's resolved ones */
    const ae_model_def *d = ae_zoo_find(meta->model);
    ae_settings a, b;
    char err[512], fa[sizeof meta->settings], fb[sizeof meta->settings], buf[sizeof meta->settings];
    char *set[AE_MAX_SETTINGS + 1];
    int n = ae_settings_split(meta->settings, buf, sizeof buf, set, AE_MAX_SETTINGS + 1);
    ae_settings_init(&a, d->settings, d->nsettings);
    for (int i = 0; i < n; i++) ae_settings_parse(&a, set[i], err, sizeof err);
    b = a;
    for (int i = 0; i < o->set.n; i++) ae_settings_parse(&b, o->set.v[i], err, sizeof err);
    ae_settings_format(&a, fa, sizeof fa);
    ae_settings_format(&b, fb, sizeof fb);
    DIFF(strcmp(fa, fb), "--set changes the checkpoint's settings (%.300s)", meta->settings);
  }
#undef DIFF
  if (why[0]) {
    cli_error("train --resume: %s; options that change the result cannot change when resuming "
              "(only --quiet, --threads, --out and --stop-after may)",
              why);
    return CLI_USAGE;
  }
  return CLI_OK;
}

/* The run's state and resources. */
typedef struct run {
  train_opts o;
  ae_ckpt_meta meta;
  ae_dataset train, test;
  ae_model *m;
  ae_trainer *tr;
  int64_t *perm;
  ae_tensor *batch;
  int64_t n, bsz, per_epoch, budget, total;
  ae_train_csv csv;
  ae_progress prog;
  double t0, wall0;
  double epoch_loss;
  int64_t epoch_count;
  int ckpt_written; /* any checkpoint exists in out */
} run;

static void run_free(run *r) {
  ae_trainer_free(r->tr);
  ae_model_free(r->m);
  ae_dataset_free(&r->train);
  ae_dataset_free(&r->test);
  free(r->perm);
  ae_tensor_free(r->batch);
  ae_train_csv_close(&r->csv);
}

static int save(run *r) {
  char err[1024];
  r->meta.rng_seed = r->tr->rng.seed;
  r->meta.rng_counter = r->tr->rng.counter;
  r->meta.wall_time = r->wall0 + (ae_monotonic_seconds() - r->t0);
  r->meta.threads = ae_get_threads();
  ae_train_csv_flush(&r->csv);
  if (ae_ckpt_save(r->o.out, r->m, r->tr->opt, &r->meta, err, sizeof err)) {
    ae_progress_clear(&r->prog);
    cli_error("cannot write the checkpoint: %s", err);
    return -1;
  }
  r->ckpt_written = 1;
  return 0;
}

static double test_loss(run *r) {
  ae_eval_result ev;
  char err[1024];
  int64_t n = r->test.x->shape.d[0];
  if (ae_evaluate(r->m, r->test.x, n, r->bsz, r->meta.seed ^ 0x7e57ull, &ev, err, sizeof err)) {
    ae_progress_clear(&r->prog);
    cli_error("test loss: %s", err);
    return NAN;
  }
  return ev.loss;
}

static void fill_pos(run *r, ae_progress_pos *p) {
  const ae_ckpt_meta *mt = &r->meta;
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
}

/* The loop. CLI_OK when the budget is done or --stop-after reached;
 * 128 + signal when interrupted; CLI_FAIL on a NaN or a write error. */
static int train_loop(run *r) {
  ae_ckpt_meta *mt = &r->meta;
  ae_shape bs = r->batch->shape;
  int64_t steps_here = 0;
  int have_perm = 0;
  install_signals();
  while (!(mt->stage == mt->nstages - 1 && mt->stage_step >= r->budget)) {
    if (mt->stage_step >= r->budget) { /* next stage */
      mt->stage++;
      mt->stage_step = mt->epoch = mt->step_in_epoch = 0;
      have_perm = 0;
      if (ae_trainer_set_stage(r->tr, mt->stage)) {
        cli_error("stage %d: %s", mt->stage, r->tr->error);
        return CLI_FAIL;
      }
    }
    if (!have_perm || mt->step_in_epoch == 0) {
      epoch_permutation(r->perm, r->n, mt->shuffle, mt->shuffle_seed, mt->stage, mt->epoch);
      have_perm = 1;
      r->epoch_loss = 0;
      r->epoch_count = 0;
    }
    ae_gather_rows(r->train.x, r->perm + mt->step_in_epoch * r->bsz, r->bsz, r->batch);
    r->batch->shape = bs;
    if (ae_trainer_step(r->tr, r->batch)) {
      ae_progress_clear(&r->prog);
      if (r->ckpt_written)
        cli_error("training stopped: %s; the last good checkpoint is kept in %s (step %" PRId64 ")", r->tr->error,
                  r->o.out, mt->step);
      else
        cli_error("training stopped: %s; no checkpoint was written", r->tr->error);
      return CLI_FAIL;
    }
    mt->step++;
    mt->stage_step++;
    mt->step_in_epoch++;
    steps_here++;
    r->epoch_loss += r->tr->loss;
    r->epoch_count++;
    int epoch_end = mt->step_in_epoch == r->per_epoch;
    int budget_end = mt->stage_step == r->budget;
    double tl = NAN;
    if (epoch_end || budget_end) tl = test_loss(r);
    if (epoch_end) {
      mt->epoch++;
      mt->step_in_epoch = 0;
    }
    mt->finished = budget_end && mt->stage == mt->nstages - 1;
    ae_train_csv_row(&r->csv, mt->step, mt->stage, mt->step_in_epoch == 0 ? mt->epoch : mt->epoch + 1, r->tr, tl,
                  r->wall0 + (ae_monotonic_seconds() - r->t0));
    ae_progress_pos pos;
    fill_pos(r, &pos);
    ae_progress_step(&r->prog, &pos, r->bsz);
    int saved = 0;
    if (epoch_end || budget_end) {
      ae_progress_epoch(&r->prog, &pos, tl);
      if (save(r)) return CLI_FAIL;
      saved = 1;
    }
    if (got_signal || (r->o.stop_after > 0 && steps_here >= r->o.stop_after && !mt->finished)) {
      if (!saved && save(r)) return CLI_FAIL;
      ae_progress_clear(&r->prog);
      if (got_signal) {
        cli_error("interrupted by %s at step %" PRId64 "; checkpoint written to %s (continue with "
                  "`aezoo train --resume %s`)",
                  got_signal == SIGINT ? "SIGINT" : "SIGTERM", mt->step, r->o.out, r->o.out);
        return 128 + got_signal;
      }
      printf("stopped after %" PRId64 " steps (--stop-after) at step %" PRId64 " of %" PRId64
             "; checkpoint in %s (continue with `aezoo train --resume %s`)\n",
             steps_here, mt->step, r->total, r->o.out, r->o.out);
      return CLI_OK;
    }
  }
  ae_progress_clear(&r->prog);
  return CLI_OK;
}

/* The pictures of a finished run. */
static int pictures(run *r) {
  char path[4096], err[1024];
  int drawable = ae_model_is_points(r->m) || r->m->example.ndim == 2 ||
                 (r->m->example.ndim == 3 && (r->m->example.d[0] == 1 || r->m->example.d[0] == 3));
  if (!drawable) {
    if (!r->o.quiet) cli_error("note: no pictures for examples of this shape");
    return 0;
  }
  int64_t count = ae_model_is_points(r->m) ? POINTS_COUNT : RECON_COUNT;
  if (cli_path(path, sizeof path, r->o.out, "reconstructions.png")) return -1;
  if (ae_picture_reconstructions(r->m, &r->test, count, r->meta.seed, path, err, sizeof err)) {
    cli_error("%s", err);
    return -1;
  }
  printf("reconstructions: %s\n", path);
  if (r->m->def->sample) {
    if (cli_path(path, sizeof path, r->o.out, "samples.png")) return -1;
    if (ae_picture_samples(r->m, ae_model_is_points(r->m) ? POINTS_COUNT : SAMPLE_COUNT, r->meta.seed, path, err,
                            sizeof err)) {
      cli_error("%s", err);
      return -1;
    }
    printf("samples: %s\n", path);
  }
  if (ae_model_code_size(r->m, err, sizeof err) == 2) {
    if (cli_path(path, sizeof path, r->o.out, "codes.png")) return -1;
    if (ae_picture_codes(r->m, &r->test, 2000, path, err, sizeof err)) {
      cli_error("%s", err);
      return -1;
    }
    printf("codes: %s\n", path);
  }
  return 0;
}

static const char about[] =
    "Trains MODEL (see `aezoo list`) on --data and writes to --out: model.safetensors\n"
    "(parameters and run metadata), optimizer.safetensors, train.csv (per step: step,\n"
    "stage, epoch, loss, each loss term, test_loss at epoch ends, wall_time), and at the\n"
    "end reconstructions.png, samples.png (generative models) and codes.png (2-unit\n"
    "codes). A checkpoint is written at each epoch end and on Ctrl-C/SIGTERM (exit\n"
    "130/143). --epochs/--steps is the budget of each stage of a stacked model.\n"
    "With --resume DIR, MODEL and the options that change the result may be left out\n"
    "(they come from the checkpoint) or must match it.";

int cmd_train(int argc, char **argv) {
  run r;
  memset(&r, 0, sizeof r);
  train_opts *o = &r.o;
  o->data = CLI_DEFAULT_DATA;
  o->test_data = "";
  o->optimizer = "adam";
  o->epochs = DEFAULT_EPOCHS;
  o->batch = DEFAULT_BATCH;
  o->seed = 1;
  o->test_limit = DEFAULT_TEST_LIMIT;
  cli_opt opts[] = {
      {"--data", CLI_STR, "SPEC", "training data: fashion-mnist (default), mnist:DIR, DIR, FILE.npy, IDX file, "
                                  "spiral, swissroll, sines", &o->data, 0, 0, 0},
      {"--test-data", CLI_STR, "SPEC", "test data (default: the test split of --data)", &o->test_data, 0, 0, 0},
      {"--epochs", CLI_INT, "N", "epochs per stage (default 5)", &o->epochs, 1, 1e9, 0},
      {"--steps", CLI_INT, "N", "optimisation steps per stage, instead of --epochs", &o->steps, 1, 1e15, 0},
      {"--batch-size", CLI_INT, "N", "examples per step (default 64)", &o->batch, 1, 1 << 20, 0},
      {"--lr", CLI_REAL, "X", "learning rate (default: the optimizer's, e.g. adam 0.001)", &o->lr, 0, 1e30, 0},
      {"--optimizer", CLI_STR, "NAME", "sgd|momentum|nesterov|adam|adamw|nadam|rmsprop|adagrad (default adam)",
       &o->optimizer, 0, 0, 0},
      {"--seed", CLI_INT, "N", "seed of initialisation, shuffling, noise, synthetic data (default 1)", &o->seed, 0,
       9.2e18, 0},
      {"--threads", CLI_INT, "N", "threads (default: OpenMP's, all cores)", &o->threads, 1, 1024, 0},
      {"--set", CLI_LIST, "KEY=VALUE", "a model setting (repeatable; see `aezoo list`)", &o->set, 0, 0, 0},
      {"--out", CLI_STR, "DIR", "output directory (default runs/MODEL)", &o->out, 0, 0, 0},
      {"--init", CLI_STR, "FILE", "start from the weights in a safetensors file", &o->init, 0, 0, 0},
      {"--resume", CLI_STR, "DIR", "continue the run checkpointed in DIR", &o->resume, 0, 0, 0},
      {"--no-shuffle", CLI_FLAG, NULL, "keep the data's order in every epoch", &o->no_shuffle, 0, 0, 0},
      {"--limit", CLI_INT, "N", "train on the first N examples only (default: all)", &o->limit, 1, 9.2e18, 0},
      {"--test-limit", CLI_INT, "N", "test loss over the first N test examples (default 2000; 0 = all)",
       &o->test_limit, 0, 9.2e18, 0},
      {"--stop-after", CLI_INT, "N", "stop after N steps of this invocation with a checkpoint (resume later)",
       &o->stop_after, 1, 1e15, 0},
      {"--force", CLI_FLAG, NULL, "replace a run already checkpointed in --out", &o->force, 0, 0, 0},
      {"--quiet", CLI_FLAG, NULL, "no progress output", &o->quiet, 0, 0, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"train", "MODEL", about, 0, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  o->model = npos ? pos[0] : NULL;
  ae_opt_kind kind;
  if (ae_opt_kind_parse(o->optimizer, &kind)) {
    cli_error("train: unknown optimizer '%s'; valid optimizers: sgd momentum nesterov adam adamw nadam rmsprop "
              "adagrad",
              o->optimizer);
    return CLI_USAGE;
  }
  if (cli_find_opt(opts, nopts, "--epochs")->given && cli_find_opt(opts, nopts, "--steps")->given) {
    cli_error("train: give --epochs or --steps, not both");
    return CLI_USAGE;
  }
  if (o->steps) o->epochs = 0;
  if (!o->model && !o->resume) {
    cli_error("train: missing argument MODEL; usage: aezoo train MODEL [options] (valid models: see `aezoo list`)");
    return CLI_USAGE;
  }
  if (o->model && (rc = cli_check_model_args(o->model, o->set.n, o->set.v))) return rc;
  if (o->threads) ae_set_threads((int)o->threads);

  ae_ckpt_meta *mt = &r.meta;
  char err[1024];
  if (o->resume) {
    if (!cli_is_dir(o->resume)) {
      cli_error("train --resume %s: %s", o->resume, cli_exists(o->resume) ? "not a directory" : "no such directory");
      return CLI_FAIL;
    }
    if (ae_ckpt_read_meta(o->resume, mt, err, sizeof err)) {
      cli_error("%s", err);
      return CLI_FAIL;
    }
    if (o->model == NULL) o->model = mt->model;
    if ((rc = check_resume_opts(opts, nopts, o, mt))) return rc;
    if (!o->out) o->out = o->resume;
  } else {
    ae_optim_config cfg = ae_optim_defaults(kind);
    snprintf(mt->model, sizeof mt->model, "%s", o->model);
    snprintf(mt->data, sizeof mt->data, "%s", o->data);
    snprintf(mt->test_data, sizeof mt->test_data, "%s", o->test_data);
    mt->limit = o->limit;
    mt->test_limit = o->test_limit;
    mt->seed = (uint64_t)o->seed;
    mt->rng_seed = mix64(mt->seed ^ 0x6e6f697365ull);    /* "noise" */
    mt->rng_counter = 0;
    mt->shuffle = !o->no_shuffle;
    mt->shuffle_seed = mix64(mt->seed ^ 0x73687566ull); /* "shuf" */
    mt->batch_size = o->batch;
    mt->lr = cli_find_opt(opts, nopts, "--lr")->given ? o->lr : cfg.lr;
    snprintf(mt->optimizer, sizeof mt->optimizer, "%s", ae_opt_kind_name(kind));
    mt->epochs = o->epochs;
    mt->steps = o->steps;
    snprintf(mt->version, sizeof mt->version, "%s", "0.1.0");
  }
  char outbuf[4096];
  if (!o->out) {
    snprintf(outbuf, sizeof outbuf, "runs/%s", mt->model);
    o->out = outbuf;
  }
  char path[4096];
  if (cli_path(path, sizeof path, o->out, AE_CKPT_MODEL_FILE)) return CLI_USAGE;
  int same_dir = o->resume && strcmp(o->resume, o->out) == 0;
  if (!same_dir && !o->force && cli_exists(path)) {
    cli_error("train: %s already holds a checkpoint; continue it with --resume %s, or choose another --out "
              "(or --force to replace it)",
              o->out, o->out);
    return CLI_USAGE;
  }

  /* data */
  rc = CLI_FAIL;
  const char *test_spec = mt->test_data[0] ? mt->test_data : mt->data;
  if (cli_load_data(mt->data, CLI_SPLIT_TRAIN, mt->limit, mt->seed, &r.train)) goto done;
  if (cli_load_data(test_spec, CLI_SPLIT_TEST, mt->test_limit, mt->seed, &r.test)) goto done;
  ae_shape ex = cli_example_shape(r.train.x);
  if (!ae_shape_eq(ex, cli_example_shape(r.test.x))) {
    char a[64], b[64];
    cli_error("train: the test data's examples %s differ from the training data's %s",
              ae_shape_str(cli_example_shape(r.test.x), a, sizeof a), ae_shape_str(ex, b, sizeof b));
    goto done;
  }

  /* model */
  if (o->resume) {
    ae_ckpt_meta again;
    r.m = ae_ckpt_load_model(o->resume, &again, err, sizeof err);
    if (!r.m) {
      cli_error("%s", err);
      goto done;
    }
    if (!ae_shape_eq(ex, r.m->example)) {
      char a[64], b[64];
      cli_error("train --resume: the data's examples %s differ from the checkpoint's %s", ae_shape_str(ex, a, sizeof a),
                ae_shape_str(r.m->example, b, sizeof b));
      goto done;
    }
  } else {
    r.m = cli_build_model(o->model, o->set.n, o->set.v, ex, mt->seed);
    if (!r.m) goto done;
    if (o->init && ae_ckpt_load_params(o->init, r.m, err, sizeof err)) {
      cli_error("--init: %s", err);
      goto done;
    }
    ae_settings_format(&r.m->settings, mt->settings, sizeof mt->settings);
    mt->example = ex;
    mt->nstages = ae_model_nstages(r.m);
  }

  /* trainer */
  ae_opt_kind_parse(mt->optimizer, &kind);
  ae_optim_config cfg = ae_optim_defaults(kind);
  cfg.lr = mt->lr;
  r.tr = ae_trainer_new(r.m, &cfg, mt->rng_seed, 0, err, sizeof err);
  if (!r.tr) {
    cli_error("train: %s", err);
    goto done;
  }
  if (o->resume) {
    if (mt->stage > 0 && ae_trainer_set_stage(r.tr, mt->stage)) {
      cli_error("train --resume: %s", r.tr->error);
      goto done;
    }
    if (ae_ckpt_load_optim(o->resume, r.tr->opt, mt, err, sizeof err)) {
      cli_error("%s", err);
      goto done;
    }
    r.tr->rng.seed = mt->rng_seed;
    r.tr->rng.counter = mt->rng_counter;
    r.tr->step = mt->step;
  }

  /* batches, budget */
  r.n = r.train.x->shape.d[0];
  r.bsz = mt->batch_size < r.n ? mt->batch_size : r.n;
  r.per_epoch = r.n / r.bsz;
  r.budget = mt->epochs ? mt->epochs * r.per_epoch : mt->steps;
  r.total = r.budget * mt->nstages;
  ae_shape bs = ae_shape_make(ex.ndim + 1, NULL);
  bs.d[0] = r.bsz;
  for (int k = 0; k < ex.ndim; k++) bs.d[k + 1] = ex.d[k];
  r.perm = malloc(sizeof(int64_t) * (size_t)r.n);
  r.batch = ae_tensor_new(bs);
  if (!r.perm || !r.batch) {
    cli_error("train: out of memory");
    goto done;
  }

  /* train.csv */
  if (cli_mkdir_p(o->out)) goto done;
  if (ae_train_csv_open(&r.csv, o->out, o->resume, mt->step, r.m, r.test.x, err, sizeof err)) {
    cli_error("%s", err);
    goto done;
  }

  if (mt->finished) {
    printf("the run in %s is already finished (step %" PRId64 ")\n", o->resume, mt->step);
    rc = CLI_OK;
    goto done;
  }
  r.ckpt_written = o->resume != NULL;
  r.t0 = ae_monotonic_seconds();
  r.wall0 = mt->wall_time;
  ae_progress_init(&r.prog, o->quiet, mt->step);
  if (!o->quiet && r.prog.mode == AE_PROGRESS_LINES)
    fprintf(stderr, "training %s (%" PRId64 " parameters) on %s: %" PRId64 " examples, %" PRId64
                    " steps of %" PRId64 "%s\n",
            mt->model, ae_model_param_count(r.m), r.train.name, r.n, r.total, r.bsz,
            o->resume ? " (resumed)" : "");
  rc = train_loop(&r);
  if (rc == CLI_OK && mt->finished) {
    printf("trained %s for %" PRId64 " steps; checkpoint: %s/%s\n", mt->model, mt->step, o->out,
           AE_CKPT_MODEL_FILE);
    if (pictures(&r)) rc = CLI_FAIL;
  }
done:
  run_free(&r);
  return rc;
}
