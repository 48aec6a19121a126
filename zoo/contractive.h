/* contractive.h: what the contractive models (cae, cae-deep, cae-h) share,
 * defined in cae.c: the input as a leaf that dh/dx can reach, the penalty
 * mean_b ||dh_b/dx_b||_F^2 by the generic Jacobian tools (exact or
 * Hutchinson, per the settings "jacobian" and "probes"), and the one-layer
 * network of cae and cae-h: h = sigmoid(W x + b), logits = W^T h + c
 * (tied) or W' h + c. */
#ifndef AE_ZOO_CONTRACTIVE_H
#define AE_ZOO_CONTRACTIVE_H

#include "layers.h"
#include "model.h"

/* The input the encoder reads, x (B, example...) flattened to (B, dim).
 * With `penalised` (a Jacobian term has a nonzero weight) it is a var, a
 * leaf the penalty differentiates the code with respect to. The caller
 * builds the code and the penalty inside AE_GRAD_MODE(t,
 * AE_ZOO_PENALTY_GRAD(t, penalised), training), so the code's graph exists
 * even when evaluating, and the penalty is differentiable (create_graph)
 * when the caller was training. Without `penalised`, the flat constant. */
ae_val *ae_zoo_input_var(ae_model *m, ae_tape *t, ae_val *x, int penalised);
#define AE_ZOO_PENALTY_GRAD(t, penalised) ((penalised) || ae_grad_enabled(t))

/* mean over the batch of ||dh_b/dx_b||_F^2 for h (B, code) computed from
 * x_var (B, dim): ae_jacobian_frobenius_sq (setting jacobian=exact) or
 * ae_jacobian_frobenius_sq_hutchinson with `probes` Gaussian probes drawn
 * from rng (jacobian=hutchinson). Recorded (differentiable w.r.t. the
 * parameters) when create_graph. */
ae_val *ae_zoo_contractive_penalty(ae_model *m, ae_tape *t, ae_val *h, ae_val *x_var, int create_graph, ae_rng *rng);

/* The one-layer sigmoid network, parameters "encoder.weight" (hidden, dim),
 * "encoder.bias", "decoder.bias" (dim) and, when the setting tied is false,
 * "decoder.weight" (dim, hidden). Settings: hidden, tied. */
typedef struct ae_zoo_cae_net {
  ae_dense enc;
  ae_param *dec_w, *dec_b; /* dec_w NULL when tied */
} ae_zoo_cae_net;
int ae_zoo_cae_build(ae_model *m, ae_zoo_cae_net *n, ae_rng *rng);
ae_val *ae_zoo_cae_code(ae_tape *t, const ae_zoo_cae_net *n, ae_val *x_flat);  /* sigmoid(W x + b) */
ae_val *ae_zoo_cae_logits(ae_tape *t, const ae_zoo_cae_net *n, ae_val *h);     /* W^T h + c */

/* Model hooks for models whose state (m->state) is an ae_zoo_cae_net
 * (cae, cae-h): build, encode = the code, reconstruct = sigmoid(logits). */
int ae_zoo_cae_model_build(ae_model *m, ae_rng *rng);
ae_val *ae_zoo_cae_encode(ae_model *m, ae_tape *t, ae_val *x);
ae_val *ae_zoo_cae_reconstruct(ae_model *m, ae_tape *t, ae_val *x);
ae_val *ae_zoo_cae_decode(ae_model *m, ae_tape *t, ae_val *h); /* sigmoid(W^T h + c) */

#endif
