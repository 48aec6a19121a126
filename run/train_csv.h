/* train_csv.h: train.csv, one row per training step:
 *   step,stage,epoch,loss,<term>...,[val_loss,]test_loss,wall_time
 * step counts from 1 over all stages; stage from 0; epoch from 1 within the
 * stage; one column per loss term (the union of every stage's terms, in
 * order of appearance; empty where a stage lacks it); val_loss (runs with
 * a validation split) and test_loss only on
 * the rows that end an epoch (or a --steps budget); wall_time: seconds of
 * training since the run began (all invocations). On --resume the rows up
 * to the checkpoint's step are kept and the file continues from there. */
#ifndef AE_RUN_TRAIN_CSV_H
#define AE_RUN_TRAIN_CSV_H

#include "base/api.h"

#include <stdio.h>

#include "zoo/train.h"

#define AE_CSV_MAX_TERMS (AE_MAX_TERMS * 4)

typedef struct ae_train_csv {
  FILE *f;
  int nterms;
  int has_val; /* a val_loss column */
  const char *term[AE_CSV_MAX_TERMS];
} ae_train_csv;

/* Opens out/train.csv: a new file with its header, or (resume_dir not NULL)
 * the rows of resume_dir/train.csv with step <= step, rewritten into out.
 * probe: a few examples to find the loss's term names of every stage. 0 or
 * -1 with ae_last_error(). */
AE_API int ae_train_csv_open(ae_train_csv *c, const char *out, const char *resume_dir, int64_t step, ae_model *m,
                      const ae_tensor *probe, int has_val);
/* One step's row; val_loss and test_loss NaN where not measured. */
AE_API void ae_train_csv_row(ae_train_csv *c, int64_t step, int stage, int64_t epoch, const ae_trainer *tr,
                      double val_loss, double test_loss, double wall_time);
AE_API void ae_train_csv_flush(ae_train_csv *c);
AE_API void ae_train_csv_close(ae_train_csv *c);

#endif
