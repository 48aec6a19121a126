/* pool_2x2.c: the plane kernels of 2x2, stride 2 max pooling without
 * padding (pool_2x2.h): the pooling, its input gradient (also
 * max_unpool2d), and gather2d of its indices. Their pool.c callers check
 * shapes and go parallel over planes.
 *
 * On AVX-512 each row of windows is cut into chunks of PL windows, one
 * masked vector each: the two input rows de-interleaved into even and odd
 * columns (permutex2var), or for the gradient interleaved back. The zoo's
 * planes are 28, 14 and 7 wide: rows of 14 or 7 windows, shorter than the
 * vectors GCC's loops start at, so the plain loops (the other builds) ran
 * scalar and branchy there. Positions are exact integers in ae_real
 * (pool.c's MAX_PLANE), so both versions give the same bits. */
#include "pool_2x2.h"

#include <string.h>

#include "base/rowcopy.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#ifdef AE_REAL_DOUBLE
#define PL 8
typedef __m512d pvec;
typedef __mmask8 pmask;
typedef int64_t pint;
#define PV(op) _mm512_##op##_pd
#define PCMP(a, b, c) _mm512_cmp_pd_mask((a), (b), (c))
#else
#define PL 16
typedef __m512 pvec;
typedef __mmask16 pmask;
typedef int32_t pint;
#define PV(op) _mm512_##op##_ps
#define PCMP(a, b, c) _mm512_cmp_ps_mask((a), (b), (c))
#endif

static pmask pl_mask(int64_t n) { return n >= PL ? (pmask)~0u : n <= 0 ? 0 : (pmask)((1u << n) - 1); }

/* What every chunk needs: the permutations over the 2 PL lanes of (a, b),
 * even and odd lanes (de-interleave) and the low and high halves of
 * (a0 b0 a1 b1 ...) (interleave); 0, 2, 4, ... as ae_real; and a window's
 * four offsets 0, 1, w, w + 1. */
typedef struct {
  __m512i even, odd, lo, hi;
  pvec lane2, off[4];
} pool_consts;

static pool_consts pool_consts_of(int64_t w) {
  pint e[PL], o[PL], l[PL], h[PL];
  ae_real t[PL];
  for (int i = 0; i < PL; i++) {
    e[i] = 2 * i, o[i] = 2 * i + 1;
    l[i] = i % 2 ? PL + i / 2 : i / 2;
    h[i] = i % 2 ? PL + PL / 2 + i / 2 : PL / 2 + i / 2;
    t[i] = (ae_real)(2 * i);
  }
  return (pool_consts){_mm512_loadu_si512(e),
                       _mm512_loadu_si512(o),
                       _mm512_loadu_si512(l),
                       _mm512_loadu_si512(h),
                       PV(loadu)(t),
                       {PV(setzero)(), PV(set1)(1), PV(set1)((ae_real)w), PV(set1)((ae_real)(w + 1))}};
}

/* One chunk: windows c0 .. c0 + n - 1 of row r (n <= PL), their lanes m;
 * the two input rows' 2n elements are lanes ma of the first vector and mb
 * of the second. */
typedef struct {
  int64_t c0, n;
  pmask m, ma, mb;
} pool_chunk;

static inline pool_chunk chunk_at(int64_t c0, int64_t ow) {
  const int64_t n = ow - c0 < PL ? ow - c0 : PL;
  return (pool_chunk){c0, n, pl_mask(n), pl_mask(2 * n), pl_mask(2 * n - PL)};
}

/* The chunk's windows of the plane xs (rows 2r, 2r + 1): v[k] holds each
 * window's value at offset k (0, 1, w, w + 1 in scan order). */
static inline void load_windows(const pool_consts *pc, const ae_real *xs, int64_t w, int64_t r, const pool_chunk *ch,
                                pvec v[4]) {
  const ae_real *x0 = xs + 2 * r * w + 2 * ch->c0, *x1 = x0 + w;
  pvec a0 = PV(maskz_loadu)(ch->ma, x0), b0 = PV(maskz_loadu)(ch->mb, x0 + PL);
  pvec a1 = PV(maskz_loadu)(ch->ma, x1), b1 = PV(maskz_loadu)(ch->mb, x1 + PL);
  v[0] = PV(permutex2var)(a0, pc->even, b0), v[1] = PV(permutex2var)(a0, pc->odd, b0);
  v[2] = PV(permutex2var)(a1, pc->even, b1), v[3] = PV(permutex2var)(a1, pc->odd, b1);
}

/* The chunk's first positions, 2 r w + 2 c for each window c. */
static inline pvec first_positions(const pool_consts *pc, int64_t w, int64_t r, const pool_chunk *ch) {
  return PV(add)(PV(set1)((ae_real)(2 * r * w + 2 * ch->c0)), pc->lane2);
}

/* k[j]: the lanes whose index (row r of idx, ow wide) is at offset j of its
 * window; returns the chunk's lanes at none of the four. */
