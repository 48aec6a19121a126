/* gemm.c: ae_gemm, the library's one matrix multiply, and its backends.
 *
 * Built-in backend, BLIS-style blocking (Goto's algorithm):
 *   for jc in N step NC          B block   kc x nc   packed once, shared
 *     for pc in K step KC        (all threads pack it together)
 *       for ic in M step MC      A block   mc x kc   packed per thread
 *         for jr in nc step NR     macro-kernel: micro-tiles MR x NR
 *           for ir in mc step MR   (gemm_ukernel.h)
 * Work items of one (jc, pc) step are (ic block, range of jr panels); the
 * threads share them out with a static schedule. Packing buffers are
 * AE_ALIGN-aligned, allocated once per thread (the shared B block by the
 * calling thread) with ae_aligned_alloc and grown only when a bigger shape
 * comes, so a steady-state call allocates nothing.
 *
 * DETERMINISM INVARIANT: each C(i, j) is the sum over p of op(A)(i,p) op(B)(p,j)
 * taken in increasing p, split into KC blocks whose boundaries depend on K
 * alone: block 0 gives C = alpha*S0 + beta*C, each later block gives
 * C = alpha*Sb + 1*C, and each Sb is one accumulator summed in order by the
 * micro-kernel. Threads split M and N (whole micro-tiles), never K, and the
 * tile grid and the choice of path (direct or blocked) depend on (M, N, K)
 * only. So the result is bitwise identical for any thread count. Keep it so:
 * no K-splitting across threads, no thread-count-dependent KC.
 *
 * Three shortcuts keep those sums: where the swapped tile grid is smaller
 * (N = 100), or the grids tie and the swap copies less (swap_pays), the
 * product is computed as C^T = op(B)^T op(A)^T with the tiles stored
 * transposed (see swapped); where one A block covers M,
 * full-width panels of a non-transposed B are read in place, not packed
 * (panels_packed_here, ae_gemm_ukernel_b); and on AVX-512 a
 * non-transposed A of whole MR-row tiles is read in place by the
 * kernels' broadcasts, not transposed into panels (a_in_place).
 *
 * Small problems (M*N*K tiny, e.g. the 2x8 matrices of the small zoo models)
 * take a direct loop with no packing and no parallel region.
 */
#include "base/gemm.h"
#include "base/gemm_packed.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/parallel.h"
#include "base/tensor.h"
#include "base/gemm_ukernel.h"
#include "base/gemm_internal.h"
#include "base/base_internal.h"

#ifdef AE_HAVE_OPENBLAS
#include <cblas.h>
#endif

/* Cache blocking for Zen 4 (32 KiB L1d, 1 MiB L2 per core, 32 MiB L3): the
 * mc x kc A block (576 KiB) stays in L2, the kc x nc B block (4 MiB) in L3;
 * the kc x NR B micro-panel streams from L2, which Zen 4 feeds fast enough.
 * Measured (single thread, CPU time): KC 256/384/512 and MC 128..480 are
 * within 3% on the zoo shapes; KC 512 is best at 2048^3 and halves the
 * passes over C. Overridable with -D for tuning runs. */
#ifndef AE_GEMM_KC
#define AE_GEMM_KC 512
#endif
#ifndef AE_GEMM_MC
#define AE_GEMM_MC 288
#endif
#ifndef AE_GEMM_NC
#define AE_GEMM_NC 2048
#endif
/* A GEMM does AE_GEMM_PAR_DIV times more work per multiply-add than the
 * element-wise kernels AE_PAR_WORK was set for: open a region from
 * AE_GEMM_PAR_DIV * AE_PAR_MIN_WORK multiply-adds. */
#ifndef AE_GEMM_PAR_DIV
#define AE_GEMM_PAR_DIV 16
#endif
/* M*N*K at or below which the direct loop beats packing. Measured (one
 * thread): 2x8x8 takes 0.06-0.10 us direct against 0.10-0.12 us blocked, but
 * 8x8x8 already 0.22-0.35 us direct against 0.11-0.14 us blocked. */
#ifndef AE_GEMM_SMALL
#define AE_GEMM_SMALL 256
#endif

