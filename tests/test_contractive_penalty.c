/* test_contractive_penalty.c: the contractive penalty of grad/jacobian.h,
 * float64. Checked against independent computations:
 * - the contractive penalty of one sigmoid layer against pylearn2's closed
 *   form sum_b sum_j (h_bj (1 - h_bj))^2 sum_i W_ji^2 and its gradient
 *   (second-order autodiff) against the closed form built from ops, a
 *   hand-derived gradient in plain C, and differences of the closed form;
 * - two sigmoid layers against J_b = diag(h2') W2 diag(h1') W1 in plain C,
 *   value and gradient;
 * - Hutchinson estimates (Gaussian / Rademacher, output / input side):
 *   the mean of 2000 one-probe estimates within 3 standard errors of the
 *   exact value, the sample variance against the documented formula, and
 *   the gradient of the create_graph estimate against the exact gradient;
 * - gradcheck and gradgradcheck of the exact penalty; and that a call
 *   without create_graph (of the penalty, the estimates, ae_jacobian and
 *   ae_jvp) leaves nothing but its result.
 * The Jacobian tools themselves and their errors: test_jacobian.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "aezoo.h"

_Static_assert(sizeof(ae_real) == sizeof(double), "test_contractive_penalty is built against libaezoo64 (float64)");

#include "jacobian_test_util.h"

/* ---- one sigmoid layer: pylearn2's closed form ------------------------- */

typedef struct layer1 {
  int B, D, H;
  double x[MAXN], W[MAXN], b[MAXN]; /* x (B,D), W (H,D), b (H) */
} layer1;

static layer1 layer1_make(int B, int D, int H, uint64_t seed) {
  layer1 L = {.B = B, .D = D, .H = H};
  cr_assert(B * D <= MAXN && H * D <= MAXN && H <= MAXN);
  fill_normal(seed, L.x, B * D, 1);
  fill_normal(seed + 1, L.W, H * D, 0.6);
  fill_normal(seed + 2, L.b, H, 0.3);
  return L;
}

static void layer1_h(const layer1 *L, const double *W, const double *b, double *h /* (B,H) */) {
  for (int s = 0; s < L->B; s++)
    for (int j = 0; j < L->H; j++) {
      double z = b[j];
      for (int i = 0; i < L->D; i++) z += L->x[s * L->D + i] * W[j * L->D + i];
      h[s * L->H + j] = sigm(z);
    }
}

/* sum_b sum_j (h_bj (1 - h_bj))^2 sum_i W_ji^2, in plain C. */
static double layer1_closed_form(const layer1 *L, const double *W, const double *b) {
  double h[MAXN], p = 0;
  layer1_h(L, W, b, h);
  for (int j = 0; j < L->H; j++) {
    double c = 0, s2 = 0;
    for (int i = 0; i < L->D; i++) c += W[j * L->D + i] * W[j * L->D + i];
    for (int s = 0; s < L->B; s++) {
      double hs = h[s * L->H + j] * (1 - h[s * L->H + j]);
      s2 += hs * hs;
    }
    p += c * s2;
  }
  return p;
}

/* Its gradient, derived by hand: with s = h(1-h), ds/dz = s(1-2h),
 * dP/dz_bj = 2 c_j s_bj^2 (1 - 2 h_bj), dP/dW_ji = 2 W_ji sum_b s_bj^2 +
 * sum_b dP/dz_bj x_bi, dP/db_j = sum_b dP/dz_bj. */
static void layer1_closed_form_grad(const layer1 *L, double *gW, double *gb) {
  double h[MAXN];
  layer1_h(L, L->W, L->b, h);
  for (int j = 0; j < L->H; j++) {
    double c = 0, s2 = 0;
    for (int i = 0; i < L->D; i++) c += L->W[j * L->D + i] * L->W[j * L->D + i];
    gb[j] = 0;
    for (int i = 0; i < L->D; i++) gW[j * L->D + i] = 0;
    for (int s = 0; s < L->B; s++) {
      double hh = h[s * L->H + j], sv = hh * (1 - hh);
      s2 += sv * sv;
      double dz = 2 * c * sv * sv * (1 - 2 * hh);
      gb[j] += dz;
      for (int i = 0; i < L->D; i++) gW[j * L->D + i] += dz * L->x[s * L->D + i];
    }
    for (int i = 0; i < L->D; i++) gW[j * L->D + i] += 2 * L->W[j * L->D + i] * s2;
  }
}

