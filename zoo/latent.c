/* latent.c: codes of a data set, decoding, the Gaussian fitted to codes,
 * code-space interpolation (latent.h). */
#include "latent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"

/* Runs f (encode or decode) over x in batches into a new tensor. */
static ae_tensor *map_batches(ae_model *m, const ae_tensor *x, int64_t n, int64_t batch,
                              ae_val *(*f)(ae_model *, ae_tape *, ae_val *), const char *what) {
  if (n < 1 || n > x->shape.d[0] || batch < 1) {
    ae_set_last_error("%s: %lld rows asked of %lld (batch %lld)", what, (long long)n,
                      (long long)x->shape.d[0], (long long)batch);
    return NULL;
  }
  int64_t row = x->numel / x->shape.d[0], width = 0;
  ae_tape *t = ae_tape_new(AE_LATENT_ARENA);
  ae_tensor *out = NULL;
  if (!t) {
    ae_set_last_error("%s: %s", what, ae_last_error());
    return NULL;
  }
  for (int64_t lo = 0; lo < n; lo += batch) {
    int64_t b = n - lo < batch ? n - lo : batch;
    ae_tape_reset(t);
    ae_set_grad_enabled(t, 0);
    ae_tensor view = *x; /* rows lo..lo+b */
    view.shape.d[0] = b;
    view.numel = b * row;
    view.data = x->data + lo * row;
    ae_val *y = f(m, t, ae_const_tensor(t, &view));
    if (!ae_tape_ok(t) || !y) {
      ae_set_last_error("%s: %s", what, ae_tape_error(t));
      goto fail;
    }
    if (!out) {
      ae_shape s = y->t.shape;
      s.d[0] = n;
      width = y->t.numel / b;
      if (!(out = ae_tensor_new(s))) {
        ae_set_last_error("%s: %s", what, ae_last_error());
        goto fail;
      }
    }
    memcpy(out->data + lo * width, y->t.data, sizeof(ae_real) * (size_t)(b * width));
  }
  ae_tape_free(t);
  return out;
fail:
  ae_tape_free(t);
  ae_tensor_free(out);
  return NULL;
}

ae_tensor *ae_encode_all(ae_model *m, const ae_tensor *x, int64_t n, int64_t batch) {
  return map_batches(m, x, n, batch, m->def->encode, "encode");
}

ae_tensor *ae_decode_all(ae_model *m, const ae_tensor *codes, int64_t batch) {
  if (!m->def->decode) {
    char with[512];
    ae_models_with_decode(with, sizeof with);
    ae_set_last_error("model %s has no decoder that maps a code alone back to an example%s; models that can "
             "decode: %s", m->def->name,
             strcmp(m->def->name, "deconv-ae") == 0 ? " (it unpools at its encoder's argmax positions)" : "", with);
    return NULL;
  }
  return map_batches(m, codes, codes->shape.d[0], batch, m->def->decode, "decode");
}

ae_tensor *ae_reconstruct_all(ae_model *m, const ae_tensor *x, int64_t batch) {
  return map_batches(m, x, x->shape.d[0], batch, m->def->reconstruct, "reconstruct");
}

void ae_models_with_decode(char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < ae_zoo_count() && used < len; i++)
    if (ae_zoo_get(i)->decode) used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "", ae_zoo_get(i)->name);
}

void ae_gaussian_free(ae_gaussian *g) {
  free(g->mean);
  free(g->cov);
  free(g->basis);
  memset(g, 0, sizeof *g);
}

/* g->basis from g->cov (full): rows sqrt(max(w_i, 0)) v_i. */
static int gaussian_basis(ae_gaussian *g) {
  int64_t k = g->k;
  double *w = malloc(sizeof(double) * (size_t)k);
  g->basis = malloc(sizeof(double) * (size_t)(k * k));
  if (!w || !g->basis) {
    free(w);
    ae_set_last_error("a Gaussian of %lld units: out of memory", (long long)k);
    return -1;
  }
  int rc = ae_linalg_eigh(k, g->cov, w, g->basis);
  if (!rc)
    for (int64_t i = 0; i < k; i++) {
      double r = w[i] > 0 ? sqrt(w[i]) : 0;
      for (int64_t j = 0; j < k; j++) g->basis[i * k + j] *= r;
    }
  free(w);
  return rc;
}

int ae_gaussian_from(int64_t k, const double *mean, const double *cov, ae_gaussian *g) {
  memset(g, 0, sizeof *g);
  g->k = k;
  g->mean = malloc(sizeof(double) * (size_t)k);
  g->cov = malloc(sizeof(double) * (size_t)(k * k));
  if (!g->mean || !g->cov) {
    ae_set_last_error("a Gaussian of %lld units: out of memory", (long long)k);
    ae_gaussian_free(g);
    return -1;
  }
  memcpy(g->mean, mean, sizeof(double) * (size_t)k);
  memcpy(g->cov, cov, sizeof(double) * (size_t)(k * k));
  if (gaussian_basis(g)) {
    ae_gaussian_free(g);
    return -1;
  }
  return 0;
}