#define MC_PACK ((AE_GEMM_MC + MR - 1) / MR * MR)

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Splits n into equal blocks of at most `blk`, rounded up to a multiple of `q`. */
static int64_t balanced(int64_t n, int64_t blk, int64_t q) {
  int64_t nb = cdiv(n, blk);
  return cdiv(cdiv(n, nb), q) * q;
}

/* A blocks of an M-row product (gemm_blocked's nbm; moved_elems asks
 * whether it is 1). */
static int64_t a_blocks(int64_t M) { return cdiv(M, balanced(M, AE_GEMM_MC, MR)); }

/* ---- direct path: no packing, no threads ---- */

static ae_real opa(const gemm_args *g, int64_t i, int64_t p) {
  return g->ta ? g->A[p * g->lda + i] : g->A[i * g->lda + p];
}

static void gemm_direct(const gemm_args *g) {
  enum { JB = 64 };
  ae_real acc[JB];
  for (int64_t i = 0; i < g->M; i++) {
    ae_real *ci = g->C + i * g->ldc;
    for (int64_t j0 = 0; j0 < g->N; j0 += JB) {
      int64_t nb = min64(JB, g->N - j0);
      if (!g->tb) {
        for (int64_t j = 0; j < nb; j++) acc[j] = 0;
        for (int64_t p = 0; p < g->K; p++) {
          ae_real a = opa(g, i, p);
          const ae_real *bp = g->B + p * g->ldb + j0;
          for (int64_t j = 0; j < nb; j++) acc[j] += a * bp[j];
        }
      } else {
        for (int64_t j = 0; j < nb; j++) {
          const ae_real *bj = g->B + (j0 + j) * g->ldb;
          ae_real s = 0;
          for (int64_t p = 0; p < g->K; p++) s += opa(g, i, p) * bj[p];
          acc[j] = s;
        }
      }
      for (int64_t j = 0; j < nb; j++) {
        ae_real r = g->alpha * acc[j];
        ci[j0 + j] = g->beta == 0 ? r : r + g->beta * ci[j0 + j];
      }
    }
  }
}

/* ---- C's micro-tiles (packing: gemm_pack.c) ---- */

/* The micro-kernel's view of C at (i, j): the address and the strides. */
static ae_real *c_tile(const gemm_args *g, int64_t i, int64_t j, int64_t *rs, int64_t *cs) {
  *rs = g->ct ? 1 : g->ldc;
  *cs = g->ct ? g->ldc : 1;
  return g->C + i * *rs + j * *cs;
}

/* ---- buffers ---- */

static _Thread_local ae_real *tl_abuf;   /* MC_PACK x AE_GEMM_KC, then one B panel
                                            (AE_GEMM_KC x NR), per thread */
static _Thread_local ae_real *tl_bbuf;   /* kc x nc B block, calling thread */
static _Thread_local size_t tl_bbuf_len; /* in elements */

/* The buffers are freed when their thread exits (OpenMP and callers may
 * start and end threads): a pthread key whose destructor frees them. */
typedef struct {
  ae_real **a, **b;
} thread_bufs;
static pthread_key_t bufs_key;
static pthread_once_t bufs_once = PTHREAD_ONCE_INIT;

static void free_thread_bufs(void *p) {
  thread_bufs *tb = p;
  ae_aligned_free(*tb->a);
  ae_aligned_free(*tb->b);
  *tb->a = *tb->b = NULL;
  free(tb);
}

static void make_bufs_key(void) { pthread_key_create(&bufs_key, free_thread_bufs); }

/* Registers this thread's buffers for freeing at thread exit (once). */
static void register_thread_bufs(void) {
  pthread_once(&bufs_once, make_bufs_key);
  if (pthread_getspecific(bufs_key)) return;
  thread_bufs *tb = malloc(sizeof *tb);
  if (!tb) return;
  tb->a = &tl_abuf, tb->b = &tl_bbuf;
  pthread_setspecific(bufs_key, tb);
}

static ae_real *thread_abuf(void) {
  if (!tl_abuf) {
    register_thread_bufs();
    tl_abuf = ae_aligned_alloc(((size_t)MC_PACK + NR) * AE_GEMM_KC * sizeof(ae_real));
  }
  return tl_abuf;
}

