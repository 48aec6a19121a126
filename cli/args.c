/* args.c: long-option parsing with generated --help text (args.h), strict
 * values (no empty strings, plain decimal numbers only), and the common
 * --max-memory option of the commands that build models. */
#include "args.h"
#include "zoo/footprint.h"
#include "zoo/settings.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The commands that build models take --max-memory. */
static int builds_models(const cli_cmd_help *cmd) {
  static const char *const names[] = {"train", "gradcheck", "eval", "reconstruct", "sample", "encode"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(cmd->name, names[i])) return 1;
  return 0;
}

int cli_parse_bytes(const char *v, int64_t *out) {
  if (!*v || !((*v >= '0' && *v <= '9') || *v == '.')) return -1;
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (errno || end == v || !isfinite(x)) return -1;
  for (const char *p = v; p < end; p++)
    if (!((*p >= '0' && *p <= '9') || *p == '.')) return -1; /* no exponents, hex or signs */
  double mul = 1;
  if (*end) {
    const char *units = "KMGT";
    const char *u = strchr(units, *end >= 'a' ? *end - 32 : *end);
    if (!u || !*u) return -1;
    for (const char *q = units; q <= u; q++) mul *= 1024;
    end++;
    if (*end == 'i') end++;
    if (*end == 'B') end++;
  }
  if (*end) return -1;
  x *= mul;
  if (x < 1 || x > 9.2e18) return -1;
  *out = (int64_t)x;
  return 0;
}

cli_opt *cli_find_opt(cli_opt *opts, int nopts, const char *name) {
  for (int i = 0; i < nopts; i++)
    if (strcmp(opts[i].name, name) == 0) return &opts[i];
  return NULL;
}

void cli_usage(const cli_cmd_help *cmd, const cli_opt *opts, int nopts, void *fp) {
  FILE *f = fp;
  fprintf(f, "usage: aezoo %s%s%s [options]\n\n", cmd->name, cmd->positional[0] ? " " : "", cmd->positional);
  if (cmd->about && cmd->about[0]) fprintf(f, "%s\n\n", cmd->about);
  fprintf(f, "options:\n");
  for (int i = 0; i < nopts; i++) {
    char left[64];
    snprintf(left, sizeof left, "%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
             opts[i].metavar ? opts[i].metavar : "");
    fprintf(f, "  %-22s %s\n", left, opts[i].help);
  }
  if (builds_models(cmd))
    fprintf(f, "  %-22s %s\n", "--max-memory BYTES",
            "refuse a model whose estimated memory exceeds BYTES (suffixes K M G T; default: the available memory)");
  fprintf(f, "  %-22s %s\n", "--help", "show this help and exit");
}

static void valid_options(const cli_cmd_help *cmd, const cli_opt *opts, int nopts, const char *bad) {
  char buf[1024];
  int used = snprintf(buf, sizeof buf, "aezoo %s: unknown option '%s'; valid options:", cmd->name, bad);
  for (int i = 0; i < nopts && used > 0 && (size_t)used < sizeof buf; i++)
    used += snprintf(buf + used, sizeof buf - (size_t)used, " %s", opts[i].name);
  fprintf(stderr, "%s --help\n", buf);
}

static int set_value(const cli_cmd_help *cmd, cli_opt *o, const char *v) {
  char *end = NULL;
  switch (o->kind) {
  case CLI_FLAG:
    *(int *)o->dest = 1;
    return 0;
  case CLI_STR:
    if (!*v) {
      fprintf(stderr, "aezoo %s: option %s: the value is empty; expected %s\n", cmd->name, o->name, o->metavar);
      return -1;
    }
    *(const char **)o->dest = v;
    return 0;
  case CLI_LIST: {
    cli_list *l = o->dest;
    if (!*v) {
      fprintf(stderr, "aezoo %s: option %s: the value is empty; expected %s\n", cmd->name, o->name, o->metavar);
      return -1;
    }
    if (l->n >= CLI_LIST_MAX) {
      fprintf(stderr, "aezoo %s: option %s given more than %d times\n", cmd->name, o->name, CLI_LIST_MAX);
      return -1;
    }
    l->v[l->n++] = v;
    return 0;
  }
  case CLI_INT: {
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (!ae_plain_int(v) || *end || errno) {
      fprintf(stderr, "aezoo %s: option %s: '%s' is not an integer\n", cmd->name, o->name, v);
      return -1;
    }
    double lo = o->min, hi = o->max;
    if (lo == 0 && hi == 0) hi = 9.2e18;
    if ((double)x < lo || (double)x > hi) {
      fprintf(stderr, "aezoo %s: option %s: %lld is out of range; valid values: %.0f..%.0f\n", cmd->name, o->name, x,
              lo, hi);
      return -1;
    }
    *(int64_t *)o->dest = x;
    return 0;
  }
  case CLI_REAL: {
    errno = 0;
    double x = strtod(v, &end);
    if (!ae_plain_real(v) || *end || errno || !isfinite(x)) {
      fprintf(stderr, "aezoo %s: option %s: '%s' is not a finite number\n", cmd->name, o->name, v);
      return -1;
    }
    if (!(o->min == 0 && o->max == 0) && (x < o->min || x > o->max)) {
      fprintf(stderr, "aezoo %s: option %s: %g is out of range; valid values: %g..%g\n", cmd->name, o->name, x,
              o->min, o->max);
      return -1;
    }
    *(double *)o->dest = x;
    return 0;
  }
  }
  return -1;
}

