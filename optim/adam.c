/* adam.c: torch.optim.Adam, AdamW and NAdam (amsgrad off).
 * Adam / AdamW, step t:
 *   AdamW: p *= 1 - lr * wd            Adam: g = grad + wd * p
 *   m = b1 * m + (1 - b1) * g
 *   v = b2 * v + (1 - b2) * g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * NAdam (momentum_decay psi), step t:
 *   g = grad + wd * p
 *   mu_t = b1 * (1 - 0.5 * 0.96^(t psi)),  mu_{t+1} likewise
 *   P_t = prod_{s<=t} mu_s  (kept in ae_optim.mu_product)
 *   m, v as Adam;  d = sqrt(v / (1 - b2^t)) + eps
 *   p -= lr (1 - mu_t) / (1 - P_t) * g / d + lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / d
 * State: "exp_avg" (m), "exp_avg_sq" (v). The scalar coefficients are
 * computed in double. One division per element, not torch's two: with
 * s = sqrt(1 - b2^t), m / (sqrt(v) / s + eps) = s m / (sqrt(v) + eps s),
 * and NAdam's sqrt(v / (1 - b2^t)) + eps likewise. Equal in exact
 * arithmetic, a rounding apart; the divider is the loop's bottleneck
 * (on ae's 160k parameters the second division cost a third of the
 * update, about 6% of the training step). */
#include "optim_internal.h"

#include <math.h>

void ae__adam_step(ae_optim *o, int64_t t) {
  const ae_optim_config *c = &o->cfg;
  const int decoupled = c->kind == AE_OPT_ADAMW;
  const ae_real b1 = (ae_real)c->beta1, b2 = (ae_real)c->beta2;
  const ae_real one_b1 = (ae_real)(1.0 - c->beta1), one_b2 = (ae_real)(1.0 - c->beta2);
  const ae_real l2 = decoupled ? 0 : (ae_real)c->weight_decay;
  const ae_real shrink = decoupled ? (ae_real)(1.0 - c->lr * c->weight_decay) : 1;
  const double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
  const ae_real step_size = (ae_real)(c->lr / bc1 * sqrt(bc2)); /* lr / bc1, times s */
  const ae_real eps = (ae_real)(c->eps * sqrt(bc2));              /* eps s */
  for (int i = 0; i < o->nparams; i++) {
    ae_param *prm = o->params[i];
    ae_real *restrict p = prm->value.data;
    const ae_real *restrict gr = prm->grad.data;
    ae_real *restrict m = ae__opt_buf(o, i, 0), *restrict v = ae__opt_buf(o, i, 1);
    const int64_t n = prm->value.numel;
    AE_PAR_FOR(AE_PAR(n), simd,
    for (int64_t j = 0; j < n; j++) {
      ae_real pj = p[j] * shrink;
      ae_real g = gr[j] + l2 * pj;
      ae_real mj = b1 * m[j] + one_b1 * g;
      ae_real vj = b2 * v[j] + one_b2 * g * g;
      m[j] = mj;
      v[j] = vj;
      p[j] = pj - step_size * mj / (AE_OPT_SQRT(vj) + eps);
    });
  }
}

void ae__nadam_step(ae_optim *o, int64_t t) {
  const ae_optim_config *c = &o->cfg;
  const ae_real b1 = (ae_real)c->beta1, b2 = (ae_real)c->beta2;
  const ae_real one_b1 = (ae_real)(1.0 - c->beta1), one_b2 = (ae_real)(1.0 - c->beta2);
  const ae_real wd = (ae_real)c->weight_decay;
  const double bc2 = 1.0 - pow(c->beta2, (double)t);
  const double mu = ae__nadam_mu(c->beta1, c->momentum_decay, t);
  const double mu_next = ae__nadam_mu(c->beta1, c->momentum_decay, t + 1);
  const double mu_product = o->mu_product * mu;
  const double mu_product_next = mu_product * mu_next;
  /* both coefficients and eps times s = sqrt(1 - b2^t), d below over s */
  const ae_real cg = (ae_real)(c->lr * (1.0 - mu) / (1.0 - mu_product) * sqrt(bc2));
  const ae_real cm = (ae_real)(c->lr * mu_next / (1.0 - mu_product_next) * sqrt(bc2));
  const ae_real eps_s = (ae_real)(c->eps * sqrt(bc2));
  for (int i = 0; i < o->nparams; i++) {
    ae_param *prm = o->params[i];
    ae_real *restrict p = prm->value.data;
    const ae_real *restrict gr = prm->grad.data;
    ae_real *restrict m = ae__opt_buf(o, i, 0), *restrict v = ae__opt_buf(o, i, 1);
    const int64_t n = prm->value.numel;
    AE_PAR_FOR(AE_PAR(n), simd,
    for (int64_t j = 0; j < n; j++) {
      ae_real g = gr[j] + wd * p[j];
      ae_real mj = b1 * m[j] + one_b1 * g;
      ae_real vj = b2 * v[j] + one_b2 * g * g;
      m[j] = mj;
      v[j] = vj;
      ae_real d = AE_OPT_SQRT(vj) + eps_s;
      p[j] -= (cg * g + cm * mj) / d;
    });
  }
  o->mu_product = mu_product;
}
