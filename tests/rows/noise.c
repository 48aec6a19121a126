/* rows/noise.c: op-table rows of the noise family (ops/noise.h). shrink
 * is an op; the noise ops, ISTA and FISTA steps are composites, each row
 * tagged with the op it mostly exercises. A noise row builds its own
 * generator from a fixed seed on every call (gradcheck re-evaluates the
 * row many times and needs the same noise each time); its reference
 * redraws the same numbers with the same ae_rng_* call (noise.h says
 * which) and applies the formula in double. */
#include <math.h>

#include "../op_table.h"

#define NMAX 64
#define SEED 20240611u

static ae_rng row_rng(void) {
  ae_rng r;
  ae_rng_init(&r, SEED);
  return r;
}

/* ---- gaussian noise: attr = {sigma, lo, hi} ---- */
static ae_val *b_gauss(ae_tape *t, ae_val *const *in, const op_row *row) {
  ae_rng r = row_rng();
  return ae_gaussian_noise(t, in[0], (ae_real)row->attr[0], (ae_real)row->attr[1], (ae_real)row->attr[2], &r);
}
static void r_gauss(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ae_rng r = row_rng();
  ae_real e[NMAX];
  ae_rng_normal(&r, e, in[0]->numel, 0, (ae_real)row->attr[0]);
  for (int64_t i = 0; i < in[0]->numel; i++)
    out->data[i] = (ae_real)fmin(fmax((double)in[0]->data[i] + e[i], row->attr[1]), row->attr[2]);
}

/* ---- masking noise: attr[0] = nu ---- */
static ae_val *b_mask(ae_tape *t, ae_val *const *in, const op_row *row) {
  ae_rng r = row_rng();
  return ae_masking_noise(t, in[0], (ae_real)row->attr[0], &r);
}
static void r_mask(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ae_rng r = row_rng();
  for (int64_t i = 0; i < in[0]->numel; i++) /* one ae_rng_double per element = the same stream positions */
    out->data[i] = ae_rng_double(&r) < 1 - (double)(ae_real)row->attr[0] ? in[0]->data[i] : 0;
}

/* ---- salt and pepper: attr = {fraction, lo, hi} ---- */
static ae_val *b_snp(ae_tape *t, ae_val *const *in, const op_row *row) {
  ae_rng r = row_rng();
  return ae_salt_and_pepper(t, in[0], (ae_real)row->attr[0], (ae_real)row->attr[1], (ae_real)row->attr[2], &r);
}
static void r_snp(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ae_rng r = row_rng();
  ae_real u[NMAX];
  ae_rng_uniform(&r, u, in[0]->numel, 0, 1);
  double f = (ae_real)row->attr[0];
  for (int64_t i = 0; i < in[0]->numel; i++)
    out->data[i] = u[i] < f / 2 ? (ae_real)row->attr[1] : u[i] < f ? (ae_real)row->attr[2] : in[0]->data[i];
}

/* ---- dropout: attr[0] = p ---- */
static ae_val *b_drop(ae_tape *t, ae_val *const *in, const op_row *row) {
  ae_rng r = row_rng();
  return ae_dropout(t, in[0], (ae_real)row->attr[0], 1, &r);
}
static void r_drop(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ae_rng r = row_rng();
  double p = (ae_real)row->attr[0];
  for (int64_t i = 0; i < in[0]->numel; i++)
    out->data[i] = ae_rng_double(&r) < 1 - p ? (ae_real)((double)in[0]->data[i] / (1 - p)) : 0;
}

/* ---- reparameterize ---- */
static ae_val *b_reparam(ae_tape *t, ae_val *const *in, const op_row *row) {
  ae_rng r = row_rng();
  return ae_reparameterize(t, in[0], in[1], &r);
}
static void r_reparam(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ae_rng r = row_rng();
  ae_real e[NMAX];
  ae_rng_normal(&r, e, in[0]->numel, 0, 1);
  for (int64_t i = 0; i < in[0]->numel; i++)
    out->data[i] = (ae_real)((double)in[0]->data[i] + exp(0.5 * in[1]->data[i]) * e[i]);
}

/* ---- shrink: attr[0] = lambda ---- */
static double shrink_ref(double v, double l) { return v > l ? v - l : v < -l ? v + l : 0; }
static ae_val *b_shrink(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_shrink(t, in[0], (ae_real)row->attr[0]);
}
static void r_shrink(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  for (int64_t i = 0; i < in[0]->numel; i++) out->data[i] = (ae_real)shrink_ref(in[0]->data[i], row->attr[0]);
}
/* Moves v at least 0.05 away from the kinks at +-k. */
static ae_real off_kink(ae_real v, double k) {
  double a = fabs((double)v) - k;
  if (fabs(a) >= 0.05) return v;
  return (ae_real)(v < 0 ? -(k + (a < 0 ? -0.1 : 0.1)) : k + (a < 0 ? -0.1 : 0.1));
}
static void i_shrink(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] = off_kink(in[0]->data[i], row->attr[0]);
}