static inline pmask index_offsets(const pool_consts *pc, const ae_real *idx, int64_t ow, int64_t w, int64_t r,
                                  const pool_chunk *ch, pmask k[4]) {
  pvec at = PV(sub)(PV(maskz_loadu)(ch->m, idx + r * ow + ch->c0), first_positions(pc, w, r, ch));
  for (int j = 0; j < 4; j++) k[j] = PCMP(at, pc->off[j], _CMP_EQ_OQ);
  return ch->m & (pmask) ~(k[0] | k[1] | k[2] | k[3]);
}

void ae__max_pool_2x2_plane(const ae_real *xs, int64_t w, int64_t oh, int64_t ow, ae_real *restrict py,
                            ae_real *restrict pi, int relu) {
  const pool_consts pc = pool_consts_of(w);
  for (int64_t r = 0; r < oh; r++) {
    ae_rc_prefetch(xs + 2 * r * w, AE_RC_AHEAD, 2 * w * (int64_t)sizeof(ae_real));
    for (int64_t c0 = 0; c0 < ow; c0 += PL) {
      const pool_chunk ch = chunk_at(c0, ow);
      pvec v[4];
      load_windows(&pc, xs, w, r, &ch, v);
      if (relu) /* v > 0 ? v : 0, NaN to 0 (an ordered compare is false for it) */
        for (int j = 0; j < 4; j++) v[j] = PV(maskz_mov)(PCMP(v[j], PV(setzero)(), _CMP_GT_OQ), v[j]);
      const pvec at0 = first_positions(&pc, w, r, &ch);
      pvec best = v[0], at = at0;
      for (int j = 1; j < 4; j++) { /* the scan's update: v > best, or v is NaN */
        pmask u = PCMP(v[j], best, _CMP_GT_OQ) | PCMP(v[j], v[j], _CMP_UNORD_Q);
        best = PV(mask_mov)(best, u, v[j]);
        at = PV(mask_mov)(at, u, PV(add)(at0, pc.off[j]));
      }
      PV(mask_storeu)(py + r * ow + c0, ch.m, best);
      PV(mask_storeu)(pi + r * ow + c0, ch.m, at);
    }
  }
}

int ae__max_pool_2x2_backward_plane(const ae_real *restrict g, const ae_real *restrict idx, int64_t oh, int64_t ow,
                                    int64_t h, int64_t w, ae_real *restrict y) {
  const pool_consts pc = pool_consts_of(w);
  pmask stray = 0;
  for (int64_t r = 0; r < oh; r++) {
    ae_real *y0 = y + 2 * r * w, *y1 = y0 + w;
    ae_rc_prefetch(g + r * ow, AE_RC_AHEAD, ow * (int64_t)sizeof(ae_real));
    ae_rc_prefetch(idx + r * ow, AE_RC_AHEAD, ow * (int64_t)sizeof(ae_real));
    ae_rc_prefetch_w(y0, 4 * AE_RC_AHEAD, 2 * w * (int64_t)sizeof(ae_real)); /* y: 4 times g's size */
    for (int64_t c0 = 0; c0 < ow; c0 += PL) {
      const pool_chunk ch = chunk_at(c0, ow);
      pmask k[4];
      stray |= index_offsets(&pc, idx, ow, w, r, &ch, k);
      const pvec gv = PV(maskz_loadu)(ch.m, g + r * ow + c0);
      pvec d[4];
      for (int j = 0; j < 4; j++) d[j] = PV(maskz_mov)(k[j], gv);
      PV(mask_storeu)(y0 + 2 * c0, ch.ma, PV(permutex2var)(d[0], pc.lo, d[1]));
      PV(mask_storeu)(y0 + 2 * c0 + PL, ch.mb, PV(permutex2var)(d[0], pc.hi, d[1]));
      PV(mask_storeu)(y1 + 2 * c0, ch.ma, PV(permutex2var)(d[2], pc.lo, d[3]));
      PV(mask_storeu)(y1 + 2 * c0 + PL, ch.mb, PV(permutex2var)(d[2], pc.hi, d[3]));
    }
    if (w > 2 * ow) y0[w - 1] = y1[w - 1] = 0; /* an odd width's last column */
  }
  if (h > 2 * oh) memset(y + 2 * oh * w, 0, (size_t)w * sizeof(ae_real)); /* an odd height's last row */
  return stray == 0;
}

