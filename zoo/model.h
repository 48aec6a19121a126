/* model.h: the zoo's model interface.
 *
 * A model is a definition (ae_model_def: name, one-line description,
 * settings table, and functions that build its parameters and its loss
 * from ops) plus an instance (ae_model: resolved settings, parameters, the
 * model's own state). The training loop (train.h), the CLI and the tests
 * only talk to models through this interface. A model whose training is
 * more than "loss, backward, step" says so here:
 *   - nstages / stage_params: greedy stages (stacked-ae); m->stage picks the
 *     stage's loss and the parameters its optimiser steps;
 *   - train_step: a custom step (psd: infer codes by FISTA with the
 *     parameters fixed, then one parameter step with the codes fixed);
 *   - after_step: a projection after each optimiser step (psd's unit-norm
 *     decoder columns);
 *   - sample / corrupt: generative models and denoisers;
 *   - decode: the decoder alone, from a code (interpolation, sampling a
 *     Gaussian fitted to the codes);
 *   - hold_codes: gradient checks of a loss whose codes are inferred.
 * No gradient is written by hand anywhere in zoo/. */
#ifndef AE_MODEL_H
#define AE_MODEL_H

#include "base/api.h"
#include "base/rng.h"
#include "autograd/tape.h"
#include "optim/optim.h"
#include "settings.h"

#define AE_MAX_PARAMS 48
#define AE_MAX_TERMS 8

/* The named terms of a loss (reported per step and by eval). */
typedef struct ae_terms {
  int n;
  const char *name[AE_MAX_TERMS];
  ae_val *val[AE_MAX_TERMS];
} ae_terms;
AE_API void ae_terms_add(ae_terms *tm, const char *name, ae_val *v);
/* A loss term: records weight * term as `name` in terms (train.csv, eval)
 * and returns l + weight * term (just weight * term when l is NULL; a
 * weight of 1 adds the term as it is). Usage:
 *   l = ae_term(t, terms, l, "kl", beta, kl); */
AE_API ae_val *ae_term(ae_tape *t, ae_terms *terms, ae_val *l, const char *name, double weight, ae_val *term);

/* A grad-mode scope: runs the block with grad mode `mode`, the caller's
 * mode available inside as the int `outer`, then restores it. Leave the
 * block by its end (not break, goto or return), or the mode stays set.
 *   AE_GRAD_MODE(t, 1, training) { ... create_graph = training ... } */
