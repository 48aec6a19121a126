/* adagrad.c: torch.optim.Adagrad.
 *   g = grad + wd * p
 *   clr = lr / (1 + (t - 1) * lr_decay)       (t: 1-based step)
 *   sum += g^2                                (starts at initial_accumulator)
 *   p -= clr * g / (sqrt(sum) + eps)
 * State: "sum". */
#include "optim_internal.h"

typedef struct adagrad_coef {
  ae_real clr, wd, eps;
} adagrad_coef;

static void adagrad_range(ae_optim *o, int i, int64_t lo, int64_t hi, const void *ctx) {
  const adagrad_coef *k = ctx;
  const ae_real clr = k->clr, wd = k->wd, eps = k->eps;
  ae_param *prm = o->params[i];
  ae_real *restrict p = prm->value.data;
  const ae_real *restrict gr = prm->grad.data;
  ae_real *restrict sum = ae__opt_buf(o, i, 0);
#pragma omp simd
  for (int64_t j = lo; j < hi; j++) {
    ae_real g = gr[j] + wd * p[j];
    ae_real sj = sum[j] + g * g;
    sum[j] = sj;
    p[j] -= clr * g / (AE_OPT_SQRT(sj) + eps);
  }
}

void ae__adagrad_step(ae_optim *o, int64_t t) {
  const ae_optim_config *c = &o->cfg;
  const adagrad_coef k = {(ae_real)(c->lr / (1.0 + (double)(t - 1) * c->lr_decay)), (ae_real)c->weight_decay,
                          (ae_real)c->eps};
  ae__opt_for_shares(o, adagrad_range, &k);
}
