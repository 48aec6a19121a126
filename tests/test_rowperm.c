/* test_rowperm.c: the planned permutations of base/rowperm.h (the
 * convolution's padding and phase split) against the loop they replace,
 * d[j] = s[idx[j]] (+ c), 0 where idx[j] < 0, bit for bit: random tables
 * with padding, lengths around the vector width, sources that end where
 * an unreadable page begins (the plan's loads must stay inside s: a lane
 * read past it faults), -0 kept by the copy and made +0 by the add, and the
 * tables of the stride-2 and stride-3 phase splits conv_grid.c builds.
 * Built twice (f32, f64). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/rowperm.h"

/* Plans idx (n entries, sources in [0, slen)) in malloc'd pieces. */
static ae_rc_perm plan(const int32_t *idx, int64_t n, int64_t slen, ae_rc_piece **pieces) {
  const int64_t cap = ae_rc_perm_cap(n);
  *pieces = malloc((size_t)(cap ? cap : 1) * sizeof(ae_rc_piece));
  cr_assert(*pieces);
  ae_rc_perm pl;
  ae_rc_perm_init(&pl, idx, n, slen, *pieces);
  return pl;
}

/* slen elements that end where a page with no access begins. */
typedef struct {
  void *map;
  size_t bytes;
  ae_real *s;
} guarded;
static guarded guarded_alloc(int64_t slen) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE), data = ((size_t)slen * sizeof(ae_real) + page - 1) / page * page;
  guarded g = {mmap(NULL, data + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), data + page, NULL};
  cr_assert(g.map != MAP_FAILED);
  cr_assert(mprotect((char *)g.map + data, page, PROT_NONE) == 0);
  g.s = (ae_real *)((char *)g.map + data) - slen;
  return g;
}

/* Runs the plan of idx on s (slen elements, up against a page with no
 * access) and compares with the loop, with and without the add. */
static void check(const int32_t *idx, int64_t n, int64_t slen, const char *what) {
  const guarded g = guarded_alloc(slen);
  ae_real *s = g.s;
  ae_real *d = malloc((size_t)(n + 1) * sizeof(ae_real)), *want = malloc((size_t)(n + 1) * sizeof(ae_real));
  cr_assert(s && d && want);
  for (int64_t e = 0; e < slen; e++) s[e] = e % 7 == 3 ? (ae_real)-0.0 : (ae_real)(e * 0.25 - 3);
  ae_rc_piece *pieces;
  const ae_rc_perm pl = plan(idx, n, slen, &pieces);
  for (int add = 0; add <= 1; add++) {
    for (int r = 0; r < 2; r++) {
      const ae_real cc = r ? (ae_real)1.5 : 0; /* 0 added: -0 becomes +0 */
      d[n] = want[n] = 42;
      for (int64_t j = 0; j < n; j++) {
        d[j] = (ae_real)-7;
        want[j] = idx[j] < 0 ? 0 : add ? s[idx[j]] + cc : s[idx[j]];
      }
      ae_rc_perm_run(&pl, d, s, add, cc);
      for (int64_t j = 0; j <= n; j++)
        cr_assert(memcmp(&d[j], &want[j], sizeof(ae_real)) == 0, "%s (n %lld, add %d, c %g): d[%lld] = %g, want %g",
                  what, (long long)n, add, (double)cc, (long long)j, (double)d[j], (double)want[j]);
    }
  }
  free(pieces), free(d), free(want);
  munmap(g.map, g.bytes);
}

Test(rowperm, random_tables_equal_the_loop) {
  srand(7);
  for (int64_t n = 0; n <= 70; n++)
    for (int trial = 0; trial < 8; trial++) {
      const int64_t slen = 1 + rand() % 100;
      int32_t *idx = malloc((size_t)(n + 1) * sizeof(int32_t));
      for (int64_t j = 0; j < n; j++) {
        const int kind = rand() % 4; /* padding, a near run (one piece), anywhere */
        idx[j] = kind == 0 ? -1 : kind == 1 ? (int32_t)((j + trial) % slen) : (int32_t)(rand() % slen);
      }
      check(idx, n, slen, "random table");
      free(idx);
    }
}

/* The phase split of a c = 1 image, as conv_grid.c's phase_perm lays it
 * out: planes[a][b][u][v] = padded image[u sh + a][v sw + b]. */
static void phase_tables(int64_t h, int64_t w, int64_t s, int64_t pad) {
  const int64_t hq = (h + 2 * pad + s - 1) / s, wq = (w + 2 * pad + s - 1) / s, planes = s * s * hq * wq;
  int32_t *fwd = malloc((size_t)planes * sizeof(int32_t)), *back = malloc((size_t)(h * w) * sizeof(int32_t));
  for (int64_t q = 0; q < planes; q++) fwd[q] = -1;
  for (int64_t ih = 0; ih < h; ih++)
    for (int64_t iw = 0; iw < w; iw++) {
      const int64_t r = ih + pad, c = iw + pad, q = ((r % s * s + c % s) * hq + r / s) * wq + c / s;
      fwd[q] = (int32_t)(ih * w + iw), back[ih * w + iw] = (int32_t)q;
    }
  check(fwd, planes, h * w, "phase split");
  check(back, h * w, planes, "phase split taken back");
  free(fwd), free(back);
}

Test(rowperm, phase_split_tables_equal_the_loop) {
  const int64_t sizes[][2] = {{28, 28}, {14, 14}, {7, 7}, {4, 4}, {1, 1}, {5, 9}, {33, 3}};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
    for (int64_t s = 2; s <= 3; s++)
      for (int64_t pad = 0; pad <= 2; pad++) phase_tables(sizes[k][0], sizes[k][1], s, pad);
}
