/* registry.c: the list of zoo models, in the order `aezoo list` shows. */
#include <string.h>

#include "zoo.h"

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
