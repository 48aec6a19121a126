/* settings.c: typed key=value settings with validation (see settings.h). */
#include "settings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/tensor.h" /* ae_set_last_error */

static int find(const ae_settings *s, const char *key) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->defs[i].key, key) == 0) return i;
  return -1;
}

void ae_settings_init(ae_settings *s, const ae_setting_def *defs, int n) {
  s->n = n < AE_MAX_SETTINGS ? n : AE_MAX_SETTINGS;
  s->defs = defs;
  for (int i = 0; i < s->n; i++) snprintf(s->val[i], AE_SETTING_LEN, "%s", defs[i].def);
}

/* Decimal only: an optional '-', then digits. No spaces, '+', hex or octal. */
int ae_plain_int(const char *v) {
  const char *p = v + (*v == '-');
  if (!*p) return 0;
  for (; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  return 1;
}

/* A plain decimal number: digits, '.', an exponent, signs. No spaces, hex
 * (0x10), inf or nan. */
int ae_plain_real(const char *v) {
  if (!*v) return 0;
  for (const char *p = v; *p; p++)
    if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-')) return 0;
  return 1;
}

static int parse_int(const char *v, int64_t *out) {
  char *end;
  if (!ae_plain_int(v)) return -1;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || end == v || *end) return -1;
  *out = x;
  return 0;
}

static int parse_bool(const char *v, int *out) {
  if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes")) return *out = 1, 0;
  if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no")) return *out = 0, 0;
  return -1;
}

static int in_choices(const char *choices, const char *v) {
  size_t n = strlen(v);
  for (const char *p = choices; p && *p;) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == n && strncmp(p, v, n) == 0) return 1;
    p = bar ? bar + 1 : NULL;
  }
  return 0;
}

/* Validates v for definition d; 0 or -1 with a message. */
static int check(const ae_setting_def *d, const char *v) {
  int64_t iv;
  int b;
  switch (d->type) {
    case AE_SET_INT:
      if (parse_int(v, &iv) || iv < d->min || iv > d->max) {
        ae_set_last_error("setting %s=%s: expected an integer in [%g, %g]", d->key, v, d->min, d->max);
        return -1;
      }
      return 0;
    case AE_SET_REAL: {
      char *end;
      errno = 0;
      double x = strtod(v, &end);
      if (!ae_plain_real(v) || end == v || *end || errno || !isfinite(x) || x < d->min || x > d->max) {
        ae_set_last_error("setting %s=%s: expected a number in [%g, %g]", d->key, v, d->min, d->max);
        return -1;
      }
      return 0;
    }
    case AE_SET_BOOL:
      if (parse_bool(v, &b)) {
        ae_set_last_error("setting %s=%s: expected true or false", d->key, v);
        return -1;
      }
      return 0;
    case AE_SET_CHOICE:
      if (!in_choices(d->choices, v)) {
        ae_set_last_error("setting %s=%s: expected one of %s", d->key, v, d->choices);
        return -1;
      }
      return 0;
    case AE_SET_INTS: {
      /* every element present: "1,,2", ",1" and "1," are refused */
      char buf[AE_SETTING_LEN];
      snprintf(buf, sizeof buf, "%s", v);
      int count = 0;
      for (char *tok = buf;; count++) {
        char *comma = strchr(tok, ',');
        if (comma) *comma = 0;
        if (!*tok) {
          ae_set_last_error("setting %s=%s: element %d of the list is empty; expected comma-separated integers",
                            d->key, v, count + 1);
          return -1;
        }
        if (parse_int(tok, &iv) || iv < d->min || iv > d->max) {
          ae_set_last_error("setting %s=%s: expected comma-separated integers in [%g, %g]", d->key, v, d->min,
                            d->max);
          return -1;
        }
        if (!comma) break;
        tok = comma + 1;
      }
      return 0;
    }
  }
  return -1;
}

int ae_settings_set(ae_settings *s, const char *key, const char *value) {
  int i = find(s, key);
  if (i < 0) {
    ae_set_last_error("unknown setting '%s'; valid settings:", key);
    for (int k = 0; k < s->n; k++) ae_set_last_error("%s %s", ae_last_error(), s->defs[k].key);
    return -1;
  }
  if (strlen(value) >= AE_SETTING_LEN) {
    ae_set_last_error("setting %s: value is too long", key);
    return -1;
  }
  if (check(&s->defs[i], value)) return -1;
  snprintf(s->val[i], AE_SETTING_LEN, "%s", value);
  return 0;
}

int ae_settings_parse(ae_settings *s, const char *kv) {
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv) {
    ae_set_last_error("setting '%s': expected KEY=VALUE", kv);
    return -1;
  }
  char key[64];
  size_t n = (size_t)(eq - kv);
  if (n >= sizeof key) n = sizeof key - 1;
  memcpy(key, kv, n);
  key[n] = 0;
  return ae_settings_set(s, key, eq + 1);
}

int ae_settings_parse_all(ae_settings *s, int n, const char *const *kv) {
  for (int i = 0; i < n; i++) {
    const char *eq = strchr(kv[i], '=');
    size_t klen = eq ? (size_t)(eq - kv[i]) : strlen(kv[i]);
    for (int j = 0; j < i; j++) {
      const char *eqj = strchr(kv[j], '=');
      size_t jlen = eqj ? (size_t)(eqj - kv[j]) : strlen(kv[j]);
      if (klen == jlen && !strncmp(kv[i], kv[j], klen)) {
        ae_set_last_error("setting %.*s given twice ('%s' and '%s'); give each setting once", (int)klen, kv[i],
                          kv[j], kv[i]);
        return -1;
      }
    }
    if (ae_settings_parse(s, kv[i])) return -1;
  }
  return 0;
}

/* Looks a key up; a missing key is a bug in the model's code, not a user error. */
static const char *get(const ae_settings *s, const char *key) {
  int i = find(s, key);
  if (i < 0) {
    fprintf(stderr, "aezoo: internal error: model reads undeclared setting '%s'\n", key);
    abort();
  }
  return s->val[i];
}

int64_t ae_settings_int(const ae_settings *s, const char *key) { return strtoll(get(s, key), NULL, 10); }
double ae_settings_real(const ae_settings *s, const char *key) { return strtod(get(s, key), NULL); }
const char *ae_settings_str(const ae_settings *s, const char *key) { return get(s, key); }

int ae_settings_bool(const ae_settings *s, const char *key) {
  int b = 0;
  parse_bool(get(s, key), &b);
  return b;
}

int ae_settings_ints(const ae_settings *s, const char *key, int64_t *out, int max) {
  char buf[AE_SETTING_LEN];
  snprintf(buf, sizeof buf, "%s", get(s, key));
  int count = 0;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && count < max; tok = strtok_r(NULL, ",", &save))
    out[count++] = strtoll(tok, NULL, 10);
  return count;
}

void ae_settings_format(const ae_settings *s, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < s->n && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "", s->defs[i].key, s->val[i]);
}

int ae_settings_split(const char *s, char *buf, size_t buflen, char **out, int max) {
  snprintf(buf, buflen, "%s", s);
  int n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(buf, " ", &save); tok && n < max; tok = strtok_r(NULL, " ", &save)) out[n++] = tok;
  return n;
}
