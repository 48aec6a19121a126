/* rowperm.h (internal, not installed): a fixed rearrangement of a short
 * array, planned once and run many times: d[j] = s[idx[j]] (0 where
 * idx[j] < 0), for j < n, with the table idx given once. The convolution
 * (conv_grid.c) pads each channel of each image and splits it by stride
 * phase this way, and takes it back.
 *
 * With AVX-512 a plan holds, for each vector of d, a few pieces: a piece
 * loads two vectors of s from one place, permutes them (vpermt2ps) and
 * keeps the lanes it sets. Lanes whose sources lie within two vectors of
 * each other share a piece; a stride-2 phase split of 14-element rows
 * takes 2 pieces a vector, its inverse 4. Measured on this machine (Zen 5,
 * microbenchmark, data in L1): a 16-lane gather (vgatherdps) 6.1 ns, a
 * permute of two loads 1.25 ns; dealing rows of 7 to 14 elements out one
 * at a time had cost conv-ae 16% of its step, and 14% with gathers.
 * Without AVX-512: a loop over the table. */
#ifndef AE_ROWPERM_H
#define AE_ROWPERM_H

#include <stdint.h>

#include "base/real.h"
#include "base/rowcopy.h"

/* One piece of one vector of d. */
typedef struct {
  int32_t from;        /* the piece's two vectors are s[from, from + 2 AE_RC_VL) */
  uint16_t take;       /* lanes of d it sets */
  uint16_t la, lb;     /* lanes of the two loads that lie inside s */
  uint16_t last;       /* 1: the vector's last piece */
  uint8_t idx[16];     /* lane l takes element idx[l] of the two vectors */
} ae_rc_piece;

typedef struct {
  int64_t n;                /* elements of d */
  const ae_rc_piece *piece; /* the vectors' pieces in order, at least one a vector (AVX-512) */
  const int32_t *idx;       /* the table (without AVX-512) */
} ae_rc_perm;


#if defined(__AVX512F__)
/* The most pieces a plan of n elements can need (ae_rc_perm_init's
 * array): one a lane, so that the plan is built in one pass; the caller
 * gives the array back with its arena (conv_grid.c's plans use about 2 a
 * vector of 16). */
static inline int64_t ae_rc_perm_cap(int64_t n) { return (n + AE_RC_VL - 1) / AE_RC_VL * AE_RC_VL; }

#ifdef AE_REAL_DOUBLE
#define AE_RC_MASKZ_ADD(m, a, b) _mm512_maskz_add_pd((__mmask8)(m), a, b)
#else
#define AE_RC_MASKZ_ADD(m, a, b) _mm512_maskz_add_ps(m, a, b)
#endif

/* Writes the pieces of vector k of d, for table idx (n entries; sources
 * in [0, slen)), to out; returns how many (1 to AE_RC_VL). */
static inline int ae_rc_perm_vector(const int32_t *idx, int64_t n, int64_t slen, int64_t k, ae_rc_piece *out) {
  int np = 0;
  for (int l = 0; l < AE_RC_VL && k * AE_RC_VL + l < n; l++) {
    const int64_t e = idx[k * AE_RC_VL + l];
    if (e < 0) continue;
    int q = 0;
    while (q < np && !(e >= out[q].from && e < out[q].from + 2 * AE_RC_VL)) q++;
    if (q == np) {
      out[np] = (ae_rc_piece){.from = (int32_t)e};
      for (int i = 0; i < AE_RC_VL; i++) {
        if (e + i < slen) out[np].la |= (uint16_t)(1u << i);
        if (e + AE_RC_VL + i < slen) out[np].lb |= (uint16_t)(1u << i);
      }
      np++;
    }
    out[q].take |= (uint16_t)(1u << l);
    out[q].idx[l] = (uint8_t)(e - out[q].from);
  }
  if (np == 0) out[np++] = (ae_rc_piece){0};
  out[np - 1].last = 1;
  return np;
}

/* Plans d[j] = s[idx[j]] into pieces (room for ae_rc_perm_cap(n)). */
static inline void ae_rc_perm_init(ae_rc_perm *pl, const int32_t *idx, int64_t n, int64_t slen, ae_rc_piece *pieces) {
  int64_t at = 0;
  for (int64_t k = 0; k * AE_RC_VL < n; k++) at += ae_rc_perm_vector(idx, n, slen, k, pieces + at);
  *pl = (ae_rc_perm){n, pieces, idx};
}

/* d[j] = s[idx[j]] (+ c when add, -0 becoming +0 as in ae_row_copy_add),
 * or 0 where idx[j] < 0, for j < n. */
static inline void ae_rc_perm_run(const ae_rc_perm *pl, ae_real *restrict d, const ae_real *restrict s, int add,
                                  ae_real c) {
  const ae_rc_vec cv = AE_RC_SET1(c);
  const ae_rc_piece *p = pl->piece;
  for (int64_t j = 0; j < pl->n; j += AE_RC_VL) {
    ae_rc_vec v = AE_RC_ZERO();
    unsigned taken = 0;
    for (;; p++) {
      const ae_real *a = s + p->from;
      const ae_real *b = (const ae_real *)((uintptr_t)a + AE_RC_VL * sizeof(ae_real)); /* may lie past s: lb masks it */
#ifdef AE_REAL_DOUBLE
      const __m512i iv = _mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)p->idx));
      const __m512d lo = AE_RC_LOAD((__mmask8)p->la, a), hi = AE_RC_LOAD((__mmask8)p->lb, b);
      v = _mm512_mask_mov_pd(v, (__mmask8)p->take, _mm512_permutex2var_pd(lo, iv, hi));
#else
      const __m512i iv = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p->idx));
      v = _mm512_mask_mov_ps(v, p->take, _mm512_permutex2var_ps(AE_RC_LOAD(p->la, a), iv, AE_RC_LOAD(p->lb, b)));
#endif
      taken |= p->take;
      if (p->last) break;
    }
    p++;
    if (add) v = AE_RC_MASKZ_ADD((__mmask16)taken, v, cv);
    AE_RC_STORE(d + j, ae_rc_mask(ae_rc_min(pl->n - j, AE_RC_VL)), v);
  }
}
#else
static inline int64_t ae_rc_perm_cap(int64_t n) { (void)n; return 0; } /* the loop needs no pieces */

static inline void ae_rc_perm_init(ae_rc_perm *pl, const int32_t *idx, int64_t n, int64_t slen, ae_rc_piece *pieces) {
  (void)slen;
  *pl = (ae_rc_perm){n, pieces, idx};
}

static inline void ae_rc_perm_run(const ae_rc_perm *pl, ae_real *restrict d, const ae_real *restrict s, int add,
                                  ae_real c) {
  for (int64_t j = 0; j < pl->n; j++) {
    const int32_t e = pl->idx[j];
    d[j] = e < 0 ? 0 : add ? s[e] + c : s[e];
  }
}
#endif

#endif
