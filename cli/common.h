/* common.h: what every aezoo command shares: exit codes, one-line error
 * messages, loading a data set, checking and building a model from the
 * command line's MODEL and --set KEY=VALUE arguments, and the output
 * directory helpers. Pictures (reconstructions, samples, scatter plots)
 * are in run/pictures.h, checkpoints in run/checkpoint.h, option parsing in args.h.
 *
 * Conventions for commands (see commands.h):
 *   - a command is `int cmd_NAME(int argc, char **argv)` with argv[0] the
 *     command's name; it returns the process exit status:
 *       CLI_OK (0)     success
 *       CLI_FAIL (1)   the work failed (unreadable data or checkpoint, NaN
 *                      loss, a failed gradient check, a write error, ...)
 *       CLI_USAGE (2)  a user mistake on the command line: unknown option,
 *                      model, setting or value; missing or bad argument
 *   - every message goes to stderr as ONE line "aezoo: <message>" (use
 *     cli_error); results go to stdout. */
#ifndef AE_CLI_COMMON_H
#define AE_CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "io/dataset.h"
#include "zoo/model.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* The default --data spec and the splits used for training and testing. */
#define CLI_DEFAULT_DATA "fashion-mnist"
#define CLI_SPLIT_TRAIN 0
#define CLI_SPLIT_TEST 1

/* Prints "aezoo: <formatted message>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The --plugin paths given (main.c loads them; gradcheck passes them on to aezoo64). */
#define CLI_MAX_PLUGINS 16
extern const char *cli_plugins[CLI_MAX_PLUGINS];
extern int cli_nplugins;

/* Loads data set `spec` (io/dataset.h forms) split 0/1, at most `limit`
 * examples (0 = all), `seed` for the synthetic sets, and checks that every
 * value is finite. 0, or -1 after printing the loader's message with
 * cli_error (the message names the spec/file and the problem); *d is then
 * zeroed, and ae_dataset_free(d) is safe either way. */
int cli_load_data(const char *spec, int split, int64_t limit, uint64_t seed, ae_dataset *d);

/* One example's shape: d->x's shape without its first (batch) dimension. */
ae_shape cli_example_shape(const ae_tensor *x);

/* Checks MODEL and the --set KEY=VALUE strings without building anything:
 * an unknown model (the message lists the valid models), a malformed
 * "key=value", an unknown key or a bad value (the message names the key and
 * the valid keys/choices/range). CLI_OK, or CLI_USAGE after cli_error. */
int cli_check_model_args(const char *model, int nset, const char *const *set);

/* Builds model `name` with the --set strings for examples of shape
 * `example`, parameters initialised from `seed` (ae_model_new). NULL after
 * cli_error (e.g. "model conv-ae needs images (C,H,W); the data has ...").
 * Call cli_check_model_args first so usage errors exit 2. */
ae_model *cli_build_model(const char *name, int nset, const char *const *set, ae_shape example, uint64_t seed);


/* Output directories and paths. */
/* buf = dir "/" name. 0, or -1 when it does not fit (after cli_error). */
int cli_path(char *buf, size_t len, const char *dir, const char *name);
/* 1 when path exists and is a directory. */
int cli_is_dir(const char *path);



#endif
