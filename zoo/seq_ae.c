/* seq_ae.c: the recurrent sequence-to-sequence autoencoder. An image is
 * read as a sequence of its rows (28 steps of 28 pixels); the encoder's
 * last state is the code, repeated at every step of the decoder
 * (Srivastava et al. 2015, "Unsupervised learning of video representations
 * using LSTMs"; Keras's LSTM autoencoder with RepeatVector):
 *   s = LSTM_hidden(x_1..T)              (B,T,hidden)
 *   z = last state of LSTM_code(s)       (B,code)
 *   d = LSTM_hidden(repeat(z, T))        (B,T,hidden)
 *   x_hat_t = sigmoid(d_t W^T + b)       a dense layer applied at every step
 *   loss = mse(x_hat, x) (mean over pixels) | bce (summed over pixels, mean over the batch)
 * Parameters carry torch.nn.LSTM's names and layouts (weight_ih_l0 (4H,I),
 * weight_hh_l0 (4H,H), bias_ih_l0, bias_hh_l0; gate order i f g o). */
#include <math.h>

#include "ops/ops.h"
#include "ops/rnn.h"
#include "ops/tensor_ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct lstm_params {
  ae_param *w_ih, *w_hh, *b_ih, *b_hh;
} lstm_params;

typedef struct seq_state {
  lstm_params enc1, enc2, dec;
  ae_dense out;
  int64_t steps, width; /* rows and pixels per row */
} seq_state;

static const ae_setting_def settings[] = {
    {"hidden", AE_SET_INT, "100", "LSTM units of the first encoder layer and of the decoder", NULL, 1, 100000},
    {"code", AE_SET_INT, "30", "code size: units of the encoder's last LSTM layer", NULL, 1, 100000},
    {"loss", AE_SET_CHOICE, "mse", "reconstruction loss", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

/* torch.nn.LSTM's parameters, initialised as torch: U(-1/sqrt(H), 1/sqrt(H)). */
static int lstm_init(ae_model *m, lstm_params *l, const char *name, int64_t in, int64_t h, ae_rng *rng) {
  char buf[64];
  ae_param **slots[4] = {&l->w_ih, &l->w_hh, &l->b_ih, &l->b_hh};
  const char *suffix[4] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
  ae_shape shapes[4] = {ae_shape_make(2, (int64_t[]){4 * h, in}), ae_shape_make(2, (int64_t[]){4 * h, h}),
                        ae_shape_make(1, (int64_t[]){4 * h}), ae_shape_make(1, (int64_t[]){4 * h})};
  for (int k = 0; k < 4; k++) {
    snprintf(buf, sizeof buf, "%s.%s", name, suffix[k]);
    if (!(*slots[k] = ae_model_add_param(m, buf, shapes[k]))) return -1;
    ae_init_uniform(*slots[k], 1.0 / sqrt((double)h), rng);
  }
  return 0;
}

/* The LSTM over a (B,T,I) sequence; returns the outputs, *last gets h_T. */
static ae_val *lstm_run(ae_tape *t, const lstm_params *l, ae_val *x, ae_val **last) {
  return ae_lstm_unroll(t, x, NULL, NULL, ae_param_bind(t, l->w_ih), ae_param_bind(t, l->w_hh),
                        ae_param_bind(t, l->b_ih), ae_param_bind(t, l->b_hh), last, NULL);
}

static int build(ae_model *m, ae_rng *rng) {
  seq_state *s = m->state;
  s->steps = m->example.d[m->example.ndim - 2];
  s->width = m->example.d[m->example.ndim - 1];
  int64_t hidden = ae_settings_int(&m->settings, "hidden"), code = ae_settings_int(&m->settings, "code");
  if (lstm_init(m, &s->enc1, "encoder.lstm1", s->width, hidden, rng) ||
      lstm_init(m, &s->enc2, "encoder.lstm2", hidden, code, rng) ||
      lstm_init(m, &s->dec, "decoder.lstm", code, hidden, rng))
    return -1;
  return ae_dense_init(m, &s->out, "decoder.out", hidden, s->width, 1, rng);
}

/* x (B, 1, T, W) or (B, T, W) as the sequence (B, T, W). */
static ae_val *as_sequence(ae_model *m, ae_tape *t, ae_val *x) {
  seq_state *s = m->state;
  if (!x) return NULL;
  return ae_reshape(t, x, ae_shape_make(3, (int64_t[]){x->t.numel / m->dim, s->steps, s->width}));
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  seq_state *s = m->state;
  ae_val *code = NULL;
  lstm_run(t, &s->enc2, lstm_run(t, &s->enc1, as_sequence(m, t, x), NULL), &code);
  return code;
}

/* Decoder logits (B*T, W) from the code. */
static ae_val *decode_logits(ae_model *m, ae_tape *t, ae_val *code) {
  seq_state *s = m->state;
  ae_val *d = lstm_run(t, &s->dec, ae_repeat(t, code, 1, s->steps), NULL);
  if (!d) return NULL;
  int64_t hidden = d->t.shape.d[2];
  return ae_dense_apply(t, &s->out, ae_reshape(t, d, ae_shape_make(2, (int64_t[]){d->t.numel / hidden, hidden})));
}

/* The decoded rows (B*T, W) as examples (B, example...). */
static ae_val *decode(ae_model *m, ae_tape *t, ae_val *code) {
  return ae_model_unflat(m, t, ae_sigmoid(t, decode_logits(m, t, code)));
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  (void)rng;
  ae_val *logits = decode_logits(m, t, encode(m, t, x));
  /* logits are (B*T, W): the same elements as (B, dim) in row-major order */
  ae_val *flat = logits ? ae_reshape(t, logits, ae_shape_make(2, (int64_t[]){logits->t.numel / m->dim, m->dim}))
                        : NULL;
  return ae_zoo_add_weight_decay(m, t, ae_zoo_recon_loss(m, t, flat, x, terms), terms);
}

const ae_model_def ae_model_seq_ae = {
    .name = "seq-ae",
    .description = "recurrent sequence-to-sequence autoencoder on image rows (LSTM 100-30, repeated code, LSTM 100)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "hidden=3 code=2",
    .input = AE_INPUT_ROWS,
    .state_size = sizeof(seq_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
};
