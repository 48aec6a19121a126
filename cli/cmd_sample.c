/* cmd_sample.c: `aezoo sample CKPT --out FILE.png`: --count samples from a
 * generative model's prior, decoded (def->sample): a grid of images, or a
 * scatter plot for 2-D points. Models without a prior are refused with
 * exit status 2 before anything is loaded, naming the models that can. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "autograd/parallel.h"
#include "ckpt_data.h"
#include "commands.h"
#include "common.h"
#include "run/pictures.h"

#define DEFAULT_IMAGES 64
#define DEFAULT_POINTS 500

static const char about[] =
    "Draws --count samples from the prior of the generative model in checkpoint CKPT\n"
    "(a run directory of `aezoo train` or its model.safetensors), decoded: for vae,\n"
    "z ~ N(0, I) through the decoder's Bernoulli means. Images give a grid, 16 a row;\n"
    "2-D points a scatter plot. Models that are not generative have no prior: the\n"
    "command then fails with exit status 2 and names the models that can sample.";

static void generative_models(char *buf, size_t len) {
  int used = 0;
  buf[0] = 0;
  for (int i = 0; i < ae_zoo_count() && (size_t)used < len; i++)
    if (ae_zoo_get(i)->sample)
      used += snprintf(buf + used, len - (size_t)used, "%s%s", used ? " " : "", ae_zoo_get(i)->name);
}

int cmd_sample(int argc, char **argv) {
  const char *out = NULL;
  int64_t count = 0, seed = -1, threads = 0;
  cli_opt opts[] = {
      {"--out", CLI_STR, "FILE.png", "the picture to write (required)", &out, 0, 0, 0},
      {"--count", CLI_INT, "N", "samples drawn (default 64 images, 500 points)", &count, 1, 4096, 0},
      {"--seed", CLI_INT, "N", "seed of the samples (default: the run's --seed)", &seed, 0, 9.2e18, 0},
      {"--threads", CLI_INT, "N", "threads (default: OpenMP's, all cores)", &threads, 1, 1024, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"sample", "CKPT", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  if (!out) {
    cli_error("sample: missing --out FILE.png; usage: aezoo sample CKPT --out FILE.png [options]");
    return CLI_USAGE;
  }
  if (threads) ae_set_threads((int)threads);

  ae_ckpt_meta meta;
  char err[1024];
  if (ae_ckpt_read_meta(pos[0], &meta, err, sizeof err)) {
    cli_error("%s", err);
    return CLI_FAIL;
  }
  /* the model is checked before the checkpoint is loaded (a plugin's model
   * is known only once the checkpoint has loaded its plugin) */
  const ae_model_def *def = ae_model_lookup(meta.model);
  ae_model *m = NULL;
  if (!def) {
    m = cli_open_checkpoint(pos[0], &meta);
    if (!m) return CLI_FAIL;
    def = m->def;
  }
  if (!def->sample) {
    char gen[512];
    generative_models(gen, sizeof gen);
    cli_error("sample: model %s is not generative (it has no prior to sample from); models that can sample: %s",
              meta.model, gen);
    ae_model_free(m);
    return CLI_USAGE;
  }
  if (!m) m = cli_open_checkpoint(pos[0], &meta);
  if (!m) return CLI_FAIL;
  if (!count) count = ae_model_is_points(m) ? DEFAULT_POINTS : DEFAULT_IMAGES;
  rc = CLI_OK;
  if (ae_picture_samples(m, count, seed >= 0 ? (uint64_t)seed : meta.seed, out, err, sizeof err)) {
    cli_error("sample: %s", err);
    rc = CLI_FAIL;
  } else {
    printf("%lld samples of %s: %s\n", (long long)count, meta.model, out);
  }
  ae_model_free(m);
  return rc;
}
