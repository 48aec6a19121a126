/* train.h: the trainer: one optimisation step of any zoo model on a batch,
 * and evaluation over a data set. It holds the tape (reset every step),
 * the optimiser of the current stage, and the generator that drives the
 * model's noise and sampling. A model's own training protocol (stages, a
 * custom step, a projection after the step) comes from its definition. */
#ifndef AE_TRAIN_H
#define AE_TRAIN_H

#include "base/api.h"
#include "model.h"

typedef struct ae_trainer {
  ae_model *m;
  ae_tape *tape;
  ae_optim *opt;
  ae_optim_config cfg;
  ae_rng rng;   /* noise and sampling inside the loss */
  int stage;
  int64_t step; /* steps taken, all stages */
  /* the last step's loss and its terms */
  double loss;
  int nterms;
  const char *term_name[AE_MAX_TERMS];
  double term[AE_MAX_TERMS];
  char error_[512]; /* private: read it with ae_trainer_error() */
} ae_trainer;

/* arena 0: a default sized for the batch. NULL on failure, with the
 * message in ae_last_error(). */
AE_API ae_trainer *ae_trainer_new(ae_model *m, const ae_optim_config *cfg, uint64_t seed, size_t arena);
AE_API void ae_trainer_free(ae_trainer *tr);
/* Switches to a stage (stacked models): a new optimiser over its parameters.
 * 0, or -1 with the message in ae_trainer_error(tr). */
AE_API int ae_trainer_set_stage(ae_trainer *tr, int stage);
/* One step on batch (B, example...). 0, or -1 with the message in
 * ae_trainer_error(tr); a NaN or Inf loss or gradient is an error naming the
 * step and the op that produced it (found by replaying the step in anomaly
 * mode), and no parameter moves. */
AE_API int ae_trainer_step(ae_trainer *tr, const ae_tensor *batch);
/* The message of the trainer's last failed ae_trainer_step or
 * ae_trainer_set_stage ("" if none failed yet); it stays until the next
 * failure on this trainer, whatever other calls do to ae_last_error(). */
AE_API const char *ae_trainer_error(const ae_trainer *tr);

typedef struct ae_eval_result {
  double loss;
  int nterms;
  const char *term_name[AE_MAX_TERMS];
  double term[AE_MAX_TERMS];
  double mse_pixel; /* mean over pixels of (reconstruct(x) - x)^2 */
  int64_t count;
} ae_eval_result;

/* The loss, its terms and the per-pixel reconstruction error over the
 * first n examples of data (N, example...), in batches, no gradients,
 * with the loss's noise drawn from a generator seeded with `seed`. */
AE_API int ae_evaluate(ae_model *m, const ae_tensor *data, int64_t n, int64_t batch, uint64_t seed, ae_eval_result *r);

/* Copies rows idx[0..n) of data into out, whose shape is (n, example...). */
AE_API void ae_gather_rows(const ae_tensor *data, const int64_t *idx, int64_t n, ae_tensor *out);

#endif
