/* cmd_list.c: `aezoo list [PLUGIN]`: every zoo model (or every model of
 * a plugin), its one-line description and its settings with their types,
 * defaults and help. */
#include <stdio.h>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "zoo/plugin.h"

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
  cli_cmd_help help = {"list", "[PLUGIN]",
                       "Lists every zoo model with its one-line description and its settings\n"
                       "(key, type or choices, default, meaning); change them with\n"
                       "`aezoo train MODEL --set KEY=VALUE`. With PLUGIN (a shared object such as\n"
                       "./my_models.so), lists the plugin's models instead; train one with\n"
                       "`aezoo train ./my_models.so:NAME` (or just the file when it holds one).",
                       0, 1};
  int npos;
  const char *pos[1];
  int rc = cli_parse(&help, opts, 1, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  const ae_model_def *const *defs = NULL;
  int count = ae_zoo_count();
  if (npos) {
    count = ae_plugin_load(pos[0], &defs);
    if (count < 0) {
      cli_error("list: %s", ae_last_error());
      return CLI_FAIL;
    }
  }
  for (int i = 0; i < count; i++) {
    const ae_model_def *d = defs ? defs[i] : ae_zoo_get(i);
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
