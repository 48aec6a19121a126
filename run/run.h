/* run.h: a training run, everything `aezoo train` does, for any model: a
 * zoo model, one a program registered (ae_model_register) or one from a
 * plugin. A run reads its data, builds (or resumes) the model and its
 * optimiser, trains over an epoch or step budget with per-epoch shuffling,
 * writes train.csv, checkpoints at epoch ends (and on a stop request),
 * evaluates on validation and test data, keeps the best checkpoint, stops
 * early when asked, and draws the pictures at the end. Its run directory
 * is the one the aezoo commands read (eval, reconstruct, encode, sample,
 * plot, gradcheck --at, train --resume).
 *
 * In ten lines:
 *   ae_run_config c;
 *   ae_run_config_init(&c);
 *   c.model = "tied-ae";          (registered with ae_model_register)
 *   c.out = "runs/tied";
 *   c.epochs = 3;
 *   ae_run_result r;
 *   if (ae_run(&c, &r) < 0) fprintf(stderr, "%s\n", ae_last_error());
 *
 * Budget: epochs or steps is the budget of EACH stage (a stacked model with
 * 3 stages trains 3 x N). Batches: min(batch_size, N) examples; an epoch is
 * N / batch batches (the remainder of the permutation is dropped).
 * Shuffling: epoch e of stage s is a Fisher-Yates shuffle keyed by
 * (shuffle_seed, s, e), so a resumed run rebuilds it from its position.
 * Validation: val_split > 0 holds out round(val_split * N) examples of the
 * training data, chosen by a permutation keyed by the seed; their loss is
 * measured at each epoch end (val_loss in train.csv); the best one's
 * checkpoint is kept in OUT/best/; early_stop N stops after N epoch ends
 * without a better validation loss.
 * Test loss: at each epoch end (and at the end of a steps budget), over the
 * first test_limit examples (default 2000; 0 = all) of test_data (default:
 * the test split of data), noise drawn from a fixed seed.
 * Resume: the config's options left unset come from the checkpoint; those
 * set must equal it, except epochs/steps, which may grow (extending a
 * finished run), and the ones that do not change the result (out, quiet,
 * stop_after, pictures). */
#ifndef AE_RUN_RUN_H
#define AE_RUN_RUN_H

#include "base/api.h"

#include <stdint.h>
#include <stdio.h>

#include "zoo/model.h"

#define AE_RUN_UNSET (-1) /* an integer option not given */

typedef struct ae_run_config {
  const char *model;        /* a model spec: a zoo or registered name, "./p.so" or "./p.so:NAME" */
  int nset;                 /* settings "key=value" over the model's defaults */
  const char *const *set;
  const char *data;         /* data spec (io/dataset.h); NULL: "fashion-mnist" */
  const char *test_data;    /* NULL or "": the test split of data */
  int64_t limit;            /* training examples used (0 = all) [0] */
  int64_t test_limit;       /* test examples for the test loss (0 = all) [2000] */
  int64_t epochs, steps;    /* the budget per stage: one of them [5 epochs] */
  int64_t batch_size;       /* [64] */
  const char *optimizer;    /* sgd|momentum|nesterov|adam|adamw|nadam|rmsprop|adagrad [adam] */
  double lr;                /* NAN: the optimiser's default */
  int64_t seed;             /* initialisation, shuffling, noise, synthetic data, the split [1] */
  int no_shuffle;           /* keep the data's order [0] */
  double val_split;         /* NAN: none; else in (0, 1) */
  int64_t early_stop;       /* epochs without improvement before stopping; needs val_split [0: never] */
  const char *lr_schedule;  /* constant | cosine | step:EPOCHS:GAMMA | warmup:STEPS[,cosine] [constant] */
  double clip_grad_norm;    /* NAN: none; else the largest gradient 2-norm per step */
  const char *out;          /* run directory [runs/MODEL, or resume] */
  const char *init;         /* start from the parameters in this safetensors file */
  const char *resume;       /* continue the run checkpointed in this directory */
  int force;                /* replace a run already checkpointed in out */
  int allow_data_change;    /* resume on data whose fingerprint differs (from the epoch's start) */
  int64_t max_memory;       /* refuse a model whose estimated step needs more bytes (zoo/footprint.h)
                               [0: ae_memory_limit(), else the available memory] */
  int64_t stop_after;       /* stop with a checkpoint after this many steps of this call [0: no] */
  int quiet;                /* no progress on stderr */
  int handle_signals;       /* SIGINT/SIGTERM stop the run with a checkpoint [0] */
  int no_pictures;          /* skip the pictures at the end */
  FILE *report;             /* the run's result lines ("trained ...", picture paths) [stdout]; */
  int no_report;            /* 1: no result lines */
  int pick_threads;         /* time the first steps at 1, 2, 4, ... up to ae_get_threads() threads and train
                               on with the fastest (results do not depend on the count; one process only;
                               see run/thread_pick.h) [0: train with ae_get_threads()] */
} ae_run_config;

