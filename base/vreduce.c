/* vreduce.c: the deterministic reductions of vmath.h (sum, dot, sum of
 * squares). The array is cut into chunks of AE_V_CHUNK elements. A chunk
 * is summed in double into NACC independent accumulators (element i goes
 * to accumulator i % NACC; the compiler keeps them in vector registers),
 * which are then added in a fixed tree order. Chunk sums are added to the
 * total in chunk order. Neither step depends on how chunks are shared
 * out, so the result is bitwise the same for any thread count. Parallel
 * runs compute up to SUPER chunk sums at a time into a stack array. */
#include "vmath.h"

#include "base/base_internal.h"
#include "base/parallel.h"

#define NACC 16
#define SUPER 1024 /* chunk sums per parallel pass (8 KiB of stack) */

enum { R_SUM, R_DOT, R_SUMSQ };

static inline double combine(double *a) {
  for (int w = NACC / 2; w >= 1; w /= 2)
    for (int k = 0; k < w; k++) a[k] += a[k + w];
  return a[0];
}

/* Kept out of line so the serial and parallel paths run the same code. */
__attribute__((noinline)) static double chunk_sum(int kind, int64_t n, const ae_real *x,
                                                  const ae_real *y) {
  double a[NACC] = {0};
  int64_t i = 0, nv = n - n % NACC;
  switch (kind) {
  case R_SUM:
    for (; i < nv; i += NACC)
      for (int k = 0; k < NACC; k++) a[k] += (double)x[i + k];
    for (; i < n; i++) a[i % NACC] += (double)x[i];
    break;
  case R_DOT:
    for (; i < nv; i += NACC)
      for (int k = 0; k < NACC; k++) a[k] += (double)x[i + k] * (double)y[i + k];
    for (; i < n; i++) a[i % NACC] += (double)x[i] * (double)y[i];
    break;
  default:
    for (; i < nv; i += NACC)
      for (int k = 0; k < NACC; k++) a[k] += (double)x[i + k] * (double)x[i + k];
    for (; i < n; i++) a[i % NACC] += (double)x[i] * (double)x[i];
    break;
  }
  return combine(a);
}

/* The chunk sums added in order, on this thread. */
static double reduce_serial(int kind, int64_t n, const ae_real *x, const ae_real *y) {
  double total = 0;
  for (int64_t s = 0; s < n; s += AE_V_CHUNK) {
    int64_t len = n - s < AE_V_CHUNK ? n - s : AE_V_CHUNK;
    total += chunk_sum(kind, len, x + s, y ? y + s : NULL);
  }
  return total;
}

static double reduce(int kind, int64_t n, const ae_real *x, const ae_real *y) {
  double total = 0;
  if (n <= 0) return 0;
  int64_t nchunks = (n + AE_V_CHUNK - 1) / AE_V_CHUNK;
  if (!AE_PAR(n)) return reduce_serial(kind, n, x, y);
  double part[SUPER];
  for (int64_t c0 = 0; c0 < nchunks; c0 += SUPER) {
    int64_t m = nchunks - c0 < SUPER ? nchunks - c0 : SUPER;
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < m; j++) {
      int64_t s = (c0 + j) * AE_V_CHUNK, len = n - s < AE_V_CHUNK ? n - s : AE_V_CHUNK;
      part[j] = chunk_sum(kind, len, x + s, y ? y + s : NULL);
    }
    for (int64_t j = 0; j < m; j++) total += part[j];
  }
  return total;
}

double ae_v_sum(int64_t n, const ae_real *x) { return reduce(R_SUM, n, x, NULL); }

/* reduce(R_SUM) with each chunk filled into a buffer on the summing thread. */
static double filled_chunk(int64_t n, int64_t c, ae__v_fill_fn fill, const void *ctx) {
  ae_real buf[AE_V_CHUNK];
  int64_t s = c * AE_V_CHUNK, len = n - s < AE_V_CHUNK ? n - s : AE_V_CHUNK;
  fill(ctx, s, len, buf);
  return chunk_sum(R_SUM, len, buf, NULL);
}

double ae__v_sum_fill(int64_t n, ae__v_fill_fn fill, const void *ctx) {
  double total = 0;
  if (n <= 0) return 0;
  int64_t nchunks = (n + AE_V_CHUNK - 1) / AE_V_CHUNK;
  if (!AE_PAR(n)) {
    for (int64_t c = 0; c < nchunks; c++) total += filled_chunk(n, c, fill, ctx);
    return total;
  }
  double part[SUPER];
  for (int64_t c0 = 0; c0 < nchunks; c0 += SUPER) {
    int64_t m = nchunks - c0 < SUPER ? nchunks - c0 : SUPER;
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < m; j++) part[j] = filled_chunk(n, c0 + j, fill, ctx);
    for (int64_t j = 0; j < m; j++) total += part[j];
  }
  return total;
}
double ae_v_sum_serial(int64_t n, const ae_real *x) { return n <= 0 ? 0 : reduce_serial(R_SUM, n, x, NULL); }
double ae_v_dot(int64_t n, const ae_real *x, const ae_real *y) { return reduce(R_DOT, n, x, y); }
double ae_v_sumsq(int64_t n, const ae_real *x) { return reduce(R_SUMSQ, n, x, NULL); }
