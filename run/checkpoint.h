/* checkpoint.h: a training run saved to and loaded from its directory.
 *
 * A run directory (the --out of `aezoo train`) holds:
 *   model.safetensors      every model parameter under its PyTorch-style name
 *                          ("encoder.0.weight", (out,in) as nn.Linear), F32
 *                          (F64 from aezoo64), plus the run's metadata
 *                          (ae_ckpt_meta, all values strings; keys below);
 *   optimizer.safetensors  the optimiser's state tensors under
 *                          ae_optim_state_tensor's names ("exp_avg.encoder.0.weight"),
 *                          with metadata format, optimizer, stage,
 *                          steps_taken (the optimiser's own count) and step
 *                          (the run's total step, to match model.safetensors);
 *   train.csv, reconstructions.png, samples.png, ... (run/run.c).
 * A checkpoint is one generation (run/generation.h): both files are written
 * into a fresh DIR/gen-XXXXXX and published together by renaming one
 * symlink (DIR/current); DIR/model.safetensors and DIR/optimizer.safetensors
 * are links through it. The previous generation is removed only once the
 * new one is current, so a kill at any point leaves a complete, consistent
 * checkpoint. Every tensor's bytes have a checksum in its file's metadata
 * ("checksum.<name>"), verified on load, and loading refuses non-finite
 * values, naming the tensor.
 *
 * model.safetensors metadata keys (ae_ckpt_meta fields):
 *   format          "aezoo-checkpoint-1"
 *   model           zoo model name ("ae", "conv-dae", ...)
 *   settings        every setting, defaults included: ae_settings_format's
 *                   "k1=v1 k2=v2 ..." (feed to ae_model_new via ae_settings_split)
 *   example         one example's shape, "1,28,28" or "2"
 *   data            --data spec; test_data: --test-data spec ("" = test split of data)
 *   limit           --limit (training examples used, 0 = all); test_limit: --test-limit
 *   seed            --seed (initialisation, synthetic data, shuffling, noise)
 *   rng_seed, rng_counter   the trainer's Philox generator state (noise, sampling)
 *   shuffle         "1" or "0" (--no-shuffle); shuffle_seed: the permutation
 *                   of epoch e in stage s is Philox-derived from (shuffle_seed, s, e)
 *   batch_size, lr, optimizer ("adam", ...), epochs, steps (the budget per
 *                   stage: exactly one of them is non-zero)
 *   step            optimisation steps taken in total (all stages)
 *   stage, nstages  current stage (0-based) and stage count (stacked models)
 *   stage_step      steps taken in the current stage
 *   epoch           epochs completed in the current stage
 *   step_in_epoch   batches done in the current epoch
 *   finished        "1" when the whole budget is done
 *   wall_time       seconds spent training so far (all invocations)
 *   threads         thread count of the last invocation (informative only)
 *   version         aezoo version that wrote it (informative only)
 *   plugin          absolute path of the plugin the model came from ("": zoo)
 *   val_split, early_stop, lr_schedule, clip_grad_norm   the run's options
 *   best_step, best_val, bad_epochs, early_stopped       early-stopping state
 *   data_rows, data_hash  the training data's fingerprint (resume checks it)
 * (format 1 files lack the keys from plugin on; they read as their defaults)
 *
 * Loading validates everything (format, every key present and well-formed,
 * the model known, settings valid, every parameter tensor present with the
 * right shape, no unexpected tensor) before changing any model or
 * optimiser; a corrupt, truncated or inconsistent file is rejected with one
 * message naming the file and the problem. */
#ifndef AE_RUN_CHECKPOINT_H
#define AE_RUN_CHECKPOINT_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

#include "optim/optim.h"
#include "zoo/model.h"

#define AE_CKPT_FORMAT "aezoo-checkpoint-2"
#define AE_CKPT_FORMAT_1 "aezoo-checkpoint-1" /* still read */
#define AE_OPTIM_FORMAT "aezoo-optimizer-1"
#define AE_CKPT_MODEL_FILE "model.safetensors"
#define AE_CKPT_OPTIM_FILE "optimizer.safetensors"

