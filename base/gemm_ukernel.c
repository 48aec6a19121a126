/* gemm_ukernel.c: the GEMM micro-kernels (contract in gemm_ukernel.h).
 * ae_gemm_ukernel_ref is plain C with an AE_GEMM_MR x AE_GEMM_NR accumulator
 * array; ae_gemm_ukernel is an AVX-512 register-blocked kernel when the
 * build targets AVX-512 (one zmm accumulator per row and 16 floats / 8
 * doubles of the tile), and the portable kernel otherwise. */
#include "base/gemm_ukernel.h"
#include "base/gemm_packed.h"

#if AE_GEMM_UKERNEL_AVX512
#include <immintrin.h>
#endif

/* Writes alpha * acc + beta * C for the m x n corner of a tile. */
static void tile_update(const ae_real *acc, ae_real alpha, ae_real beta, ae_real *c,
                        int64_t rs_c, int64_t cs_c, int m, int n) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      ae_real *cij = c + i * rs_c + j * cs_c;
      ae_real r = alpha * acc[i * AE_GEMM_NR + j];
      *cij = beta == 0 ? r : r + beta * *cij;
    }
}

void ae_gemm_ukernel_ref(int64_t kc, ae_real alpha, const ae_real *a, const ae_real *b,
                         ae_real beta, ae_real *c, int64_t rs_c, int64_t cs_c, int m, int n) {
  ae_real acc[AE_GEMM_MR * AE_GEMM_NR] __attribute__((aligned(AE_ALIGN)));
  for (int k = 0; k < AE_GEMM_MR * AE_GEMM_NR; k++) acc[k] = 0;
  for (int64_t p = 0; p < kc; p++) {
    const ae_real *ap = a + p * AE_GEMM_MR, *bp = b + p * AE_GEMM_NR;
    for (int i = 0; i < AE_GEMM_MR; i++) {
      ae_real ai = ap[i];
      for (int j = 0; j < AE_GEMM_NR; j++) acc[i * AE_GEMM_NR + j] += ai * bp[j];
    }
  }
  tile_update(acc, alpha, beta, c, rs_c, cs_c, m, n);
}

#if AE_GEMM_UKERNEL_AVX512

#ifdef AE_REAL_DOUBLE
typedef __m512d vec;
typedef __mmask8 vmask;
#define VL 8
#define V_ZERO() _mm512_setzero_pd()
#define V_SET1(x) _mm512_set1_pd(x)
#define V_LOAD(p) _mm512_load_pd(p)
#define V_LOADU(p) _mm512_loadu_pd(p)
#define V_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define V_MUL(a, b) _mm512_mul_pd(a, b)
#define V_STORE(p, v) _mm512_store_pd(p, v)
#define V_MLOAD(m, p) _mm512_maskz_loadu_pd(m, p)
#define V_MSTORE(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#define V_ADD(a, b) _mm512_add_pd(a, b)
#define V_MAX(a, b) _mm512_max_pd(a, b)
#define V_COMPRESS(m, v) _mm512_maskz_compress_pd(m, v)
#else
typedef __m512 vec;
typedef __mmask16 vmask;
#define VL 16
#define V_ZERO() _mm512_setzero_ps()
#define V_SET1(x) _mm512_set1_ps(x)
#define V_LOAD(p) _mm512_load_ps(p)
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_STORE(p, v) _mm512_store_ps(p, v)
#define V_MLOAD(m, p) _mm512_maskz_loadu_ps(m, p)
#define V_MSTORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_MAX(a, b) _mm512_max_ps(a, b)
#define V_COMPRESS(m, v) _mm512_maskz_compress_ps(m, v)
#endif

#define NV (AE_GEMM_NR / VL) /* vectors per tile row */
_Static_assert(VL == AE_GEMM_VL, "vector length mismatch");

static vmask lane_mask(int cnt) {
  return cnt >= VL ? (vmask)~0u : cnt <= 0 ? 0 : (vmask)((1u << cnt) - 1);
}

