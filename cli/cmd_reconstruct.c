/* cmd_reconstruct.c: `aezoo reconstruct CKPT --out FILE.png`: a picture of
 * the first --count examples of a data set above their reconstructions
 * (with the noisy inputs between them for denoisers); 2-D points give a
 * scatter plot of inputs and reconstructions (pictures.h draws both). */
#include <stdio.h>

#include "args.h"
#include "base/parallel.h"
#include "ckpt_data.h"
#include "commands.h"
#include "common.h"
#include "run/pictures.h"

#define DEFAULT_IMAGES 32
#define DEFAULT_POINTS 500

static const char about[] =
    "Draws the first --count examples of a data set (by default the test split of the\n"
    "data the checkpoint CKPT was trained on) above their reconstructions, 16 a row:\n"
    "a band of inputs, for denoisers a band of the noisy inputs (noise from --seed),\n"
    "then a band of reconstructions (of the noisy inputs, for denoisers). 2-D points\n"
    "(spiral, swissroll) give a scatter plot: inputs blue, reconstructions orange.\n"
    "CKPT is a run directory of `aezoo train` or its model.safetensors.";

int cmd_reconstruct(int argc, char **argv) {
  const char *out = NULL, *data = NULL, *split_s = "test";
  int64_t count = 0, seed = -1, threads = 0;
  cli_opt opts[] = {
      {"--out", CLI_STR, "FILE.png", "the picture to write (required)", &out, 0, 0, 0},
      {"--data", CLI_STR, "SPEC", "data set (default: the checkpoint's test data)", &data, 0, 0, 0},
      {"--split", CLI_STR, "test|train", "which split of the data (default test)", &split_s, 0, 0, 0},
      {"--count", CLI_INT, "N", "examples drawn (default 32 images, 500 points)", &count, 1, 4096, 0},
      {"--seed", CLI_INT, "N", "seed of denoisers' noise (default: the run's --seed)", &seed, 0, 9.2e18, 0},
      {"--threads", CLI_INT, "N", "threads (default: OpenMP's, all cores)", &threads, 1, 1024, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"reconstruct", "CKPT", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  if (!out) {
    cli_error("reconstruct: missing --out FILE.png; usage: aezoo reconstruct CKPT --out FILE.png [options]");
    return CLI_USAGE;
  }
  int split = cli_parse_split("reconstruct", split_s);
  if (split < 0) return CLI_USAGE;
  if (threads) ae_set_threads((int)threads);

  ae_ckpt_meta meta;
  ae_model *m = cli_open_checkpoint(pos[0], &meta);
  if (!m) return CLI_FAIL;
  if (!count) count = ae_model_is_points(m) ? DEFAULT_POINTS : DEFAULT_IMAGES;
  ae_dataset d = {0};
  const char *spec;
  rc = CLI_FAIL;
  if (cli_open_data(&meta, m, data, split, count, &d, &spec)) goto done;
  if (ae_picture_reconstructions(m, &d, count, seed >= 0 ? (uint64_t)seed : meta.seed, out)) {
    cli_error("reconstruct: %s", ae_last_error());
    goto done;
  }
  long long n = d.x->shape.d[0];
  printf("reconstructions of %lld %s of %s (%s split)%s: %s\n", n, ae_model_is_points(m) ? "points" : "examples", spec,
         split == CLI_SPLIT_TEST ? "test" : "train", m->def->corrupt ? " with their noisy inputs" : "", out);
  rc = CLI_OK;
done:
  ae_dataset_free(&d);
  ae_model_free(m);
  return rc;
}
