/* model_parts.c: the pieces several zoo models share (declared in zoo.h):
 * the mirrored MLP of the MLP models, the reconstruction loss from decoder
 * logits (setting "loss": mse|bce), the weight-decay term (setting
 * "weight_decay"), the denoisers' corruption (settings noise, sigma, nu)
 * and the convolutional models' check that images take n pooling levels.
 * A model file is one model; what models borrow from each other is here. */
#include <stdio.h>
#include <string.h>

#include "layers.h"
#include "ops/loss.h"
#include "ops/noise.h"
#include "ops/ops.h"
#include "zoo.h"

int ae_zoo_build_mirrored_mlp(ae_model *m, ae_mlp *enc, ae_mlp *dec, ae_act act, ae_act code_act, ae_rng *rng) {
  int64_t hidden[AE_MAX_LAYERS], sizes[AE_MAX_LAYERS + 1];
  int n = ae_settings_ints(&m->settings, "hidden", hidden, AE_MAX_LAYERS);
  sizes[0] = m->dim;
  for (int i = 0; i < n; i++) sizes[i + 1] = hidden[i];
  if (ae_mlp_init(m, enc, "encoder", n, sizes, act, code_act, rng)) return -1;
  int64_t rev[AE_MAX_LAYERS + 1];
  for (int i = 0; i <= n; i++) rev[i] = sizes[n - i];
  return ae_mlp_init(m, dec, "decoder", n, rev, act, AE_ACT_NONE, rng);
}

/* The reconstruction term from decoder logits, shared by the MLP models. */
ae_val *ae_zoo_recon_loss(ae_model *m, ae_tape *t, ae_val *logits, ae_val *x, ae_terms *terms) {
  ae_val *target = ae_model_flat(m, t, x);
  int bce = strcmp(ae_settings_str(&m->settings, "loss"), "bce") == 0;
  ae_val *l = bce ? ae_bce_with_logits_loss(t, logits, target, AE_REDUCE_BATCH_MEAN)
                  : ae_sigmoid_mse_loss(t, logits, target, AE_REDUCE_MEAN); /* mse(sigmoid(logits)), fused */
  return ae_term(t, terms, NULL, bce ? "bce" : "mse", 1, l);
}

/* Adds the weight-decay term (if any) to loss. */
ae_val *ae_zoo_add_weight_decay(ae_model *m, ae_tape *t, ae_val *loss, ae_terms *terms) {
  ae_val *wd = ae_weight_decay_term(t, m, ae_settings_real(&m->settings, "weight_decay"));
  return wd ? ae_term(t, terms, loss, "weight_decay", 1, wd) : loss;
}

/* x~ ~ q(x~ | x) from the settings noise, sigma and nu. */
ae_val *ae_zoo_corrupt(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng) {
  const char *noise = ae_settings_str(&m->settings, "noise");
  ae_real nu = (ae_real)ae_settings_real(&m->settings, "nu");
  if (strcmp(noise, "none") == 0) return x;
  if (strcmp(noise, "masking") == 0) return ae_masking_noise(t, x, nu, rng);
  if (strcmp(noise, "salt_pepper") == 0) return ae_salt_and_pepper(t, x, nu, 0, 1, rng);
  return ae_gaussian_noise(t, x, (ae_real)ae_settings_real(&m->settings, "sigma"), 0, 1, rng);
}

int ae_zoo_check_pool_levels(ae_model *m, int n) {
  int64_t h = m->example.d[1], w = m->example.d[2], f = (int64_t)1 << n;
  if (h % f || w % f) {
    ae_set_last_error(
        "images of %lldx%lld: %d 2x2 pooling levels (channels has %d entries) need height and width "
        "divisible by %lld; use fewer channels entries",
        (long long)h, (long long)w, n, n, (long long)f);
    return -1;
  }
  return 0;
}

ae_val *ae_zoo_batch_mean(ae_model *m, ae_tape *t, ae_val *h) {
  ae_val *local = ae_mean_axis(t, h, 0, 0);
  const ae_batch_share *sh = m->share;
  if (!sh || !local) return local;
  /* (local - local) + global: the value is exactly the global mean, the
   * gradient flows to this process's rows through local */
  ae_val *global = ae_full(t, local->t.shape, 0);
  if (!global) return NULL;
  ae_real w = (ae_real)((double)sh->rows / (double)sh->total_rows);
  for (int64_t i = 0; i < local->t.numel; i++) global->t.data[i] = local->t.data[i] * w;
  if (sh->sum(sh->ctx, global->t.data, global->t.numel)) {
    ae_raise(t, AE_ERR_ARG, "batch_mean", "the sum over the processes failed: %s", ae_last_error());
    return NULL;
  }
  return ae_add(t, ae_sub(t, local, ae_detach(t, local)), global);
}
