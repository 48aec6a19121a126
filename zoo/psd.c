/* psd.c: predictive sparse decomposition (Kavukcuoglu, Ranzato & LeCun
 * 2008, "Fast inference in sparse coding algorithms with applications to
 * object recognition"). A sparse-coding dictionary D and an encoder F that
 * learns to predict the sparse codes, trained together on the energy
 *   E(x, z) = ||x - D z||^2 + lambda |z|_1 + gamma ||z - F(x)||^2,
 *   F(x)    = G tanh(W x + b)   (G a learned per-unit gain, "encoder.gain"),
 *   D       (dim, code) with unit-norm columns ("decoder.weight", as a
 *           bias-free nn.Linear(code, dim)).
 * Each training step (train_step):
 *   1. z* = argmin_z E(x, z), parameters fixed, by `steps` iterations of
 *      monotone FISTA (MFISTA, Beck & Teboulle 2009, "Fast gradient-based
 *      algorithms for constrained total variation image denoising and
 *      deblurring") started from z = F(x): the gradient of the smooth part
 *      with respect to the code (a leaf variable) comes from ae_grad, the L1
 *      term enters through its proximal step (ae_ista_step), and each
 *      example keeps the better of the new prox point and its previous
 *      iterate, so the energy of every example never rises. Step 1/L with
 *      L = 2 (sigma_max(D)^2 + gamma), sigma_max(D)^2 estimated by power
 *      iterations on D^T D from a fixed start (a deterministic function of
 *      D), enlarged by 2% because the estimate approaches it from below
 *      (30 iterations: 0.14% below at the initial dictionary, exact to 6
 *      digits at a trained one; a step a little too long would only slow
 *      MFISTA down, its energy still never rises).
 *   2. one optimiser step, z* held constant, on
 *      ||x - D z*||^2 + gamma ||z* - F(x)||^2 (+ weight decay); the L1 term
 *      does not depend on the parameters.
 *   3. after_step: D's columns are rescaled to unit norm.
 * Sums run over pixels and code units, means over the batch.
 * loss(): E(x, z*) at the inferred (constant) codes, with the terms
 * "recon", "l1" (lambda |z*|_1), "prediction" (gamma ||z* - F(x)||^2): its
 * gradient is the step-2 gradient. Gradient checks hold the codes fixed
 * (the hold_codes hook of model.h) so that the finite differences do not
 * re-run the inference at every perturbed parameter.
 * encode: the inferred sparse code z* (exact zeros; the encoder's fast
 * approximation F(x) is the "prediction" term's target).
 * reconstruct: D z*. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/op_api.h"
#include "layers.h"
#include "ops/loss.h"
#include "ops/noise.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

#define POWER_ITERS 30

typedef struct psd_state {
  ae_dense enc;      /* W (code, dim), b (code) */
  ae_param *gain;    /* G (code) */
  ae_param *dict;    /* D (dim, code) */
  ae_tensor *held;   /* codes held for a gradient check, or NULL */
} psd_state;