static ae_real *caller_bbuf(size_t len) {
  if (len > tl_bbuf_len) {
    register_thread_bufs();
    ae_aligned_free(tl_bbuf);
    tl_bbuf = ae_aligned_alloc(len * sizeof(ae_real));
    tl_bbuf_len = tl_bbuf ? len : 0;
  }
  return tl_bbuf;
}

/* ---- blocked path ---- */

/* Whether the whole MR-row tiles of a block read op(A) in place (AVX-512:
 * the kernel's broadcasts take a(i, p) from A's rows as well as from a
 * packed panel): A not transposed, and few B panels (N at most
 * A_IN_PLACE_PANELS * NR) to spread the packing's cost over. A block's
 * last tile of fewer rows still reads a packed panel (its kernel computes
 * MR or MR/2 rows, and rows past A's end are not there to read).
 * Measured (aezoo_ab.sh, 1 thread, 5 rounds) with no bound on N:
 * deconv-ae 0.84, deep-ae 0.97: reading A's rows again for each of many
 * panels costs more than packing them once. */
#define A_IN_PLACE_PANELS 4
static int a_in_place(const gemm_args *g) {
  return AE_GEMM_UKERNEL_AVX512 && !g->ta && g->N <= A_IN_PLACE_PANELS * NR;
}

/* Whether full-width panels of op(B) can be read where B's rows lie
 * (AVX-512: ae_gemm_ukernel_b takes B's row stride): B not transposed
 * and not packed by a callback. panels_packed_here reads them so when
 * one A block covers M. */
static int b_rows_in_place(const gemm_args *g) { return AE_GEMM_UKERNEL_AVX512 && !g->tb && !g->pack_b; }

/* The tile at row ir of an mc-row block, kc deep, B's row p at b + p * ldb
 * (a packed panel when ldb is NR, else B in place, full width; B in place
 * with ldb = NR is laid out as a packed panel, and read as one): from A in
 * place (ar, where not NULL and the tile has MR rows) or from the packed
 * A block ap. */
static void tile(const gemm_args *g, const ae_real *ap, const ae_real *ar, int64_t ir, int64_t mc, int64_t kc,
                 const ae_real *b, int64_t ldb, ae_real beta, ae_real *c, int64_t rs, int64_t cs, int n) {
  const int m = (int)min64(MR, mc - ir);
#if AE_GEMM_UKERNEL_AVX512
  if (ar && m == MR) {
    ae__gemm_ukernel_a(kc, g->alpha, ar + ir * g->lda, g->lda, b, ldb, beta, c, rs, cs, n);
    return;
  }
  if (ldb != NR) {
    ae_gemm_ukernel_b(kc, g->alpha, ap + ir * kc, b, ldb, beta, c, rs, cs, m);
    return;
  }
#else
  (void)ar, (void)ldb; /* both AVX-512 only: ar is NULL and ldb NR here */
#endif
  ae_gemm_ukernel(kc, g->alpha, ap + ir * kc, b, beta, c, rs, cs, m, n);
}

/* Macro-kernel: micro-panels [j0, j1) of the packed B block times the packed
 * A block (mc rows starting at row ic of C), or times A read in place from
 * ar (op(A)'s row ic at column pc) where ar is not NULL. */
static void macro_kernel(const gemm_args *g, const ae_real *ap, const ae_real *ar, const ae_real *bp, int64_t ic,
                         int64_t jc, int64_t mc, int64_t nc, int64_t kc, int64_t j0, int64_t j1, ae_real beta) {
  for (int64_t jr = j0; jr < j1; jr++) {
    int n = (int)min64(NR, nc - jr * NR);
    const ae_real *bpan = bp + jr * NR * kc;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      int64_t rs, cs;
      ae_real *c = c_tile(g, ic + ir, jc + jr * NR, &rs, &cs);
      tile(g, ap, ar, ir, mc, kc, bpan, NR, beta, c, rs, cs, n);
    }
  }
}

typedef struct {
  const gemm_args *g;
  int64_t kcb, mcb, ncb, nbm; /* block sizes (depend on M, N, K only) */
  ae_real *bp;                /* shared packed B block */
  int fail;                   /* some thread could not get its A buffer */
} gemm_plan;

