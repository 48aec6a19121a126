/* vmath.h: element-wise array kernels the op files call. Each takes a
 * length n, input pointer(s) and an output pointer; the output may alias an
 * input (y == x), but partial overlap is not allowed. Pointers need no
 * particular alignment. Transcendentals are SLEEF-vectorised (u10: at most
 * 1 ulp; sigmoid/softplus/log_sigmoid are composed and stay within 3 ulp),
 * one vector width chosen at compile time (AVX-512, AVX2+FMA, SSE2 or
 * scalar). Above AE_PAR_MIN_ELEMS elements they split the array over
 * OpenMP threads; below it they run a plain loop with no parallel region.
 * Every element's value depends only on its input, never on n, its
 * position or the thread count.
 *
 * The reductions (sum, dot, sum of squares) accumulate in double in fixed
 * chunks of AE_V_CHUNK elements and add the chunk sums in order, so the
 * result is bitwise identical whatever the thread count. */
#ifndef AE_VMATH_H
#define AE_VMATH_H

#include "base/api.h"
#include "base/real.h"

/* Elements per reduction chunk (fixes the summation order). */
#define AE_V_CHUNK 4096

AE_API void ae_v_exp(int64_t n, const ae_real *x, ae_real *y);
AE_API void ae_v_log(int64_t n, const ae_real *x, ae_real *y);
AE_API void ae_v_log1p(int64_t n, const ae_real *x, ae_real *y);
AE_API void ae_v_sqrt(int64_t n, const ae_real *x, ae_real *y);   /* correctly rounded */
AE_API void ae_v_tanh(int64_t n, const ae_real *x, ae_real *y);
/* 1/(1+exp(-x)) via exp(-|x|): finite for any finite x, exactly 0 and 1
 * in the limits (sigmoid(+-inf) = 1, 0). */
AE_API void ae_v_sigmoid(int64_t n, const ae_real *x, ae_real *y);
/* log(1+exp(x)) = max(x,0) + log1p(exp(-|x|)): no overflow, accurate for
 * very negative x (where it equals exp(x)). */
AE_API void ae_v_softplus(int64_t n, const ae_real *x, ae_real *y);
/* log(sigmoid(x)) = -softplus(-x) = min(x,0) - log1p(exp(-|x|)). */
AE_API void ae_v_log_sigmoid(int64_t n, const ae_real *x, ae_real *y);
/* x^p with C99 pow semantics (negative x with integer p gets the right
 * sign; non-integer p gives NaN). p == 0, 1, 2, -1 and 0.5 take exact
 * (correctly rounded) paths: 1, copy, x*x, 1/x, sqrt(x). The sqrt path
 * differs from C's pow at two points: x = -0 gives -0 (pow: +0) and
 * x = -inf gives NaN (pow: +inf). */
AE_API void ae_v_pow_scalar(int64_t n, const ae_real *x, ae_real p, ae_real *y);
/* s = sin(pi x), c = cos(pi x), within 0.506 ulp (exact at multiples of
 * 1/2: sin(pi) is 0, not 1.2e-16). s and c must not overlap x. */
AE_API void ae_v_sincospi(int64_t n, const ae_real *x, ae_real *s, ae_real *c);

/* Deterministic reductions (see above). n == 0 gives 0. */
AE_API double ae_v_sum(int64_t n, const ae_real *x);
AE_API double ae_v_dot(int64_t n, const ae_real *x, const ae_real *y);
AE_API double ae_v_sumsq(int64_t n, const ae_real *x);
/* ae_v_sum on the calling thread alone, bitwise the same: for callers that
 * are already one thread of a parallel loop. */
AE_API double ae_v_sum_serial(int64_t n, const ae_real *x);

#endif