static const ae_setting_def settings[] = {
    {"code", AE_SET_INT, "256", "number of code units (dictionary atoms)", NULL, 1, 1e6},
    {"lambda", AE_SET_REAL, "0.5", "L1 weight of the sparse code", NULL, 0, 1e6},
    {"gamma", AE_SET_REAL, "1", "weight of the encoder's prediction error ||z - F(x)||^2", NULL, 0, 1e6},
    {"steps", AE_SET_INT, "20", "MFISTA iterations of code inference per step (at most 1000)", NULL, 0, 1000},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

/* D's columns to unit norm: column j's squared norm summed in double over
 * rows in order, then each element divided by its square root (columns of
 * zeros stay). Row by row over blocks of NORM_COLS columns, so the row-major
 * matrix is read along its rows (the column-by-column loops took 5% of
 * psd's step: 1 KB strides and one scalar division per element); every
 * column's sums and quotients are the column-by-column loop's. */
enum { NORM_COLS = 512 };

static void normalise_columns(ae_param *d) {
  int64_t rows = d->value.shape.d[0], cols = d->value.shape.d[1];
  ae_real *w = d->value.data;
  double n[NORM_COLS], r[NORM_COLS];
  for (int64_t j0 = 0; j0 < cols; j0 += NORM_COLS) {
    const int64_t nc = cols - j0 < NORM_COLS ? cols - j0 : NORM_COLS;
    for (int64_t j = 0; j < nc; j++) n[j] = 0;
    for (int64_t i = 0; i < rows; i++) {
      const ae_real *wi = w + i * cols + j0;
#pragma omp simd
      for (int64_t j = 0; j < nc; j++) n[j] += (double)wi[j] * wi[j];
    }
    for (int64_t j = 0; j < nc; j++) r[j] = n[j] > 0 ? sqrt(n[j]) : 1; /* w / 1 = w: a zero column stays */
    for (int64_t i = 0; i < rows; i++) {
      ae_real *wi = w + i * cols + j0;
#pragma omp simd
      for (int64_t j = 0; j < nc; j++) wi[j] = (ae_real)(wi[j] / r[j]);
    }
  }
}

static int build(ae_model *m, ae_rng *rng) {
  psd_state *s = m->state;
  int64_t code = ae_settings_int(&m->settings, "code");
  if (ae_dense_init(m, &s->enc, "encoder", m->dim, code, 1, rng)) return -1;
  if (!(s->gain = ae_model_add_param(m, "encoder.gain", AE_SHAPE(code)))) return -1;
  for (int64_t j = 0; j < code; j++) s->gain->value.data[j] = 1;
  ae_dense dec;
  if (ae_dense_init(m, &dec, "decoder", code, m->dim, 0, rng)) return -1;
  s->dict = dec.w;
  normalise_columns(s->dict);
  return 0;
}

static void after_step(ae_model *m) { normalise_columns(((psd_state *)m->state)->dict); }

/* F(x) = G tanh(W x + b) on the flat batch. */
static ae_val *predict(ae_model *m, ae_tape *t, ae_val *xf) {
  psd_state *s = m->state;
  return ae_mul(t, ae_dense_act_apply(t, &s->enc, AE_ACT_TANH, xf), ae_param_bind(t, s->gain));
}

/* sigma_max(D)^2: the Rayleigh quotient ||D v||^2 after POWER_ITERS power
 * iterations v <- D^T D v / ||D^T D v|| from v = (1, ..., 1) / sqrt(code);
 * v and u = D v live in buf (code + dim reals). */
static double sigma_max_sq(const ae_param *d, ae_real *buf) {
  int64_t rows = d->value.shape.d[0], cols = d->value.shape.d[1];
  const ae_real *w = d->value.data;
  ae_real *v = buf, *u = buf + cols;
  double rq = 0;
  for (int64_t j = 0; j < cols; j++) v[j] = (ae_real)(1 / sqrt((double)cols));
  for (int it = 0; it < POWER_ITERS; it++) {
    rq = 0;
    for (int64_t i = 0; i < rows; i++) { /* u = D v */
      double a = 0;
#pragma omp simd reduction(+ : a)
      for (int64_t j = 0; j < cols; j++) a += (double)w[i * cols + j] * v[j];
      u[i] = (ae_real)a, rq += a * a;
    }
    for (int64_t j = 0; j < cols; j++) v[j] = 0;
    for (int64_t i = 0; i < rows; i++) /* v = D^T u */
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) v[j] += w[i * cols + j] * u[i];
    double n = 0;
    for (int64_t j = 0; j < cols; j++) n += (double)v[j] * v[j];
    if (!(n > 0)) break;
    for (int64_t j = 0; j < cols; j++) v[j] = (ae_real)(v[j] / sqrt(n));
  }
  return rq;
}

/* How the energy's terms are reduced: per example (shape (B)), summed
 * over the batch, or the batch mean (the loss). */
typedef enum { PER_EXAMPLE, BATCH_SUM, BATCH_MEAN } reduction;

static ae_val *reduce(ae_tape *t, ae_val *v, reduction r) {
  switch (r) {
  case PER_EXAMPLE: return ae_sum_axis(t, v, 1, 0);
  case BATCH_SUM: return ae_sum(t, v);
  default: return ae_loss_reduce(t, v, AE_REDUCE_BATCH_MEAN);
  }
}

