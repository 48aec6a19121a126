/* fuzz_args.c: libFuzzer harness for the aezoo command's option parser
 * (cli/args.h) and the model settings behind --set: the input is split at
 * NUL bytes into an argv for an option table shaped like train's, and the
 * --set values are checked against a zoo model picked by the first byte.
 * Values that parse must satisfy their declared ranges. */
#include <math.h>

#include "cli/args.h"
#include "fuzz_util.h"
#include "zoo/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  char *buf = malloc(size + 1);
  memcpy(buf, data + 1, size - 1);
  buf[size - 1] = 0;
  char *argv[64];
  int argc = 0;
  argv[argc++] = "train";
  for (char *p = buf; p < buf + size - 1 && argc < 63; p += strlen(p) + 1) argv[argc++] = p;
  argv[argc] = NULL;

  const char *data_spec = "fashion-mnist", *out = NULL;
  int64_t steps = 0, batch = 64;
  double lr = 1e-3;
  int quiet = 0;
  cli_list set = {0};
  cli_opt opts[] = {
      {"--data", CLI_STR, "SPEC", "data", &data_spec, 0, 0, 0},
      {"--out", CLI_STR, "DIR", "out", &out, 0, 0, 0},
      {"--steps", CLI_INT, "N", "steps", &steps, 1, 1e9, 0},
      {"--batch-size", CLI_INT, "N", "batch", &batch, 1, 1 << 20, 0},
      {"--lr", CLI_REAL, "X", "lr", &lr, 0, 10, 0},
      {"--set", CLI_LIST, "KEY=VALUE", "settings", &set, 0, 0, 0},
      {"--quiet", CLI_FLAG, NULL, "quiet", &quiet, 0, 0, 0},
  };
  cli_cmd_help help = {"train", "MODEL", "", 0, 1};
  const char *pos[1];
  int npos;
  FILE *saved_err = stderr, *saved_out = stdout;
  stderr = stdout = fopen("/dev/null", "w"); /* the parser's messages and --help */
  int rc = cli_parse(&help, opts, 7, argc, argv, pos, 1, &npos);
  fclose(stderr);
  stderr = saved_err;
  stdout = saved_out;
  if (rc == CLI_PARSE_OK) {
    if (steps < 0 || steps > 1e9 || batch < 1 || batch > (1 << 20) || !isfinite(lr) || lr < 0 || lr > 10) abort();
    if (!*data_spec || (out && !*out)) abort();
    const ae_model_def *d = ae_zoo_get(data[0] % ae_zoo_count());
    ae_settings s;
    ae_settings_init(&s, d->settings, d->nsettings);
    if (ae_settings_parse_all(&s, set.n, set.v) == 0)
      for (int i = 0; i < s.n; i++)
        if (s.defs[i].type == AE_SET_INT || s.defs[i].type == AE_SET_REAL) {
          double v = ae_settings_real(&s, s.defs[i].key);
          if (!isfinite(v) || v < s.defs[i].min || v > s.defs[i].max) abort();
        }
  }
  int64_t bytes;
  if (cli_parse_bytes(buf, &bytes) == 0 && bytes < 1) abort();
  free(buf);
  return 0;
}