/* Panels [j0, j1) when M fits one A block: every B panel is used by one
 * work item only, so its thread packs it into its own kc x NR buffer just
 * before the micro-kernels read it (from L1) rather than into the shared
 * kc x nc block (megabytes written and read back from L3). The tiles are
 * the same and so are their sums. */
static void panels_packed_here(const gemm_args *g, const ae_real *ap, const ae_real *ar, ae_real *pb, int64_t ic,
                               int64_t jc, int64_t pc, int64_t mc, int64_t nc, int64_t kc, int64_t j0, int64_t j1,
                               ae_real beta) {
  for (int64_t jr = j0; jr < j1; jr++) {
    int n = (int)min64(NR, nc - jr * NR);
    /* rows of a full-width panel of B are B's rows: read in place (AVX-512) */
    const int b_in_place = b_rows_in_place(g) && n == NR;
    const ae_real *b = b_in_place ? g->B + pc * g->ldb + jc + jr * NR : pb;
    if (!b_in_place) ae__gemm_pack_b_panel(g, pc, jc, kc, nc, jr, pb);
    for (int64_t ir = 0; ir < mc; ir += MR) {
      int64_t rs, cs;
      ae_real *c = c_tile(g, ic + ir, jc + jr * NR, &rs, &cs);
      tile(g, ap, ar, ir, mc, kc, b, b_in_place ? g->ldb : NR, beta, c, rs, cs, n);
    }
  }
}

/* Run by every thread of the team GEMM opened (team = 1), or by the caller
 * alone (team = 0). Work is shared out explicitly, not with orphaned
 * "omp for"/"omp barrier": a caller may itself be a thread of another
 * team (conv runs one GEMM per thread), and orphaned constructs would bind
 * to that team. */
static void blocked_team(gemm_plan *pl, int team) {
  const gemm_args *g = pl->g;
  const int64_t N = g->N, K = g->K, M = g->M, mcb = pl->mcb, nbm = pl->nbm;
  ae_real *ap = thread_abuf(), *bp = pl->bp, *pb = ap ? ap + (size_t)MC_PACK * AE_GEMM_KC : NULL;
  const int own_b = nbm == 1; /* B panels packed by their users (panels_packed_here) */
  int tid = 0, nt = 1;
#ifdef _OPENMP
  if (team) tid = omp_get_thread_num(), nt = omp_get_num_threads();
#endif
  if (!ap) {
#pragma omp atomic write
    pl->fail = 1;
  }
  if (team) {
#pragma omp barrier
  }
  int failed;
#pragma omp atomic read
  failed = pl->fail;
  for (int64_t jc = 0; !failed && jc < N; jc += pl->ncb) {
    const int64_t nc = min64(pl->ncb, N - jc), npan = cdiv(nc, NR);
    /* Split each A block's columns into chunks so every thread has work;
     * this changes who computes a tile, never how (see the invariant). */
    const int64_t nchunks = nbm >= 2 * nt ? 1 : min64(npan, cdiv(2 * nt, nbm));
    const int64_t nitems = nbm * nchunks;
    for (int64_t pc = 0; pc < K; pc += pl->kcb) {
      const int64_t kc = min64(pl->kcb, K - pc);
      const ae_real beta = pc == 0 ? g->beta : (ae_real)1;
      int64_t lo, hi;
      if (!own_b) {
        ae_par_share(npan, tid, nt, &lo, &hi);
        for (int64_t jp = lo; jp < hi; jp++) ae__gemm_pack_b_panel(g, pc, jc, kc, nc, jp, bp + jp * NR * kc);
        if (team) {
#pragma omp barrier
        }
      }
      int64_t packed_ic = -1;
      ae_par_share(nitems, tid, nt, &lo, &hi);
      for (int64_t it = lo; it < hi; it++) {
        const int64_t ic = it / nchunks * mcb, ch = it % nchunks;
        const int64_t mc = min64(mcb, M - ic);
        /* A row-major op(A) is read in place, not packed, but for a last
         * tile of fewer than MR rows, packed at its place in ap */
        const ae_real *ar = a_in_place(g) ? g->A + ic * g->lda + pc : NULL;
        if (ic != packed_ic) {
          const int64_t from = ar ? mc / MR * MR : 0;
          if (from < mc) ae__gemm_pack_a(g, ic + from, pc, mc - from, kc, ap + from * kc);
          packed_ic = ic;
        }
        if (own_b)
          panels_packed_here(g, ap, ar, pb, ic, jc, pc, mc, nc, kc, ch * npan / nchunks, (ch + 1) * npan / nchunks,
                             beta);
        else
          macro_kernel(g, ap, ar, bp, ic, jc, mc, nc, kc, ch * npan / nchunks, (ch + 1) * npan / nchunks, beta);
      }
      if (team && !own_b) { /* bp is repacked next round */
#pragma omp barrier
      }
    }
  }
}