/* In-register transpose of a VL x VL block: first within 128-bit lanes
 * (unpack, then for float shuffle_ps), after which r[G*k + q] holds, in lane
 * l, column G*l + q of rows G*k .. G*k+G-1 (G = VL/4 elements per lane);
 * then a 4 x 4 transpose of 128-bit lanes across r[q], r[G+q], r[2G+q],
 * r[3G+q] puts column G*m + q in r[G*m + q]. */
static inline __attribute__((always_inline)) void transpose_regs(vec r[VL]) {
  enum { G = VL / 4 };
  vec t[VL];
  for (int k = 0; k < VL / 2; k++) {
#ifdef AE_REAL_DOUBLE
    t[2 * k] = _mm512_unpacklo_pd(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_pd(r[2 * k], r[2 * k + 1]);
#else
    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
#endif
  }
#ifdef AE_REAL_DOUBLE
  for (int k = 0; k < VL; k++) r[k] = t[k];
#define SHUF128 _mm512_shuffle_f64x2
#else
  for (int k = 0; k < 4; k++) {
    r[4 * k + 0] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
    r[4 * k + 1] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
    r[4 * k + 2] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
    r[4 * k + 3] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
  }
#define SHUF128 _mm512_shuffle_f32x4
#endif
  for (int q = 0; q < G; q++) {
    vec u0 = SHUF128(r[q], r[G + q], 0x88), u1 = SHUF128(r[q], r[G + q], 0xDD);
    vec u2 = SHUF128(r[2 * G + q], r[3 * G + q], 0x88);
    vec u3 = SHUF128(r[2 * G + q], r[3 * G + q], 0xDD);
    r[q] = SHUF128(u0, u2, 0x88);
    r[G + q] = SHUF128(u1, u3, 0x88);
    r[2 * G + q] = SHUF128(u0, u2, 0xDD);
    r[3 * G + q] = SHUF128(u1, u3, 0xDD);
  }
#undef SHUF128
}

void ae_gemm_transpose_block(const ae_real *src, int64_t lds, int rows, int cols,
                             ae_real *dst, int64_t ldd, int store_rows) {
  vmask lm = lane_mask(cols), sm = lane_mask(store_rows);
  vec r[VL];
  _Pragma("GCC unroll 16") for (int i = 0; i < VL; i++)
    r[i] = i < rows ? V_MLOAD(lm, src + i * lds) : V_ZERO();
  transpose_regs(r);
  _Pragma("GCC unroll 16") for (int c = 0; c < VL; c++)
    if (c < cols) V_MSTORE(dst + c * ldd, sm, r[c]);
}
/* ae_gemm_transpose_block with a pointer per source row (gemm_packed.h). */
void ae_gemm_transpose_rows(const ae_real *const *src, int rows, int cols, ae_real *dst, int64_t ldd,
                            int store_rows) {
  vmask lm = lane_mask(cols), sm = lane_mask(store_rows);
  vec r[VL];
  _Pragma("GCC unroll 16") for (int i = 0; i < VL; i++)
    r[i] = i < rows ? V_MLOAD(lm, src[i]) : V_ZERO();
  transpose_regs(r);
  _Pragma("GCC unroll 16") for (int c = 0; c < VL; c++)
    if (c < cols) V_MSTORE(dst + c * ldd, sm, r[c]);
}

#if AE_GEMM_PACK_A_HALVES
_Static_assert(AE_GEMM_MR * 2 == VL, "the halves are micro-panels of MR rows");
void ae_gemm_transpose_halves(const ae_real *src, int64_t lds, int rows, int cols, ae_real *dst) {
  enum { H = VL / 2 };
  vmask lm0 = lane_mask(cols), lm1 = lane_mask(cols - VL);
  vec r[VL];
  /* rows 0..H-1: columns 0..VL-1; rows H..VL-1: the same rows' columns VL..2VL-1 */
  _Pragma("GCC unroll 8") for (int i = 0; i < H; i++) {
    r[i] = i < rows ? V_MLOAD(lm0, src + i * lds) : V_ZERO();
    r[H + i] = i < rows && cols > VL ? V_MLOAD(lm1, src + i * lds + VL) : V_ZERO();
  }
  transpose_regs(r);
  /* r[c]: lanes 0..H-1 are column c, lanes H..VL-1 column VL + c */
  _Pragma("GCC unroll 16") for (int c = 0; c < VL; c++) {
    if (c < cols) _mm256_storeu_ps(dst + c * H, _mm512_castps512_ps256(r[c]));
    if (VL + c < cols) _mm256_storeu_ps(dst + (VL + c) * H, _mm512_extractf32x8_ps(r[c], 1));
  }
}
#endif

_Static_assert(AE_GEMM_NR % VL == 0, "AE_GEMM_NR must be a multiple of the vector length");

/* One k step: nv loads of b, mr broadcasts of a, mr * nv FMAs. a(i) is
 * ap[i] in a packed panel, ap[i * lda] when A is read in place (a_rows). */
#define KSTEP(ap, bp, nv)                                                  \
  do {                                                                 \
    vec bv[NV];                                                        \
    _Pragma("GCC unroll 8") for (int v = 0; v < (nv); v++)               \
      bv[v] = V_LOADU((bp) + v * VL);                                  \
    _Pragma("GCC unroll 16") for (int i = 0; i < mr; i++) {            \
      vec ai = V_SET1(a_rows ? (ap)[i * lda] : (ap)[i]);              \
      _Pragma("GCC unroll 8") for (int v = 0; v < (nv); v++)             \
        acc[i][v] = V_FMA(ai, bv[v], acc[i][v]);                       \
    }                                                                  \
  } while (0)

/* Writes the tile's columns j < n, rows i < m, to a C stored transposed
 * (C(i, j) at c[j * cs_c + i]): the accumulators are transposed in
 * registers so each column of MR rows is one masked store, rounded as the
 * row-major path rounds (alpha * acc, then beta * C added in one FMA). */
#if !defined(AE_REAL_DOUBLE) && AE_GEMM_MR == 8 && defined(__AVX512VL__)
/* float: an 8 x 16 block per vector of a row, in 24 shuffles: pairs of
 * rows interleaved, then 4-row columns per 128-bit lane (u[q]: rows 0-3,
 * u[4 + q]: rows 4-7 of column 4 l + q in lane l), then each pair of
 * lanes joined into two 8-row columns per register. */
static inline __attribute__((always_inline)) void store_transposed(vec acc[AE_GEMM_MR][NV], const int nv,
                                                                   ae_real alpha, ae_real beta, ae_real *c,
                                                                   int64_t cs_c, int m, int n) {
  const __mmask8 rows = (__mmask8)((1u << m) - 1);
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
  const __m512i hi = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
  _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) {
    __m512 t[8], u[8];
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
      t[2 * k] = _mm512_unpacklo_ps(acc[2 * k][v], acc[2 * k + 1][v]);
      t[2 * k + 1] = _mm512_unpackhi_ps(acc[2 * k][v], acc[2 * k + 1][v]);
    }
    _Pragma("GCC unroll 2") for (int k = 0; k < 2; k++) {
      u[4 * k + 0] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
      u[4 * k + 1] = _mm512_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
      u[4 * k + 2] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
      u[4 * k + 3] = _mm512_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
    }
    _Pragma("GCC unroll 4") for (int q = 0; q < 4; q++) {
      __m512 w[2] = {_mm512_permutex2var_ps(u[q], lo, u[4 + q]), _mm512_permutex2var_ps(u[q], hi, u[4 + q])};
      _Pragma("GCC unroll 4") for (int h = 0; h < 4; h++) { /* columns q, 4 + q, 8 + q, 12 + q */
        int j = v * VL + 4 * h + q;
        if (j >= n) continue;
        __m256 x = h % 2 ? _mm512_extractf32x8_ps(w[h / 2], 1) : _mm512_castps512_ps256(w[h / 2]);
        ae_real *cj = c + j * cs_c;
        x = _mm256_mul_ps(va, x);
        if (beta != 0) x = _mm256_fmadd_ps(vb, _mm256_maskz_loadu_ps(rows, cj), x);
        _mm256_mask_storeu_ps(cj, rows, x);
      }
    }
  }
}
#else
/* double (an MR x MR block per vector when MR == VL), or a build without
 * AVX-512 VL: VL x VL register transposes, rows past MR zero */