/* ---- ISTA step: attr = {step, lambda} ---- */
static ae_val *b_ista(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_ista_step(t, in[0], in[1], (ae_real)row->attr[0], (ae_real)row->attr[1]);
}
static void r_ista(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double s = (ae_real)row->attr[0], l = (ae_real)row->attr[1];
  for (int64_t i = 0; i < in[0]->numel; i++)
    out->data[i] = (ae_real)shrink_ref(in[0]->data[i] - s * in[1]->data[i], s * l);
}
/* Keeps h - step grad_h away from +-step lambda by moving h. */
static void i_ista(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  double s = row->attr[0], k = s * row->attr[1];
  for (int64_t i = 0; i < in[0]->numel; i++) {
    double d = s * in[1]->data[i], a = in[0]->data[i] - d;
    in[0]->data[i] = (ae_real)(off_kink((ae_real)a, k) + d);
  }
}

/* ---- FISTA extrapolation: attr[0] = t_k ---- */
static ae_val *b_fista(ae_tape *t, ae_val *const *in, const op_row *row) {
  double tk = row->attr[0];
  return ae_fista_extrapolate(t, in[0], in[1], &tk);
}
static void r_fista(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double tk = row->attr[0], tn = (1 + sqrt(1 + 4 * tk * tk)) / 2, beta = (tk - 1) / tn;
  for (int64_t i = 0; i < in[0]->numel; i++)
    out->data[i] = (ae_real)(in[0]->data[i] + beta * ((double)in[0]->data[i] - in[1]->data[i]));
}

AE_OP_ROWS(noise,
  {.op = AE_OP_CLAMP, .label = "gaussian_noise sigma 0.5 clip [-1,1] (3,4)", .nin = 1, .in_shape = {OP_SHAPE(3, 4)},
   .lo = -1, .hi = 1, .build = b_gauss, .reference = r_gauss, .out_shape = OP_SHAPE(3, 4), .attr = {0.5, -1, 1}},
  {.op = AE_OP_ADD, .label = "gaussian_noise sigma 0.3 no clip (5)", .nin = 1, .in_shape = {OP_SHAPE(5)},
   .lo = -1, .hi = 1, .build = b_gauss, .reference = r_gauss, .out_shape = OP_SHAPE(5),
   .attr = {0.3, -INFINITY, INFINITY}},
  {.op = AE_OP_MUL, .label = "masking_noise nu 0.3 (4,5)", .nin = 1, .in_shape = {OP_SHAPE(4, 5)}, .lo = -1,
   .hi = 1, .build = b_mask, .reference = r_mask, .out_shape = OP_SHAPE(4, 5), .attr = {0.3}},
  {.op = AE_OP_WHERE, .label = "salt_and_pepper 0.4 to {0,1} (4,5)", .nin = 1, .in_shape = {OP_SHAPE(4, 5)},
   .lo = 0, .hi = 1, .build = b_snp, .reference = r_snp, .out_shape = OP_SHAPE(4, 5), .attr = {0.4, 0, 1}},
  {.op = AE_OP_MUL, .label = "dropout p 0.25 (4,5)", .nin = 1, .in_shape = {OP_SHAPE(4, 5)}, .lo = -1, .hi = 1,
   .build = b_drop, .reference = r_drop, .out_shape = OP_SHAPE(4, 5), .attr = {0.25}},
  {.op = AE_OP_EXP, .label = "reparameterize (3,4)", .nin = 2, .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(3, 4)},
   .lo = -1, .hi = 1, .build = b_reparam, .reference = r_reparam, .out_shape = OP_SHAPE(3, 4)},
  {.op = AE_OP_SHRINK, .label = "shrink lambda 0.5 (3,4)", .nin = 1, .in_shape = {OP_SHAPE(3, 4)}, .lo = -2,
   .hi = 2, .build = b_shrink, .reference = r_shrink, .init = i_shrink, .out_shape = OP_SHAPE(3, 4),
   .attr = {0.5}},
  {.op = AE_OP_SHRINK, .label = "ista_step step 0.1 lambda 2 (3,4)", .nin = 2,
   .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(3, 4)}, .lo = -1, .hi = 1, .build = b_ista, .reference = r_ista,
   .init = i_ista, .out_shape = OP_SHAPE(3, 4), .attr = {0.1, 2}},
  {.op = AE_OP_SUB, .label = "fista_extrapolate t_k 2 (3,4)", .nin = 2, .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(3, 4)},
   .lo = -1, .hi = 1, .build = b_fista, .reference = r_fista, .out_shape = OP_SHAPE(3, 4), .attr = {2}},
)
