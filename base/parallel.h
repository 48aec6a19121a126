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
 * microseconds on a shared machine. benchmarks/zoo_vs_torch.sh at 2
 * threads (aezoo train, batch 128, passive): at 32768 / 65536 a step of
 * psd took 69.7 ms (30.3 at 1 thread), seq-ae 66.6 (29.3), cae-deep 137.8
 * (74.8), ae 2.11 (1.06); at these defaults 27.8 (30.0 at 1 thread), 30.9
 * (30.6), 75.5 (77.2) and 1.08 (1.12) (results/zoo_vs_torch-2026-12-04f
 * and -g.csv). Results do not depend on them. */
#define AE_PAR_MIN_ELEMS_DEFAULT 262144
#define AE_PAR_MIN_WORK_DEFAULT 1048576
AE_API int64_t ae_par_min_elems(void);
AE_API int64_t ae_par_min_work(void);
#define AE_PAR_MIN_ELEMS ae_par_min_elems()
#define AE_PAR_MIN_WORK ae_par_min_work()

#ifdef _OPENMP
#include <omp.h>
/* Both are 0 inside an active parallel region: a kernel called by one
 * thread of a team (conv's GEMM per thread, lstm_seq's block of the batch)
 * runs on that thread, rather than entering libgomp for a nested region
 * that would run on one thread anyway (and build its team on the heap). */
#define AE_PAR(n) ((n) >= AE_PAR_MIN_ELEMS && omp_get_max_threads() > 1 && !omp_in_parallel())
#define AE_PAR_WORK(w) ((w) >= AE_PAR_MIN_WORK && omp_get_max_threads() > 1 && !omp_in_parallel())
#else
#define AE_PAR(n) 0
#define AE_PAR_WORK(w) 0
#endif

/* Thread tid's share [*lo, *hi) of n items among nt, in contiguous blocks
 * as schedule(static) cuts them (the last block the smallest, possibly
 * empty). */
static inline void ae_par_share(int64_t n, int tid, int nt, int64_t *lo, int64_t *hi) {
  const int64_t chunk = (n + nt - 1) / nt;
  *lo = tid * chunk < n ? tid * chunk : n;
  *hi = *lo + chunk < n ? *lo + chunk : n;
}

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
