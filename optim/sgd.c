/* sgd.c: torch.optim.SGD. Plain SGD, heavy-ball momentum with dampening,
 * and Nesterov momentum; L2 weight decay is added to the gradient.
 *   g = grad + wd * p
 *   buf = g                                   (first step)
 *   buf = momentum * buf + (1 - dampening) * g (later steps)
 *   d = nesterov ? g + momentum * buf : buf    (g when momentum == 0)
 *   p -= lr * d
 * State: "momentum_buffer" (only when momentum != 0). */
#include "optim_internal.h"

typedef struct sgd_coef {
  ae_real lr, wd, mom, damp1;
  int nesterov, first;
} sgd_coef;

static void sgd_range(ae_optim *o, int i, int64_t lo, int64_t hi, const void *ctx) {
  const sgd_coef *k = ctx;
  const ae_real lr = k->lr, wd = k->wd, mom = k->mom, damp1 = k->damp1;
  const int nesterov = k->nesterov, first = k->first;
  ae_param *prm = o->params[i];
  ae_real *restrict p = prm->value.data;
  const ae_real *restrict gr = prm->grad.data;
  if (o->cfg.momentum == 0) {
#pragma omp simd
    for (int64_t j = lo; j < hi; j++) p[j] -= lr * (gr[j] + wd * p[j]);
    return;
  }
  ae_real *restrict buf = ae__opt_buf(o, i, 0);
#pragma omp simd
  for (int64_t j = lo; j < hi; j++) {
    ae_real g = gr[j] + wd * p[j];
    ae_real b = first ? g : mom * buf[j] + damp1 * g;
    buf[j] = b;
    p[j] -= lr * (nesterov ? g + mom * b : b);
  }
}

void ae__sgd_step(ae_optim *o, int64_t t) {
  const ae_optim_config *c = &o->cfg;
  const sgd_coef k = {(ae_real)c->lr, (ae_real)c->weight_decay, (ae_real)c->momentum,
                      (ae_real)(1.0 - c->dampening), c->kind == AE_OPT_NESTEROV, t == 1};
  ae__opt_for_shares(o, sgd_range, &k);
}
