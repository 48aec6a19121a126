/* noise.c: corruption noise (additive Gaussian, masking, salt-and-pepper),
 * inverted dropout and the reparameterised Gaussian sample of noise.h.
 * All are composites: the noise is drawn into an unrecorded constant of
 * x's shape with one ae_rng_* call (thread-count independent, see rng.h)
 * and combined with x by differentiable ops (add, clamp, mul, where), so
 * none needs a backward rule of its own. Where no gradient flows through
 * x, the Gaussian noise is added and clamped in one pass instead. */
#include "noise.h"

#include <math.h>

#include "autograd/op_api.h"
#include "base/parallel.h"
#include "oplist.h"
#include "ops.h"

/* Checks x and the generator; 0 when the op must return NULL. */
static int noise_begin(ae_tape *t, const char *op, ae_val *x, ae_rng *rng) {
  if (!ae_op_begin(t, op, 1, &x)) return 0;
  if (!rng) {
    ae_raise(t, AE_ERR_ARG, op, "the random generator is NULL");
    return 0;
  }
  return 1;
}

static int prob_ok(ae_tape *t, const char *op, const char *what, double p) {
  if (p >= 0 && p <= 1) return 1;
  ae_raise(t, AE_ERR_ARG, op, "%s %g is not a probability in [0, 1]", what, p);
  return 0;
}

ae_val *ae_gaussian_noise(ae_tape *t, ae_val *x, ae_real sigma, ae_real lo, ae_real hi, ae_rng *rng) {
  const char *op = "gaussian_noise";
  if (!noise_begin(t, op, x, rng)) return NULL;
  if (!(sigma >= 0) || !(lo <= hi)) {
    ae_raise(t, AE_ERR_ARG, op, "need sigma >= 0 and lo <= hi, got sigma %g, lo %g, hi %g", (double)sigma, (double)lo,
             (double)hi);
    return NULL;
  }
  ae_val *noise = ae_op_out(t, op, x->t.shape);
  if (!noise) return NULL;
  ae_rng_normal(rng, noise->t.data, noise->t.numel, 0, sigma);
  if (!x->requires_grad || !ae_grad_enabled(t)) {
    /* No gradient flows through (a denoiser's input batch): clamp(x +
     * noise) in one pass, in the noise's buffer, bitwise the add and clamp
     * below (infinite bounds leave every value as it is), and one value of
     * x's size on the tape rather than three. dae (perf, 3000 steps, 1
     * thread, two runs each): the noise's add and the clamp had 153
     * samples of about 5900, this pass 61. */
    ae_real *restrict y = noise->t.data;
    const ae_real *restrict xs = x->t.data;
    const int64_t n = noise->t.numel;
    AE_PAR_FOR(AE_PAR(n), simd,
    for (int64_t i = 0; i < n; i++) {
      const ae_real v = xs[i] + y[i];
      y[i] = v < lo ? lo : (v > hi ? hi : v);
    });
    ae_op_record(t, AE_OP_CLAMP, noise, 0, NULL); /* nothing is recorded; anomaly mode checks it */
    return ae_tape_ok(t) ? noise : NULL;
  }
  ae_val *y = ae_add(t, x, noise);
  if (lo == -INFINITY && hi == INFINITY) return y;
  return ae_clamp(t, y, lo, hi);
}

ae_val *ae_masking_noise(ae_tape *t, ae_val *x, ae_real nu, ae_rng *rng) {
  const char *op = "masking_noise";
  if (!noise_begin(t, op, x, rng) || !prob_ok(t, op, "nu", (double)nu)) return NULL;
  ae_val *m = ae_op_out(t, op, x->t.shape);
  if (!m) return NULL;
  ae_rng_bernoulli(rng, m->t.data, m->t.numel, 1 - (double)nu);
  return ae_mul(t, x, m);
}

ae_val *ae_salt_and_pepper(ae_tape *t, ae_val *x, ae_real fraction, ae_real lo, ae_real hi, ae_rng *rng) {
  const char *op = "salt_and_pepper";
  if (!noise_begin(t, op, x, rng) || !prob_ok(t, op, "fraction", (double)fraction)) return NULL;
  ae_val *kept = ae_op_out(t, op, x->t.shape), *value = ae_op_out(t, op, x->t.shape);
  if (!kept || !value) return NULL;
  int64_t n = x->t.numel;
  ae_real *k = kept->t.data, *v = value->t.data, half = fraction / 2;
  ae_rng_uniform(rng, v, n, 0, 1);
  AE_PAR_FOR(AE_PAR(n), simd,
  for (int64_t i = 0; i < n; i++) {
    ae_real u = v[i];
    k[i] = u >= fraction;
    v[i] = u < half ? lo : hi;
  });
  return ae_where(t, kept, x, value);
}

ae_val *ae_dropout(ae_tape *t, ae_val *x, ae_real p, int training, ae_rng *rng) {
  const char *op = "dropout";
  if (!noise_begin(t, op, x, rng) || !prob_ok(t, op, "p", (double)p)) return NULL;
  if (!training || p == 0) return x;
  ae_val *m = ae_op_out(t, op, x->t.shape);
  if (!m) return NULL;
  int64_t n = m->t.numel;
  ae_rng_bernoulli(rng, m->t.data, n, 1 - (double)p);
  if (p < 1) {
    ae_real s = (ae_real)(1 / (1 - (double)p)), *pm = m->t.data;
    AE_PAR_FOR(AE_PAR(n), simd,
    for (int64_t i = 0; i < n; i++) pm[i] *= s;);
  }
  return ae_mul(t, x, m);
}

ae_val *ae_reparameterize(ae_tape *t, ae_val *mu, ae_val *logvar, ae_rng *rng) {
  const char *op = "reparameterize";
  ae_val *in[2] = {mu, logvar};
  if (!ae_op_begin(t, op, 2, in) || !noise_begin(t, op, mu, rng)) return NULL;
  if (!ae_shape_eq(mu->t.shape, logvar->t.shape)) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, op, "mu has shape %s but logvar has shape %s (must be equal)", ae_sstr(mu->t.shape, a),
             ae_sstr(logvar->t.shape, b));
    return NULL;
  }
  ae_val *eps = ae_op_out(t, op, mu->t.shape);
  if (!eps) return NULL;
  ae_rng_normal(rng, eps->t.data, eps->t.numel, 0, 1);
  return ae_add(t, mu, ae_mul(t, ae_exp(t, ae_scale(t, logvar, (ae_real)0.5)), eps));
}