/* Differences of the plain-C closed form with respect to W then b. */
typedef struct {
  const layer1 *L;
} l1_fd_ctx;
static void layer1_cf_of_params(const double *p, double *y, void *ctx) {
  const layer1 *L = ((l1_fd_ctx *)ctx)->L;
  y[0] = layer1_closed_form(L, p, p + L->H * L->D);
}

/* The generic exact penalty on a tape: x var, W and b bound parameters. */
typedef struct l1_tape {
  ae_tape *t;
  ae_param *W, *b;
  ae_val *x, *Wv, *bv, *h;
} l1_tape;

static l1_tape l1_tape_make(const layer1 *L) {
  l1_tape s = {.t = ae_tape_new(0)};
  s.W = ae_param_new("W", AE_SHAPE(L->H, L->D));
  s.b = ae_param_new("b", AE_SHAPE(L->H));
  memcpy(s.W->value.data, L->W, sizeof(double) * (size_t)(L->H * L->D));
  memcpy(s.b->value.data, L->b, sizeof(double) * (size_t)L->H);
  s.x = ae_var(s.t, AE_SHAPE(L->B, L->D), L->x);
  s.Wv = ae_param_bind(s.t, s.W);
  s.bv = ae_param_bind(s.t, s.b);
  s.h = ae_sigmoid(s.t, ae_linear(s.t, s.x, s.Wv, s.bv));
  cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
  return s;
}

static void l1_tape_free(l1_tape *s) {
  ae_tape_free(s->t);
  ae_param_free(s->W);
  ae_param_free(s->b);
}

/* The closed form built from ops: sum((h(1-h))^2 * sum_i W_ji^2). */
static ae_val *layer1_closed_form_ops(ae_tape *t, ae_val *h, ae_val *W) {
  ae_val *s = ae_mul(t, h, ae_one_minus(t, h));
  return ae_sum(t, ae_mul(t, ae_square(t, s), ae_sum_axis(t, ae_square(t, W), 1, 0)));
}

static void check_layer1(int B, int D, int H, uint64_t seed) {
  layer1 L = layer1_make(B, D, H, seed);
  const int nW = H * D;
  l1_tape s = l1_tape_make(&L);
  ae_tape *t = s.t;
  ae_val *P = ae_jacobian_frobenius_sq(t, s.h, s.x, 1);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  cr_assert_eq(P->t.shape.ndim, 0);
  double want = layer1_closed_form(&L, L.W, L.b);
  cr_expect(rel_err(ae_item(P), want) < 1e-10, "(B,D,H)=(%d,%d,%d): penalty %.17g, closed form %.17g", B, D, H,
            ae_item(P), want);

  /* Gradients: ae_backward through the penalty (second-order autodiff). */
  cr_assert_eq(ae_backward(t, P), 0, "%s", ae_tape_error(t));
  double gW[MAXN], gb[MAXN], hW[MAXN], hb[MAXN], oW[MAXN], ob[MAXN], fd[2 * MAXN];
  memcpy(gW, s.W->grad.data, sizeof(double) * (size_t)nW);
  memcpy(gb, s.b->grad.data, sizeof(double) * (size_t)H);
  /* ... against the hand-derived gradient in plain C */
  layer1_closed_form_grad(&L, hW, hb);
  cr_expect(vec_rel_err(gW, hW, nW) < 1e-10, "dP/dW vs hand-derived: rel err %.3g", vec_rel_err(gW, hW, nW));
  cr_expect(vec_rel_err(gb, hb, H) < 1e-10, "dP/db vs hand-derived: rel err %.3g", vec_rel_err(gb, hb, H));
  /* ... against ae_grad of the closed form built from ops */
  ae_val *C = layer1_closed_form_ops(t, s.h, s.Wv);
  ae_val *ins[2] = {s.Wv, s.bv}, *gs[2];
  cr_assert_eq(ae_grad(t, 1, &C, NULL, 2, ins, gs, 0), 0, "%s", ae_tape_error(t));
  cr_expect(rel_err(ae_item(C), want) < 1e-12);
  copy_out(gs[0], oW);
  copy_out(gs[1], ob);
  cr_expect(vec_rel_err(gW, oW, nW) < 1e-10, "dP/dW vs closed form's ops: rel err %.3g", vec_rel_err(gW, oW, nW));
  cr_expect(vec_rel_err(gb, ob, H) < 1e-10, "dP/db vs closed form's ops: rel err %.3g", vec_rel_err(gb, ob, H));
  /* ... and against Richardson differences of the plain-C closed form
   * (good to ~1e-11, see fd_jacobian; 1e-9 leaves a margin of 100) */
  double p0[2 * MAXN];
  memcpy(p0, L.W, sizeof(double) * (size_t)nW);
  memcpy(p0 + nW, L.b, sizeof(double) * (size_t)H);
  l1_fd_ctx c = {&L};
  fd_jacobian(layer1_cf_of_params, &c, nW + H, 1, p0, fd);
  cr_expect(vec_rel_err(gW, fd, nW) < 1e-9, "dP/dW vs differences: rel err %.3g", vec_rel_err(gW, fd, nW));
  cr_expect(vec_rel_err(gb, fd + nW, H) < 1e-9, "dP/db vs differences: rel err %.3g", vec_rel_err(gb, fd + nW, H));
  l1_tape_free(&s);
}