static inline __attribute__((always_inline)) void store_transposed(vec acc[AE_GEMM_MR][NV], const int nv,
                                                                   ae_real alpha, ae_real beta, ae_real *c,
                                                                   int64_t cs_c, int m, int n) {
  const vec va = V_SET1(alpha), vb = V_SET1(beta);
  for (int i0 = 0; i0 < AE_GEMM_MR; i0 += VL) {
    vmask rm = lane_mask(m - i0);
    if (!rm) break;
    for (int v = 0; v < nv; v++) {
      vec r[VL];
      _Pragma("GCC unroll 16") for (int i = 0; i < VL; i++) r[i] = i0 + i < AE_GEMM_MR ? acc[i0 + i][v] : V_ZERO();
      transpose_regs(r);
      _Pragma("GCC unroll 16") for (int jj = 0; jj < VL; jj++) {
        int j = v * VL + jj;
        if (j >= n) break;
        ae_real *cj = c + j * cs_c + i0;
        vec x = V_MUL(va, r[jj]);
        if (beta != 0) x = V_FMA(vb, V_MLOAD(rm, cj), x);
        V_MSTORE(cj, rm, x);
      }
    }
  }
}
#endif

/* Row-major C: rows i < m of C = alpha acc + beta C (C not read when beta
 * is 0), the tile's first nv vectors a row; masked loads/stores cover the
 * n < NR edge, so full and edge tiles round identically. */