int ae_gaussian_fit(const ae_tensor *codes, int diagonal, ae_gaussian *g) {
  memset(g, 0, sizeof *g);
  int64_t n = codes->shape.d[0], k = n ? codes->numel / n : 0;
  if (n < 2 || k < 1) {
    ae_set_last_error("fitting a Gaussian needs at least 2 codes, got %lld", (long long)n);
    return -1;
  }
  g->k = k;
  g->diagonal = diagonal;
  double *x = malloc(sizeof(double) * (size_t)(n * k));
  g->mean = malloc(sizeof(double) * (size_t)k);
  g->cov = malloc(sizeof(double) * (size_t)(diagonal ? k : k * k));
  if (!x || !g->mean || !g->cov) {
    ae_set_last_error("fitting a Gaussian to %lld codes of %lld units: out of memory", (long long)n,
                      (long long)k);
    goto fail;
  }
  for (int64_t i = 0; i < n * k; i++) x[i] = (double)codes->data[i];
  if (diagonal) {
    if (ae_linalg_covariance(n, k, x, g->mean, NULL)) goto fail;
    for (int64_t j = 0; j < k; j++) {
      double s = 0;
      for (int64_t i = 0; i < n; i++) s += (x[i * k + j] - g->mean[j]) * (x[i * k + j] - g->mean[j]);
      g->cov[j] = s / (double)(n - 1);
    }
  } else {
    if (ae_linalg_covariance(n, k, x, g->mean, g->cov) || gaussian_basis(g)) goto fail;
  }
  free(x);
  return 0;
fail:
  free(x);
  ae_gaussian_free(g);
  return -1;
}

int ae_gaussian_sample(const ae_gaussian *g, int64_t n, ae_rng *rng, ae_real *out) {
  int64_t k = g->k;
  ae_real *z = malloc(sizeof(ae_real) * (size_t)k);
  if (!z) {
    ae_set_last_error("sampling a Gaussian: out of memory");
    return -1;
  }
  for (int64_t i = 0; i < n; i++) {
    ae_rng_normal(rng, z, k, 0, 1);
    ae_real *o = out + i * k;
    if (g->diagonal) {
      for (int64_t j = 0; j < k; j++) o[j] = (ae_real)(g->mean[j] + sqrt(g->cov[j]) * (double)z[j]);
      continue;
    }
    for (int64_t j = 0; j < k; j++) o[j] = (ae_real)g->mean[j];
    for (int64_t e = 0; e < k; e++) { /* + sum_e z_e sqrt(w_e) v_e */
      double ze = (double)z[e];
      const double *b = g->basis + e * k;
      for (int64_t j = 0; j < k; j++) o[j] += (ae_real)(ze * b[j]);
    }
  }
  free(z);
  return 0;
}

int ae_interpolate_codes(ae_model *m, const ae_real *a, const ae_real *b, int steps, ae_real *out) {
  if (steps < 2) {
    ae_set_last_error("interpolate: need at least 2 steps, got %d", steps);
    return -1;
  }
  ae_shape s = ae_shape_make(m->example.ndim + 1, NULL);
  s.d[0] = 2;
  for (int i = 0; i < m->example.ndim; i++) s.d[i + 1] = m->example.d[i];
  ae_tensor *ends = ae_tensor_new(s), *codes = NULL, *line = NULL, *dec = NULL;
  int rc = -1;
  if (!ends) {
    ae_set_last_error("interpolate: %s", ae_last_error());
    return -1;
  }
  memcpy(ends->data, a, sizeof(ae_real) * (size_t)m->dim);
  memcpy(ends->data + m->dim, b, sizeof(ae_real) * (size_t)m->dim);
  if (!(codes = ae_encode_all(m, ends, 2, 2))) goto done;
  ae_shape cs = codes->shape;
  int64_t k = codes->numel / 2;
  cs.d[0] = steps;
  if (!(line = ae_tensor_new(cs))) {
    ae_set_last_error("interpolate: %s", ae_last_error());
    goto done;
  }
  for (int st = 0; st < steps; st++) {
    double f = (double)st / (steps - 1);
    for (int64_t j = 0; j < k; j++) /* the endpoints are the codes themselves, exactly */
      line->data[st * k + j] = st == 0           ? codes->data[j]
                               : st == steps - 1 ? codes->data[k + j]
                                                 : (ae_real)((1 - f) * codes->data[j] + f * codes->data[k + j]);
  }
  if (!(dec = ae_decode_all(m, line, steps))) goto done;
  memcpy(out, dec->data, sizeof(ae_real) * (size_t)(steps * m->dim));
  rc = 0;
done:
  ae_tensor_free(ends);
  ae_tensor_free(codes);
  ae_tensor_free(line);
  ae_tensor_free(dec);
  return rc;
}
