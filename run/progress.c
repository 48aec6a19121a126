/* progress.c: the training progress bar and per-epoch lines (progress.h). */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <time.h>

void ae_progress_init(ae_progress *p, int quiet, int64_t step_now) {
  memset(p, 0, sizeof *p);
  p->mode = quiet ? AE_PROGRESS_QUIET : isatty(2) ? AE_PROGRESS_BAR : AE_PROGRESS_LINES;
  p->t_start = ae_monotonic_seconds();
  p->steps_done_start = step_now;
}

static void fmt_time(double s, char *buf, size_t len) {
  if (!isfinite(s) || s < 0) {
    snprintf(buf, len, "?");
    return;
  }
  long t = (long)(s + 0.5);
  if (t >= 3600)
    snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static void where(const ae_progress_pos *pos, char *buf, size_t len) {
  int used = 0;
  if (pos->nstages > 1)
    used = snprintf(buf, len, "stage %d/%d%s%s ", pos->stage + 1, pos->nstages, pos->stage_name ? " " : "",
                    pos->stage_name ? pos->stage_name : "");
  if (pos->nepochs > 0)
    snprintf(buf + used, len - (size_t)used, "epoch %lld/%lld", (long long)pos->epoch + 1, (long long)pos->nepochs);
  else
    snprintf(buf + used, len - (size_t)used, "epoch %lld", (long long)pos->epoch + 1);
}

void ae_progress_step(ae_progress *p, const ae_progress_pos *pos, int64_t batch) {
  p->samples += batch;
  if (p->mode != AE_PROGRESS_BAR) return;
  double now = ae_monotonic_seconds();
  if (p->drawn && now - p->t_last_draw < 0.1 && pos->step < pos->total_steps) return;
  p->t_last_draw = now;
  double el = now - p->t_start;
  int64_t done = pos->step - p->steps_done_start;
  double left = done > 0 ? el / (double)done * (double)(pos->total_steps - pos->step) : NAN;
  char w[96], tl[32], bar[32];
  where(pos, w, sizeof w);
  fmt_time(left, tl, sizeof tl);
  int width = 20;
  int fill = pos->steps_per_epoch > 0 ? (int)(width * pos->step_in_epoch / pos->steps_per_epoch) : 0;
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = 0;
  fprintf(stderr, "\r\033[K%s [%s] step %lld/%lld  loss %.5g  %.0f samples/s  %s left", w, bar, (long long)pos->step,
          (long long)pos->total_steps, pos->loss, el > 0 ? (double)p->samples / el : 0.0, tl);
  fflush(stderr);
  p->drawn = 1;
}

void ae_progress_epoch(ae_progress *p, const ae_progress_pos *pos, double test_loss) {
  if (p->mode == AE_PROGRESS_QUIET) return;
  double el = ae_monotonic_seconds() - p->t_start;
  char w[96], t[32], test[48] = "";
  where(pos, w, sizeof w);
  fmt_time(el, t, sizeof t);
  if (!isnan(test_loss)) snprintf(test, sizeof test, "  test loss %.5g", test_loss);
  ae_progress_clear(p);
  fprintf(stderr, "%s  step %lld/%lld  loss %.5g%s  %.0f samples/s  %s elapsed\n", w, (long long)pos->step,
          (long long)pos->total_steps, pos->loss, test, el > 0 ? (double)p->samples / el : 0.0, t);
  fflush(stderr);
}

void ae_progress_clear(ae_progress *p) {
  if (p->mode == AE_PROGRESS_BAR && p->drawn) {
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
  }
  p->drawn = 0;
}

double ae_monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
