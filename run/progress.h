/* progress.h: training progress on stderr.
 *   terminal (isatty(stderr)): one bar redrawn in place at most 10 times a
 *     second: stage, epoch, step, a bar of the epoch, "epoch mean loss"
 *     (the running mean of the epoch's training loss) and of each of its
 *     terms, samples/s and the estimated time left;
 *   not a terminal: one line per epoch end (epoch, step, the epoch's mean
 *     train loss and terms, validation and test loss, samples/s, elapsed);
 *   quiet: nothing. */
#ifndef AE_RUN_PROGRESS_H
#define AE_RUN_PROGRESS_H

#include "base/api.h"

#include <stdint.h>

typedef enum { AE_PROGRESS_QUIET, AE_PROGRESS_LINES, AE_PROGRESS_BAR } ae_progress_mode;

typedef struct ae_progress {
  ae_progress_mode mode;
  double t_start, t_last_draw;
  int64_t steps_done_start; /* total steps at the start of this invocation */
  int64_t samples;          /* samples seen in this invocation */
  int drawn;                /* a bar is on the screen */
} ae_progress;

/* quiet: no output; else a bar if stderr is a terminal, lines otherwise. */
AE_API void ae_progress_init(ae_progress *p, int quiet, int64_t step_now);

typedef struct ae_progress_pos {
  int stage, nstages;
  const char *stage_name; /* NULL for single-stage models */
  int64_t epoch;          /* 0-based within the stage */
  int64_t nepochs;        /* epochs in the stage's budget (0: unknown, --steps mode) */
  int64_t step_in_epoch, steps_per_epoch;
  int64_t step, total_steps; /* overall */
  double loss;               /* mean loss of the epoch so far */
  int nterms;                /* and of each of its terms */
  const char *term_name[8];
  double term[8];
} ae_progress_pos;

/* After each step (`batch` samples). Redraws the bar when due. */
AE_API void ae_progress_step(ae_progress *p, const ae_progress_pos *pos, int64_t batch);
/* At an epoch end: the line (lines mode) or a bar line kept on screen.
 * val_loss, test_loss NaN: none. */
AE_API void ae_progress_epoch(ae_progress *p, const ae_progress_pos *pos, double val_loss, double test_loss);
/* Clears the bar before other output (messages, the final report). */
AE_API void ae_progress_clear(ae_progress *p);

/* Wall clock in seconds (monotonic). */
AE_API double ae_monotonic_seconds(void);

#endif
