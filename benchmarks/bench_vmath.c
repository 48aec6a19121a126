/* bench_vmath.c: base/vmath.h (float build) against plain libm loops.
 * For each function: ns per element at n = 1e6 (all threads and 1
 * thread) and ns per call at n = 16 (the tiny-tensor overhead: no
 * parallel region may be opened). Prints a markdown table; each entry
 * is the fastest of many timed batches.
 * Usage: bench_vmath [seconds per measurement, default 0.1] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/parallel.h"
#include "base/vmath.h"

#define N_BIG 1000000
#define N_TINY 16

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* libm references: the loops a user would write. */
#define LIBM(name, expr)                                                       \
  __attribute__((noinline)) static void l_##name(int64_t n, const float *x, float *y) { \
    for (int64_t i = 0; i < n; i++) {                                          \
      float v = x[i];                                                          \
      y[i] = (expr);                                                           \
    }                                                                          \
  }
LIBM(exp, expf(v))
LIBM(log, logf(v))
LIBM(log1p, log1pf(v))
LIBM(sqrt, sqrtf(v))
LIBM(tanh, tanhf(v))
LIBM(sigmoid, 1.0f / (1.0f + expf(-v)))
LIBM(softplus, fmaxf(v, 0) + log1pf(expf(-fabsf(v))))
LIBM(log_sigmoid, fminf(v, 0) - log1pf(expf(-fabsf(v))))
LIBM(pow, powf(v, 1.7f))
static void v_pow(int64_t n, const float *x, float *y) { ae_v_pow_scalar(n, x, 1.7f, y); }
static void v_pow2(int64_t n, const float *x, float *y) { ae_v_pow_scalar(n, x, 2.0f, y); }
LIBM(pow2, powf(v, 2.0f))

typedef void (*fn)(int64_t, const float *, float *);
static const struct {
  const char *name;
  fn v, l;
  int positive; /* domain (0, 10] instead of [-10, 10] */
} fns[] = {
    {"exp", ae_v_exp, l_exp, 0},
    {"log", ae_v_log, l_log, 1},
    {"log1p", ae_v_log1p, l_log1p, 1},
    {"sqrt", ae_v_sqrt, l_sqrt, 1},
    {"tanh", ae_v_tanh, l_tanh, 0},
    {"sigmoid", ae_v_sigmoid, l_sigmoid, 0},
    {"softplus", ae_v_softplus, l_softplus, 0},
    {"log_sigmoid", ae_v_log_sigmoid, l_log_sigmoid, 0},
    {"pow(x,1.7)", v_pow, l_pow, 1},
    {"pow(x,2)", v_pow2, l_pow2, 1},
};

/* Reductions against a plain double-accumulating loop. */
__attribute__((noinline)) static double l_sum(int64_t n, const float *x) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += x[i];
  return s;
}
static const float *g_y; /* second operand for dot */
__attribute__((noinline)) static double l_dot2(int64_t n, const float *x) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)x[i] * g_y[i];
  return s;
}
__attribute__((noinline)) static double l_sumsq(int64_t n, const float *x) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return s;
}
static double v_dot(int64_t n, const float *x) { return ae_v_dot(n, x, g_y); }

typedef double (*rfn)(int64_t, const float *);
static const struct {
  const char *name;
  rfn v, l;
} rfns[] = {
    {"sum", ae_v_sum, l_sum},
    {"dot", v_dot, l_dot2},
    {"sumsq", ae_v_sumsq, l_sumsq},
};

static double budget = 0.1;
static volatile double sink;

/* ns per call of f (or r) on n elements: calls are batched so a batch
 * lasts >= 20 us, batches run for `budget` seconds, and the fastest batch
 * counts (on a shared 2-core machine a preempted OpenMP thread costs a
 * whole scheduler slice; the minimum filters that out). */
static double time_ns(fn f, rfn r, int64_t n, const float *x, float *y) {
  int64_t reps = 1;
  double best = 1e30, t_end;
  for (;;) { /* calibrate */
    double t0 = now();
    for (int64_t k = 0; k < reps; k++) f ? f(n, x, y) : (void)(sink = r(n, x));
    if (now() - t0 > 20e-6) break;
    reps *= 2;
  }
  t_end = now() + budget;
  do {
    double t0 = now();
    for (int64_t k = 0; k < reps; k++) f ? f(n, x, y) : (void)(sink = r(n, x));
    double dt = (now() - t0) / reps;
    if (dt < best) best = dt;
  } while (now() < t_end);
  return best * 1e9;
}

int main(int argc, char **argv) {
  if (argc > 1) budget = atof(argv[1]);
  float *xs = malloc(N_BIG * sizeof *xs), *xp = malloc(N_BIG * sizeof *xp);
  float *y = malloc(N_BIG * sizeof *y), *y2 = malloc(N_BIG * sizeof *y2);
  for (int64_t i = 0; i < N_BIG; i++) {
    double u = (double)((i * 2654435761u) % 1000003) / 1000003.0;
    xs[i] = (float)(20 * u - 10);
    xp[i] = (float)(10 * u + 1e-3);
    y2[i] = (float)(1 - 2 * u);
  }
  g_y = y2;
  int threads = ae_get_threads();
  printf("base/vmath float32, %d threads, parallel above %lld elements\n\n", threads,
         (long long)AE_PAR_MIN_ELEMS);
  printf("| function | vmath ns/elem n=1e6 (%d thr) | vmath ns/elem (1 thr) | libm loop ns/elem |"
         " speedup 1 thr | vmath ns/call n=16 | libm ns/call n=16 |\n",
         threads);
  printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
    const float *x = fns[k].positive ? xp : xs;
    ae_set_threads(threads);
    double vb = time_ns(fns[k].v, NULL, N_BIG, x, y) / N_BIG;
    ae_set_threads(1);
    double v1 = time_ns(fns[k].v, NULL, N_BIG, x, y) / N_BIG;
    double lb = time_ns(fns[k].l, NULL, N_BIG, x, y) / N_BIG;
    ae_set_threads(threads);
    double vt = time_ns(fns[k].v, NULL, N_TINY, x, y);
    double lt = time_ns(fns[k].l, NULL, N_TINY, x, y);
    printf("| %s | %.3f | %.3f | %.3f | %.1fx | %.1f | %.1f |\n", fns[k].name, vb, v1, lb, lb / v1,
           vt, lt);
  }
  for (size_t k = 0; k < sizeof rfns / sizeof rfns[0]; k++) {
    ae_set_threads(threads);
    double vb = time_ns(NULL, rfns[k].v, N_BIG, xs, y) / N_BIG;
    ae_set_threads(1);
    double v1 = time_ns(NULL, rfns[k].v, N_BIG, xs, y) / N_BIG;
    double lb = time_ns(NULL, rfns[k].l, N_BIG, xs, y) / N_BIG;
    ae_set_threads(threads);
    double vt = time_ns(NULL, rfns[k].v, N_TINY, xs, y);
    double lt = time_ns(NULL, rfns[k].l, N_TINY, xs, y);
    printf("| %s (double acc.) | %.3f | %.3f | %.3f | %.1fx | %.1f | %.1f |\n", rfns[k].name, vb,
           v1, lb, lb / v1, vt, lt);
  }
  free(xs), free(xp), free(y), free(y2);
  return 0;
}
