/* thread_pick.c: a run's choice of thread count from the time of its
 * first steps (thread_pick.h). */
#include "thread_pick.h"

#include "base/parallel.h"

#define PICK_WARMUP 2 /* steps at the most threads first: the arena and buffers grow */
#define PICK_ROUNDS 3 /* steps per candidate, interleaved: the least of them counts */

void ae_thread_pick_init(ae_thread_pick *p, int max_threads) {
  *p = (ae_thread_pick){0};
  if (max_threads < 1) max_threads = 1;
  for (int k = 1; k < max_threads && p->ncand < AE_PICK_MAX_CAND - 1; k *= 2) p->cand[p->ncand++] = k;
  p->cand[p->ncand++] = max_threads;
  for (int i = 0; i < p->ncand; i++) p->best[i] = -1;
  p->on = p->ncand > 1;
  p->chosen = p->on ? 0 : max_threads;
  ae_set_threads(max_threads);
}

int64_t ae_thread_pick_steps(const ae_thread_pick *p) { return PICK_WARMUP + (int64_t)PICK_ROUNDS * p->ncand; }

/* The candidate of the current step, or -1 during the warm-up. */
static int current(const ae_thread_pick *p) {
  return p->step < PICK_WARMUP ? -1 : (int)((p->step - PICK_WARMUP) % p->ncand);
}

void ae_thread_pick_before(ae_thread_pick *p) {
  if (!p->on) return;
  int i = current(p);
  ae_set_threads(i < 0 ? p->cand[p->ncand - 1] : p->cand[i]);
}

int ae_thread_pick_after(ae_thread_pick *p, double seconds) {
  if (!p->on) return 0;
  int i = current(p);
  if (i >= 0 && (p->best[i] < 0 || seconds < p->best[i])) p->best[i] = seconds;
  if (++p->step < ae_thread_pick_steps(p)) return 0;
  int b = 0;
  for (int k = 1; k < p->ncand; k++)
    if (p->best[k] < p->best[b]) b = k; /* strictly less: a tie keeps the fewer threads */
  p->chosen = p->cand[b];
  p->on = 0;
  ae_set_threads(p->chosen);
  return 1;
}
