/* footprint.c: the memory estimate of a model from its settings, before it
 * is built (footprint.h), and the machine's available memory. All sums are
 * in double and saturate when converted back, so absurd settings give a
 * huge estimate rather than an overflow. */
#include "footprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WIDTHS 16
#define OVERHEAD ((double)(64 << 20))

/* The setting's index in s, or -1. */
static int find_setting(const ae_settings *s, const char *key) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->defs[i].key, key) == 0) return i;
  return -1;
}

/* The integers of setting key (one, or a comma-separated list) appended to
 * w; returns the new count. */
static int widths_of(const ae_settings *s, const char *key, double *w, int n) {
  int i = find_setting(s, key);
  if (i < 0 || (s->defs[i].type != AE_SET_INT && s->defs[i].type != AE_SET_INTS)) return n;
  char buf[AE_SETTING_LEN];
  snprintf(buf, sizeof buf, "%s", s->val[i]);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n < MAX_WIDTHS; tok = strtok_r(NULL, ",", &save))
    w[n++] = strtod(tok, NULL);
  return n;
}

static double setting_num(const ae_settings *s, const char *key, double dflt) {
  int i = find_setting(s, key);
  if (i < 0 || (s->defs[i].type != AE_SET_INT && s->defs[i].type != AE_SET_REAL)) return dflt;
  return strtod(s->val[i], NULL);
}

static int setting_is(const ae_settings *s, const char *key, const char *value) {
  int i = find_setting(s, key);
  return i >= 0 && strcmp(s->val[i], value) == 0;
}

static int64_t saturate(double x) { return x >= 9.2e18 ? INT64_MAX : x <= 0 ? 0 : (int64_t)x; }

/* Parameters and activations per example of the network the settings
 * describe (see footprint.h for the three shapes). */
static void estimate(const ae_model_def *d, const ae_settings *s, ae_shape ex, double *params, double *acts) {
  double dim = (double)ae_shape_numel(ex);
  double w[MAX_WIDTHS];
  int n = widths_of(s, "hidden", w, 0);
  int has_channels = find_setting(s, "channels") >= 0;
  double p = 0, a = dim;
  if (d->input == AE_INPUT_IMAGE && has_channels && ex.ndim == 3) {
    double c[MAX_WIDTHS];
    int nc = widths_of(s, "channels", c, 0);
    double cin = (double)ex.d[0], h = (double)ex.d[1], wd = (double)ex.d[2];
    for (int i = 0; i < nc; i++) {
      p += 2 * (9 * cin * c[i] + c[i]); /* encoder conv and its mirror */
      a += 2 * 2 * c[i] * h * wd;       /* before and after the halving, both sides */
      h = (double)(((int64_t)h + 1) / 2), wd = (double)(((int64_t)wd + 1) / 2);
      cin = c[i];
    }
    p += 9 * cin * cin + cin; /* a decoder may add one conv at the deepest width */
    double area = h * wd;
    double code[1];
    if (widths_of(s, "code", code, 0) == 1) {
      p += 2 * (cin * area * code[0] + code[0] + cin * area);
      a += 2 * code[0];
    }
  } else if (d->input == AE_INPUT_ROWS && ex.ndim >= 2) {
    double steps = (double)ex.d[ex.ndim - 2], in = (double)ex.d[ex.ndim - 1];
    n = widths_of(s, "code", w, n);
    double prev = in;
    for (int i = 0; i < n; i++) { /* encoder LSTMs, mirrored by the decoder */
      p += 2 * 4 * w[i] * (prev + w[i] + 2);
      a += 2 * steps * 6 * w[i];
      prev = w[i];
    }
    p += prev * in + in; /* the dense output per step */
  } else {
    n = widths_of(s, "code", w, n);
    double prev = dim;
    for (int i = 0; i < n; i++) {
      /* layer, its mirror, their biases; the code layer thrice (a variational
       * encoder has two: mean and log-variance) */
      p += (i == n - 1 ? 3 : 2) * (prev * w[i]) + 2 * w[i] + prev;
      a += 2 * w[i];
      prev = w[i];
    }
  }
  *params = p;
  *acts = a;
}

int64_t ae_model_param_estimate(const ae_model_def *d, const ae_settings *s, ae_shape example) {
  double p, a;
  estimate(d, s, example, &p, &a);
  return saturate(p);
}

int64_t ae_model_footprint(const ae_model_def *d, const ae_settings *s, ae_shape example, int64_t batch) {
  double p, a;
  estimate(d, s, example, &p, &a);
  /* how many times a step goes through the network beyond the plain loss */
  double probes = setting_num(s, "probes", 0), corruptions = setting_num(s, "corruptions", 0);
  double repeats = probes + corruptions * (1 + (probes > 0 ? probes : 1)) + setting_num(s, "steps", 0);
  if (setting_is(s, "jacobian", "exact")) {
    double w[MAX_WIDTHS];
    int n = widths_of(s, "code", w, widths_of(s, "hidden", w, 0));
    double units = n ? w[n - 1] : 1, dim = (double)ae_shape_numel(example);
    repeats += units < dim ? units : dim; /* one VJP per code unit or one JVP per input */
  }
  double b = batch > 0 ? (double)batch : 1;
  double bytes = (double)sizeof(ae_real) * (4 * p + b * a * (8 + 4 * repeats)) + OVERHEAD;
  return saturate(bytes);
}

int64_t ae_available_memory(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    long long kb = -1;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
    fclose(f);
    if (kb > 0) return (int64_t)kb * 1024;
  }
  long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  if (pages > 0 && size > 0) return (int64_t)pages * size;
  return -1;
}

static void human(double b, char *buf, size_t len) {
  const char *unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (b >= 1024 && u < 6) b /= 1024, u++;
  snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static int64_t memory_limit; /* ae_set_memory_limit; 0: the available memory */
void ae_set_memory_limit(int64_t bytes) { memory_limit = bytes > 0 ? bytes : 0; }
int64_t ae_memory_limit(void) { return memory_limit; }

int ae_model_check_footprint(const ae_model_def *d, const ae_settings *s, ae_shape example, int64_t batch,
                             int64_t limit) {
  const char *what = "the limit";
  if (limit <= 0) limit = memory_limit;
  if (limit <= 0) {
    limit = ae_available_memory();
    what = "the available memory (MemAvailable)";
    if (limit <= 0) return 0;
  }
  int64_t need = ae_model_footprint(d, s, example, batch);
  if (need <= limit) return 0;
  char a[32], b[32];
  human((double)need, a, sizeof a);
  human((double)limit, b, sizeof b);
  ae_set_last_error("model %s: these settings need about %s (%lld bytes: %lld parameters, batch %lld), more than %s "
                    "of %s (%lld bytes); use smaller settings or raise --max-memory",
                    d->name, a, (long long)need, (long long)ae_model_param_estimate(d, s, example), (long long)batch,
                    what, b, (long long)limit);
  return -1;
}
