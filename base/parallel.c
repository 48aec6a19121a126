/* parallel.c: the thread count every kernel uses, and the sizes above
 * which kernels go parallel (parallel.h). */
#include "parallel.h"

#include <stdlib.h>

#include "base/base_internal.h"

static int64_t par_min_elems = AE_PAR_MIN_ELEMS_DEFAULT, par_min_work = AE_PAR_MIN_WORK_DEFAULT;

/* A positive integer from the environment variable name, else fallback. */
static int64_t env_size(const char *name, int64_t fallback) {
  const char *s = getenv(name);
  if (!s || !*s) return fallback;
  char *end;
  long long v = strtoll(s, &end, 10);
  return *end == 0 && v >= 1 ? (int64_t)v : fallback;
}

__attribute__((constructor)) static void par_thresholds_from_env(void) {
  par_min_elems = env_size("AEZOO_PAR_MIN_ELEMS", AE_PAR_MIN_ELEMS_DEFAULT);
  par_min_work = env_size("AEZOO_PAR_MIN_WORK", AE_PAR_MIN_WORK_DEFAULT);
}

int64_t ae_par_min_elems(void) { return par_min_elems; }
int64_t ae_par_min_work(void) { return par_min_work; }

void ae_set_threads(int n) {
#ifdef _OPENMP
  if (n >= 1) omp_set_num_threads(n);
#else
  (void)n;
#endif
}

int ae_get_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int ae__par_shares(int n, ae__par_len_fn len, ae__par_range_fn fn, const void *ctx) {
  int64_t total = 0;
  for (int i = 0; i < n; i++) total += len(ctx, i);
  int bad = 0;
#ifdef _OPENMP
  if (AE_PAR(total)) {
#pragma omp parallel reduction(| : bad)
    for (int i = 0; i < n; i++) {
      int64_t lo, hi;
      ae_par_share(len(ctx, i), omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
      bad |= fn(ctx, i, lo, hi);
    }
    return bad;
  }
#endif
  for (int i = 0; i < n; i++) bad |= fn(ctx, i, 0, len(ctx, i));
  return bad;
}
