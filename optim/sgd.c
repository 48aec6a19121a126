/* sgd.c: torch.optim.SGD. Plain SGD, heavy-ball momentum with dampening,
 * and Nesterov momentum; L2 weight decay is added to the gradient.
 *   g = grad + wd * p
 *   buf = g                                   (first step)
 *   buf = momentum * buf + (1 - dampening) * g (later steps)
 *   d = nesterov ? g + momentum * buf : buf    (g when momentum == 0)
 *   p -= lr * d
 * State: "momentum_buffer" (only when momentum != 0). */
#include "optim_internal.h"

void ae__sgd_step(ae_optim *o, int64_t t) {
  const ae_optim_config *c = &o->cfg;
  const ae_real lr = (ae_real)c->lr, wd = (ae_real)c->weight_decay;
  const ae_real mom = (ae_real)c->momentum, damp1 = (ae_real)(1.0 - c->dampening);
  const int nesterov = c->kind == AE_OPT_NESTEROV, first = t == 1;
  for (int i = 0; i < o->nparams; i++) {
    ae_param *prm = o->params[i];
    ae_real *restrict p = prm->value.data;
    const ae_real *restrict gr = prm->grad.data;
    const int64_t n = prm->value.numel;
    if (c->momentum == 0) {
      AE_PAR_FOR(AE_PAR(n), simd,
      for (int64_t j = 0; j < n; j++) p[j] -= lr * (gr[j] + wd * p[j]););
      continue;
    }
    ae_real *restrict buf = ae__opt_buf(o, i, 0);
    AE_PAR_FOR(AE_PAR(n), simd,
    for (int64_t j = 0; j < n; j++) {
      ae_real g = gr[j] + wd * p[j];
      ae_real b = first ? g : mom * buf[j] + damp1 * g;
      buf[j] = b;
      p[j] -= lr * (nesterov ? g + mom * b : b);
    });
  }
}
