/* ckpt_data.h: what the commands that use a trained model share (eval,
 * reconstruct, sample, encode): opening a checkpoint (a run directory or a
 * model.safetensors file) and loading the data to run it on.
 * Data default: the checkpoint's own test data (its --test-data, else its
 * --data), so a model trained on spiral is evaluated on spiral without
 * saying so; the test split unless --split train. The data's examples must
 * have the checkpoint's example shape. Synthetic sets are drawn with the
 * checkpoint's seed. */
#ifndef AE_CLI_CKPT_DATA_H
#define AE_CLI_CKPT_DATA_H

#include <stdint.h>

#include "run/checkpoint.h"
#include "io/dataset.h"

/* Loads the checkpoint's model (and *meta). NULL after cli_error naming the
 * file and the problem (exit CLI_FAIL). */
ae_model *cli_open_checkpoint(const char *ckpt, ae_ckpt_meta *meta);

/* The model definition of a checkpoint, found from its metadata alone when
 * the model is known (so a command can refuse a model that lacks what it
 * needs before loading anything); a plugin's model is known only once the
 * checkpoint has loaded its plugin, so then the checkpoint is loaded and
 * *m holds it (else *m is NULL). NULL after cli_error (exit CLI_FAIL). */
const ae_model_def *cli_checkpoint_def(const char *ckpt, ae_ckpt_meta *meta, ae_model **m);

/* "test" -> CLI_SPLIT_TEST, "train" -> CLI_SPLIT_TRAIN; -1 after cli_error
 * listing the valid values (exit CLI_USAGE). */
int cli_parse_split(const char *cmd, const char *split);

/* Loads `spec` (NULL: the checkpoint's test data, as above) split `split`,
 * at most `limit` examples (0 = all), and checks its examples fit model m.
 * *used gets the spec loaded. 0, or -1 after cli_error. */
int cli_open_data(const ae_ckpt_meta *meta, const ae_model *m, const char *spec, int split, int64_t limit,
                  ae_dataset *d, const char **used);

/* "the test split of fashion-mnist (10000 examples)" and the like. */
const char *cli_data_desc(const char *spec, int split, const ae_dataset *d, char *buf, size_t len);

#endif