/* E(x, z) = ||x - D z||^2 + lambda |z|_1 + gamma ||z - F(x)||^2 and its
 * terms, each reduced by r: the one definition used by the inference (per
 * example, and the smooth part summed for its gradient), the loss and
 * evaluation (batch mean). d is the dictionary, fx = F(x). */
typedef struct energy_terms {
  ae_val *recon, *pred, *l1;
  ae_val *smooth; /* recon + pred: what MFISTA differentiates */
  ae_val *total;  /* smooth + l1 (MFISTA's order; its comparisons see it) */
} energy_terms;

/* reduce(v^2): summed over the batch by the fused sum_sq (MFISTA's
 * gradient, every inference step), whose rule v (2g) gives the bits of
 * square + sum's g (2v) (doubling is exact). */
static ae_val *reduce_sq(ae_tape *t, ae_val *v, reduction r) {
  return r == BATCH_SUM ? ae_sum_sq(t, v) : reduce(t, ae_square(t, v), r);
}

static energy_terms energy(ae_tape *t, ae_val *xf, ae_val *z, ae_val *d, ae_val *fx, double lambda,
                           double gamma, reduction r) {
  energy_terms e;
  /* (z d^T - x)^2, not (x - z d^T)^2: the same bits, and sub's rule then
   * passes g to the product as it is instead of negating all of it (x,
   * the data, wants no gradient): one pass fewer an inference step */
  e.recon = reduce_sq(t, ae_sub(t, ae_matmul(t, z, d, 0, 1), xf), r);
  e.pred = ae_scale(t, reduce_sq(t, ae_sub(t, z, fx), r), (ae_real)gamma);
  e.l1 = ae_scale(t, reduce(t, ae_abs(t, z), r), (ae_real)lambda);
  e.smooth = ae_add(t, e.recon, e.pred);
  e.total = ae_add(t, e.smooth, e.l1);
  return e;
}

/* MFISTA's state: the batch and its prediction (constants), the detached
 * dictionary, and its own buffers in the tape's arena (allocated before
 * the iterations' mark, so they outlive each rewind; tape values are never
 * written): the iterates x_k, x_{k-1}, the extrapolated point y_k, and
 * E(x_k) per example. */
typedef struct mfista {
  ae_val *xf, *fx, *d;
  ae_shape shape; /* (B, code) */
  ae_real *xk, *xprev, *y, *ek;
  double step, lambda, gamma, tk;
} mfista;

/* One example's row of an iteration's bookkeeping: x_k = src (z_k or the
 * old x_k, which x_{k-1} now holds) and y_{k+1} = x_k + a (z_k - x_k) +
 * c (x_k - x_{k-1}), each element by the operations the tape's sub, scale
 * and add ops applied in turn, in one pass where those ops wrote six
 * arrays and x_{k-1} and y_{k+1} were copied. Floating-point contraction
 * is off here: x_k + u a as one FMA would round once where the ops round
 * twice, and the iterates would no longer have the ops' bits. GCC
 * contracts across statements (18 FMAs in this loop at -O3) and takes
 * -ffp-contract=off per function as an optimize attribute (the library's
 * build: zmm subs, multiplies and adds, no FMA); clang's default
 * contracts within one expression only, which these statements do not
 * give it. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define NO_CONTRACT
#endif
NO_CONTRACT static void next_row(int64_t n, const ae_real *restrict src, const ae_real *restrict z,
                                 const ae_real *restrict xprev, ae_real a, ae_real c, ae_real *restrict xk,
                                 ae_real *restrict y) {
  for (int64_t i = 0; i < n; i++) {
    const ae_real x = src[i], u = (z[i] - x) * a, v = (x - xprev[i]) * c;
    xk[i] = x;
    y[i] = (x + u) + v;
  }
}

/* One MFISTA iteration; its values are rewound by the caller, the buffers
 * are updated in place. */