typedef struct ae_ckpt_meta {
  char model[64];
  char settings[4096];
  ae_shape example;
  char data[1024];
  char test_data[1024];
  int64_t limit, test_limit;
  uint64_t seed;
  uint64_t rng_seed, rng_counter;
  int shuffle;
  uint64_t shuffle_seed;
  int64_t batch_size;
  double lr;
  char optimizer[16];
  int64_t epochs, steps;
  int64_t step;
  int stage, nstages;
  int64_t stage_step, epoch, step_in_epoch;
  int finished;
  double wall_time;
  int threads;
  char version[32];
  /* format 2 (absent from format-1 files: the defaults in brackets) */
  char plugin[4096];      /* the plugin's path the model came from [""] */
  double val_split;       /* fraction held out for validation [0] */
  int64_t early_stop;     /* epochs without improvement before stopping [0: never] */
  char lr_schedule[64];   /* learning-rate schedule spec ["constant"] */
  double clip_grad_norm;  /* gradient-norm clipping [0: none] */
  int64_t best_step;      /* step of the best validation loss so far [0: none] */
  double best_val;        /* that loss [0] */
  int64_t bad_epochs;     /* epochs since it improved [0] */
  int early_stopped;      /* the run ended by early stopping [0] */
  int64_t data_rows;      /* training examples (after the validation split) [0: unknown] */
  uint64_t data_hash;     /* fingerprint of the training data's values [0: unknown] */
} ae_ckpt_meta;

/* Where the model file of a checkpoint argument lies: CKPT may be a run
 * directory (-> DIR/model.safetensors) or a .safetensors file itself. */
AE_API void ae_ckpt_model_path(const char *ckpt, char *buf, size_t len);

/* Writes a new generation of DIR/model.safetensors and (opt not NULL)
 * DIR/optimizer.safetensors and publishes both at once; DIR must exist. On
 * failure the previous checkpoint is intact and ae_last_error() names the problem. 0 or -1. */
AE_API int ae_ckpt_save(const char *dir, const ae_model *m, ae_optim *opt, const ae_ckpt_meta *meta);

/* Reads and validates only the metadata of a checkpoint (CKPT: directory or
 * model file). 0, or -1 with ae_last_error() naming the file and the problem. */
AE_API int ae_ckpt_read_meta(const char *ckpt, ae_ckpt_meta *meta);

/* Loads a checkpoint for use (eval, reconstruct, sample, encode, resume):
 * reads and validates the model file, builds the model it names with its
 * settings and example shape, and copies in every parameter. *meta (if not
 * NULL) gets the metadata. NULL with ae_last_error() naming the file and the problem;
 * nothing half-loaded is returned. m->stage is set to meta->stage. */
AE_API ae_model *ae_ckpt_load_model(const char *ckpt, ae_ckpt_meta *meta);

/* For --resume: reads DIR/optimizer.safetensors and restores its state
 * tensors and step count into opt (built over the parameters of stage
 * meta->stage, same kind as meta->optimizer). Validates the format, the
 * optimiser kind, the stage, the step (equal to meta->step), and every
 * state tensor's presence and shape before writing anything. 0 or -1. */
AE_API int ae_ckpt_load_optim(const char *dir, ae_optim *opt, const ae_ckpt_meta *meta);

/* --init FILE: copies parameters only from any safetensors file holding a
 * tensor for each of m's parameters, by name and shape (extra tensors and
 * metadata are ignored). Every tensor is checked before any is copied; a
 * missing or misshapen one is an error naming it (and both shapes). 0 or -1. */
AE_API int ae_ckpt_load_params(const char *file, ae_model *m);

/* The 64-bit checksum of n bytes kept for every tensor of a checkpoint
 * (FNV-1a over 64-bit words, then a final mix; order-sensitive). The run's
 * data fingerprint is the same function over the training data. */
AE_API uint64_t ae_ckpt_hash(const void *data, size_t n);

#endif
