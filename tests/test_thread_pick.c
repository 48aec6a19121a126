/* test_thread_pick.c: the choice of thread count from step times
 * (run/thread_pick.h): the candidates (1, 2, 4, ... and the most), which
 * count each step runs at (the most during the warm-up, then the
 * candidates in turn), and the choice (the least time per step, the fewer
 * threads on a tie), on made-up times. */
#include <criterion/criterion.h>

#include "aezoo.h"
#include "run/thread_pick.h"

Test(thread_pick, candidates) {
  ae_thread_pick p;
  ae_thread_pick_init(&p, 1);
  cr_assert(!p.on && p.chosen == 1, "one thread: nothing to measure");
  ae_thread_pick_init(&p, 5);
  cr_assert_eq(p.ncand, 4);
  int want[] = {1, 2, 4, 5};
  for (int i = 0; i < 4; i++) cr_assert_eq(p.cand[i], want[i]);
  ae_thread_pick_init(&p, 16);
  cr_assert_eq(p.ncand, 5);
  cr_assert_eq(p.cand[4], 16);
}

/* Feeds seconds per candidate (time[k] for p.cand[k]); returns the choice. */
static int run_pick(int max, const double *time, int *seen_threads) {
  ae_thread_pick p;
  ae_thread_pick_init(&p, max);
  int64_t n = ae_thread_pick_steps(&p);
  for (int64_t s = 0; s < n; s++) {
    ae_thread_pick_before(&p);
    int th = ae_get_threads(), k = 0;
    while (k < p.ncand && p.cand[k] != th) k++;
    cr_assert(k < p.ncand, "step %lld ran at %d threads, no candidate", (long long)s, th);
    if (seen_threads) seen_threads[k]++;
    int done = ae_thread_pick_after(&p, s < 2 ? 1e9 : time[k]); /* warm-up steps: slow, and ignored */
    cr_assert_eq(done, s == n - 1);
  }
  cr_assert(!p.on);
  cr_assert_eq(ae_get_threads(), p.chosen, "the chosen count is set");
  return p.chosen;
}

Test(thread_pick, keeps_the_fastest_and_the_fewer_on_a_tie) {
  const int old = ae_get_threads();
  int seen[AE_PICK_MAX_CAND] = {0};
  cr_assert_eq(run_pick(2, (double[]){2.0e-3, 1.0e-3}, seen), 2);
  cr_assert_eq(seen[0], 3, "1 thread: 3 timed steps");
  cr_assert_eq(seen[1], 2 + 3, "2 threads: the warm-up and 3 timed steps");
  cr_assert_eq(run_pick(2, (double[]){1.0e-3, 2.7e-3}, NULL), 1);
  cr_assert_eq(run_pick(2, (double[]){1.0e-3, 1.0e-3}, NULL), 1);
  cr_assert_eq(run_pick(8, (double[]){9e-3, 5e-3, 3e-3, 4e-3}, NULL), 4);
  ae_set_threads(old);
}
