/* cmd_list.c: `aezoo list`: every zoo model, its one-line description and
 * its settings with their types, defaults and help. */
#include <stdio.h>

#include "args.h"
#include "commands.h"
#include "common.h"

static const char *type_name(const ae_setting_def *s, char *buf, size_t len) {
  switch (s->type) {
  case AE_SET_INT: snprintf(buf, len, "int %g..%g", s->min, s->max); break;
  case AE_SET_REAL: snprintf(buf, len, "real %g..%g", s->min, s->max); break;
  case AE_SET_BOOL: snprintf(buf, len, "bool"); break;
  case AE_SET_CHOICE: snprintf(buf, len, "%s", s->choices); break;
  case AE_SET_INTS: snprintf(buf, len, "ints %g..%g", s->min, s->max); break;
  }
  return buf;
}

int cmd_list(int argc, char **argv) {
  int names_only = 0;
  cli_opt opts[] = {
      {"--names", CLI_FLAG, NULL, "print only the model names, one a line", &names_only, 0, 0, 0},
  };
  cli_cmd_help help = {"list", "",
                       "Lists every zoo model with its one-line description and its settings\n"
                       "(key, type or choices, default, meaning); change them with\n"
                       "`aezoo train MODEL --set KEY=VALUE`.",
                       0, 0};
  int npos;
  int rc = cli_parse(&help, opts, 1, argc, argv, NULL, 0, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  for (int i = 0; i < ae_zoo_count(); i++) {
    const ae_model_def *d = ae_zoo_get(i);
    if (names_only) {
      printf("%s\n", d->name);
      continue;
    }
    printf("%s%-10s %s\n", i ? "\n" : "", d->name, d->description);
    for (int k = 0; k < d->nsettings; k++) {
      const ae_setting_def *s = &d->settings[k];
      char set[160], ty[96];
      snprintf(set, sizeof set, "%s=%s", s->key, s->def);
      printf("    %-24s %-22s %s\n", set, type_name(s, ty, sizeof ty), s->help ? s->help : "");
    }
  }
  return CLI_OK;
}