static inline __attribute__((always_inline)) void store_rows(vec acc[AE_GEMM_MR][NV], const int nv, ae_real alpha,
                                                             ae_real beta, ae_real *c, int64_t rs_c, int m, int n) {
  const vec valpha = V_SET1(alpha), vbeta = V_SET1(beta);
  vmask mask[NV];
  _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) mask[v] = lane_mask(n - v * VL);
  _Pragma("GCC unroll 16") for (int i = 0; i < AE_GEMM_MR; i++) {
    if (i >= m) break;
    ae_real *ci = c + i * rs_c;
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) {
      vec r = V_MUL(valpha, acc[i][v]);
      if (beta != 0) r = V_FMA(vbeta, V_MLOAD(mask[v], ci + v * VL), r);
      V_MSTORE(ci + v * VL, mask[v], r);
    }
  }
}

/* The kernel on the first mr rows and the first nv of the tile's NV
 * vectors per row (mr, nv and a_rows are constants where it is inlined):
 * rows past mr and columns past nv * VL are zero padding of the panels and
 * are not computed (their accumulators stay 0). a_rows: A is read in place,
 * a(i, p) at a[i * lda + p], instead of from a packed panel. boff (NULL
 * where it is inlined, or not): B's row p at b + boff[p] instead of at
 * b + p * ldb. co (likewise): the tile goes where co says, not to C. */
