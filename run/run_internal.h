/* run_internal.h: what the files of the training run share (run.c: the
 * loop; run_config.c: options resolved against the defaults or the resumed
 * checkpoint; run_data.c: the data and the validation split). Not
 * installed. */
#ifndef AE_RUN_RUN_INTERNAL_H
#define AE_RUN_RUN_INTERNAL_H

#include <stdint.h>

#include "checkpoint.h"
#include "comm.h"
#include "io/dataset.h"
#include "io/dataset_u8.h"
#include "progress.h"
#include "run.h"
#include "thread_pick.h"
#include "run_dir.h"
#include "train_csv.h"
#include "zoo/train.h"

#define AE_RUN_BAD_CONFIG (-2)

/* A data-parallel run's share (run_parallel.c): this process is rank
 * `rank` of `size`; it computes rows [row0, row0 + rows) of each batch.
 * One process: rank 0 of 1, all rows. */
typedef struct run_par {
  ae_comm *comm;
  int rank, size;
  int64_t row0, rows;
  ae_real weight;  /* rows / batch: the rank's share of the batch mean */
  ae_real *flat;   /* every gradient, packed for one sum */
  ae_batch_share share; /* the model's view of the batch (ae_zoo_batch_mean) during a step */
  int64_t flat_n;
  int started;     /* the ranks compared notes at the start */
  int running;     /* ... and agreed: from here a failure ends the job */
  char comm_error[1024]; /* why the gradients' sum failed ("": it did not) */
} run_par;

/* The run's state and resources. */
typedef struct run {
  const ae_run_config *c;
  ae_ckpt_meta meta;
  char out[4096];
  ae_dataset train, val, test; /* train.x is NULL when the rows are kept as bytes in train_u8 */
  ae__dataset_u8 train_u8;      /* run_rows.c: read the training rows through ae__run_gather */
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
  run_par par;
  ae_thread_pick pick; /* pick_threads: the choice of thread count */
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

/* run_rows.c: the training rows, as floats in train or as bytes in
 * train_u8. load_train_u8: 1 kept as bytes, 0 the data is not stored as
 * bytes (load it as floats), -1 failed (ae_last_error() set).
 * split_u8: the validation rows perm[0..nval) into r->val as floats, the
 * rest perm[nval..n) kept as bytes; 0 or -1 (out of memory). The hash is
 * ae_run_data_hash of the rows as floats. */
int ae__run_load_train_u8(run *r, const char *spec, int64_t limit, uint64_t seed);
int ae__run_split_u8(run *r, const int64_t *perm, int64_t nval);
ae_shape ae__run_train_shape(const run *r);
int64_t ae__run_train_rows(const run *r);
ae_shape ae__run_example_shape(ae_shape data); /* data's shape less its first dimension */
void ae__run_gather(const run *r, const int64_t *idx, int64_t n, ae_tensor *out);
uint64_t ae__run_train_hash(const run *r);
/* labels[idx[0..n)] into a new *out (NULL when labels is NULL): 0, or -1
 * when out of memory. */
int ae__run_take_labels(const int32_t *labels, const int64_t *idx, int64_t n, int32_t **out);

/* checkpoint.c: ae_ckpt_hash of n bytes given in pieces (each piece but
 * the last a whole number of 8-byte words). */
uint64_t ae__ckpt_hash_begin(size_t n);
uint64_t ae__ckpt_hash_add(uint64_t h, const void *data, size_t n);
uint64_t ae__ckpt_hash_end(uint64_t h);

/* run_parallel.c: data-parallel training across processes (comm.h).
 * Every rank runs the whole run on the same data, draws the same
 * permutation and computes its rows of each batch; gradients, the loss and
 * the stop flag are summed over the ranks each step; rank 0 alone writes
 * files (ae__par_root). With one process each is a no-op. */
int ae__par_init(run *r);                                  /* the ranks; 0 or -1 */
int ae__par_root(const run *r);                            /* 1 on rank 0 */
int ae__par_split(run *r);                                 /* the rows of this rank; 0 or AE_RUN_BAD_CONFIG */
void ae__par_optim_hook(run *r, ae_optim_config *cfg);     /* gradients summed in ae_optim_step */
int ae__par_start(run *r, int failed);                     /* the ranks agree at the start; 0, -1 or AE_RUN_BAD_CONFIG */
void ae__par_step_begin(run *r);                           /* the model sees the whole batch (m->share) */
int ae__par_after_step(run *r, int *stop);                 /* the loss, terms and stop flag summed; 0 or -1 */
const char *ae__par_comm_error(const run *r);              /* NULL, or why a step's gradient sum failed */
int ae__par_check_params(run *r);                          /* parameters equal on every rank; 0 or -1 */
int ae__par_finish(run *r);                                /* every rank waits for rank 0's last writes */
void ae__par_fail(run *r);                                 /* a failure after the start ends every rank */
void ae__par_free(run *r);

#endif
