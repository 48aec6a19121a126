/* adagrad.c: torch.optim.Adagrad.
 *   g = grad + wd * p
 *   clr = lr / (1 + (t - 1) * lr_decay)       (t: 1-based step)
 *   sum += g^2                                (starts at initial_accumulator)
 *   p -= clr * g / (sqrt(sum) + eps)
 * State: "sum". */
#include "optim_internal.h"

void ae__adagrad_step(ae_optim *o, int64_t t) {
  const ae_optim_config *c = &o->cfg;
  const ae_real clr = (ae_real)(c->lr / (1.0 + (double)(t - 1) * c->lr_decay));
  const ae_real wd = (ae_real)c->weight_decay, eps = (ae_real)c->eps;
  for (int i = 0; i < o->nparams; i++) {
    ae_param *prm = o->params[i];
    ae_real *restrict p = prm->value.data;
    const ae_real *restrict gr = prm->grad.data;
    ae_real *restrict sum = ae__opt_buf(o, i, 0);
    const int64_t n = prm->value.numel;
    AE_PAR_FOR(AE_PAR(n), simd,
    for (int64_t j = 0; j < n; j++) {
      ae_real g = gr[j] + wd * p[j];
      ae_real sj = sum[j] + g * g;
      sum[j] = sj;
      p[j] -= clr * g / (AE_OPT_SQRT(sj) + eps);
    });
  }
}
