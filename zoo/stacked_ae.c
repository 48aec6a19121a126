/* stacked_ae.c: the stacked autoencoder trained greedily, one layer at a
 * time, then fine-tuned end to end (Bengio, Lamblin, Popovici and
 * Larochelle 2007, "Greedy layer-wise training of deep networks"; Hinton
 * and Salakhutdinov 2006 pretrain the same way with RBMs).
 * Encoder layers f_1..f_L (sizes `hidden`, `activation` between, linear
 * code), decoder layers g_L..g_1 (the mirror image). With h_0 = x and
 * h_k = f_k(h_{k-1}), training runs L + 1 stages:
 *   stage k = 1..L ("pretrain layer k"): only f_k and g_k train, on the
 *     code below held fixed, h_k = f_k(sg(h_{k-1})) (sg: stop-gradient):
 *       k = 1:  loss = recon(sigmoid(g_1(h_1)), x)          mse | bce as in ae
 *       k > 1:  loss = mse(a(g_k(h_k)), sg(h_{k-1}))         a = `activation`, mean
 *   stage L + 1 ("finetune"): every layer, the whole autoencoder:
 *       loss = recon(sigmoid(g_1(... g_L(h_L))), x)
 *   each stage + weight_decay/2 sum ||W||^2 over the weights it trains.
 * Stages are numbered from 0 in the code (m->stage = k - 1). Default
 * activation sigmoid, as in Bengio et al. 2007. */
#include "layers.h"
#include "ops/loss.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct stacked_state {
  ae_mlp enc, dec; /* enc.layer[i] = f_{i+1}; dec.layer[L-1-i] = g_{i+1} */
} stacked_state;

static const ae_setting_def settings[] = {
    {"hidden", AE_SET_INTS, "100,30", "encoder layer sizes, one pretraining stage each; the last is the code size",
     NULL, 1, 1e6},
    {"activation", AE_SET_CHOICE, "sigmoid", "hidden-layer activation", "relu|sigmoid|tanh|leaky_relu", 0, 0},
    {"loss", AE_SET_CHOICE, "mse", "reconstruction loss of the input", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

static const char *const stage_names[AE_MAX_LAYERS + 1] = {
    "pretrain layer 1", "pretrain layer 2", "pretrain layer 3", "pretrain layer 4", "pretrain layer 5",
    "pretrain layer 6", "pretrain layer 7", "pretrain layer 8", "finetune"};
static const char *const code_terms[AE_MAX_LAYERS] = {"mse_h0", "mse_h1", "mse_h2", "mse_h3",
                                                      "mse_h4", "mse_h5", "mse_h6", "mse_h7"};

static int build(ae_model *m, ae_rng *rng) {
  stacked_state *s = m->state;
  int act = ae_act_parse(ae_settings_str(&m->settings, "activation"));
  if (ae_zoo_build_mirrored_mlp(m, &s->enc, &s->dec, (ae_act)act, AE_ACT_NONE, rng)) return -1;
  m->nstages = s->enc.n + 1;
  return 0;
}

static int is_finetune(const ae_model *m) { return m->stage >= ae_model_nstages(m) - 1; }

static const char *stage_name(ae_model *m, int stage) {
  stacked_state *s = m->state;
  if (stage < 0 || stage > s->enc.n) return NULL;
  return stage == s->enc.n ? stage_names[AE_MAX_LAYERS] : stage_names[stage];
}

/* Encoder layer i and its mirror g_{i+1}: the dense layers stage i trains. */
static const ae_dense *stage_layer(const ae_model *m, int i, int which) {
  const stacked_state *s = m->state;
  return which == 0 ? &s->enc.layer[i] : &s->dec.layer[s->enc.n - 1 - i];
}

static int stage_params(ae_model *m, int stage, ae_param **out, int max) {
  stacked_state *s = m->state;
  if (stage >= s->enc.n) {
    int n = m->nparams < max ? m->nparams : max;
    for (int i = 0; i < n; i++) out[i] = m->params[i];
    return n;
  }
  int n = 0;
  for (int which = 0; which < 2; which++) {
    const ae_dense *d = stage_layer(m, stage, which);
    if (n < max) out[n++] = d->w;
    if (n < max) out[n++] = d->b;
  }
  return n;
}

/* f_{i+1}: encoder layer i with its activation (the code layer is linear). */
static ae_val *enc_layer(ae_tape *t, const ae_mlp *enc, int i, ae_val *h) {
  return ae_dense_act_apply(t, &enc->layer[i], i + 1 < enc->n ? enc->hidden : enc->last, h);
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  stacked_state *s = m->state;
  return ae_mlp_apply(t, &s->enc, ae_model_flat(m, t, x));
}

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) {
  stacked_state *s = m->state;
  return ae_model_unflat(m, t, ae_sigmoid(t, ae_mlp_apply(t, &s->dec, h)));
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static ae_val *add_stage_decay(ae_model *m, ae_tape *t, ae_val *loss, ae_terms *terms) {
  double wd = ae_settings_real(&m->settings, "weight_decay");
  if (wd == 0) return loss;
  ae_val *sum = NULL;
  for (int which = 0; which < 2; which++) {
    ae_val *sq = ae_l2_penalty(t, ae_param_bind(t, stage_layer(m, m->stage, which)->w));
    sum = sum ? ae_add(t, sum, sq) : sq;
  }
  return ae_term(t, terms, loss, "weight_decay", wd / 2, sum);
}

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  (void)rng;
  stacked_state *s = m->state;
  if (is_finetune(m)) {
    ae_val *logits = ae_mlp_apply(t, &s->dec, encode(m, t, x));
    return ae_zoo_add_weight_decay(m, t, ae_zoo_recon_loss(m, t, logits, x, terms), terms);
  }
  int k = m->stage;
  ae_val *below = ae_model_flat(m, t, x); /* h_k = f_k(... f_1(x)), held fixed */
  for (int i = 0; i < k; i++) below = enc_layer(t, &s->enc, i, below);
  below = ae_detach(t, below);
  ae_val *h = enc_layer(t, &s->enc, k, below);
  /* k = 0: logits for the reconstruction loss; k > 0: a(g_k(h_k)) */
  ae_val *back = ae_dense_act_apply(t, stage_layer(m, k, 1), k == 0 ? AE_ACT_NONE : s->dec.hidden, h);
  ae_val *l;
  if (k == 0) {
    l = ae_zoo_recon_loss(m, t, back, x, terms);
  } else {
    ae_val *mse = ae_mse_loss(t, back, below, AE_REDUCE_MEAN);
    l = ae_term(t, terms, NULL, code_terms[k], 1, mse);
  }
  return add_stage_decay(m, t, l, terms);
}

const ae_model_def ae_model_stacked_ae = {
    .name = "stacked-ae",
    .description = "stacked autoencoder (784-100-30): greedy layer-wise pretraining, then end-to-end fine-tuning",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "hidden=5,3 weight_decay=0.01",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(stacked_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
    .nstages = 3, /* the default hidden=100,30; each instance sets m->nstages = layers + 1 */
    .stage_name = stage_name,
    .stage_params = stage_params,
};