static inline __attribute__((always_inline)) void ukernel_nv(const int mr, const int nv, const int a_rows,
                                                             int64_t kc, ae_real alpha,
                                                             const ae_real *restrict a, const int64_t lda,
                                                             const ae_real *restrict b, const int64_t ldb,
                                                             const int64_t *restrict boff,
                                                             const ae_gemm_compress_out *co,
                                                             ae_real beta, ae_real *restrict c, int64_t rs_c,
                                                             int64_t cs_c, int m, int n) {
  /* Start fetching the C tile now: its lines are usually far away (L3 or
   * memory) and the k loop is long enough to hide the latency. */
  for (int i = 0; i < m; i++) {
    _mm_prefetch((const char *)(c + i * rs_c), _MM_HINT_T0);
    _mm_prefetch((const char *)(c + i * rs_c + (n - 1) * cs_c), _MM_HINT_T0);
  }
  vec acc[AE_GEMM_MR][NV];
  _Pragma("GCC unroll 16") for (int i = 0; i < AE_GEMM_MR; i++)
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) acc[i][v] = V_ZERO();

  const int64_t ast = a_rows ? 1 : AE_GEMM_MR; /* a's step along k */
  int64_t p = 0;
  if (boff) { /* rows anywhere (a convolution's tap runs): usually in L1 already, a row's neighbours' lines */
    for (; p + 4 <= kc; p += 4) {
      KSTEP(a, b + boff[p], nv);
      KSTEP(a + ast, b + boff[p + 1], nv);
      KSTEP(a + 2 * ast, b + boff[p + 2], nv);
      KSTEP(a + 3 * ast, b + boff[p + 3], nv);
      a += 4 * ast;
    }
    for (; p < kc; p++, a += ast) KSTEP(a, b + boff[p], nv);
  }
  for (; p + 4 <= kc; p += 4) {
    _mm_prefetch((const char *)(b + 8 * ldb), _MM_HINT_T0);
    if (!a_rows) _mm_prefetch((const char *)(a + 8 * AE_GEMM_MR), _MM_HINT_T0);
    KSTEP(a, b, nv);
    KSTEP(a + ast, b + ldb, nv);
    KSTEP(a + 2 * ast, b + 2 * ldb, nv);
    KSTEP(a + 3 * ast, b + 3 * ldb, nv);
    a += 4 * ast;
    b += 4 * ldb;
  }
  for (; p < kc; p++) {
    KSTEP(a, b, nv);
    a += ast;
    b += ldb;
  }

  if (co) { /* row i's kept lanes, in order, to co->dst + i co->ld, plus co->add[i], through relu */
    /* compressed in a register, then a masked store of the first lanes:
     * a compressing store to memory (vcompressps m512) took 1.05 ns a
     * vector on this machine (AMD family 26, Zen 5), these two 0.50 (a
     * loop of each) */
    vmask keep[NV], first[NV];
    int at[NV + 1];
    at[0] = 0;
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) {
      keep[v] = (vmask)(co->keep >> (v * VL));
      const int kept = __builtin_popcount((unsigned)keep[v]);
      first[v] = lane_mask(kept);
      at[v + 1] = at[v] + kept;
    }
    _Pragma("GCC unroll 16") for (int i = 0; i < AE_GEMM_MR; i++) {
      if (i >= m) break;
      const vec add = V_SET1(co->add ? co->add[i] : 0);
      ae_real *d = co->dst + i * co->ld;
      _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) {
        vec r = V_ADD(acc[i][v], add);
        if (co->relu) r = V_MAX(r, V_ZERO()); /* NaN and -0 give +0, as ae_row_copy_add_relu */
        V_MSTORE(d + at[v], first[v], V_COMPRESS(keep[v], r));
      }
    }
    return;
  }
  if (cs_c != 1 && rs_c == 1) { /* C stored transposed (gemm.c's swapped products) */
    store_transposed(acc, nv, alpha, beta, c, cs_c, m, n);
    return;
  }
  if (cs_c != 1) { /* general strides: spill the tile, update element-wise */
    ae_real tile[AE_GEMM_MR * AE_GEMM_NR] __attribute__((aligned(AE_ALIGN)));
    _Pragma("GCC unroll 16") for (int i = 0; i < AE_GEMM_MR; i++)
      _Pragma("GCC unroll 8") for (int v = 0; v < NV; v++)
        V_STORE(tile + i * AE_GEMM_NR + v * VL, v < nv ? acc[i][v] : V_ZERO());
    tile_update(tile, alpha, beta, c, rs_c, cs_c, m, n);
    return;
  }
  store_rows(acc, nv, alpha, beta, c, rs_c, m, n);
}

/* A tile of at most MR/2 rows: the micro-kernels run it on half the rows. */
static inline int short_tile(int m) { return AE_GEMM_MR % 2 == 0 && m <= AE_GEMM_MR / 2; }

