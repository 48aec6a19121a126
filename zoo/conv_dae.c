/* conv_dae.c: the convolutional denoising autoencoder of the Keras blog
 * ("Building Autoencoders in Keras", F. Chollet, 2016: the MNIST denoiser),
 * trained as in Vincent et al. 2010 ("Stacked denoising autoencoders",
 * JMLR 11): the encoder sees a corrupted copy x~ ~ q(x~ | x) and the loss
 * compares the reconstruction with the CLEAN input:
 *   x~    = clamp(x + sigma eps, 0, 1), eps ~ N(0, I)     noise=gaussian (default, sigma 0.5)
 *         | x * m, m_i ~ Bernoulli(1 - nu)                 noise=masking
 *         | x_i -> 0 or 1 (1/2 each) with probability nu   noise=salt_pepper
 *         | x                                              noise=none
 *   h     = pool(relu(conv_2(pool(relu(conv_1(x~))))))
 *   x_hat = sigmoid(conv_out(up(relu(conv_4(up(relu(conv_3(h))))))))
 *   loss  = mse(x_hat, x)  (mean over pixels)
 *         | bce(x_hat, x)  (from the logits; summed over pixels, mean over the batch)
 *         + weight_decay/2 * sum ||W||^2
 * Layout for a (C,H,W) image with channels=c_1,...,c_n (reference 32,32 on
 * 1x28x28), as torch.nn.Sequential indices; every conv is 3x3, stride 1,
 * pad 1 ("same"), pooling is 2x2 max pooling with stride 2, up is nearest
 * 2x upsampling:
 *   encoder.{3i}  Conv2d(c_i -> c_{i+1}) + ReLU + MaxPool2d,  c_0 = C   28 -> 14 -> 7
 *   decoder.0     Conv2d(c_n -> c_n) + ReLU + Upsample
 *   decoder.{3i}  Conv2d(c_{n-i+1} -> c_{n-i}) + ReLU + Upsample, i = 1..n-1   7 -> 14 -> 28
 *   decoder.{3n}  Conv2d(c_1 -> C) + sigmoid
 * The code is the last pooled feature map (c_n, H/2^n, W/2^n): height and
 * width must be divisible by 2^n (build() says so otherwise).
 * reconstruct() and encode() take the input as given (no noise); corrupt()
 * returns x~ for pictures; the corruption is ae_zoo_corrupt (model_parts.c). */
#include <stdio.h>

#include "layers.h"
#include "ops/noise.h"
#include "ops/ops.h"
#include "ops/pool.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct conv_dae_state {
  int n;
  ae_convl enc[AE_MAX_LAYERS], dec[AE_MAX_LAYERS + 1];
} conv_dae_state;

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
  conv_dae_state *s = m->state;
  int64_t ch[AE_MAX_LAYERS + 1];
  int n = ae_settings_ints(&m->settings, "channels", ch + 1, AE_MAX_LAYERS);
  if (n < 1 || n > AE_MAX_LAYERS) {
    ae_set_last_error("channels: give 1 to %d layer sizes", AE_MAX_LAYERS);
    return -1;
  }
  if (ae_zoo_check_pool_levels(m, n)) return -1;
  s->n = n;
  ch[0] = m->example.d[0];
  char name[32];
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof name, "encoder.%d", 3 * i);
    if (ae_conv_init(m, &s->enc[i], name, ch[i], ch[i + 1], 3, 1, 1, rng)) return -1;
  }
  for (int i = 0; i <= n; i++) { /* decoder.0: c_n -> c_n, then c_{n-i+1} -> c_{n-i} */
    int64_t in = ch[i == 0 ? n : n - i + 1], out = ch[i == 0 ? n : n - i];
    snprintf(name, sizeof name, "decoder.%d", 3 * i);
    if (ae_conv_init(m, &s->dec[i], name, in, out, 3, 1, 1, rng)) return -1;
  }
  return 0;
}

/* pool(relu(conv)) computed as relu(pool(conv)): ReLU is monotone, so the
 * values are bitwise the same, and so are the gradients (a window whose
 * maximum is positive has the same first maximum either way; one whose
 * maximum is <= 0 passes no gradient either way); the ReLU and its
 * backward then run on a quarter of the elements (12.8 MB -> 3.2 MB a
 * pass at batch 128 on 28x28). deconv-ae, whose unpooling uses the
 * argmax positions (they differ where a window's maximum is <= 0), pools
 * with ae_relu_max_pool2d instead. */
static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  conv_dae_state *s = m->state;
  for (int i = 0; i < s->n; i++) x = ae_relu(t, ae_max_pool2d(t, ae_conv_apply(t, &s->enc[i], x), 2, 2, 0, NULL));
  return x;
}

static ae_val *decode_logits(ae_model *m, ae_tape *t, ae_val *h) {
  conv_dae_state *s = m->state;
  /* each upsampling read by the convolution after it (ae_conv_apply_upsampled) */
  for (int i = 0; i < s->n; i++) h = ae_conv_apply_upsampled(t, &s->dec[i], h, i ? 2 : 1, 1);
  return ae_conv_apply_upsampled(t, &s->dec[s->n], h, s->n ? 2 : 1, 0);
}

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) { return ae_sigmoid(t, decode_logits(m, t, h)); }

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  ae_val *x_noisy = ae_zoo_corrupt(m, t, x, rng);
  ae_val *logits = ae_model_flat(m, t, decode_logits(m, t, encode(m, t, x_noisy)));
  return ae_zoo_add_weight_decay(m, t, ae_zoo_recon_loss(m, t, logits, x, terms), terms);
}

const ae_model_def ae_model_conv_dae = {
    .name = "conv-dae",
    .description =
        "convolutional denoiser (conv32-pool-conv32-pool / conv32-up-conv32-up-conv1, Gaussian noise 0.5, MSE)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "channels=2,3",
    .input = AE_INPUT_IMAGE,
    .state_size = sizeof(conv_dae_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
    .corrupt = ae_zoo_corrupt,
};