#define AE_GRAD_MODE(t, mode, outer)                                                     \
  for (int outer = ae_set_grad_enabled((t), (mode)), outer##_scope_ = 1; outer##_scope_; \
       outer##_scope_ = 0, ae_set_grad_enabled((t), outer))

/* What data a model accepts. */
typedef enum ae_input_kind {
  AE_INPUT_ANY,   /* any example shape; the model flattens it (MLPs) */
  AE_INPUT_IMAGE, /* (C,H,W) images (convolutional models) */
  AE_INPUT_ROWS,  /* (H,W) or (1,H,W) images read as H steps of W (sequence models) */
} ae_input_kind;

typedef struct ae_model ae_model;

typedef struct ae_model_def {
  const char *name;
  const char *description; /* one line, for `aezoo list` */
  const ae_setting_def *settings;
  int nsettings;
  const char *gradcheck_settings; /* small sizes for gradient checks, "hidden=5 code=3" */
  ae_input_kind input;
  size_t state_size; /* bytes of the model's own state (m->state) */
  int output_in_unit_range; /* reconstructions lie in [0,1] (sigmoid/Bernoulli decoders) */

  /* Creates the parameters (ae_model_add_param) and initialises them.
   * Returns 0, or -1 with ae_set_last_error() for settings that don't fit the data. */
  int (*build)(ae_model *m, ae_rng *rng);
  /* The training loss on a batch x (shape (B, example...)), one scalar;
   * adds its named terms. rng drives noise and sampling. */
  ae_val *(*loss)(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms);
  /* The code of x, and the deterministic reconstruction of x (same shape as x). */
  ae_val *(*encode)(ae_model *m, ae_tape *t, ae_val *x);
  ae_val *(*reconstruct)(ae_model *m, ae_tape *t, ae_val *x);

  /* Optional. */
  ae_val *(*corrupt)(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng); /* denoisers' noisy input */
  ae_val *(*sample)(ae_model *m, ae_tape *t, int n, ae_rng *rng);     /* decoded prior samples */
  int nstages;                                                          /* 0 or 1: one stage */
  const char *(*stage_name)(ae_model *m, int stage);
  int (*stage_params)(ae_model *m, int stage, ae_param **out, int max);
  int (*train_step)(ae_model *m, ae_tape *t, ae_val *x, ae_optim *opt, ae_rng *rng, ae_terms *terms,
                    double *loss_out);
  void (*after_step)(ae_model *m);
  /* For a loss with an inner optimisation over codes (psd): hold = 1 infers
   * the codes of batch x at the current parameters and makes loss() use
   * them, as constants, until called with hold = 0 (x NULL). The gradient
   * checks (check.h) hold them, so their finite differences see the loss at
   * fixed codes, the function whose gradient the training step takes,
   * rather than codes re-inferred at each perturbed parameter. 0, or -1
   * with the tape's error set. */
  int (*hold_codes)(ae_model *m, ae_tape *t, const ae_tensor *x, int hold);
  /* Optional: the decoder on its own, mapping codes h (B, code...) of
   * encode()'s shape back to examples (B, example...), deterministic (the
   * vae's Bernoulli means, the sigmoid of the logits). For a deterministic
   * model reconstruct(x) equals decode(encode(x)). NULL where a code alone
   * cannot be decoded (deconv-ae: its decoder unpools at the encoder's
   * argmax positions). interpolate and sample (for models without a prior)
   * need it. Added after AE_PLUGIN_ABI 1 was introduced, at the end of the
   * struct, before any plugin existed; the ABI stays 1. */
  ae_val *(*decode)(ae_model *m, ae_tape *t, ae_val *h);
} ae_model_def;

/* A data-parallel run's batch (run/run_parallel.c), set in ae_model.share
 * while a training step runs on several processes, NULL otherwise: this
 * process computes rows [row0, row0 + rows) of a batch of total_rows, and
 * the run multiplies its gradients by rows / total_rows before summing
 * them over the processes. A term that couples a batch's examples (a
 * batch mean inside a non-linearity, as sparse-kl's KL penalty) reaches
 * the whole batch through ae_zoo_batch_mean, which calls sum. */
typedef struct ae_batch_share {
  int64_t row0, rows, total_rows;
  /* buf[0..n) := its sum over the processes, the same bits on each; 0, or
   * -1 with ae_last_error() */
  int (*sum)(void *ctx, ae_real *buf, int64_t n);
  void *ctx;
} ae_batch_share;

struct ae_model {
  const ae_model_def *def;
  ae_settings settings;
  ae_shape example; /* one example's shape, e.g. (1,28,28) or (2,) */
  int64_t dim;      /* elements per example */
  ae_param *params[AE_MAX_PARAMS];
  int nparams;
  int stage;
  void *state;
  int nstages; /* set by build() when the stage count depends on the settings (stacked-ae); else 0 */
  const ae_batch_share *share; /* a data-parallel step's batch (above); NULL: the batch is all here */
};

/* The registry: every zoo model, in listing order. */
AE_API int ae_zoo_count(void);
AE_API const ae_model_def *ae_zoo_get(int i);
AE_API const ae_model_def *ae_zoo_find(const char *name); /* the zoo's own only */

/* Models added at run time: a program's own (plugin NULL) or a plugin's
 * (plugin: the shared object's path, recorded in checkpoints). A name must
 * be new (not the zoo's, not registered before); registering the same
 * definition twice is a no-op. Not thread-safe: register at start-up.
 * 0, or -1 with ae_last_error(). */
AE_API int ae_model_register(const ae_model_def *d, const char *plugin);
/* A model by name: the zoo's, then the registered ones. NULL if unknown. */
AE_API const ae_model_def *ae_model_lookup(const char *name);
/* The plugin path a registered model came from; NULL for the zoo's and a
 * program's own. */
AE_API const char *ae_model_plugin(const ae_model_def *d);

/* Creates a model: settings "key=value" strings applied over the defaults,
 * then build(). NULL with a message in ae_last_error() on an unknown model, setting or
 * value, or on data the model cannot take. */
AE_API ae_model *ae_model_new(const char *name, int nset, const char *const *set, ae_shape example, uint64_t seed);
/* The same for a definition that is not in the registry (a user's own). */
AE_API ae_model *ae_model_from_def(const ae_model_def *d, int nset, const char *const *set, ae_shape example,
                                   uint64_t seed);
AE_API void ae_model_free(ae_model *m);

/* For build(): a named parameter (names as in PyTorch: "encoder.0.weight"). */
AE_API ae_param *ae_model_add_param(ae_model *m, const char *name, ae_shape s);
AE_API ae_param *ae_model_find_param(const ae_model *m, const char *name);
AE_API int64_t ae_model_param_count(const ae_model *m); /* scalars */
/* Parameters a stage trains (all of them for single-stage models). */
AE_API int ae_model_stage_params(ae_model *m, int stage, ae_param **out, int max);
AE_API int ae_model_nstages(const ae_model *m);

/* x as (B, dim): the flat view MLP models work on. */
AE_API ae_val *ae_model_flat(ae_model *m, ae_tape *t, ae_val *x);
/* y back to x's batch shape (B, example...). */
AE_API ae_val *ae_model_unflat(ae_model *m, ae_tape *t, ae_val *y);

/* 1 when the model's examples are 2-D points (shape (2,)): spiral,
 * swissroll; pictures of such data are scatter plots instead of grids. */
AE_API int ae_model_is_points(const ae_model *m);

#endif