void ae_gemm_ukernel(int64_t kc, ae_real alpha, const ae_real *restrict a, const ae_real *restrict b,
                     ae_real beta, ae_real *restrict c, int64_t rs_c, int64_t cs_c, int m, int n) {
  /* A narrow edge tile (n <= NR/2: N = 100 leaves 4 columns of a 32-wide
   * panel) runs on half the accumulators: half the FMAs, bitwise the same
   * columns. So does a short one (m <= MR/2: 100 rows leave 4 of an
   * 8-row panel, the swapped products of ae, stacked-ae and dae; 500 and
   * 250 in deep-ae). */
  const int narrow = NV % 2 == 0 && n <= AE_GEMM_NR / 2, short_ = short_tile(m);
  if (short_ && narrow)
    ukernel_nv(AE_GEMM_MR / 2, NV / 2, 0, kc, alpha, a, 0, b, AE_GEMM_NR, NULL, NULL, beta, c, rs_c, cs_c, m, n);
  else if (short_)
    ukernel_nv(AE_GEMM_MR / 2, NV, 0, kc, alpha, a, 0, b, AE_GEMM_NR, NULL, NULL, beta, c, rs_c, cs_c, m, n);
  else if (narrow)
    ukernel_nv(AE_GEMM_MR, NV / 2, 0, kc, alpha, a, 0, b, AE_GEMM_NR, NULL, NULL, beta, c, rs_c, cs_c, m, n);
  else
    ukernel_nv(AE_GEMM_MR, NV, 0, kc, alpha, a, 0, b, AE_GEMM_NR, NULL, NULL, beta, c, rs_c, cs_c, m, n);
}

/* gemm_packed.h: a full-width tile with B read in place (row p of the
 * panel at b + p * ldb), no packed copy. */
void ae_gemm_ukernel_b(int64_t kc, ae_real alpha, const ae_real *restrict a, const ae_real *restrict b, int64_t ldb,
                       ae_real beta, ae_real *restrict c, int64_t rs_c, int64_t cs_c, int m) {
  if (short_tile(m))
    ukernel_nv(AE_GEMM_MR / 2, NV, 0, kc, alpha, a, 0, b, ldb, NULL, NULL, beta, c, rs_c, cs_c, m, AE_GEMM_NR);
  else
    ukernel_nv(AE_GEMM_MR, NV, 0, kc, alpha, a, 0, b, ldb, NULL, NULL, beta, c, rs_c, cs_c, m, AE_GEMM_NR);
}

/* gemm_packed.h: a full MR-row tile with A read in place. */
void ae__gemm_ukernel_a(int64_t kc, ae_real alpha, const ae_real *restrict a, int64_t lda, const ae_real *restrict b,
                        int64_t ldb, ae_real beta, ae_real *restrict c, int64_t rs_c, int64_t cs_c, int n) {
  if (NV % 2 == 0 && n <= AE_GEMM_NR / 2)
    ukernel_nv(AE_GEMM_MR, NV / 2, 1, kc, alpha, a, lda, b, ldb, NULL, NULL, beta, c, rs_c, cs_c, AE_GEMM_MR, n);
  else
    ukernel_nv(AE_GEMM_MR, NV, 1, kc, alpha, a, lda, b, ldb, NULL, NULL, beta, c, rs_c, cs_c, AE_GEMM_MR, n);
}

/* gemm_packed.h: an MR-row tile with A read in place, B's rows at
 * b + boff[p], and the tile's kept lanes stored where co says. */
void ae__gemm_ukernel_ai(int64_t kc, const ae_real *restrict a, int64_t lda, const ae_real *restrict b,
                         const int64_t *restrict boff, const ae_gemm_compress_out *co, int m, int n) {
  if (NV % 2 == 0 && n <= AE_GEMM_NR / 2)
    ukernel_nv(AE_GEMM_MR, NV / 2, 1, kc, 1, a, lda, b, 0, boff, co, 0, co->dst, co->ld, 1, m, n);
  else
    ukernel_nv(AE_GEMM_MR, NV, 1, kc, 1, a, lda, b, 0, boff, co, 0, co->dst, co->ld, 1, m, n);
}

/* ae__gemm_ukernel_rows on the first nv vectors of each row (a constant
 * where it is inlined). */
