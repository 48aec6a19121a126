/* main.c: the aezoo command: dispatches argv[1] through the command table
 * (commands.h). `aezoo` is built against libaezoo (float32) and `aezoo64`
 * from the same sources against libaezoo64 (float64, for gradient checks). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>

#include "commands.h"
#include "common.h"
#include "zoo/plugin.h"

typedef struct cli_command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} cli_command;

#define CLI_COMMAND(n, s) {#n, s, cmd_##n},
static const cli_command commands[] = {CLI_COMMAND_TABLE};
#undef CLI_COMMAND
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

/* 1 when arg names the command: '-' in arg for '_' in the table's name. */
static int is_command(const char *arg, const char *name) {
  for (; *arg && *name; arg++, name++)
    if (*arg != *name && !(*name == '_' && *arg == '-')) return 0;
  return *arg == *name;
}

/* The name as typed: '_' shown as '-'. */
static const char *shown(const char *name, char *buf, size_t len) {
  snprintf(buf, len, "%s", name);
  for (char *p = buf; *p; p++)
    if (*p == '_') *p = '-';
  return buf;
}

static void usage(FILE *f) {
  fprintf(f, "usage: aezoo COMMAND [options] [--plugin PATH]   (aezoo COMMAND --help for a command's options)\n\n"
             "A zoo of autoencoders on a tape-based autodiff engine in C%s.\n\ncommands:\n",
          sizeof(ae_real) == 8 ? " (this is the float64 build)" : "");
  char b[64];
  for (int i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-12s %s\n", shown(commands[i].name, b, sizeof b), commands[i].summary);
  fprintf(f, "\nA MODEL may be a plugin's: ./FILE.so or ./FILE.so:NAME (see `aezoo list ./FILE.so`).\n"
             "--plugin PATH, with any command, loads a plugin's models first: for a checkpoint\n"
             "whose plugin moved, or to name a plugin's model by its bare name.\n");
}

/* OpenMP threads that spin while waiting starve each other on a busy
 * machine (a step can take several times longer spinning than passive when
 * other processes hold the cores; benchmarks/reference_results.sh compares
 * the two with OMP_WAIT_POLICY). libgomp reads its wait policy when it loads, before
 * main, so when the user has not chosen one the program re-executes itself
 * once with OMP_WAIT_POLICY=passive. */
static void prefer_passive_waiting(char **argv) {
  if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = 0;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv(self, argv); /* returns only on failure: carry on as we are */
}

/* `--plugin PATH` (or --plugin=PATH), anywhere before "--": loads the
 * plugin's models before the command runs (for a checkpoint whose plugin
 * moved, or to name a plugin's model by its bare name), and is removed from
 * argv. 0, or -1 after an error message. */
static int take_plugin_options(int *argc, char **argv) {
  int out = 1;
  for (int i = 1; i < *argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      while (i < *argc) argv[out++] = argv[i++];
      break;
    }
    const char *path = NULL;
    if (strcmp(argv[i], "--plugin") == 0) {
      if (i + 1 >= *argc) {
        cli_error("option --plugin needs a value (PATH)");
        return -1;
      }
      path = argv[++i];
    } else if (strncmp(argv[i], "--plugin=", 9) == 0) {
      path = argv[i] + 9;
    }
    if (!path) {
      argv[out++] = argv[i];
      continue;
    }
    if (ae_plugin_load(path, NULL) < 0) {
      cli_error("--plugin: %s", ae_last_error());
      return -1;
    }
    if (cli_nplugins < CLI_MAX_PLUGINS) cli_plugins[cli_nplugins++] = path;
  }
  argv[out] = NULL;
  *argc = out;
  return 0;
}

int main(int argc, char **argv) {
  prefer_passive_waiting(argv);
  if (take_plugin_options(&argc, argv)) return CLI_FAIL;
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return CLI_OK;
  }
  for (int i = 0; i < NCOMMANDS; i++)
    if (is_command(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  char buf[512], b[64];
  int used = snprintf(buf, sizeof buf, "unknown command '%s'; valid commands:", argv[1]);
  for (int i = 0; i < NCOMMANDS && used > 0 && (size_t)used < sizeof buf; i++)
    used += snprintf(buf + used, sizeof buf - (size_t)used, " %s", shown(commands[i].name, b, sizeof b));
  cli_error("%s", buf);
  return CLI_USAGE;
}
