/* synthetic.c: the built-in synthetic data sets, for quick runs and 2-D
 * pictures. Every value is a function of (seed, split, example index):
 * example i draws a fixed number of uniforms from a Philox stream, so a
 * seed reproduces a set, a smaller limit gives a prefix of the full set,
 * and the float32 and float64 builds see the same numbers (drawn and
 * computed in double). Split 1 uses a stream disjoint from split 0.
 *   spiral     (N,2): two interleaved spirals (1.75 turns), labels 0/1
 *              (alternating), uniform noise +-0.02 on radius-1 arms
 *   swissroll  (N,2): (t cos t, t sin t), t in [1.5pi, 4.5pi], uniform noise
 *              +-0.25; label = which quarter of the arm t lies in (0..3)
 *   sines      (N,32,1): A sin(f t + phi), t = 0..31, A in [0.2,1],
 *              f in [0.15,0.6] rad/step, phi in [0,2pi); unlabelled
 * All coordinates are mapped into [0,1] by a fixed affine map (the same
 * for every seed and split), so train and test share one scale. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "dataset.h"
#include "idx.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define SINES_T 32

static const char *const names[] = {"spiral", "swissroll", "sines"};

int ae_synthetic_known(const char *name) {
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (name && !strcmp(name, names[i])) return 1;
  return 0;
}

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

int ae_synthetic_make(const char *name, int split, int64_t limit, uint64_t seed, ae_dataset *out) {
  memset(out, 0, sizeof *out);
  if (!ae_synthetic_known(name)) {
    ae_set_last_error("synthetic: unknown set '%s' (spiral, swissroll, sines)", name ? name : "(null)");
    return -1;
  }
  int64_t n = split == 0 ? AE_SYNTH_TRAIN : AE_SYNTH_TEST;
  if (limit > 0 && limit < n) n = limit;
  int sines = !strcmp(name, "sines"), spiral = !strcmp(name, "spiral");
  out->x = sines ? ae_tensor_new(AE_SHAPE(n, SINES_T, 1)) : ae_tensor_new(AE_SHAPE(n, 2));
  if (!sines) out->labels = malloc((size_t)n * sizeof(int32_t));
  if (!out->x || (!sines && !out->labels)) {
    ae_dataset_free(out);
    ae_set_last_error("%s: out of memory for %lld examples", name, (long long)n);
    return -1;
  }
  snprintf(out->name, sizeof out->name, "%s", name);
  ae_rng r;
  ae_rng_init(&r, seed);
  r.counter = split ? (uint64_t)1 << 48 : 0;
  ae_real *x = out->x->data;
  for (int64_t i = 0; i < n; i++) {
    if (spiral) {
      double u = ae_rng_double(&r), nx = ae_rng_double(&r), ny = ae_rng_double(&r);
      int c = (int)(i & 1);
      double th = 3.5 * M_PI * u + c * M_PI;
      double px = u * cos(th) + 0.04 * (nx - 0.5), py = u * sin(th) + 0.04 * (ny - 0.5);
      x[2 * i] = (ae_real)clamp01((px + 1.05) / 2.1);
      x[2 * i + 1] = (ae_real)clamp01((py + 1.05) / 2.1);
      out->labels[i] = c;
    } else if (!sines) {
      double u = ae_rng_double(&r), nx = ae_rng_double(&r), ny = ae_rng_double(&r);
      double t = 1.5 * M_PI * (1 + 2 * u);
      double px = t * cos(t) + 0.5 * (nx - 0.5), py = t * sin(t) + 0.5 * (ny - 0.5);
      const double b = 4.5 * M_PI + 0.3;
      x[2 * i] = (ae_real)clamp01((px + b) / (2 * b));
      x[2 * i + 1] = (ae_real)clamp01((py + b) / (2 * b));
      int lab = (int)(4 * u);
      out->labels[i] = lab > 3 ? 3 : lab;
    } else {
      double a = 0.2 + 0.8 * ae_rng_double(&r), f = 0.15 + 0.45 * ae_rng_double(&r);
      double phi = 2 * M_PI * ae_rng_double(&r);
      for (int t = 0; t < SINES_T; t++) x[i * SINES_T + t] = (ae_real)clamp01((a * sin(f * t + phi) + 1) / 2);
    }
  }
  out->nclasses = sines ? 0 : spiral ? 2 : 4;
  return 0;
}
