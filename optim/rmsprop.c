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

/* One parameter's update for constant CENTERED / HAS_MOM (0 or 1): each of
 * the four expansions is a branch-free vector loop. (An always-inline
 * function does not do: OpenMP outlines the loop before constants reach it.) */
#define RMS_LOOP(CENTERED, HAS_MOM)                                   \
  AE_PAR_FOR(AE_PAR(n), simd,                                         \
  for (int64_t j = 0; j < n; j++) {                                   \
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
  })

void ae__rmsprop_step(ae_optim *o, int64_t t) {
  (void)t;
  const ae_optim_config *c = &o->cfg;
  const ae_real lr = (ae_real)c->lr, wd = (ae_real)c->weight_decay, eps = (ae_real)c->eps;
  const ae_real alpha = (ae_real)c->alpha, one_alpha = (ae_real)(1.0 - c->alpha);
  const ae_real mom = (ae_real)c->momentum;
  const int has_mom = c->momentum > 0, centered = c->centered != 0;
  for (int i = 0; i < o->nparams; i++) {
    ae_param *prm = o->params[i];
    ae_real *restrict p = prm->value.data;
    ae_real *restrict s = ae__opt_buf(o, i, 0);
    ae_real *restrict buf = has_mom ? ae__opt_buf(o, i, 1) : NULL;
    ae_real *restrict ga = centered ? ae__opt_buf(o, i, has_mom ? 2 : 1) : NULL;
    const ae_real *restrict gr = prm->grad.data;
    const int64_t n = prm->value.numel;
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
}
