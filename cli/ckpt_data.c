/* ckpt_data.c: opening a checkpoint and its data for eval, reconstruct,
 * sample and encode (ckpt_data.h). */
#include "ckpt_data.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

ae_model *cli_open_checkpoint(const char *ckpt, ae_ckpt_meta *meta) {
  ae_model *m = ae_ckpt_load_model(ckpt, meta);
  if (!m) cli_error("%s", ae_last_error());
  return m;
}

const ae_model_def *cli_checkpoint_def(const char *ckpt, ae_ckpt_meta *meta, ae_model **m) {
  *m = NULL;
  if (ae_ckpt_read_meta(ckpt, meta)) {
    cli_error("%s", ae_last_error());
    return NULL;
  }
  const ae_model_def *def = ae_model_lookup(meta->model);
  if (def) return def;
  *m = cli_open_checkpoint(ckpt, meta);
  return *m ? (*m)->def : NULL;
}

int cli_parse_split(const char *cmd, const char *split) {
  if (strcmp(split, "test") == 0) return CLI_SPLIT_TEST;
  if (strcmp(split, "train") == 0) return CLI_SPLIT_TRAIN;
  cli_error("%s: unknown --split '%s'; valid values: test train", cmd, split);
  return -1;
}

int cli_open_data(const ae_ckpt_meta *meta, const ae_model *m, const char *spec, int split, int64_t limit,
                  ae_dataset *d, const char **used) {
  if (!spec) spec = meta->test_data[0] ? meta->test_data : meta->data;
  *used = spec;
  if (cli_load_data(spec, split, limit, meta->seed, d)) return -1;
  ae_shape ex = cli_example_shape(d->x);
  if (!ae_shape_eq(ex, m->example)) {
    char a[64], b[64];
    cli_error("the examples of data '%s' have shape %s; the checkpoint's model %s takes %s", spec,
              ae_shape_str(ex, a, sizeof a), m->def->name, ae_shape_str(m->example, b, sizeof b));
    ae_dataset_free(d);
    memset(d, 0, sizeof *d);
    return -1;
  }
  return 0;
}

const char *cli_data_desc(const char *spec, int split, const ae_dataset *d, char *buf, size_t len) {
  snprintf(buf, len, "the %s split of %s (%" PRId64 " examples)", split == CLI_SPLIT_TEST ? "test" : "train", spec,
           d->x->shape.d[0]);
  return buf;
}