int cli_parse(const cli_cmd_help *cmd, cli_opt *opts, int nopts, int argc, char **argv, const char **pos, int maxpos,
              int *npos) {
  *npos = 0;
  int only_pos = 0, max_memory_given = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      cli_usage(cmd, opts, nopts, stdout);
      return CLI_PARSE_HELP;
    }
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!only_pos && strcmp(a, "--") == 0) {
      only_pos = 1;
      continue;
    }
    if (!only_pos && a[0] == '-' && a[1] != 0) {
      char name[128];
      const char *eq = strchr(a, '=');
      size_t len = eq ? (size_t)(eq - a) : strlen(a);
      if (len >= sizeof name) len = sizeof name - 1;
      memcpy(name, a, len);
      name[len] = 0;
      cli_opt *o = cli_find_opt(opts, nopts, name);
      if (!o && builds_models(cmd) && !strcmp(name, "--max-memory")) {
        const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!v) {
          fprintf(stderr, "aezoo %s: option --max-memory needs a value (BYTES)\n", cmd->name);
          return CLI_PARSE_ERROR;
        }
        if (max_memory_given++) {
          fprintf(stderr, "aezoo %s: option --max-memory given twice\n", cmd->name);
          return CLI_PARSE_ERROR;
        }
        if (cli_parse_bytes(v, &cli_max_memory)) {
          fprintf(stderr, "aezoo %s: option --max-memory: '%s' is not a size in bytes (e.g. 500000000, 512M, 2G)\n",
                  cmd->name, v);
          return CLI_PARSE_ERROR;
        }
        ae_set_memory_limit(cli_max_memory); /* for the library's checks (runs, checkpoints) */
        continue;
      }
      if (!o) {
        valid_options(cmd, opts, nopts, name);
        return CLI_PARSE_ERROR;
      }
      const char *v = NULL;
      if (o->kind == CLI_FLAG) {
        if (eq) {
          fprintf(stderr, "aezoo %s: option %s takes no value\n", cmd->name, o->name);
          return CLI_PARSE_ERROR;
        }
      } else if (eq) {
        v = eq + 1;
      } else if (i + 1 < argc) {
        v = argv[++i];
      } else {
        fprintf(stderr, "aezoo %s: option %s needs a value (%s)\n", cmd->name, o->name, o->metavar);
        return CLI_PARSE_ERROR;
      }
      if (o->kind != CLI_LIST && o->given) {
        fprintf(stderr, "aezoo %s: option %s given twice\n", cmd->name, o->name);
        return CLI_PARSE_ERROR;
      }
      if (set_value(cmd, o, v)) return CLI_PARSE_ERROR;
      o->given++;
      continue;
    }
    if (*npos >= maxpos || *npos >= cmd->max_pos) {
      fprintf(stderr, "aezoo %s: unexpected argument '%s'; usage: aezoo %s %s [options]\n", cmd->name, a, cmd->name,
              cmd->positional);
      return CLI_PARSE_ERROR;
    }
    pos[(*npos)++] = a;
  }
  cli_opt *b = cli_find_opt(opts, nopts, "--batch-size");
  if (b && b->kind == CLI_INT) cli_batch_size = *(int64_t *)b->dest;
  if (*npos < cmd->min_pos) {
    fprintf(stderr, "aezoo %s: missing argument %s; usage: aezoo %s %s [options]\n", cmd->name, cmd->positional,
            cmd->name, cmd->positional);
    return CLI_PARSE_ERROR;
  }
  return CLI_PARSE_OK;
}
