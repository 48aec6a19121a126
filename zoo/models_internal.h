/* models_internal.h: the zoo's model definitions, one per file in zoo/
 * (private: only registry.c lists them; a program finds a model by name
 * through ae_zoo_find or ae_model_lookup). Not installed. */
#ifndef AE_ZOO_MODELS_INTERNAL_H
#define AE_ZOO_MODELS_INTERNAL_H

#include "model.h"

extern const ae_model_def ae_model_ae;
extern const ae_model_def ae_model_linear_ae, ae_model_deep_ae, ae_model_stacked_ae;
extern const ae_model_def ae_model_sparse_l1, ae_model_sparse_kl;
extern const ae_model_def ae_model_dae, ae_model_cae, ae_model_cae_deep, ae_model_cae_h;
extern const ae_model_def ae_model_conv_ae, ae_model_conv_dae, ae_model_deconv_ae;
extern const ae_model_def ae_model_vae, ae_model_psd, ae_model_seq_ae;

#endif