static inline __attribute__((always_inline)) void rows_nv(const int nv, int64_t kseg, int64_t nseg,
                                                          int64_t sstride, const ae_real *const *arow,
                                                          const ae_real *restrict b, int64_t ldb, ae_real beta,
                                                          ae_real *restrict c, int64_t ldc, int m, int n) {
  vec acc[AE_GEMM_MR][NV];
  vmask mask[NV];
  _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) mask[v] = lane_mask(n - v * VL);
  _Pragma("GCC unroll 16") for (int i = 0; i < AE_GEMM_MR; i++)
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) acc[i][v] = V_ZERO();
  for (int64_t sg = 0; sg < nseg; sg++) {
    const ae_real *ar[AE_GEMM_MR];
    _Pragma("GCC unroll 16") for (int i = 0; i < AE_GEMM_MR; i++) ar[i] = arow[i] + sg * sstride;
    const ae_real *bs = b + sg * kseg * ldb;
    for (int64_t p = 0; p < kseg; p++, bs += ldb) {
      vec bv[NV];
      _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) bv[v] = V_MLOAD(mask[v], bs + v * VL);
      _Pragma("GCC unroll 16") for (int i = 0; i < AE_GEMM_MR; i++) {
        const vec ai = V_SET1(ar[i][p]);
        _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) acc[i][v] = V_FMA(ai, bv[v], acc[i][v]);
      }
    }
  }
  store_rows(acc, nv, 1, beta, c, ldc, m, n);
}

/* gemm_packed.h: A's rows through pointers, in segments. */
void ae__gemm_ukernel_rows(int64_t kseg, int64_t nseg, int64_t sstride, const ae_real *const *arow,
                           const ae_real *b, int64_t ldb, ae_real beta, ae_real *c, int64_t ldc, int m, int n) {
  if (NV % 2 == 0 && n <= AE_GEMM_NR / 2)
    rows_nv(NV / 2, kseg, nseg, sstride, arow, b, ldb, beta, c, ldc, m, n);
  else
    rows_nv(NV, kseg, nseg, sstride, arow, b, ldb, beta, c, ldc, m, n);
}

/* gemm_packed.h: dot products with the lanes along K. Per row of each
 * segment, the len elements a vector at a time, the last one masked; each
 * accumulator a lane-wise sum, added across its lanes at the end. */
#ifndef DOTS_PF
#define DOTS_PF 4
#endif
void ae__gemm_dots(const ae_gemm_dots_shape *s, const ae_real *const *arow, int m, const ae_real *const *brow, int n,
                   int accumulate, ae_real *c, int64_t rs_c, int64_t cs_c) {
  enum { DM = AE_GEMM_DOTS_M, DN = AE_GEMM_DOTS_N };
  vec acc[DM][DN];
  _Pragma("GCC unroll 16") for (int i = 0; i < DM; i++)
    _Pragma("GCC unroll 4") for (int j = 0; j < DN; j++) acc[i][j] = V_ZERO();
  const int64_t full = s->len / VL * VL;
  const vmask tail = lane_mask((int)(s->len - full));
  for (int64_t sg = 0; sg < s->segs; sg++)
    for (int64_t r = 0; r < s->rows; r++) {
      const ae_real *a[DM], *b[DN];
      _Pragma("GCC unroll 16") for (int i = 0; i < DM; i++) a[i] = arow[i] + sg * s->a_ss + r * s->a_rs;
      _Pragma("GCC unroll 4") for (int j = 0; j < DN; j++) {
        b[j] = brow[j] + sg * s->b_ss + r * s->b_rs;
        /* B's rows stream from memory (a convolution's output gradient): ask for the row DOTS_PF on */
        __builtin_prefetch(b[j] + DOTS_PF * s->b_rs, 0, 3);
        __builtin_prefetch(b[j] + DOTS_PF * s->b_rs + s->len - 1, 0, 3);
      }
      for (int64_t k = 0; k <= full; k += VL) {
        const vmask km = k < full ? (vmask)~0u : tail;
        if (!km) break;
        vec bv[DN];
        _Pragma("GCC unroll 4") for (int j = 0; j < DN; j++) bv[j] = V_MLOAD(km, b[j] + k);
        _Pragma("GCC unroll 16") for (int i = 0; i < DM; i++) {
          const vec av = V_MLOAD(km, a[i] + k);
          _Pragma("GCC unroll 4") for (int j = 0; j < DN; j++) acc[i][j] = V_FMA(av, bv[j], acc[i][j]);
        }
      }
    }
  /* unrolled, so that acc stays in registers (a variable index had put it on the stack) */
  _Pragma("GCC unroll 16") for (int i = 0; i < DM; i++)
    _Pragma("GCC unroll 4") for (int j = 0; j < DN; j++) {
      if (i >= m || j >= n) continue;
#ifdef AE_REAL_DOUBLE
      const ae_real v = _mm512_reduce_add_pd(acc[i][j]);
#else
      const ae_real v = _mm512_reduce_add_ps(acc[i][j]);
#endif
      ae_real *cij = c + i * rs_c + j * cs_c;
      *cij = accumulate ? *cij + v : v;
    }
}

