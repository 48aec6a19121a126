/* args.h: command-line option parsing for the aezoo commands.
 * A command describes its options in an array of cli_opt (long options
 * only: "--data SPEC" or "--data=SPEC"; flags take no value; list options
 * such as --set may repeat) and its positional arguments, then calls
 * cli_parse. --help / -h prints the command's usage text (generated from
 * the table) to stdout. Errors are one line on stderr naming the option and
 * the valid choices:
 *   aezoo train: unknown option '--epoch'; valid options: --data --test-data ...
 *   aezoo train: option --steps needs a value (N)
 *   aezoo train: option --lr: 'abc' is not a number
 * Example:
 *   const char *data = CLI_DEFAULT_DATA; int64_t count = 64; int quiet = 0;
 *   cli_list set = {0};
 *   cli_opt opts[] = {
 *     {"--data", CLI_STR, "SPEC", "data set (default fashion-mnist)", &data},
 *     {"--count", CLI_INT, "N", "how many (default 64)", &count, 1, 4096},
 *     {"--set", CLI_LIST, "KEY=VALUE", "a model setting (repeatable)", &set},
 *     {"--quiet", CLI_FLAG, NULL, "no progress output", &quiet},
 *   };
 *   cli_cmd_help help = {"eval", "CKPT", "Evaluates a checkpoint ...", 1, 1};
 *   const char *pos[1]; int npos;
 *   int rc = cli_parse(&help, opts, 4, argc, argv, pos, 1, &npos);
 *   if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? 0 : 2; */
#ifndef AE_CLI_ARGS_H
#define AE_CLI_ARGS_H

#include <stdint.h>

typedef enum cli_opt_kind {
  CLI_FLAG, /* int *dest = 1 */
  CLI_STR,  /* const char **dest = the value (points into argv) */
  CLI_INT,  /* int64_t *dest, checked to lie in [min, max] (both 0: any value >= 0) */
  CLI_REAL, /* double *dest, finite, checked to lie in [min, max] (both 0: any finite value) */
  CLI_LIST, /* cli_list *dest: each occurrence appended */
} cli_opt_kind;

#define CLI_LIST_MAX 64
typedef struct cli_list {
  int n;
  const char *v[CLI_LIST_MAX];
} cli_list;

typedef struct cli_opt {
  const char *name; /* "--data" */
  cli_opt_kind kind;
  const char *metavar; /* "SPEC" (NULL for flags) */
  const char *help;    /* one line */
  void *dest;
  double min, max;
  int given; /* set by cli_parse: how many times the option appeared */
} cli_opt;

typedef struct cli_cmd_help {
  const char *name;       /* "train" */
  const char *positional; /* "MODEL", "CKPT", "[MODEL]" or "" */
  const char *about;      /* a paragraph shown under the usage line (may hold '\n') */
  int min_pos, max_pos;   /* positional argument counts accepted */
} cli_cmd_help;

enum { CLI_PARSE_OK = 0, CLI_PARSE_HELP = 1, CLI_PARSE_ERROR = 2 };

/* Parses argv[1..argc) (argv[0] is the command's name). Positional
 * arguments go to pos (at most maxpos, *npos set); "--" ends options.
 * Returns CLI_PARSE_OK, CLI_PARSE_HELP (usage printed to stdout: exit 0),
 * or CLI_PARSE_ERROR (one line printed to stderr: exit 2). */
int cli_parse(const cli_cmd_help *cmd, cli_opt *opts, int nopts, int argc, char **argv, const char **pos, int maxpos,
              int *npos);
/* Prints the usage text (what --help shows) to f. */
void cli_usage(const cli_cmd_help *cmd, const cli_opt *opts, int nopts, void *f);
/* Values are strict: a string or list value may not be empty; integers are
 * plain decimal (no spaces, '+', hex); reals are plain decimal numbers (no
 * hex, inf or nan). Commands that build models (train, gradcheck) also take
 * --max-memory BYTES (suffixes K, M, G, T, powers of 1024), stored in
 * cli_max_memory (0 when not given: the available memory is the limit). A
 * command's --batch-size, when it has one, is copied into cli_batch_size
 * for the memory estimate. */
extern int64_t cli_max_memory; /* defined in common.c */
extern int64_t cli_batch_size;
/* "2G", "512M", "1.5G", "100000": 0, or -1 when it is not a size >= 1. */
int cli_parse_bytes(const char *v, int64_t *out);

/* The option named `name` in opts (NULL if none): e.g. to test ->given. */
cli_opt *cli_find_opt(cli_opt *opts, int nopts, const char *name);

#endif
