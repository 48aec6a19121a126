/* settings.h: a model's key=value settings. Each model declares a table of
 * typed settings with defaults; users override them as strings
 * (`--set hidden=100,30`), validated here with messages that name the key
 * and the valid choices. Values are kept as strings, so the same text goes
 * into checkpoints and comes back unchanged. */
#ifndef AE_SETTINGS_H
#define AE_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "base/api.h"

typedef enum ae_setting_type {
  AE_SET_INT,    /* an integer in [min, max] */
  AE_SET_REAL,   /* a real in [min, max] */
  AE_SET_BOOL,   /* true|false (also 1|0, yes|no) */
  AE_SET_CHOICE, /* one of choices, "mse|bce" */
  AE_SET_INTS,   /* a comma-separated list of integers in [min, max], e.g. hidden sizes */
} ae_setting_type;

typedef struct ae_setting_def {
  const char *key;
  ae_setting_type type;
  const char *def;     /* default, as text */
  const char *help;
  const char *choices; /* AE_SET_CHOICE: "a|b|c" */
  double min, max;     /* numeric range (inclusive) */
} ae_setting_def;

#define AE_MAX_SETTINGS 24
#define AE_SETTING_LEN 96

typedef struct ae_settings {
  int n;
  const ae_setting_def *defs;
  char val[AE_MAX_SETTINGS][AE_SETTING_LEN];
} ae_settings;

/* Defaults from the table. */
AE_API void ae_settings_init(ae_settings *s, const ae_setting_def *defs, int n);
/* Sets one key; 0, or -1 with a one-line message in ae_last_error() naming the key and
 * the valid keys or values. */
AE_API int ae_settings_set(ae_settings *s, const char *key, const char *value);
/* "key=value" form. Values are strict: integers are plain decimal (no
 * spaces, '+', hex), reals plain decimal numbers (no hex, inf or nan),
 * lists have no empty elements ("1,,2", ",1", "1," are refused). */
AE_API int ae_settings_parse(ae_settings *s, const char *kv);
/* n "key=value" strings in order; a key given twice is an error (naming
 * both), not "the last wins" (the CLI's --set). ae_model_new applies its
 * strings one by one instead, so library callers may layer settings. */
AE_API int ae_settings_parse_all(ae_settings *s, int n, const char *const *kv);

AE_API int64_t ae_settings_int(const ae_settings *s, const char *key);
AE_API double ae_settings_real(const ae_settings *s, const char *key);
AE_API int ae_settings_bool(const ae_settings *s, const char *key);
AE_API const char *ae_settings_str(const ae_settings *s, const char *key);
/* Parses an AE_SET_INTS value into out (at most max); returns the count. */
AE_API int ae_settings_ints(const ae_settings *s, const char *key, int64_t *out, int max);
/* All settings as "k1=v1 k2=v2 ..." (for checkpoints and logs). */
AE_API void ae_settings_format(const ae_settings *s, char *buf, size_t len);

/* Splits a settings string as written by ae_settings_format ("k1=v1 k2=v2")
 * into at most max "key=value" strings stored in buf (a copy of s, split in
 * place; buf must hold strlen(s)+1 bytes). Returns the count. */
AE_API int ae_settings_split(const char *s, char *buf, size_t buflen, char **out, int max);

/* Strict number text, for settings and the command's options alike: an
 * integer is an optional '-' then digits (no spaces, '+', hex or octal); a
 * real has only digits, '.', an exponent and signs (no hex, inf or nan). */
AE_API int ae_plain_int(const char *v);
AE_API int ae_plain_real(const char *v);

#endif
