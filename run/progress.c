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

/* "epoch mean loss 0.1234 (recon 0.12, kl 0.003)" */
static void losses(const ae_progress_pos *pos, char *buf, size_t len) {
  int used = snprintf(buf, len, "epoch mean loss %.5g", pos->loss);
  for (int i = 0; i < pos->nterms && (size_t)used < len; i++)
    used += snprintf(buf + used, len - (size_t)used, "%s%s %.4g%s", i ? ", " : " (", pos->term_name[i], pos->term[i],
                     i == pos->nterms - 1 ? ")" : "");
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
  char w[96], tl[32], bar[32], ls[512];
  where(pos, w, sizeof w);
  losses(pos, ls, sizeof ls);
  fmt_time(left, tl, sizeof tl);
  int width = 20;
  int fill = pos->steps_per_epoch > 0 ? (int)(width * pos->step_in_epoch / pos->steps_per_epoch) : 0;
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = 0;
  fprintf(stderr, "\r\033[K%s [%s] step %lld/%lld  %s  %.0f samples/s  %s left", w, bar, (long long)pos->step,
          (long long)pos->total_steps, ls, el > 0 ? (double)p->samples / el : 0.0, tl);
  fflush(stderr);
  p->drawn = 1;
}

void ae_progress_epoch(ae_progress *p, const ae_progress_pos *pos, double val_loss, double test_loss) {
  if (p->mode == AE_PROGRESS_QUIET) return;
  double el = ae_monotonic_seconds() - p->t_start;
  char w[96], t[32], test[96] = "", ls[512];
  where(pos, w, sizeof w);
  losses(pos, ls, sizeof ls);
  fmt_time(el, t, sizeof t);
  int used = 0;
  if (!isnan(val_loss)) used = snprintf(test, sizeof test, "  val loss %.5g", val_loss);
  if (!isnan(test_loss)) snprintf(test + used, sizeof test - (size_t)used, "  test loss %.5g", test_loss);
  ae_progress_clear(p);
  fprintf(stderr, "%s  step %lld/%lld  %s%s  %.0f samples/s  %s elapsed\n", w, (long long)pos->step,
          (long long)pos->total_steps, ls, test, el > 0 ? (double)p->samples / el : 0.0, t);
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
