/* rmsprop.c: torch.optim.RMSprop.
 *   g = grad + wd * p
 *   s = alpha * s + (1 - alpha) * g^2
 *   centered:  a = alpha * a + (1 - alpha) * g;  d = sqrt(s - a^2) + eps
 *   otherwise: d = sqrt(s) + eps                 (eps outside the sqrt)
 *   momentum > 0: buf = momentum * buf + g / d;  p -= lr * buf
 *   otherwise:    p -= lr * g / d
 * State: "square_avg" (s), "momentum_buffer" (momentum > 0), "grad_avg"
 * (a, centered), in that order. One departure from torch: the centred
 * variance s - a^2 is clamped at 0 before the sqrt, where rounding could
 * make it slightly negative and torch would produce NaN. */
#include "optim_internal.h"

/* Elements [lo, hi) of one parameter for constant CENTERED / HAS_MOM (0 or
 * 1): each of the four expansions is a branch-free vector loop. */
#define RMS_LOOP(CENTERED, HAS_MOM)                                   \
  _Pragma("omp simd")                                                 \
  for (int64_t j = lo; j < hi; j++) {                                 \
    ae_real g = gr[j] + wd * p[j];                                    \
    ae_real sj = alpha * s[j] + one_alpha * g * g;                    \
    s[j] = sj;                                                        \
    ae_real var = sj;                                                 \
    if (CENTERED) {                                                   \
      ae_real aj = alpha * ga[j] + one_alpha * g;                     \
      ga[j] = aj;                                                     \
      var = sj - aj * aj;                                             \
      var = var > 0 ? var : 0;                                        \
    }                                                                 \
    ae_real d = AE_OPT_SQRT(var) + eps;                               \
    if (HAS_MOM) {                                                    \
      ae_real b = mom * buf[j] + g / d;                               \
      buf[j] = b;                                                     \
      p[j] -= lr * b;                                                 \
    } else {                                                          \
      p[j] -= lr * g / d;                                             \
    }                                                                 \
  }

typedef struct rms_coef {
  ae_real lr, wd, eps, alpha, one_alpha, mom;
  int has_mom, centered;
} rms_coef;

static void rmsprop_range(ae_optim *o, int i, int64_t lo, int64_t hi, const void *ctx) {
  const rms_coef *k = ctx;
  const ae_real lr = k->lr, wd = k->wd, eps = k->eps, alpha = k->alpha, one_alpha = k->one_alpha, mom = k->mom;
  const int has_mom = k->has_mom, centered = k->centered;
  ae_param *prm = o->params[i];
  ae_real *restrict p = prm->value.data;
  ae_real *restrict s = ae__opt_buf(o, i, 0);
  ae_real *restrict buf = has_mom ? ae__opt_buf(o, i, 1) : NULL;
  ae_real *restrict ga = centered ? ae__opt_buf(o, i, has_mom ? 2 : 1) : NULL;
  const ae_real *restrict gr = prm->grad.data;
  if (centered && has_mom) {
    RMS_LOOP(1, 1);
  } else if (centered) {
    RMS_LOOP(1, 0);
  } else if (has_mom) {
    RMS_LOOP(0, 1);
  } else {
    RMS_LOOP(0, 0);
  }
}

void ae__rmsprop_step(ae_optim *o, int64_t t) {
  (void)t;
  const ae_optim_config *c = &o->cfg;
  const rms_coef k = {(ae_real)c->lr, (ae_real)c->weight_decay, (ae_real)c->eps, (ae_real)c->alpha,
                      (ae_real)(1.0 - c->alpha), (ae_real)c->momentum, c->momentum > 0, c->centered != 0};
  ae__opt_for_shares(o, rmsprop_range, &k);
}