/* Returns 0, or -1 when a packing buffer could not be allocated (C untouched). */
static int gemm_blocked(const gemm_args *g) {
  gemm_plan pl = {g, balanced(g->K, AE_GEMM_KC, 1), balanced(g->M, AE_GEMM_MC, MR),
                  balanced(g->N, AE_GEMM_NC, NR), 0, NULL, 0};
  pl.nbm = a_blocks(g->M); /* cdiv(M, mcb) */
  if (pl.nbm > 1) { /* one A block: B panels go to per-thread buffers instead */
    pl.bp = caller_bbuf((size_t)pl.kcb * (size_t)pl.ncb);
    if (!pl.bp) return -1;
  }
  /* Parallel only where the work pays for the region (a few microseconds),
   * and not when called by a thread of a team (AE_PAR_WORK is 0 there). */
  int64_t work = g->M * g->N * g->K;
  if (AE_PAR_WORK(work / AE_GEMM_PAR_DIV) && cdiv(g->M, MR) * cdiv(g->N, NR) >= 4) {
#pragma omp parallel
    blocked_team(&pl, 1);
  } else {
    blocked_team(&pl, 0);
  }
  return pl.fail ? -1 : 0;
}

/* ---- backends ---- */

static ae_gemm_backend g_backend;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void backend_init(void) {
#if defined(AE_GEMM_DEFAULT_OPENBLAS) && defined(AE_HAVE_OPENBLAS)
  g_backend = AE_GEMM_OPENBLAS;
#else
  g_backend = AE_GEMM_BUILTIN;
#endif
  const char *env = getenv("AEZOO_GEMM");
  if (env && strcmp(env, "builtin") == 0) g_backend = AE_GEMM_BUILTIN;
  if (env && strcmp(env, "openblas") == 0 && ae_gemm_has_backend(AE_GEMM_OPENBLAS))
    g_backend = AE_GEMM_OPENBLAS;
}

int ae_gemm_has_backend(ae_gemm_backend b) {
  if (b == AE_GEMM_BUILTIN) return 1;
#ifdef AE_HAVE_OPENBLAS
  if (b == AE_GEMM_OPENBLAS) return 1;
#endif
  return 0;
}

int ae_gemm_set_backend(ae_gemm_backend b) {
  pthread_once(&g_once, backend_init);
  if (!ae_gemm_has_backend(b)) return -1;
  __atomic_store_n(&g_backend, b, __ATOMIC_RELAXED);
  return 0;
}

ae_gemm_backend ae_gemm_get_backend(void) {
  pthread_once(&g_once, backend_init);
  return __atomic_load_n(&g_backend, __ATOMIC_RELAXED);
}

const char *ae_gemm_backend_name(ae_gemm_backend b) {
  switch (b) {
    case AE_GEMM_BUILTIN: return "builtin";
    case AE_GEMM_OPENBLAS: return "openblas";
  }
  return "unknown";
}

#ifdef AE_HAVE_OPENBLAS
/* Runs cblas; returns -1 when a size does not fit OpenBLAS's int. OpenBLAS
 * keeps its own thread pool: follow ae_set_threads / omp_set_num_threads. */
