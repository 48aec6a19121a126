/* thread_pick.h (internal): a run's choice of thread count from timing.
 * Results are bitwise the same for any thread count (GEMM, reductions and
 * random draws sum and count in orders that depend on the shapes alone),
 * so the count only changes speed, and a run may as well measure it: the
 * first steps run at each candidate in turn (1, 2, 4, ... up to the most
 * threads the run may use), PICK_ROUNDS rounds after PICK_WARMUP steps at
 * the most, and the rest of the run keeps the candidate with the least
 * time per step (the fewer threads on a tie). On 2 shared cores the second
 * thread makes a step of a small model slower (fork/join and a shared
 * memory bus cost more than the split saves), which this finds. */
#ifndef AE_THREAD_PICK_H
#define AE_THREAD_PICK_H

#include <stdint.h>

enum { AE_PICK_MAX_CAND = 12 };

typedef struct ae_thread_pick {
  int on;       /* still measuring */
  int chosen;   /* the count picked (0 until then) */
  int ncand, cand[AE_PICK_MAX_CAND];
  double best[AE_PICK_MAX_CAND]; /* least seconds per step seen, per candidate */
  int64_t step;                  /* steps seen */
} ae_thread_pick;

/* Starts measuring when max_threads > 1 (else picks max_threads at once). */
void ae_thread_pick_init(ae_thread_pick *p, int max_threads);
/* Before a step: sets the thread count for it. */
void ae_thread_pick_before(ae_thread_pick *p);
/* After it: its seconds. Returns 1 when this step completed the choice. */
int ae_thread_pick_after(ae_thread_pick *p, double seconds);
/* Steps the measurement takes. */
int64_t ae_thread_pick_steps(const ae_thread_pick *p);

#endif
