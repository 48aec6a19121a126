/* tangent.c: singular directions of the encoder's Jacobian and local PCA
 * of nearest neighbours (tangent.h). */
#include "tangent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grad/jacobian.h"
#include "latent.h"
#include "linalg.h"
#include "nearest.h"

#define JAC_ROWS 128 /* code units per pass */

/* (n, example...) */
static ae_shape batch_shape(const ae_model *m, int64_t n) {
  ae_shape s = ae_shape_make(m->example.ndim + 1, NULL);
  s.d[0] = n;
  for (int i = 0; i < m->example.ndim; i++) s.d[i + 1] = m->example.d[i];
  return s;
}

int ae_encoder_jacobian(ae_model *m, const ae_real *x, double **jac, int64_t *k) {
  int64_t d = m->dim;
  *jac = NULL;
  ae_tape *t = ae_tape_new(AE_LATENT_ARENA);
  ae_real *rep = malloc(sizeof(ae_real) * (size_t)(JAC_ROWS * d));
  double *J = NULL;
  int rc = -1;
  if (!t || !rep) {
    ae_set_last_error("Jacobian of %s's encoder: out of memory", m->def->name);
    goto done;
  }
  for (int64_t r = 0; r < JAC_ROWS; r++) memcpy(rep + r * d, x, sizeof(ae_real) * (size_t)d);
  ae_set_grad_enabled(t, 0);
  ae_val *h1 = m->def->encode(m, t, ae_const(t, batch_shape(m, 1), x));
  if (!ae_tape_ok(t) || !h1) {
    ae_set_last_error("Jacobian of %s's encoder: %s", m->def->name, ae_tape_error(t));
    goto done;
  }
  *k = h1->t.numel;
  if (!(J = calloc((size_t)(*k * d), sizeof *J))) {
    ae_set_last_error("Jacobian of %s's encoder: out of memory for %lld x %lld", m->def->name, (long long)*k,
                      (long long)d);
    goto done;
  }
  int nonzero = 0;
  for (int64_t lo = 0; lo < *k; lo += JAC_ROWS) {
    int64_t c = *k - lo < JAC_ROWS ? *k - lo : JAC_ROWS;
    ae_tape_reset(t);
    ae_set_grad_enabled(t, 1);
    ae_val *xv = ae_var(t, batch_shape(m, c), rep);
    ae_val *h = m->def->encode(m, t, xv);
    ae_val *v = h ? ae_full(t, h->t.shape, 0) : NULL;
    if (v)
      for (int64_t r = 0; r < c; r++) v->t.data[r * *k + lo + r] = 1; /* row r: one-hot in code unit lo + r */
    ae_val *g = ae_vjp(t, h, v, xv, 0);
    if (!ae_tape_ok(t) || !g) {
      ae_set_last_error("Jacobian of %s's encoder: %s", m->def->name, ae_tape_error(t));
      goto done;
    }
    for (int64_t r = 0; r < c; r++)
      for (int64_t i = 0; i < d; i++) {
        double e = (double)g->t.data[r * d + i];
        J[(lo + r) * d + i] = e;
        nonzero |= e != 0;
      }
  }
  if (!nonzero) {
    ae_set_last_error("the code of model %s does not depend differentiably on its input (its Jacobian dh/dx is "
                      "zero%s); tangents need a differentiable encoder",
                      m->def->name,
                      strcmp(m->def->name, "psd") == 0 ? ": psd infers its codes by MFISTA from a detached input" : "");
    goto done;
  }
  *jac = J;
  J = NULL;
  rc = 0;
done:
  free(J);
  free(rep);
  ae_tape_free(t);
  return rc;
}

int ae_tangent_directions(ae_model *m, const ae_real *x, int ndir, double *s, int64_t *r, double *dirs) {
  double *J, *vt = NULL;
  int64_t k, d = m->dim;
  if (ae_encoder_jacobian(m, x, &J, &k)) return -1;
  *r = k < d ? k : d;
  int rc = -1;
  if (ndir < 0) {
    ae_set_last_error("tangents: %d directions asked", ndir);
    goto done;
  }
  if (!(vt = malloc(sizeof(double) * (size_t)(*r * d)))) {
    ae_set_last_error("tangents: out of memory");
    goto done;
  }
  if (ae_linalg_svd(k, d, J, s, vt)) goto done;
  int64_t kept = ndir < *r ? ndir : *r;
  memcpy(dirs, vt, sizeof(double) * (size_t)(kept * d));
  memset(dirs + kept * d, 0, sizeof(double) * (size_t)((ndir - kept) * d));
  rc = 0;
done:
  free(J);
  free(vt);
  return rc;
}

int ae_local_pca(const ae_real *train, int64_t n, int64_t d, const ae_real *x, int64_t neighbours, int ndir,
                 double *var, double *dirs, int64_t *idx) {
  if (neighbours < 2 || neighbours > n || ndir < 1 || ndir >= neighbours || ndir > d) {
    ae_set_last_error("local PCA: %d directions of %lld neighbours among %lld examples (need 1 <= directions < "
                      "neighbours <= examples)", ndir, (long long)neighbours, (long long)n);
    return -1;
  }
  dist_idx *di = malloc(sizeof *di * (size_t)n);
  double *nb = malloc(sizeof(double) * (size_t)(neighbours * d));
  double *mean = malloc(sizeof(double) * (size_t)d);
  int64_t r = neighbours < d ? neighbours : d;
  double *s = malloc(sizeof(double) * (size_t)r), *vt = malloc(sizeof(double) * (size_t)(r * d));
  int rc = -1;
  if (!di || !nb || !mean || !s || !vt) {
    ae_set_last_error("local PCA: out of memory");
    goto done;
  }
  for (int64_t i = 0; i < n; i++) {
    double acc = 0;
    const ae_real *row = train + i * d;
    for (int64_t j = 0; j < d; j++) acc += ((double)row[j] - x[j]) * ((double)row[j] - x[j]);
    di[i].dist = acc, di[i].idx = i;
  }
  ae_zoo_sort_by_dist(di, n);
  for (int64_t a = 0; a < neighbours; a++) {
    if (idx) idx[a] = di[a].idx;
    for (int64_t j = 0; j < d; j++) nb[a * d + j] = (double)train[di[a].idx * d + j];
  }
  if (ae_linalg_covariance(neighbours, d, nb, mean, NULL)) goto done;
  for (int64_t a = 0; a < neighbours; a++)
    for (int64_t j = 0; j < d; j++) nb[a * d + j] -= mean[j];
  if (ae_linalg_svd(neighbours, d, nb, s, vt)) goto done;
  for (int i = 0; i < ndir; i++) var[i] = s[i] * s[i] / (double)(neighbours - 1);
  memcpy(dirs, vt, sizeof(double) * (size_t)(ndir * d));
  rc = 0;
done:
  free(di);
  free(nb);
  free(mean);
  free(s);
  free(vt);
  return rc;
}