static int gemm_openblas(const gemm_args *g) {
  if (g->M > INT_MAX || g->N > INT_MAX || g->K > INT_MAX || g->lda > INT_MAX ||
      g->ldb > INT_MAX || g->ldc > INT_MAX)
    return -1;
  static int threads_set;
  int nt = ae_get_threads();
  if (__atomic_load_n(&threads_set, __ATOMIC_RELAXED) != nt) {
    openblas_set_num_threads(nt);
    __atomic_store_n(&threads_set, nt, __ATOMIC_RELAXED);
  }
  enum CBLAS_TRANSPOSE ta = g->ta ? CblasTrans : CblasNoTrans;
  enum CBLAS_TRANSPOSE tb = g->tb ? CblasTrans : CblasNoTrans;
#ifdef AE_REAL_DOUBLE
  cblas_dgemm(CblasRowMajor, ta, tb, (int)g->M, (int)g->N, (int)g->K, g->alpha, g->A,
              (int)g->lda, g->B, (int)g->ldb, g->beta, g->C, (int)g->ldc);
#else
  cblas_sgemm(CblasRowMajor, ta, tb, (int)g->M, (int)g->N, (int)g->K, g->alpha, g->A,
              (int)g->lda, g->B, (int)g->ldb, g->beta, g->C, (int)g->ldc);
#endif
  return 0;
}
#endif

/* ---- operand swap ---- */

/* The micro-kernel computes whole MR x NR tiles (a narrow edge of at most
 * NR/2 columns on half the accumulators, AVX-512 only): the area it
 * computes for an m x n product. */
static int64_t tile_area(int64_t m, int64_t n) {
  int64_t full = n / NR * NR, rem = n - full, edge = rem == 0 ? 0 : NR;
#if AE_GEMM_UKERNEL_AVX512
  if (rem && (NR / AE_GEMM_VL) % 2 == 0 && rem <= NR / 2) edge = NR / 2;
#endif
  return cdiv(m, MR) * MR * (full + edge);
}

/* C = op(A) op(B) is also C^T = op(B)^T op(A)^T: the blocked path computes
 * that product instead, and the micro-kernel writes its tiles transposed,
 * when the swapped tile grid has at least (100 - SWAP_PCT)% less area. N =
 * 100 (ae's hidden layer) leaves a 4-column edge on 16 columns of work;
 * swapped, 100 rows waste 4 of 104. Measured (bench_gemm 1, AMD family
 * 26): 784x100x128 TN from 170 to 187-193 GFLOP/s (72% to 84% of the FMA
 * peak), 128x100x784 NT from 166 to 182 (70% to 77%). Every C(i, j) is still one accumulator summed over p
 * in increasing order with the same KC blocks (fma(a, b, s) = fma(b, a, s)),
 * so the result is bitwise the unswapped one, and the choice depends on M,
 * N and K only. */
#define SWAP_PCT 96

static gemm_args swapped(const gemm_args *g) {
  gemm_args s = *g;
  s.ta = !g->tb, s.tb = !g->ta;
  s.M = g->N, s.N = g->M;
  s.A = g->B, s.lda = g->ldb;
  s.B = g->A, s.ldb = g->lda;
  s.ct = !g->ct;
  return s;
}

/* Elements the blocked path copies for g besides computing it: op(A)
 * (packed, or read in place but again for each of its panels, which
 * costs about as much: see A_IN_PLACE_PANELS), op(B) unless its panels
 * are read in place (not transposed, one A block: panels_packed_here),
 * and C's elements when they are stored transposed (scattered stores). */
static int64_t moved_elems(const gemm_args *g) {
  int64_t b = b_rows_in_place(g) && a_blocks(g->M) == 1 ? 0 : g->K * g->N;
  return g->M * g->K + b + (g->ct ? g->M * g->N : 0);
}

/* Whether to compute g as gs (its swap): where gs's tile grid is at least
 * (100 - SWAP_PCT)% smaller; where neither grid is, the one that moves
 * fewer elements. That is a weight gradient dW = g^T h with few columns:
 * linear-ae's 784x30x128 TN packs its 784x128 A, and swapped (30x784x128
 * TN) reads g in place as B. Measured (bench_gemm 1, three rounds each,
 * GFLOP/s as given -> swapped): 784x30x128 TN 127-136 -> 188-193,
 * 250x30x128 (deep-ae) 148-152 -> 176-192, 256x64x128 (cae-deep) 172-175
 * -> 183-200, 1024x30x128 (conv-ae) 141-145 -> 141-145. The forward NT
 * products of 128 rows tie too (128x1000x784 for one), but counted this
 * way they stay as given: read in place at N = 128, their swapped A
 * moves as much as packing did (measured within noise either way). */