/* D > H: one VJP per code unit; D < H: one JVP per input unit. */
Test(jacobian, contractive_one_layer_vjp_path) { check_layer1(3, 5, 4, 11); }
Test(jacobian, contractive_one_layer_jvp_path) { check_layer1(3, 3, 5, 21); }

Test(jacobian, frobenius_equals_full_jacobian_for_one_example) {
  layer1 L = layer1_make(1, 4, 3, 31);
  l1_tape s = l1_tape_make(&L);
  ae_val *J = ae_jacobian(s.t, s.h, s.x, 0);
  ae_val *P = ae_jacobian_frobenius_sq(s.t, s.h, s.x, 0);
  cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
  cr_assert(ae_shape_eq(J->t.shape, AE_SHAPE(3, 4)));
  double f = 0;
  for (int k = 0; k < 12; k++) f += J->t.data[k] * J->t.data[k];
  cr_expect(rel_err(ae_item(P), f) < 1e-12);
  cr_expect(rel_err(f, layer1_closed_form(&L, L.W, L.b)) < 1e-12);
  l1_tape_free(&s);
}

/* ---- two sigmoid layers: J_b = diag(h2') W2 diag(h1') W1 -------------- */

typedef struct layer2 {
  int B, D, H1, H2;
  double x[MAXN], W1[MAXN], b1[16], W2[MAXN], b2[16];
} layer2;

static double layer2_closed_form(const layer2 *L, const double *W1) {
  double p = 0;
  for (int s = 0; s < L->B; s++) {
    double h1[16], d1[16], h2[16], M[16 * 16];
    for (int j = 0; j < L->H1; j++) {
      double z = L->b1[j];
      for (int i = 0; i < L->D; i++) z += L->x[s * L->D + i] * W1[j * L->D + i];
      h1[j] = sigm(z);
      d1[j] = h1[j] * (1 - h1[j]);
    }
    for (int k = 0; k < L->H2; k++) {
      double z = L->b2[k];
      for (int j = 0; j < L->H1; j++) z += h1[j] * L->W2[k * L->H1 + j];
      h2[k] = sigm(z);
    }
    for (int k = 0; k < L->H2; k++) /* M = diag(h2') W2 diag(h1') W1, (H2, D) */
      for (int i = 0; i < L->D; i++) {
        double a = 0;
        for (int j = 0; j < L->H1; j++) a += L->W2[k * L->H1 + j] * d1[j] * W1[j * L->D + i];
        M[k * L->D + i] = h2[k] * (1 - h2[k]) * a;
        p += M[k * L->D + i] * M[k * L->D + i];
      }
  }
  return p;
}

static void layer2_cf_of_W1(const double *W1, double *y, void *ctx) { y[0] = layer2_closed_form(ctx, W1); }