static void mfista_step(ae_tape *t, mfista *s) {
  int64_t B = s->shape.d[0], K = s->shape.d[1];
  /* z_k = prox_{lambda/L}(y_k - grad f(y_k) / L), the gradient by autodiff */
  ae_val *yv = ae_var(t, s->shape, s->y);
  ae_val *g = ae_grad1(t, energy(t, s->xf, yv, s->d, s->fx, s->lambda, s->gamma, BATCH_SUM).smooth, NULL,
                       yv, 0);
  AE_GRAD_MODE(t, 0, outer) {
    ae_val *z = ae_ista_step(t, ae_detach(t, yv), g, (ae_real)s->step, (ae_real)s->lambda);
    ae_val *ez = energy(t, s->xf, z, s->d, s->fx, s->lambda, s->gamma, PER_EXAMPLE).total;
    if (ae_tape_ok(t)) {
      /* x_{k-1} = x_k (the two buffers swap); x_k = the better of z_k and
       * x_{k-1}, per example; y_{k+1} = x_k + (t_k / t_{k+1}) (z_k - x_k) +
       * ((t_k - 1) / t_{k+1}) (x_k - x_{k-1}) */
      ae_real *old = s->xk;
      s->xk = s->xprev, s->xprev = old;
      const double tn = (1 + sqrt(1 + 4 * s->tk * s->tk)) / 2;
      const ae_real a = (ae_real)(s->tk / tn), c = (ae_real)((s->tk - 1) / tn);
      for (int64_t b = 0; b < B; b++) {
        const int take = ez->t.data[b] <= s->ek[b];
        if (take) s->ek[b] = ez->t.data[b];
        next_row(K, (take ? z->t.data : old) + b * K, z->t.data + b * K, old + b * K, a, c, s->xk + b * K,
                 s->y + b * K);
      }
      s->tk = tn;
    }
  }
}

/* z* = argmin_z E(x, z) by `steps` MFISTA iterations from z = fx, the
 * parameters fixed; a constant (B, code). xf and fx are constants. */
static ae_val *infer(ae_model *m, ae_tape *t, ae_val *xf, ae_val *fx) {
  psd_state *ps = m->state;
  if (!xf || !fx) return NULL;
  mfista s = {.xf = xf, .fx = fx, .shape = fx->t.shape, .tk = 1};
  s.lambda = ae_settings_real(&m->settings, "lambda"), s.gamma = ae_settings_real(&m->settings, "gamma");
  int steps = (int)ae_settings_int(&m->settings, "steps");
  AE_GRAD_MODE(t, 1, outer) { /* the energy's gradient in z, whatever the caller's mode */
    s.d = ae_detach(t, ae_param_bind(t, ps->dict));
    /* x_0 = y_1 = F(x), E(x_0) */
    size_t n = (size_t)fx->t.numel, bytes = n * sizeof(ae_real);
    ae_val *x0 = ae_add_scalar(t, fx, 0);
    ae_val *e0 = energy(t, xf, fx, s.d, fx, s.lambda, s.gamma, PER_EXAMPLE).total;
    s.xk = ae_arena_alloc(t, "psd.infer", bytes), s.xprev = ae_arena_alloc(t, "psd.infer", bytes);
    s.y = ae_arena_alloc(t, "psd.infer", bytes);
    s.ek = ae_arena_alloc(t, "psd.infer", (size_t)s.shape.d[0] * sizeof(ae_real));
    ae_real *scratch = ae_arena_alloc(
        t, "psd.infer", (size_t)(ps->dict->value.shape.d[0] + ps->dict->value.shape.d[1]) * sizeof(ae_real));
    ae_tape_mark mark = ae_tape_get_mark(t);
    if (ae_tape_ok(t)) {
      memcpy(s.xk, x0->t.data, bytes), memcpy(s.xprev, x0->t.data, bytes), memcpy(s.y, x0->t.data, bytes);
      memcpy(s.ek, e0->t.data, (size_t)s.shape.d[0] * sizeof(ae_real));
      double sq = sigma_max_sq(ps->dict, scratch);
      s.step = 1 / (2 * (1.02 * sq + s.gamma));
      if (!(sq >= 0))
        ae_raise(t, AE_ERR_ARG, "psd.infer", "the dictionary's largest singular value is not finite");
      for (int k = 0; k < steps && ae_tape_ok(t); k++) {
        mfista_step(t, &s);
        ae_tape_rewind(t, mark);
      }
    }
    ae_tape_rewind(t, mark);
  }
  return ae_tape_ok(t) ? ae_const(t, s.shape, s.xk) : NULL;
}