static int swap_pays(const gemm_args *g, const gemm_args *gs) {
  const int64_t au = tile_area(g->M, g->N), as = tile_area(gs->M, gs->N);
  if (as * 100 <= au * SWAP_PCT) return 1;
  if (au * 100 <= as * SWAP_PCT) return 0;
  return moved_elems(gs) < moved_elems(g);
}

/* C = beta * C (beta == 0 writes zeros without reading C). */
static void scale_c(const gemm_args *g) {
  for (int64_t i = 0; i < g->M; i++) {
    ae_real *ci = g->C + i * g->ldc;
    for (int64_t j = 0; j < g->N; j++) ci[j] = g->beta == 0 ? 0 : g->beta * ci[j];
  }
}

void ae_gemm(int transa, int transb, int64_t M, int64_t N, int64_t K, ae_real alpha,
             const ae_real *A, int64_t lda, const ae_real *B, int64_t ldb, ae_real beta,
             ae_real *C, int64_t ldc) {
  if (M < 0 || N < 0 || K < 0) {
    ae_set_last_error("gemm: negative size M=%lld N=%lld K=%lld", (long long)M, (long long)N,
                      (long long)K);
    return;
  }
  int64_t need_a = transa ? M : K, need_b = transb ? K : N;
  if ((M && K && lda < need_a) || (K && N && ldb < need_b) || (M && N && ldc < N)) {
    ae_set_last_error("gemm: stride too small (lda=%lld ldb=%lld ldc=%lld for M=%lld N=%lld "
                      "K=%lld transa=%d transb=%d)",
                      (long long)lda, (long long)ldb, (long long)ldc, (long long)M, (long long)N,
                      (long long)K, !!transa, !!transb);
    return;
  }
  gemm_args g = {!!transa, !!transb, M, N, K, alpha, beta, A, B, lda, ldb, C, ldc, NULL, NULL, 0};
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == 0) {
    scale_c(&g);
    return;
  }
#ifdef AE_HAVE_OPENBLAS
  if (ae_gemm_get_backend() == AE_GEMM_OPENBLAS && gemm_openblas(&g) == 0) return;
#endif
  if (M * N * K <= AE_GEMM_SMALL) {
    gemm_direct(&g);
    return;
  }
  gemm_args gs = swapped(&g);
  if (swap_pays(&g, &gs) ? gemm_blocked(&gs) != 0 : gemm_blocked(&g) != 0) gemm_direct(&g);
}

/* base_internal.h. The direct path sums all of K before it adds C; the
 * blocked path adds C to its first K block's sums, and with K <= KC that
 * block is all of K (balanced: one block). OpenBLAS: its blocking is its
 * own, so no. */
int ae__gemm_adds_exactly(int64_t M, int64_t N, int64_t K) {
  if (M <= 0 || N <= 0 || K <= 0) return 0;
#ifdef AE_HAVE_OPENBLAS
  if (ae_gemm_get_backend() == AE_GEMM_OPENBLAS) return 0;
#endif
  return M * N * K <= AE_GEMM_SMALL || K <= AE_GEMM_KC;
}

int ae_gemm_packed_b(int transa, int64_t M, int64_t N, int64_t K, ae_real alpha, const ae_real *A, int64_t lda,
                     ae_gemm_pack_b_fn pack_b, const void *ctx, ae_real beta, ae_real *C, int64_t ldc) {
  if (M < 0 || N < 0 || K < 0 || (M && K && lda < (transa ? M : K)) || (M && N && ldc < N) || !pack_b) {
    ae_set_last_error("gemm: bad arguments (M=%lld N=%lld K=%lld lda=%lld ldc=%lld)", (long long)M, (long long)N,
                      (long long)K, (long long)lda, (long long)ldc);
    return -1;
  }
  gemm_args g = {!!transa, 0, M, N, K, alpha, beta, A, NULL, lda, 0, C, ldc, pack_b, ctx, 0};
  if (M == 0 || N == 0) return 0;
  if (K == 0 || alpha == 0) {
    scale_c(&g);
    return 0;
  }
  if (gemm_blocked(&g) != 0) {
    ae_set_last_error("gemm: no memory for the packing buffers (M=%lld N=%lld K=%lld)", (long long)M, (long long)N,
                      (long long)K);
    return -1;
  }
  return 0;
}