int ae__gather_2x2_plane(const ae_real *xs, const ae_real *restrict idx, int64_t oh, int64_t ow, int64_t w,
                         ae_real *restrict y) {
  const pool_consts pc = pool_consts_of(w);
  pmask stray = 0;
  for (int64_t r = 0; r < oh; r++) {
    ae_rc_prefetch(xs + 2 * r * w, AE_RC_AHEAD, 2 * w * (int64_t)sizeof(ae_real));
    ae_rc_prefetch(idx + r * ow, AE_RC_AHEAD, ow * (int64_t)sizeof(ae_real));
    for (int64_t c0 = 0; c0 < ow; c0 += PL) {
      const pool_chunk ch = chunk_at(c0, ow);
      pmask k[4];
      stray |= index_offsets(&pc, idx, ow, w, r, &ch, k);
      pvec v[4];
      load_windows(&pc, xs, w, r, &ch, v);
      pvec s = PV(maskz_mov)(k[0], v[0]);
      for (int j = 1; j < 4; j++) s = PV(mask_mov)(s, k[j], v[j]);
      PV(mask_storeu)(y + r * ow + c0, ch.m, s);
    }
  }
  return stray == 0;
}
#undef PV
#undef PCMP
#undef PL
#else
/* pool.c's general scan written as a select chain over the window's four
 * values in scan order, so the loop over a row can vectorise. */
/* v > 0 ? v : 0 (NaN to 0) when relu, else v. */
static inline ae_real relu_if(ae_real v, int relu) { return relu && !(v > 0) ? 0 : v; }

void ae__max_pool_2x2_plane(const ae_real *xs, int64_t w, int64_t oh, int64_t ow, ae_real *restrict py,
                            ae_real *restrict pi, int relu) {
  for (int64_t r = 0; r < oh; r++) {
    const ae_real *x0 = xs + 2 * r * w, *x1 = x0 + w;
    ae_real *yr = py + r * ow, *ir = pi + r * ow;
    const int64_t base = 2 * r * w;
    for (int64_t c = 0; c < ow; c++) {
      ae_real best = relu_if(x0[2 * c], relu), v;
      int64_t at = base + 2 * c;
      int upd;
      v = relu_if(x0[2 * c + 1], relu), upd = v > best || v != v;
      best = upd ? v : best, at = upd ? base + 2 * c + 1 : at;
      v = relu_if(x1[2 * c], relu), upd = v > best || v != v;
      best = upd ? v : best, at = upd ? base + w + 2 * c : at;
      v = relu_if(x1[2 * c + 1], relu), upd = v > best || v != v;
      best = upd ? v : best, at = upd ? base + w + 2 * c + 1 : at;
      yr[c] = best;
      ir[c] = (ae_real)at;
    }
  }
}

/* The input gradient of a 2x2, stride 2 pooling plane in one pass: each
 * input position gets its window's gradient if it is the window's
 * recorded winner, else 0 (rows and a column past the last whole window
 * too). The indices are compared, never used as addresses, so no check
 * of them is needed; the values are the scatter's (each window has one
 * winner, so nothing is summed). Returns 1 when every index is one of its
 * own window's four positions (what max_unpool2d's fast path needs). */
int ae__max_pool_2x2_backward_plane(const ae_real *restrict g, const ae_real *restrict idx, int64_t oh, int64_t ow,
                                    int64_t h, int64_t w, ae_real *restrict y) {
  const ae_real wr = (ae_real)w, wr1 = (ae_real)(w + 1);
  int stray = 0;
  for (int64_t r = 0; r < oh; r++) {
    ae_real *y0 = y + 2 * r * w, *y1 = y0 + w;
    const ae_real *gr = g + r * ow, *ir = idx + r * ow;
    const ae_real base = (ae_real)(2 * r * w);
    for (int64_t c = 0; c < ow; c++) {
      ae_real at = ir[c] - (base + (ae_real)(2 * c)), gv = gr[c]; /* the winner's offset in its window */
      y0[2 * c] = at == 0 ? gv : 0;
      y0[2 * c + 1] = at == 1 ? gv : 0;
      y1[2 * c] = at == wr ? gv : 0;
      y1[2 * c + 1] = at == wr1 ? gv : 0;
      stray |= at != 0 && at != 1 && at != wr && at != wr1;
    }
    if (w > 2 * ow) y0[w - 1] = y1[w - 1] = 0; /* an odd width's last column */
  }
  if (h > 2 * oh) memset(y + 2 * oh * w, 0, (size_t)w * sizeof(ae_real)); /* an odd height's last row */
  return !stray;
}

int ae__gather_2x2_plane(const ae_real *xs, const ae_real *restrict idx, int64_t oh, int64_t ow, int64_t w,
                         ae_real *restrict y) {
  const ae_real wr = (ae_real)w, wr1 = (ae_real)(w + 1);
  int stray = 0;
  for (int64_t r = 0; r < oh; r++) {
    const ae_real *x0 = xs + 2 * r * w, *x1 = x0 + w, *ir = idx + r * ow;
    const ae_real base = (ae_real)(2 * r * w);
    for (int64_t c = 0; c < ow; c++) {
      ae_real at = ir[c] - (base + (ae_real)(2 * c));
      y[r * ow + c] = at == 0 ? x0[2 * c] : at == 1 ? x0[2 * c + 1] : at == wr ? x1[2 * c] : at == wr1 ? x1[2 * c + 1] : 0;
      stray |= at != 0 && at != 1 && at != wr && at != wr1;
    }
  }
  return !stray;
}

#endif
