/* parallel.h: when a kernel may open an OpenMP parallel region.
 * A parallel region costs microseconds; tiny tensors must not pay it, so
 * kernels branch on AE_PAR(n) and run a plain loop below the threshold. */
#ifndef AE_PARALLEL_H
#define AE_PARALLEL_H

#include <stdint.h>

#include "api.h"

/* Element count above which element-wise kernels go parallel, and work
 * (multiply-adds or similar; a GEMM counts M N K / 16) above which heavier
 * kernels do. Run-time values: AEZOO_PAR_MIN_ELEMS and AEZOO_PAR_MIN_WORK
 * in the environment when the library loads (the test suite sets the old
 * 32768 and 65536, so its modest sizes still reach the parallel kernels),
 * else the defaults below. They are sized for passive waiting (the CLI's
 * default), where a parallel region wakes sleeping threads, tens of
 * microseconds on a shared machine: at 32768 / 65536 a 2-thread step of
 * psd took 70 ms against 30 at 1 thread, seq-ae 65 against 29, cae-deep
 * 134 against 75; at these defaults 27, 29 and 77 (aezoo train at batch
 * 128, 2 threads, OMP_WAIT_POLICY=passive). Results do not depend on them. */
#define AE_PAR_MIN_ELEMS_DEFAULT 262144
#define AE_PAR_MIN_WORK_DEFAULT 1048576
AE_API int64_t ae_par_min_elems(void);
AE_API int64_t ae_par_min_work(void);
#define AE_PAR_MIN_ELEMS ae_par_min_elems()
#define AE_PAR_MIN_WORK ae_par_min_work()

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