/* Every option unset (the defaults above). */
AE_API void ae_run_config_init(ae_run_config *c);

typedef enum ae_run_status {
  AE_RUN_FINISHED = 0,    /* the whole budget is done (or was already) */
  AE_RUN_EARLY_STOPPED,   /* validation loss stopped improving */
  AE_RUN_STOPPED,         /* stop_after reached: checkpointed, resume later */
  AE_RUN_INTERRUPTED,     /* a signal or ae_run_request_stop(): checkpointed */
} ae_run_status;

typedef struct ae_run_result {
  ae_run_status status;
  int signal;          /* AE_RUN_INTERRUPTED by a signal: its number; else 0 */
  int64_t step;        /* steps taken in all */
  int64_t steps_here;  /* steps taken by this call */
  int64_t total_steps; /* the run's budget in steps, all stages */
  double test_loss;    /* the last test loss (NaN if none yet) */
  double val_loss;     /* the last validation loss (NaN without a split) */
  double best_val;     /* the best validation loss (NaN without a split) */
  int threads;         /* the thread count the steps ran with (after pick_threads' choice) */
  char out[4096];      /* the run directory */
} ae_run_result;

/* Runs (or resumes) a training run. Returns 0 with *res filled; -1 when
 * the run failed (unreadable data, a non-finite loss, a write error: the
 * last good checkpoint is kept); -2 for a bad configuration (an unknown
 * model, setting or option value, options that contradict a resumed
 * checkpoint). ae_last_error() gives the one-line message. res may be NULL. */
AE_API int ae_run(const ae_run_config *c, ae_run_result *res);

/* Asks the running ae_run (in this process) to stop after its current step,
 * with a checkpoint; async-signal-safe. */
AE_API void ae_run_request_stop(int signal);

/* The permutation of epoch `epoch` of stage `stage` (perm: n indices). */
AE_API void ae_run_epoch_permutation(int64_t *perm, int64_t n, int shuffle, uint64_t seed, int stage, int64_t epoch);

/* A learning-rate schedule parsed from its spec (see ae_run_config). */
typedef struct ae_lr_sched {
  enum { AE_SCHED_CONSTANT, AE_SCHED_COSINE, AE_SCHED_STEP, AE_SCHED_WARMUP } kind;
  int64_t warmup;   /* steps (warmup, and cosine after warmup) */
  int64_t epochs;   /* step: epochs per decay */
  double gamma;     /* step: the factor */
} ae_lr_sched;
/* 0, or -1 with ae_last_error() naming the spec and the valid forms. */
AE_API int ae_lr_sched_parse(const char *spec, ae_lr_sched *s);
/* The learning rate at step (0-based, within the stage) of a stage of
 * total steps, steps_per_epoch long epochs. */
AE_API double ae_lr_sched_at(const ae_lr_sched *s, double base_lr, int64_t step, int64_t total, int64_t steps_per_epoch);

/* A fingerprint of a data set's values (64-bit, order-sensitive). */
AE_API uint64_t ae_run_data_hash(const ae_tensor *x);

#endif
