/* registry.c: the list of zoo models, in the order `aezoo list` shows, and
 * the models registered at run time (a program's own, or a plugin's). */
#include <string.h>
#include <stdio.h>

#include "zoo.h"
#include "models_internal.h"

static const ae_model_def *const models[] = {
    &ae_model_ae,
    &ae_model_linear_ae,
    &ae_model_deep_ae,
    &ae_model_stacked_ae,
    &ae_model_dae,
    &ae_model_sparse_l1,
    &ae_model_sparse_kl,
    &ae_model_cae,
    &ae_model_cae_deep,
    &ae_model_cae_h,
    &ae_model_conv_ae,
    &ae_model_conv_dae,
    &ae_model_deconv_ae,
    &ae_model_vae,
    &ae_model_psd,
    &ae_model_seq_ae,
};

int ae_zoo_count(void) { return (int)(sizeof models / sizeof models[0]); }
const ae_model_def *ae_zoo_get(int i) { return i >= 0 && i < ae_zoo_count() ? models[i] : NULL; }

const ae_model_def *ae_zoo_find(const char *name) {
  for (int i = 0; name && i < ae_zoo_count(); i++)
    if (strcmp(models[i]->name, name) == 0) return models[i];
  return NULL;
}

/* ---- models registered at run time (a program's own, or a plugin's) ---- */

#define MAX_REGISTERED 256

static struct {
  const ae_model_def *def;
  char plugin[4096]; /* "" for a program's own */
} registered[MAX_REGISTERED];
static int nregistered;

int ae_model_register(const ae_model_def *d, const char *plugin) {
  if (!d || !d->name || !d->name[0] || !d->build || !d->loss || !d->encode || !d->reconstruct) {
    ae_set_last_error("ae_model_register: a model definition needs a name and build, loss, encode and "
                      "reconstruct functions");
    return -1;
  }
  if (strchr(d->name, '/') || strchr(d->name, ':') || strchr(d->name, ' ')) {
    ae_set_last_error("ae_model_register: model name '%s' may not contain '/', ':' or spaces", d->name);
    return -1;
  }
  for (int i = 0; i < ae_zoo_count(); i++)
    if (strcmp(models[i]->name, d->name) == 0) {
      ae_set_last_error("model name '%s' is taken by the zoo's own model; choose another name", d->name);
      return -1;
    }
  for (int i = 0; i < nregistered; i++) {
    if (registered[i].def == d) return 0; /* the same definition again */
    if (strcmp(registered[i].def->name, d->name) == 0) {
      ae_set_last_error("model name '%s' is already registered%s%s", d->name,
                        registered[i].plugin[0] ? " by plugin " : "", registered[i].plugin);
      return -1;
    }
  }
  if (nregistered == MAX_REGISTERED) {
    ae_set_last_error("ae_model_register: at most %d models can be registered", MAX_REGISTERED);
    return -1;
  }
  registered[nregistered].def = d;
  snprintf(registered[nregistered].plugin, sizeof registered[nregistered].plugin, "%s", plugin ? plugin : "");
  nregistered++;
  return 0;
}

const ae_model_def *ae_model_lookup(const char *name) {
  const ae_model_def *d = ae_zoo_find(name);
  for (int i = 0; !d && name && i < nregistered; i++)
    if (strcmp(registered[i].def->name, name) == 0) d = registered[i].def;
  return d;
}

const char *ae_model_plugin(const ae_model_def *d) {
  for (int i = 0; i < nregistered; i++)
    if (registered[i].def == d) return registered[i].plugin[0] ? registered[i].plugin : NULL;
  return NULL;
}
