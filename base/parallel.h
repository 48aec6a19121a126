/* parallel.h: when a kernel may open an OpenMP parallel region.
 * A parallel region costs microseconds; tiny tensors must not pay it, so
 * kernels branch on AE_PAR(n) and run a plain loop below the threshold. */
#ifndef AE_PARALLEL_H
#define AE_PARALLEL_H

#include <stdint.h>

#include "api.h"

/* Element count above which element-wise kernels go parallel. */
#define AE_PAR_MIN_ELEMS 32768
/* Work (multiply-adds or similar) above which heavier kernels go parallel. */
#define AE_PAR_MIN_WORK 65536

#ifdef _OPENMP
#include <omp.h>
#define AE_PAR(n) ((n) >= AE_PAR_MIN_ELEMS && omp_get_max_threads() > 1)
#define AE_PAR_WORK(w) ((w) >= AE_PAR_MIN_WORK && omp_get_max_threads() > 1)
#else
#define AE_PAR(n) 0
#define AE_PAR_WORK(w) 0
#endif

/* AE_PAR_FOR(cond, clauses, for (...) body): runs the loop as
 * "omp parallel for clauses" when cond holds and as a plain loop
 * otherwise. Use it rather than an `if` clause: "omp parallel if (0)"
 * still enters libgomp and builds a one-thread team (a heap allocation)
 * on every call. */
#define AE__PRAGMA(x) _Pragma(#x)
#define AE_PAR_FOR(cond, clauses, ...)                       \
  do {                                                       \
    if (cond) {                                              \
      AE__PRAGMA(omp parallel for clauses)                   \
      __VA_ARGS__                                            \
    } else {                                                 \
      __VA_ARGS__                                            \
    }                                                        \
  } while (0)

/* Set / read the thread count used by every kernel (wraps OpenMP). */
AE_API void ae_set_threads(int n);
AE_API int ae_get_threads(void);

#endif
