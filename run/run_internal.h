/* run_internal.h: what the files of the training run share (run.c: the
 * loop; run_config.c: options resolved against the defaults or the resumed
 * checkpoint; run_data.c: the data and the validation split). Not
 * installed. */
#ifndef AE_RUN_RUN_INTERNAL_H
#define AE_RUN_RUN_INTERNAL_H

#include <stdint.h>

#include "checkpoint.h"
#include "io/dataset.h"
#include "progress.h"
#include "run.h"
#include "run_dir.h"
#include "train_csv.h"
#include "zoo/train.h"

#define AE_RUN_BAD_CONFIG (-2)

/* The run's state and resources. */
typedef struct run {
  const ae_run_config *c;
  ae_ckpt_meta meta;
  char out[4096];
  ae_dataset train, val, test;
  ae_model *m;
  ae_trainer *tr;
  ae_lr_sched sched;
  int64_t *perm;
  ae_tensor *batch;
  int64_t n, bsz, per_epoch, budget, total;
  ae_train_csv csv;
  ae_progress prog;
  ae_run_dir dir;
  double t0, wall0;
  double epoch_loss, epoch_term[AE_MAX_TERMS];
  int64_t epoch_count;
  double last_test, last_val;
  int ckpt_written; /* any checkpoint exists in out */
  int resumed;
} run;

/* Set ae_last_error() and return AE_RUN_BAD_CONFIG (a usage error) or -1. */
int ae__run_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ae__run_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t ae__run_mix64(uint64_t x);

/* run_config.c: the metadata of a new run, or the checkpoint's checked
 * against the config; then the options' values. 0, -1 or AE_RUN_BAD_CONFIG. */
int ae__run_setup_meta(run *r);
int ae__run_check_options(run *r);

/* run_data.c: the training (less the validation split), validation and test data. */
int ae__run_open_data(run *r);
ae_shape ae__run_example_shape(const ae_tensor *x);

#endif
