/* vmath.c: the element-wise transcendental kernels of vmath.h.
 *
 * A small macro layer (V*, base/vlayer.h) maps one vector of ae_real
 * onto the widest instruction set the build targets: AVX-512 (16 floats /
 * 8 doubles), AVX2+FMA (8 / 4), SSE2 (4 / 2), or plain scalars, with the
 * matching SLEEF functions called by their ISA-suffixed names (no run-time
 * dispatch). Each kernel is written once against that layer as a
 * function vreal -> vreal. The array driver runs whole vectors with
 * unaligned loads and stores, then pads the tail (< VW elements) into a
 * vector of ones, so the tail gets bitwise the same values the body
 * would. Above AE_PAR_MIN_ELEMS the array is cut into blocks of VBLK
 * elements shared out by OpenMP; below it the same range function runs
 * on the caller's thread with no parallel region. */
#include "vmath.h"

#include <string.h>

#include "base/parallel.h"
#include "base/vlayer.h"

/* ---- array drivers ----------------------------------------------------- */

/* Elements per parallel work block (a multiple of every VW). */
#define VBLK 4096

typedef void (*range_fn)(int64_t n, const ae_real *x, ae_real *y, ae_real p);

/* Whole vectors, then the tail padded with ones (a valid input for every
 * kernel) and computed as one more vector. */
#define DEF_RANGE(K)                                                      \
  static void r_##K(int64_t n, const ae_real *x, ae_real *y, ae_real p) { \
    vreal vp = VSET1(p);                                                  \
    int64_t i = 0;                                                        \
    for (; i + VW <= n; i += VW) VSTORE(y + i, K(VLOAD(x + i), vp));      \
    if (i < n) {                                                          \
      ae_real buf[VW];                                                    \
      int64_t r = n - i;                                                  \
      for (int j = 0; j < VW; j++) buf[j] = j < r ? x[i + j] : 1;         \
      VSTORE(buf, K(VLOAD(buf), vp));                                     \
      memcpy(y + i, buf, (size_t)r * sizeof(ae_real));                    \
    }                                                                     \
  }

DEF_RANGE(k_exp)
DEF_RANGE(k_log)
DEF_RANGE(k_log1p)
DEF_RANGE(k_sqrt)
DEF_RANGE(k_tanh)
DEF_RANGE(k_sigmoid)
DEF_RANGE(k_softplus)
DEF_RANGE(k_log_sigmoid)
DEF_RANGE(k_pow)
DEF_RANGE(k_square)
DEF_RANGE(k_recip)

static void run(range_fn f, int64_t n, const ae_real *x, ae_real *y, ae_real p) {
  if (n <= 0) return;
  if (AE_PAR(n)) {
    int64_t nb = (n + VBLK - 1) / VBLK;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < nb; b++) {
      int64_t s = b * VBLK, len = n - s < VBLK ? n - s : VBLK;
      f(len, x + s, y + s, p);
    }
  } else {
    f(n, x, y, p);
  }
}

void ae_v_exp(int64_t n, const ae_real *x, ae_real *y) { run(r_k_exp, n, x, y, 0); }
void ae_v_log(int64_t n, const ae_real *x, ae_real *y) { run(r_k_log, n, x, y, 0); }
void ae_v_log1p(int64_t n, const ae_real *x, ae_real *y) { run(r_k_log1p, n, x, y, 0); }
void ae_v_sqrt(int64_t n, const ae_real *x, ae_real *y) { run(r_k_sqrt, n, x, y, 0); }
void ae_v_tanh(int64_t n, const ae_real *x, ae_real *y) { run(r_k_tanh, n, x, y, 0); }
void ae_v_sigmoid(int64_t n, const ae_real *x, ae_real *y) { run(r_k_sigmoid, n, x, y, 0); }
void ae_v_softplus(int64_t n, const ae_real *x, ae_real *y) { run(r_k_softplus, n, x, y, 0); }
void ae_v_log_sigmoid(int64_t n, const ae_real *x, ae_real *y) {
  run(r_k_log_sigmoid, n, x, y, 0);
}

void ae_v_pow_scalar(int64_t n, const ae_real *x, ae_real p, ae_real *y) {
  if (n <= 0) return;
  if (p == 1) {
    if (y != x) memmove(y, x, (size_t)n * sizeof(ae_real));
  } else if (p == 0) { /* pow(x, 0) == 1 for every x, NaN included */
    for (int64_t i = 0; i < n; i++) y[i] = 1;
  } else if (p == 2) {
    run(r_k_square, n, x, y, p);
  } else if (p == -1) {
    run(r_k_recip, n, x, y, p);
  } else if (p == (ae_real)0.5) {
    run(r_k_sqrt, n, x, y, p);
  } else {
    run(r_k_pow, n, x, y, p);
  }
}

/* sin(pi x) and cos(pi x) from SLEEF's sincospi (u05: within 0.506 ulp);
 * the tail is padded with zeros, as in DEF_RANGE. */
static void r_sincospi(int64_t n, const ae_real *x, ae_real *s, ae_real *c) {
  int64_t i = 0;
  for (; i + VW <= n; i += VW) {
    __typeof__(SINCOSPI_(VLOAD(x))) r = SINCOSPI_(VLOAD(x + i));
    VSTORE(s + i, r.x);
    VSTORE(c + i, r.y);
  }
  if (i < n) {
    ae_real bx[VW], bs[VW], bc[VW];
    int64_t rem = n - i;
    for (int j = 0; j < VW; j++) bx[j] = j < rem ? x[i + j] : 0;
    __typeof__(SINCOSPI_(VLOAD(bx))) r = SINCOSPI_(VLOAD(bx));
    VSTORE(bs, r.x);
    VSTORE(bc, r.y);
    memcpy(s + i, bs, (size_t)rem * sizeof(ae_real));
    memcpy(c + i, bc, (size_t)rem * sizeof(ae_real));
  }
}

void ae_v_sincospi(int64_t n, const ae_real *x, ae_real *s, ae_real *c) {
  if (n <= 0) return;
  if (AE_PAR(n)) {
    int64_t nb = (n + VBLK - 1) / VBLK;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < nb; b++) {
      int64_t o = b * VBLK, len = n - o < VBLK ? n - o : VBLK;
      r_sincospi(len, x + o, s + o, c + o);
    }
  } else {
    r_sincospi(n, x, s, c);
  }
}
