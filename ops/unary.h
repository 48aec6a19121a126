/* unary.h: the shape of a unary element-wise op, shared by pointwise.c,
 * transcendental.c and activation.c. AE_UNARY_BEGIN checks the input and
 * allocates y of x's shape; the kernel body follows; ae_op_record ends it. */
#ifndef AE_UNARY_H
#define AE_UNARY_H

#include "base/parallel.h"
#include "oplist.h"
#include "ops.h"
#include "base/vmath.h"

static inline ae_val *ae_unary_begin(ae_tape *t, const char *name, ae_val *x) {
  if (!ae_op_begin(t, name, 1, &x)) return NULL;
  return ae_op_out(t, name, x->t.shape);
}

/* y[i] = EXPR(x[i]) for i in [0, n), parallel above the threshold. */
#define AE_MAP(n, y, x, EXPR)                                    \
  do {                                                           \
    const ae_real *restrict xs_ = (x);                           \
    ae_real *restrict ys_ = (y);                                 \
    int64_t n_ = (n);                                            \
    if (AE_PAR(n_)) {                                            \
      _Pragma("omp parallel for simd schedule(static)")          \
      for (int64_t i = 0; i < n_; i++) { ae_real v = xs_[i]; ys_[i] = (EXPR); } \
    } else {                                                     \
      _Pragma("omp simd")                                        \
      for (int64_t i = 0; i < n_; i++) { ae_real v = xs_[i]; ys_[i] = (EXPR); } \
    }                                                            \
  } while (0)

/* y[i] = EXPR(g[i], v[i]) for the fused backward kernels. */
#define AE_MAP2(n, y, gp, xp, EXPR)                              \
  do {                                                           \
    const ae_real *restrict gs_ = (gp), *restrict xs_ = (xp);    \
    ae_real *restrict ys_ = (y);                                 \
    int64_t n_ = (n);                                            \
    if (AE_PAR(n_)) {                                            \
      _Pragma("omp parallel for simd schedule(static)")          \
      for (int64_t i = 0; i < n_; i++) { ae_real g = gs_[i], v = xs_[i]; ys_[i] = (EXPR); } \
    } else {                                                     \
      _Pragma("omp simd")                                        \
      for (int64_t i = 0; i < n_; i++) { ae_real g = gs_[i], v = xs_[i]; ys_[i] = (EXPR); } \
    }                                                            \
  } while (0)

/* A constant (unrecorded) value of x's shape with c[i] = EXPR(x[i]):
 * masks and signs that backward rules multiply by. */
#define AE_CONST_MAP(t, name, xval, EXPR)                                           \
  ({                                                                                \
    ae_val *c_ = ae_op_out((t), (name), (xval)->t.shape);                           \
    if (c_) AE_MAP(c_->t.numel, c_->t.data, (xval)->t.data, EXPR);                  \
    c_;                                                                             \
  })

#endif
