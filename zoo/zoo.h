/* zoo.h: the zoo's public header: the model interface, the registry, the
 * trainer, and the helpers models share. */
#ifndef AE_ZOO_H
#define AE_ZOO_H

#include <string.h>

#include "base/api.h"
#include "layers.h"
#include "model.h"
#include "settings.h"
#include "footprint.h"

/* Shared by the MLP models (defined in model_parts.c). The "hidden" setting gives
 * the encoder's sizes; the decoder mirrors it. */
AE_API int ae_zoo_build_mirrored_mlp(ae_model *m, ae_mlp *enc, ae_mlp *dec, ae_act act, ae_act code_act, ae_rng *rng);
/* mse or bce (setting "loss") of decoder logits against x; adds the term. */
AE_API ae_val *ae_zoo_recon_loss(ae_model *m, ae_tape *t, ae_val *logits, ae_val *x, ae_terms *terms);
/* loss + weight_decay/2 ||W||^2 (setting "weight_decay"); adds the term. */
AE_API ae_val *ae_zoo_add_weight_decay(ae_model *m, ae_tape *t, ae_val *loss, ae_terms *terms);
/* Shared by the denoisers (model_parts.c): x~ ~ q(x~ | x) from the
 * settings noise (gaussian|masking|salt_pepper, and none where offered), sigma, nu;
 * and a check that (C,H,W) images take n 2x2 pooling levels (0, or -1
 * with ae_set_last_error). */
AE_API ae_val *ae_zoo_corrupt(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng);
AE_API int ae_zoo_check_pool_levels(ae_model *m, int n);
/* The mean of h (B, ...) over its batch axis, (...): ae_mean_axis(h, 0),
 * or in a data-parallel step (m->share) the mean over the whole batch of
 * every process, the same bits on each, whose gradient reaches this
 * process's rows as 1/rows (the run's weighting rows / total_rows makes it
 * the exact 1/total_rows). NULL on a tape error (a failed sum raises one). */
AE_API ae_val *ae_zoo_batch_mean(ae_model *m, ae_tape *t, ae_val *h);

#endif