const char *ae_gemm_ukernel_name(void) {
#define STR2(x) #x
#define STR(x) STR2(x)
  return "avx512 " STR(AE_GEMM_MR) "x" STR(AE_GEMM_NR);
}

#else /* portable build */

void ae_gemm_transpose_block(const ae_real *src, int64_t lds, int rows, int cols,
                             ae_real *dst, int64_t ldd, int store_rows) {
  for (int c = 0; c < cols; c++)
    for (int r = 0; r < store_rows; r++) dst[c * ldd + r] = r < rows ? src[r * lds + c] : 0;
}

void ae_gemm_transpose_rows(const ae_real *const *src, int rows, int cols, ae_real *dst, int64_t ldd,
                            int store_rows) {
  for (int c = 0; c < cols; c++)
    for (int r = 0; r < store_rows; r++) dst[c * ldd + r] = r < rows ? src[r][c] : 0;
}

/* Register-blocked with GCC's generic vectors (16 bytes: SSE2 on
 * baseline x86-64): MR x NR/PV vector accumulators (12 of the 16 xmm
 * registers), one broadcast of a and NR/PV loads of b per k. The sum over
 * k runs in the same order as the reference kernel's, element by element. */
#define PV (int)(16 / sizeof(ae_real))
typedef ae_real pvec __attribute__((vector_size(16)));

void ae_gemm_ukernel(int64_t kc, ae_real alpha, const ae_real *a, const ae_real *b,
                     ae_real beta, ae_real *c, int64_t rs_c, int64_t cs_c, int m, int n) {
  pvec acc[AE_GEMM_MR][AE_GEMM_NR / PV];
  for (int i = 0; i < AE_GEMM_MR; i++)
    for (int v = 0; v < AE_GEMM_NR / PV; v++) acc[i][v] = (pvec){0};
  for (int64_t p = 0; p < kc; p++) {
    const ae_real *ap = a + p * AE_GEMM_MR, *bp = b + p * AE_GEMM_NR;
    pvec bv[AE_GEMM_NR / PV];
    for (int v = 0; v < AE_GEMM_NR / PV; v++) __builtin_memcpy(&bv[v], bp + v * PV, sizeof(pvec));
    for (int i = 0; i < AE_GEMM_MR; i++) {
      pvec ai = (pvec){0} + ap[i];
      for (int v = 0; v < AE_GEMM_NR / PV; v++) acc[i][v] += ai * bv[v];
    }
  }
  ae_real out[AE_GEMM_MR * AE_GEMM_NR];
  for (int i = 0; i < AE_GEMM_MR; i++)
    for (int v = 0; v < AE_GEMM_NR / PV; v++) __builtin_memcpy(out + i * AE_GEMM_NR + v * PV, &acc[i][v], sizeof(pvec));
  tile_update(out, alpha, beta, c, rs_c, cs_c, m, n);
}

const char *ae_gemm_ukernel_name(void) {
#define STR2(x) #x
#define STR(x) STR2(x)
  return "portable " STR(AE_GEMM_MR) "x" STR(AE_GEMM_NR);
}

#endif
