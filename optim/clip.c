/* clip.c: gradient-norm clipping (torch.nn.utils.clip_grad_norm_, 2-norm).
 * The sum of squares is taken in double over fixed chunks whose bounds
 * depend only on the tensor size; chunks may run on different threads,
 * their partial sums are then added in chunk order, so the norm is the same
 * bit for bit whatever the thread count. */
#include "optim_internal.h"

#include <math.h>

#define CLIP_CHUNKS 64

static double sum_squares(const ae_real *g, int64_t n) {
  double part[CLIP_CHUNKS];
  const int64_t per = (n + CLIP_CHUNKS - 1) / CLIP_CHUNKS;
  AE_PAR_FOR(AE_PAR(n), schedule(static),
  for (int c = 0; c < CLIP_CHUNKS; c++) {
    int64_t lo = (int64_t)c * per, hi = lo + per < n ? lo + per : n;
    double s = 0;
_Pragma("omp simd reduction(+ : s)")
    for (int64_t j = lo; j < hi; j++) s += (double)g[j] * (double)g[j];
    part[c] = s;
  });
  double total = 0;
  for (int c = 0; c < CLIP_CHUNKS; c++) total += part[c];
  return total;
}

double ae_clip_grad_norm(ae_param **params, int n, double max_norm) {
  if (!(max_norm >= 0)) {
    ae_set_last_error("clip_grad_norm: max_norm = %g is invalid (must be >= 0)", max_norm);
    return -1;
  }
  if (!params || n < 0) {
    ae_set_last_error("clip_grad_norm: bad parameter list");
    return -1;
  }
  for (int i = 0; i < n; i++)
    if (!params[i] || !params[i]->grad.data) {
      ae_set_last_error("clip_grad_norm: parameter %d is NULL or has no gradient", i);
      return -1;
    }
  double sq = 0;
  for (int i = 0; i < n; i++) sq += sum_squares(params[i]->grad.data, params[i]->grad.numel);
  const double total = sqrt(sq);
  if (!isfinite(total)) return total;
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1) {
    const ae_real c = (ae_real)coef;
    for (int i = 0; i < n; i++) {
      ae_real *restrict g = params[i]->grad.data;
      const int64_t m = params[i]->grad.numel;
      AE_PAR_FOR(AE_PAR(m), simd,
      for (int64_t j = 0; j < m; j++) g[j] *= c;);
    }
  }
  return total;
}