static void check_layer2(int B, int D, int H1, int H2, uint64_t seed) {
  layer2 L = {.B = B, .D = D, .H1 = H1, .H2 = H2};
  fill_normal(seed, L.x, B * D, 1);
  fill_normal(seed + 1, L.W1, H1 * D, 0.7);
  fill_normal(seed + 2, L.b1, H1, 0.3);
  fill_normal(seed + 3, L.W2, H2 * H1, 0.9);
  fill_normal(seed + 4, L.b2, H2, 0.3);
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_var(t, AE_SHAPE(B, D), L.x);
  ae_val *W1 = ae_var(t, AE_SHAPE(H1, D), L.W1), *b1 = ae_var(t, AE_SHAPE(H1), L.b1);
  ae_val *W2 = ae_var(t, AE_SHAPE(H2, H1), L.W2), *b2 = ae_var(t, AE_SHAPE(H2), L.b2);
  ae_val *h2 = ae_sigmoid(t, ae_linear(t, ae_sigmoid(t, ae_linear(t, x, W1, b1)), W2, b2));
  ae_val *P = ae_jacobian_frobenius_sq(t, h2, x, 1);
  ae_val *g = ae_grad1(t, P, NULL, W1, 0);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  double want = layer2_closed_form(&L, L.W1);
  cr_expect(rel_err(ae_item(P), want) < 1e-10, "(B,D,H1,H2)=(%d,%d,%d,%d): penalty %.17g, closed form %.17g", B, D,
            H1, H2, ae_item(P), want);
  double ga[MAXN], fd[MAXN];
  copy_out(g, ga);
  fd_jacobian(layer2_cf_of_W1, &L, H1 * D, 1, L.W1, fd);
  cr_expect(vec_rel_err(ga, fd, H1 * D) < 1e-9, "dP/dW1 vs differences of the closed form: rel err %.3g",
            vec_rel_err(ga, fd, H1 * D));
  ae_tape_free(t);
}

Test(jacobian, contractive_two_layers_vjp_path) { check_layer2(3, 5, 4, 3, 41); }
Test(jacobian, contractive_two_layers_jvp_path) { check_layer2(2, 2, 3, 4, 51); }

/* ---- Hutchinson -------------------------------------------------------- */

/* The exact variance of one probe: for A = J J^T (output side) or J^T J
 * (input side), block-diagonal over the batch, 2 ||A||_F^2 (Gaussian) or
 * 2 (||A||_F^2 - sum_i A_ii^2) (Rademacher). J_b = diag(h_b(1-h_b)) W. */
static double layer1_probe_variance(const layer1 *L, ae_probe_dist dist, ae_probe_side side) {
  double h[MAXN], var = 0;
  layer1_h(L, L->W, L->b, h);
  for (int s = 0; s < L->B; s++) {
    double J[MAXN];
    for (int j = 0; j < L->H; j++)
      for (int i = 0; i < L->D; i++) J[j * L->D + i] = h[s * L->H + j] * (1 - h[s * L->H + j]) * L->W[j * L->D + i];
    int k = side == AE_PROBE_OUTPUT ? L->H : L->D;
    for (int a = 0; a < k; a++)
      for (int c = 0; c < k; c++) {
        double A = 0;
        if (side == AE_PROBE_OUTPUT)
          for (int i = 0; i < L->D; i++) A += J[a * L->D + i] * J[c * L->D + i];
        else
          for (int j = 0; j < L->H; j++) A += J[j * L->D + a] * J[j * L->D + c];
        if (dist == AE_PROBE_GAUSSIAN || a != c) var += 2 * A * A;
      }
  }
  return var;
}

typedef struct stats {
  double mean, se, var, var_se;
} stats;

