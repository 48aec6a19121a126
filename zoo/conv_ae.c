/* conv_ae.c: the convolutional autoencoder (Masci et al. 2011, "Stacked
 * convolutional auto-encoders for hierarchical feature extraction", ICANN,
 * with strided convolutions in place of pooling and a dense code):
 *   h     = W_code flatten(relu(conv_n(... relu(conv_1(x)))))      the code (linear)
 *   x_hat = sigmoid(convT_1(relu(... convT_n(relu(W_dec h + b)))))  the mirror image
 *   loss  = mse(x_hat, x)  (mean over pixels)
 *         | bce(x_hat, x)  (from the logits; summed over pixels, mean over the batch)
 *         + weight_decay/2 * sum ||W||^2   (dense and convolution weights)
 * Layout for a (C,H,W) image with channels=c_1,...,c_n (reference
 * 16,32,64 and code=30 on 1x28x28), as torch.nn.Sequential indices:
 *   encoder.{2i}   Conv2d(c_i -> c_{i+1}, 3x3, stride 2, pad 1) + ReLU,  c_0 = C;
 *                  sizes 28 -> 14 -> 7 -> 4 (s_{i+1} = ceil(s_i / 2))
 *   encoder.{2n+1} Linear(c_n s_n s_n -> code), after Flatten at index 2n
 *   decoder.0      Linear(code -> c_n s_n s_n) + ReLU, Unflatten at index 2
 *   decoder.{3+2i} ConvTranspose2d(c_{n-i} -> c_{n-i-1}, 3x3, stride 2, pad 1,
 *                  output_padding 1 where the encoder's input size at that
 *                  level is even, 0 where odd: 4 -> 7 -> 14 -> 28), ReLU
 *                  between them, sigmoid after the last.
 * Any image size works (height and width handled separately, output
 * paddings computed in build()); e.g. 8x8 for gradient checks. */
#include <stdio.h>

#include "layers.h"
#include "ops/conv.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct conv_ae_state {
  int n; /* convolution layers per side */
  ae_convl enc[AE_MAX_LAYERS], dec[AE_MAX_LAYERS];
  int out_pad_h[AE_MAX_LAYERS], out_pad_w[AE_MAX_LAYERS]; /* of dec[i] */
  ae_dense code, unflat;
  int64_t feat[3]; /* (c_n, s_n height, s_n width): the shape flattened into the code */
} conv_ae_state;

static const ae_setting_def settings[] = {
    {"channels", AE_SET_INTS, "16,32,64", "channels of the stride-2 3x3 convolutions (the decoder mirrors them)", NULL,
     1, 4096},
    {"code", AE_SET_INT, "30", "code size (a dense layer after the convolutions)", NULL, 1, 1e6},
    {"loss", AE_SET_CHOICE, "mse", "reconstruction loss", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

static int build(ae_model *m, ae_rng *rng) {
  conv_ae_state *s = m->state;
  int64_t ch[AE_MAX_LAYERS + 1], sh[AE_MAX_LAYERS + 1], sw[AE_MAX_LAYERS + 1];
  int n = ae_settings_ints(&m->settings, "channels", ch + 1, AE_MAX_LAYERS);
  if (n < 1 || n > AE_MAX_LAYERS) {
    ae_set_last_error("channels: give 1 to %d layer sizes", AE_MAX_LAYERS);
    return -1;
  }
  int64_t code = ae_settings_int(&m->settings, "code");
  s->n = n;
  ch[0] = m->example.d[0], sh[0] = m->example.d[1], sw[0] = m->example.d[2];
  for (int i = 0; i < n; i++) {
    char name[32];
    sh[i + 1] = (sh[i] + 1) / 2, sw[i + 1] = (sw[i] + 1) / 2; /* (s + 2 - 3) / 2 + 1 */
    snprintf(name, sizeof name, "encoder.%d", 2 * i);
    if (ae_conv_init(m, &s->enc[i], name, ch[i], ch[i + 1], 3, 2, 1, rng)) return -1;
  }
  s->feat[0] = ch[n], s->feat[1] = sh[n], s->feat[2] = sw[n];
  int64_t flat = ch[n] * sh[n] * sw[n];
  char name[32];
  snprintf(name, sizeof name, "encoder.%d", 2 * n + 1);
  if (ae_dense_init(m, &s->code, name, flat, code, 1, rng)) return -1;
  if (ae_dense_init(m, &s->unflat, "decoder.0", code, flat, 1, rng)) return -1;
  for (int i = 0; i < n; i++) { /* dec[i] maps level n-i to level n-i-1 */
    int l = n - i;
    /* a stride-2 transposed conv gives 2 s_l - 1 + output_padding */
    s->out_pad_h[i] = (int)(sh[l - 1] - (2 * sh[l] - 1)), s->out_pad_w[i] = (int)(sw[l - 1] - (2 * sw[l] - 1));
    snprintf(name, sizeof name, "decoder.%d", 3 + 2 * i);
    if (ae_conv_transpose_init(m, &s->dec[i], name, ch[l], ch[l - 1], 3, 2, 1, s->out_pad_h[i], rng)) return -1;
  }
  return 0;
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  conv_ae_state *s = m->state;
  for (int i = 0; i < s->n; i++) x = ae_conv_apply_relu(t, &s->enc[i], x);
  if (!x) return NULL;
  return ae_dense_apply(t, &s->code, ae_reshape(t, x, AE_SHAPE(x->t.shape.d[0], x->t.numel / x->t.shape.d[0])));
}

/* Decoder logits, (B, C, H, W). */
static ae_val *decode_logits(ae_model *m, ae_tape *t, ae_val *h) {
  conv_ae_state *s = m->state;
  ae_val *y = ae_dense_act_apply(t, &s->unflat, AE_ACT_RELU, h);
  if (!y) return NULL;
  y = ae_reshape(t, y, AE_SHAPE(y->t.shape.d[0], s->feat[0], s->feat[1], s->feat[2]));
  for (int i = 0; i < s->n; i++) {
    const ae_convl *c = &s->dec[i];
    ae_val *w = ae_param_bind(t, c->w), *b = ae_param_bind(t, c->b);
    const int oph = s->out_pad_h[i], opw = s->out_pad_w[i];
    y = i + 1 < s->n ? ae_conv_transpose2d_relu_ex(t, y, w, b, 2, 2, 1, 1, oph, opw) /* relu between, */
                     : ae_conv_transpose2d_ex(t, y, w, b, 2, 2, 1, 1, oph, opw);      /* not after the last */
  }
  return y;
}

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) { return ae_sigmoid(t, decode_logits(m, t, h)); }

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  (void)rng;
  ae_val *logits = ae_model_flat(m, t, decode_logits(m, t, encode(m, t, x)));
  return ae_zoo_add_weight_decay(m, t, ae_zoo_recon_loss(m, t, logits, x, terms), terms);
}

const ae_model_def ae_model_conv_ae = {
    .name = "conv-ae",
    .description =
        "convolutional autoencoder (16-32-64 stride-2 3x3 convs, 30-unit code, transposed-conv decoder, MSE or BCE)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "channels=2,3 code=3",
    .input = AE_INPUT_IMAGE,
    .state_size = sizeof(conv_ae_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
};