/* The inferred codes of the flat batch xf, given its prediction fx. */
static ae_val *codes(ae_model *m, ae_tape *t, ae_val *xf, ae_val *fx) {
  psd_state *s = m->state;
  if (!s->held) return infer(m, t, ae_detach(t, xf), ae_detach(t, fx));
  if (!fx) return NULL;
  if (!ae_shape_eq(s->held->shape, fx->t.shape)) {
    ae_raise(t, AE_ERR_SHAPE, "psd", "codes held for a batch of %lld, the loss got a batch of %lld",
             (long long)s->held->shape.d[0], (long long)fx->t.shape.d[0]);
    return NULL;
  }
  return ae_const_tensor(t, s->held);
}

/* E(x, z) with z constant (the batch mean), its terms, and weight decay. */
static ae_val *loss_at(ae_model *m, ae_tape *t, ae_val *xf, ae_val *z, ae_val *fx, ae_terms *terms) {
  psd_state *s = m->state;
  energy_terms e = energy(t, xf, z, ae_param_bind(t, s->dict), fx, ae_settings_real(&m->settings, "lambda"),
                          ae_settings_real(&m->settings, "gamma"), BATCH_MEAN);
  ae_terms_add(terms, "recon", e.recon);
  ae_terms_add(terms, "l1", e.l1);
  ae_terms_add(terms, "prediction", e.pred);
  return ae_zoo_add_weight_decay(m, t, e.total, terms);
}

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  (void)rng;
  ae_val *xf = ae_model_flat(m, t, x), *fx = predict(m, t, xf);
  return loss_at(m, t, xf, codes(m, t, xf, fx), fx, terms);
}

static int train_step(ae_model *m, ae_tape *t, ae_val *x, ae_optim *opt, ae_rng *rng, ae_terms *terms,
                      double *loss_out) {
  ae_val *l = loss(m, t, x, rng, terms);
  if (!ae_tape_ok(t)) return -1;
  *loss_out = ae_item(l);
  if (!opt || !isfinite(*loss_out)) return 0; /* the trainer reports a non-finite loss */
  if (ae_backward(t, l)) return -1;
  if (ae_optim_step(opt)) {
    ae_raise(t, AE_ERR_ARG, "psd.train_step", "optimiser: %s", ae_last_error());
    return -1;
  }
  return 0;
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  ae_val *xf = ae_model_flat(m, t, x);
  return infer(m, t, ae_detach(t, xf), ae_detach(t, predict(m, t, xf)));
}

/* D z: the dictionary decodes any code; the codes it was trained on are
 * sparse ones inferred by MFISTA. */
static ae_val *decode(ae_model *m, ae_tape *t, ae_val *z) {
  psd_state *s = m->state;
  return ae_model_unflat(m, t, ae_matmul(t, z, ae_param_bind(t, s->dict), 0, 1));
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static int hold_codes(ae_model *m, ae_tape *t, const ae_tensor *x, int hold) {
  psd_state *s = m->state;
  ae_tensor_free(s->held);
  s->held = NULL;
  if (!hold) return 0;
  ae_tape_mark mark = ae_tape_get_mark(t);
  ae_val *z = encode(m, t, ae_const_tensor(t, x));
  if (z && !(s->held = ae_tensor_copy(&z->t))) ae_raise(t, AE_ERR_NOMEM, "psd.hold_codes", "%s", ae_last_error());
  ae_tape_rewind(t, mark);
  return s->held ? 0 : -1;
}

const ae_model_def ae_model_psd = {
    .name = "psd",
    .description = "predictive sparse decomposition (784 to 256 codes, G tanh(Wx+b) encoder, unit-norm dictionary, "
                   "MFISTA inference)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "code=5 steps=5",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(psd_state),
    .output_in_unit_range = 0,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
    .train_step = train_step,
    .after_step = after_step,
    .hold_codes = hold_codes,
};
