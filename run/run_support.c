/* run_support.c: the run's learning-rate schedules and its data
 * fingerprint (run.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "optim/optim.h"
#include "run.h"

static const char sched_forms[] = "constant, cosine, step:EPOCHS:GAMMA, warmup:STEPS or warmup:STEPS,cosine";

/* A whole positive decimal integer (no sign, no hex). */
static int parse_count(const char *s, const char *end, int64_t *out) {
  if (s == end || end - s > 18) return -1;
  int64_t v = 0;
  for (const char *p = s; p < end; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
  }
  *out = v;
  return v >= 1 ? 0 : -1;
}

int ae_lr_sched_parse(const char *spec, ae_lr_sched *s) {
  memset(s, 0, sizeof *s);
  if (!spec || strcmp(spec, "constant") == 0 || !spec[0]) {
    s->kind = AE_SCHED_CONSTANT;
    if (spec && !spec[0]) goto bad;
    return 0;
  }
  if (strcmp(spec, "cosine") == 0) {
    s->kind = AE_SCHED_COSINE;
    return 0;
  }
  if (strncmp(spec, "step:", 5) == 0) {
    const char *a = spec + 5, *colon = strchr(a, ':');
    if (!colon || parse_count(a, colon, &s->epochs)) goto bad;
    char *end;
    const char *g = colon + 1;
    if (!(*g >= '0' && *g <= '9') && *g != '.') goto bad; /* no sign, inf, nan */
    s->gamma = strtod(g, &end);
    if (*end || strchr(g, 'x') || strchr(g, 'X') || !(s->gamma > 0 && s->gamma <= 1)) goto bad;
    s->kind = AE_SCHED_STEP;
    return 0;
  }
  if (strncmp(spec, "warmup:", 7) == 0) {
    const char *a = spec + 7, *comma = strchr(a, ',');
    const char *end = comma ? comma : a + strlen(a);
    if (parse_count(a, end, &s->warmup)) goto bad;
    if (comma && strcmp(comma + 1, "cosine") != 0) goto bad;
    s->kind = comma ? AE_SCHED_COSINE : AE_SCHED_WARMUP;
    return 0;
  }
bad:
  ae_set_last_error("unknown learning-rate schedule '%.100s'; valid forms: %s (EPOCHS, STEPS whole numbers >= 1, "
                    "0 < GAMMA <= 1)",
                    spec ? spec : "", sched_forms);
  return -1;
}

double ae_lr_sched_at(const ae_lr_sched *s, double base_lr, int64_t step, int64_t total, int64_t steps_per_epoch) {
  switch (s->kind) {
  case AE_SCHED_CONSTANT: break;
  case AE_SCHED_COSINE: {
    int64_t w = s->warmup < total ? s->warmup : total;
    return ae_lr_cosine_schedule(base_lr, step, total > 0 ? total : 1, 0, w);
  }
  case AE_SCHED_STEP: {
    int64_t size = s->epochs * (steps_per_epoch > 0 ? steps_per_epoch : 1);
    return ae_lr_step_schedule(base_lr, step, size, s->gamma);
  }
  case AE_SCHED_WARMUP:
    return step < s->warmup ? base_lr * (double)step / (double)s->warmup : base_lr; /* as the cosine's warmup */
  }
  return base_lr;
}

uint64_t ae_run_data_hash(const ae_tensor *x) {
  return ae_ckpt_hash(x->data, sizeof(ae_real) * (size_t)x->numel);
}