static stats sample_stats(const double *v, int N) {
  stats s = {0};
  for (int k = 0; k < N; k++) s.mean += v[k];
  s.mean /= N;
  double m2 = 0, m4 = 0;
  for (int k = 0; k < N; k++) {
    double d = v[k] - s.mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  s.var = m2 / (N - 1);
  s.se = sqrt(s.var / N);
  m4 /= N;
  s.var_se = sqrt((m4 - (m2 / N) * (m2 / N)) / N); /* large-N standard error of the sample variance */
  return s;
}

#define NPROBES 2000

Test(jacobian, hutchinson_is_unbiased_with_the_documented_variance) {
  layer1 L = layer1_make(3, 5, 4, 61);
  const double exact = layer1_closed_form(&L, L.W, L.b);
  static const char *names[2][2] = {{"gaussian/output", "gaussian/input"}, {"rademacher/output", "rademacher/input"}};
  double var[2][2];
  for (int dist = 0; dist < 2; dist++)
    for (int side = 0; side < 2; side++) {
      l1_tape s = l1_tape_make(&L);
      ae_rng rng;
      ae_rng_init(&rng, 1000 + 10 * dist + side);
      static double est[NPROBES];
      for (int k = 0; k < NPROBES; k++) {
        ae_tape_mark m = ae_tape_get_mark(s.t);
        ae_val *P = ae_jacobian_frobenius_sq_hutchinson_ex(s.t, s.h, s.x, 1, dist, side, &rng, 0);
        cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
        est[k] = ae_item(P);
        ae_tape_rewind(s.t, m);
      }
      stats st = sample_stats(est, NPROBES);
      double want_var = layer1_probe_variance(&L, dist, side);
      var[dist][side] = st.var;
      cr_expect(fabs(st.mean - exact) <= 3 * st.se, "%s: mean %.6g, exact %.6g, standard error %.3g", names[dist][side],
                st.mean, exact, st.se);
      cr_expect(fabs(st.var - want_var) <= 3 * st.var_se, "%s: sample variance %.6g, formula %.6g, its s.e. %.3g",
                names[dist][side], st.var, want_var, st.var_se);
      /* A k-probe call is the mean of k one-probe calls on the same stream. */
      ae_rng_init(&rng, 1000 + 10 * dist + side);
      ae_val *P10 = ae_jacobian_frobenius_sq_hutchinson_ex(s.t, s.h, s.x, 10, dist, side, &rng, 0);
      double mean10 = 0;
      for (int k = 0; k < 10; k++) mean10 += est[k];
      cr_expect(rel_err(ae_item(P10), mean10 / 10) < 1e-13, "%s: 10 probes %.17g, mean of 10 single %.17g",
                names[dist][side], ae_item(P10), mean10 / 10);
      l1_tape_free(&s);
    }
  cr_expect(var[1][0] < var[0][0] && var[1][1] < var[0][1], "Rademacher probes have the lower variance");
}

/* The create_graph estimate's gradient is an unbiased estimate of the
 * exact gradient: compare two projections of it (onto the exact gradient's
 * direction and onto a fixed random direction) within 3 standard errors. */
Test(jacobian, hutchinson_gradient_is_unbiased) {
  layer1 L = layer1_make(2, 4, 3, 71);
  const int nW = L.H * L.D;
  double gexact[MAXN], gb[MAXN], dir[2][MAXN];
  layer1_closed_form_grad(&L, gexact, gb);
  double nrm = 0;
  for (int i = 0; i < nW; i++) nrm += gexact[i] * gexact[i];
  for (int i = 0; i < nW; i++) dir[0][i] = gexact[i] / sqrt(nrm);
  fill_normal(72, dir[1], nW, 1);
  l1_tape s = l1_tape_make(&L);
  ae_rng rng;
  ae_rng_init(&rng, 73);
  static double proj[2][NPROBES];
  for (int k = 0; k < NPROBES; k++) {
    ae_tape_mark m = ae_tape_get_mark(s.t);
    ae_val *P = ae_jacobian_frobenius_sq_hutchinson(s.t, s.h, s.x, 1, &rng, 1);
    ae_val *g = ae_grad1(s.t, P, NULL, s.Wv, 0);
    cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
    for (int d = 0; d < 2; d++) {
      proj[d][k] = 0;
      for (int i = 0; i < nW; i++) proj[d][k] += g->t.data[i] * dir[d][i];
    }
    ae_tape_rewind(s.t, m);
  }
  for (int d = 0; d < 2; d++) {
    double want = 0;
    for (int i = 0; i < nW; i++) want += gexact[i] * dir[d][i];
    stats st = sample_stats(proj[d], NPROBES);
    cr_expect(fabs(st.mean - want) <= 3 * st.se, "projection %d: mean %.6g, exact %.6g, standard error %.3g", d,
              st.mean, want, st.se);
  }
  l1_tape_free(&s);
}

/* ---- gradcheck and gradgradcheck of the exact penalty ------------------ */

/* in: x (B,D), W (H,D), b (H). */
static ae_val *penalty_fn(ae_tape *t, ae_val *const *in, void *ctx) {
  ae_val *h = ae_sigmoid(t, ae_linear(t, in[0], in[1], in[2]));
  return ae_jacobian_frobenius_sq(t, h, in[0], 1);
}

static void gradcheck_penalty(int B, int D, int H, int second_order) {
  layer1 L = layer1_make(B, D, H, 81);
  ae_tensor *x = ae_tensor_from(AE_SHAPE(B, D), L.x), *W = ae_tensor_from(AE_SHAPE(H, D), L.W),
            *b = ae_tensor_from(AE_SHAPE(H), L.b);
  ae_tensor *in[3] = {x, W, b};
  ae_gc_opts o = ae_gc_defaults();
  ae_gc_report r;
  if (second_order)
    cr_expect(ae_gradgradcheck(penalty_fn, NULL, 3, in, &o, &r), "(B,D,H)=(%d,%d,%d): %s", B, D, H, r.message);
  else
    cr_expect(ae_gradcheck(penalty_fn, NULL, 3, in, &o, &r), "(B,D,H)=(%d,%d,%d): %s", B, D, H, r.message);
  ae_tensor_free(x);
  ae_tensor_free(W);
  ae_tensor_free(b);
}

Test(jacobian, penalty_gradcheck) {
  gradcheck_penalty(3, 5, 4, 0); /* by VJPs */
  gradcheck_penalty(3, 3, 5, 0); /* by JVPs */
}

Test(jacobian, penalty_gradgradcheck) {
  gradcheck_penalty(2, 3, 2, 1);
  gradcheck_penalty(2, 2, 3, 1);
}

/* ---- no create_graph: nothing left behind but the result ---------------- */

/* Arena bytes of one value of n elements. */
static size_t footprint(int64_t n) {
  size_t a = AE_ALIGN;
  return (sizeof(ae_val) + a - 1) / a * a + ((size_t)n * sizeof(ae_real) + a - 1) / a * a;
}

Test(jacobian, without_create_graph_only_the_result_stays) {
  layer1 L = layer1_make(3, 3, 5, 91);
  l1_tape s = l1_tape_make(&L);
  ae_rng rng;
  ae_rng_init(&rng, 92);
  int nodes = ae_tape_node_count(s.t);
  ae_val *r[5];
  size_t before[5], after[5];
  for (int k = 0; k < 5; k++) {
    before[k] = ae_tape_arena_used(s.t);
    switch (k) {
      case 0: r[k] = ae_jacobian_frobenius_sq(s.t, s.h, s.x, 0); break;
      case 1: r[k] = ae_jacobian_frobenius_sq_hutchinson(s.t, s.h, s.x, 4, &rng, 0); break;
      case 2: r[k] = ae_jacobian_frobenius_sq_hutchinson_ex(s.t, s.h, s.x, 4, AE_PROBE_RADEMACHER, AE_PROBE_INPUT, &rng, 0); break;
      case 3: r[k] = ae_jacobian(s.t, s.h, s.x, 0); break;
      default: r[k] = ae_jvp(s.t, s.h, s.x, ae_full(s.t, s.x->t.shape, 1), 0); break;
    }
    after[k] = ae_tape_arena_used(s.t);
    cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
    cr_expect(!r[k]->requires_grad && r[k]->node < 0, "call %d: a constant result", k);
    cr_expect_eq(ae_tape_node_count(s.t), nodes, "call %d: no node left on the tape", k);
    /* the result (value header + data, each AE_ALIGN-aligned), plus the probe for the jvp call */
    size_t allowed = footprint(r[k]->t.numel) + (k == 4 ? footprint(s.x->t.numel) : 0);
    cr_expect(after[k] - before[k] <= allowed, "call %d kept %zu bytes (allowed %zu)", k, after[k] - before[k], allowed);
  }
  cr_expect(rel_err(ae_item(r[0]), layer1_closed_form(&L, L.W, L.b)) < 1e-12);
  l1_tape_free(&s);
}
