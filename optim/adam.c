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
 * arithmetic, a rounding apart; a vector division costs several times
 * the rest of the element's update (ae's 160k parameters: 344 us with
 * two, 230 with one, in a microbenchmark). Adam / AdamW flush subnormals
 * (flush_begin below). */
#include "optim_internal.h"

#include <math.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

/* Flush-to-zero and denormals-are-zero for Adam's update loop, on the
 * calling thread (each OpenMP thread calls it for itself); returns the old
 * control word with a flag to restore it (0: nothing changed, not x86).
 * Subnormal v and g*g (gradients below 1e-19 in float: weights of
 * near-blank pixels, dead units; v of a weight whose gradient stopped
 * decays into them) take a microcode assist per operation: on this
 * project's Xeon a microbenchmark of 160k elements ran 7.8 ms with two
 * thirds of its gradients that small, 0.24 ms flushed, and ae's update
 * 1500 steps into training went from 17% of the step to 5%. Flushed,
 * sqrt(v) changes by at most sqrt(REAL_MIN) (1.1e-19 in float) in
 * d = sqrt(v) + eps_s; with eps_s >= sqrt(REAL_MIN) / REAL_EPS (1.8e-12
 * in float; the default eps gives eps_s >= 3e-10) that is below d's
 * rounding, and m and p lose only values below REAL_MIN. A smaller eps
 * (0 included) flushes nothing. */
static unsigned flush_begin(ae_real eps_s) {
#if defined(__SSE__)
#ifdef AE_REAL_DOUBLE
  const double floor = 1.4916681462400413e-154 / AE_REAL_EPS; /* sqrt(DBL_MIN) / eps */
#else
  const double floor = 1.0842021724855044e-19 / AE_REAL_EPS; /* sqrt(FLT_MIN) / eps */
#endif
  if ((double)eps_s >= floor) {
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
    return old | 0x10000u;     /* a flag above the register's bits: restore */
  }
#endif
  (void)eps_s;
  return 0;
}
static void flush_end(unsigned old) {
#if defined(__SSE__)
  if (old & 0x10000u) _mm_setcsr(old & 0xffffu);
#endif
  (void)old;
}

/* The Adam/AdamW coefficients of step t. */
typedef struct adam_coef {
  ae_real b1, b2, one_b1, one_b2, l2, shrink, step_size, eps;
} adam_coef;

static void adam_range(const adam_coef *k, int64_t lo, int64_t hi, ae_real *restrict p, const ae_real *restrict gr,
                       ae_real *restrict m, ae_real *restrict v) {
#pragma omp simd
  for (int64_t j = lo; j < hi; j++) {
    ae_real pj = p[j] * k->shrink;
    ae_real g = gr[j] + k->l2 * pj;
    ae_real mj = k->b1 * m[j] + k->one_b1 * g;
    ae_real vj = k->b2 * v[j] + k->one_b2 * g * g;
    m[j] = mj;
    v[j] = vj;
    p[j] = pj - k->step_size * mj / (AE_OPT_SQRT(vj) + k->eps);
  }
}

/* Elements [lo, hi) of parameter i (ae__opt_for_shares runs it, on each
 * thread for its share when the parameters are many). The flush mode is
 * the calling thread's own control register, set around each call. */
static void adam_range_fn(ae_optim *o, int i, int64_t lo, int64_t hi, const void *ctx) {
  const adam_coef *k = ctx;
  ae_param *prm = o->params[i];
  unsigned csr = flush_begin(k->eps);
  adam_range(k, lo, hi, prm->value.data, prm->grad.data, ae__opt_buf(o, i, 0), ae__opt_buf(o, i, 1));
  flush_end(csr);
}

void ae__adam_step(ae_optim *o, int64_t t) {
  const ae_optim_config *c = &o->cfg;
  const int decoupled = c->kind == AE_OPT_ADAMW;
  const double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
  const adam_coef k = {
      .b1 = (ae_real)c->beta1,
      .b2 = (ae_real)c->beta2,
      .one_b1 = (ae_real)(1.0 - c->beta1),
      .one_b2 = (ae_real)(1.0 - c->beta2),
      .l2 = decoupled ? 0 : (ae_real)c->weight_decay,
      .shrink = decoupled ? (ae_real)(1.0 - c->lr * c->weight_decay) : 1,
      .step_size = (ae_real)(c->lr / bc1 * sqrt(bc2)), /* lr / bc1, times s */
      .eps = (ae_real)(c->eps * sqrt(bc2)),            /* eps s */
  };
  ae__opt_for_shares(o, adam_range_fn, &k);
}

typedef struct nadam_coef {
  ae_real b1, b2, one_b1, one_b2, wd, cg, cm, eps_s;
} nadam_coef;

static void nadam_range(ae_optim *o, int i, int64_t lo, int64_t hi, const void *ctx) {
  const nadam_coef *k = ctx;
  const ae_real b1 = k->b1, b2 = k->b2, one_b1 = k->one_b1, one_b2 = k->one_b2, wd = k->wd;
  const ae_real cg = k->cg, cm = k->cm, eps_s = k->eps_s;
  ae_param *prm = o->params[i];
  ae_real *restrict p = prm->value.data;
  const ae_real *restrict gr = prm->grad.data;
  ae_real *restrict m = ae__opt_buf(o, i, 0), *restrict v = ae__opt_buf(o, i, 1);
#pragma omp simd
  for (int64_t j = lo; j < hi; j++) {
    ae_real g = gr[j] + wd * p[j];
    ae_real mj = b1 * m[j] + one_b1 * g;
    ae_real vj = b2 * v[j] + one_b2 * g * g;
    m[j] = mj;
    v[j] = vj;
    ae_real d = AE_OPT_SQRT(vj) + eps_s;
    p[j] -= (cg * g + cm * mj) / d;
  }
}

void ae__nadam_step(ae_optim *o, int64_t t) {
  const ae_optim_config *c = &o->cfg;
  const double bc2 = 1.0 - pow(c->beta2, (double)t);
  const double mu = ae__nadam_mu(c->beta1, c->momentum_decay, t);
  const double mu_next = ae__nadam_mu(c->beta1, c->momentum_decay, t + 1);
  const double mu_product = o->mu_product * mu;
  const double mu_product_next = mu_product * mu_next;
  /* both coefficients and eps times s = sqrt(1 - b2^t), d below over s */
  const ae_real cg = (ae_real)(c->lr * (1.0 - mu) / (1.0 - mu_product) * sqrt(bc2));
  const ae_real cm = (ae_real)(c->lr * mu_next / (1.0 - mu_product_next) * sqrt(bc2));
  const ae_real eps_s = (ae_real)(c->eps * sqrt(bc2));
  const nadam_coef k = {(ae_real)c->beta1, (ae_real)c->beta2, (ae_real)(1.0 - c->beta1), (ae_real)(1.0 - c->beta2),
                        (ae_real)c->weight_decay, cg, cm, eps_s};
  ae__opt_for_shares(o, nadam_range, &k);
  o->mu_product = mu_product;
}
