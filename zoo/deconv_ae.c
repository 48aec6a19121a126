/* deconv_ae.c: the convolutional autoencoder with a deconvolution decoder
 * (Zeiler et al. 2011, "Adaptive deconvolutional networks"; Noh et al.
 * 2015, "Learning deconvolution network for semantic segmentation"): the
 * encoder max-pools and keeps where each maximum was; the decoder puts
 * every value back at its maximum's place (max unpooling with the
 * encoder's indices, zeros elsewhere) and densifies the sparse maps with
 * transposed convolutions. It is conv-dae with unpooling instead of
 * upsampling, trained the same way as a denoiser (default noise as
 * conv-dae: Gaussian sigma 0.5 clipped to [0,1]; noise=none for the plain
 * autoencoder):
 *   x~          = q(x~ | x)  as conv-dae (ae_zoo_corrupt: noise, sigma, nu)
 *   a_i, p_i    = maxpool(relu(conv_i(a_{i-1})))  with argmax positions p_i,  a_0 = x~
 *   h           = a_n
 *   x_hat       = sigmoid(convT_out(unpool(relu(convT_2(unpool(relu(convT_1(h)), p_2))), p_1)))
 *   loss        = mse(x_hat, x) | bce(x_hat, x) (against the clean x) + weight_decay/2 * sum ||W||^2
 * Layout for a (C,H,W) image with channels=c_1,...,c_n (reference 32,32 on
 * 1x28x28), as torch.nn indices; every conv and transposed conv is 3x3,
 * stride 1, pad 1, pooling 2x2 stride 2 (MaxPool2d(return_indices=True)),
 * unpooling MaxUnpool2d(2) with those indices:
 *   encoder.{3i}  Conv2d(c_i -> c_{i+1}) + ReLU + MaxPool2d -> p_{i+1},  c_0 = C   28 -> 14 -> 7
 *   decoder.0     ConvTranspose2d(c_n -> c_n) + ReLU + MaxUnpool2d(p_n)           7 -> 14
 *   decoder.{3i}  ConvTranspose2d(c_{n-i+1} -> c_{n-i}) + ReLU + MaxUnpool2d(p_{n-i}), i = 1..n-1   14 -> 28
 *   decoder.{3n}  ConvTranspose2d(c_1 -> C) + sigmoid
 * Height and width must be divisible by 2^n (build() says so otherwise).
 * encode() returns h; reconstruct() runs the encoder on x as given (no
 * noise) and decodes with that pass's indices. */
#include <stdio.h>

#include "layers.h"
#include "ops/ops.h"
#include "ops/pool.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct deconv_ae_state {
  int n;
  ae_convl enc[AE_MAX_LAYERS], dec[AE_MAX_LAYERS + 1];
  int64_t h[AE_MAX_LAYERS + 1], w[AE_MAX_LAYERS + 1]; /* map sizes per level: H / 2^i */
} deconv_ae_state;

static const ae_setting_def settings[] = {
    {"channels", AE_SET_INTS, "32,32", "channels of the 3x3 convolutions, one pooling level each (decoder mirrors)",
     NULL, 1, 4096},
    {"loss", AE_SET_CHOICE, "mse", "reconstruction loss (against the clean input)", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
    {"noise", AE_SET_CHOICE, "gaussian",
     "corruption: additive Gaussian clipped to [0,1], masking, salt and pepper, or none",
     "gaussian|masking|salt_pepper|none", 0, 0},
    {"sigma", AE_SET_REAL, "0.5", "standard deviation of the Gaussian noise", NULL, 0, 100},
    {"nu", AE_SET_REAL, "0.3", "fraction of inputs zeroed (masking) or set to 0/1 (salt_pepper)", NULL, 0, 1},
};

static int build(ae_model *m, ae_rng *rng) {
  deconv_ae_state *s = m->state;
  int64_t ch[AE_MAX_LAYERS + 1];
  int n = ae_settings_ints(&m->settings, "channels", ch + 1, AE_MAX_LAYERS);
  if (n < 1 || n > AE_MAX_LAYERS) {
    ae_set_last_error("channels: give 1 to %d layer sizes", AE_MAX_LAYERS);
    return -1;
  }
  if (ae_zoo_check_pool_levels(m, n)) return -1;
  s->n = n;
  ch[0] = m->example.d[0];
  for (int i = 0; i <= n; i++) s->h[i] = m->example.d[1] >> i, s->w[i] = m->example.d[2] >> i;
  char name[32];
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof name, "encoder.%d", 3 * i);
    if (ae_conv_init(m, &s->enc[i], name, ch[i], ch[i + 1], 3, 1, 1, rng)) return -1;
  }
  for (int i = 0; i <= n; i++) {
    int64_t in = ch[i == 0 ? n : n - i + 1], out = ch[i == 0 ? n : n - i];
    snprintf(name, sizeof name, "decoder.%d", 3 * i);
    if (ae_conv_transpose_init(m, &s->dec[i], name, in, out, 3, 1, 1, 0, rng)) return -1;
  }
  return 0;
}

/* h, and the argmax positions idx[i] of pooling level i+1. maxpool(relu(conv))
 * as one pooling op that reads the relu as it scans (ae_relu_max_pool2d):
 * the same values, positions and gradients, bitwise, with the relu's
 * backward at the pooled size (a quarter of the elements at 2x2). */
static ae_val *encode_with_indices(ae_model *m, ae_tape *t, ae_val *x, ae_val **idx) {
  deconv_ae_state *s = m->state;
  for (int i = 0; i < s->n; i++) x = ae_relu_max_pool2d(t, ae_conv_apply(t, &s->enc[i], x), 2, 2, 0, &idx[i]);
  return x;
}

static ae_val *decode_logits(ae_model *m, ae_tape *t, ae_val *h, ae_val *const *idx) {
  deconv_ae_state *s = m->state;
  for (int i = 0; i < s->n; i++) {
    int l = s->n - 1 - i; /* unpool back to the input size of encoder level l */
    h = ae_max_unpool2d(t, ae_conv_apply_relu(t, &s->dec[i], h), idx[l], (int)s->h[l], (int)s->w[l]);
  }
  return ae_conv_apply(t, &s->dec[s->n], h);
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  ae_val *idx[AE_MAX_LAYERS];
  return encode_with_indices(m, t, x, idx);
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) {
  ae_val *idx[AE_MAX_LAYERS];
  ae_val *h = encode_with_indices(m, t, x, idx);
  return h ? ae_sigmoid(t, decode_logits(m, t, h, idx)) : NULL;
}

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  ae_val *idx[AE_MAX_LAYERS];
  ae_val *h = encode_with_indices(m, t, ae_zoo_corrupt(m, t, x, rng), idx);
  if (!h) return NULL;
  ae_val *logits = ae_model_flat(m, t, decode_logits(m, t, h, idx));
  return ae_zoo_add_weight_decay(m, t, ae_zoo_recon_loss(m, t, logits, x, terms), terms);
}

const ae_model_def ae_model_deconv_ae = {
    .name = "deconv-ae",
    .description =
        "deconvolutional autoencoder (conv-dae with max unpooling at the encoder's argmax indices, transposed convs)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "channels=2,3",
    .input = AE_INPUT_IMAGE,
    .state_size = sizeof(deconv_ae_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .corrupt = ae_zoo_corrupt,
};
