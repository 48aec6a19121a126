/* schedule.c: learning-rate schedules as pure functions of the step
 * (callers pass the result to ae_optim_set_lr each step): StepLR-style
 * step decay, and linear warmup followed by cosine decay to a floor. */
#include "optim.h"

#include <math.h>

static const double pi = 3.14159265358979323846;

double ae_lr_step_schedule(double base_lr, int64_t step, int64_t step_size, double gamma) {
  if (step < 0 || step_size < 1) {
    ae_set_last_error("lr_step_schedule: step = %lld, step_size = %lld (need step >= 0, step_size >= 1)",
                      (long long)step, (long long)step_size);
    return NAN;
  }
  return base_lr * pow(gamma, (double)(step / step_size));
}

double ae_lr_cosine_schedule(double base_lr, int64_t step, int64_t total_steps, double min_lr,
                             int64_t warmup_steps) {
  if (step < 0 || total_steps < 1 || warmup_steps < 0 || warmup_steps > total_steps) {
    ae_set_last_error("lr_cosine_schedule: step = %lld, total_steps = %lld, warmup_steps = %lld "
                      "(need step >= 0, total_steps >= 1, 0 <= warmup_steps <= total_steps)",
                      (long long)step, (long long)total_steps, (long long)warmup_steps);
    return NAN;
  }
  if (step >= total_steps) return min_lr;
  if (step < warmup_steps) return base_lr * (double)step / (double)warmup_steps;
  const double progress = (double)(step - warmup_steps) / (double)(total_steps - warmup_steps);
  return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + cos(pi * progress));
}
