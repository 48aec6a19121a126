/* common.c: errors, data loading, model checks and building, output
 * directories (common.h). */
#define _GNU_SOURCE
#include "common.h"

#include "args.h" /* cli_max_memory, cli_batch_size */
#include "zoo/footprint.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "zoo/plugin.h"

const char *cli_plugins[CLI_MAX_PLUGINS];
int cli_nplugins;
int64_t cli_max_memory = 0; /* --max-memory (args.c); 0: the available memory */
int64_t cli_batch_size = 0; /* the command's --batch-size (args.c), for the memory estimate */

void cli_error(const char *fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  /* one line: newlines inside a library message become spaces */
  for (char *p = buf; *p; p++)
    if (*p == '\n') *p = ' ';
  fprintf(stderr, "aezoo: %s\n", buf);
}

int cli_load_data(const char *spec, int split, int64_t limit, uint64_t seed, ae_dataset *d) {
  if (ae_dataset_load(spec, split, limit, seed, d)) {
    cli_error("%s", ae_last_error());
    return -1;
  }
  if (ae_dataset_check_finite(d)) {
    cli_error("%s", ae_last_error());
    ae_dataset_free(d);
    memset(d, 0, sizeof *d);
    return -1;
  }
  if (d->x->shape.ndim < 2) {
    cli_error("data set '%s' has no examples dimension", spec);
    ae_dataset_free(d);
    memset(d, 0, sizeof *d);
    return -1;
  }
  return 0;
}

ae_shape cli_example_shape(const ae_tensor *x) {
  return ae_shape_make(x->shape.ndim - 1, x->shape.d + 1);
}

int cli_check_model_args(const char *model, int nset, const char *const *set) {
  const ae_model_def *d = ae_model_resolve(model);
  if (!d) {
    cli_error("%s", ae_last_error());
    return ae_plugin_spec(model) ? CLI_FAIL : CLI_USAGE;
  }
  ae_settings s;
  ae_settings_init(&s, d->settings, d->nsettings);
  if (ae_settings_parse_all(&s, nset, set)) {
    cli_error("model %s: %s", d->name, ae_last_error());
    return CLI_USAGE;
  }
  return CLI_OK;
}

ae_model *cli_build_model(const char *name, int nset, const char *const *set, ae_shape example, uint64_t seed) {
  const ae_model_def *d = ae_model_resolve(name);
  if (!d) {
    cli_error("%s", ae_last_error());
    return NULL;
  }
  { /* refuse what cannot fit before allocating anything */
    ae_settings s;
    ae_settings_init(&s, d->settings, d->nsettings);
    if (ae_settings_parse_all(&s, nset, set) == 0 &&
        ae_model_check_footprint(d, &s, example, cli_batch_size > 0 ? cli_batch_size : 1, cli_max_memory)) {
      cli_error("%s", ae_last_error());
      return NULL;
    }
  }
  ae_model *m = ae_model_from_def(d, nset, set, example, seed);
  if (!m) cli_error("%s", ae_last_error());
  return m;
}


int cli_path(char *buf, size_t len, const char *dir, const char *name) {
  if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len) {
    cli_error("path too long: %s/%s", dir, name);
    return -1;
  }
  return 0;
}

int cli_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

