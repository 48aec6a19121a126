/* cmd_eval.c: `aezoo eval CKPT`: a checkpoint's loss and each of its terms,
 * the per-pixel MSE of its deterministic reconstructions and, for vae, the
 * negative ELBO in nats per example, over a data set (by default the test
 * split of the data the run was trained on). One "name value" line each. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "base/parallel.h"
#include "ckpt_data.h"
#include "commands.h"
#include "common.h"
#include "zoo/train.h"

static const char about[] =
    "Evaluates the checkpoint CKPT (a run directory of `aezoo train`, or its\n"
    "model.safetensors) on a data set: by default the test split of the data the run\n"
    "was trained on (its --test-data, else its --data). Prints one line each:\n"
    "  loss       the training loss (mean per example), then each of its terms;\n"
    "  mse_pixel  the mean squared error per pixel of the deterministic\n"
    "             reconstructions (no noise; a denoiser reconstructs the clean input);\n"
    "  neg_elbo   (vae only) the negative ELBO in nats per example: recon + KL with\n"
    "             beta = 1 whatever beta the model trained with, one sample of z per\n"
    "             example (an unbiased estimate of the negative ELBO).\n"
    "Noise inside the loss (denoisers' corruption, the vae's z, stochastic\n"
    "penalties) is drawn from --seed, so the same command prints the same numbers.";

/* The vae's negative ELBO: recon + kl at beta = 1 (its "kl" term carries
 * beta). 0, or -1 with ae_last_error(). */
static int neg_elbo(ae_model *m, const ae_tensor *x, int64_t n, int64_t batch, uint64_t seed,
                    const ae_eval_result *r, double *out) {
  double beta = ae_settings_real(&m->settings, "beta");
  ae_eval_result r1 = *r;
  if (beta != 1) {
    char keep[AE_SETTING_LEN];
    snprintf(keep, sizeof keep, "%s", ae_settings_str(&m->settings, "beta"));
    if (ae_settings_set(&m->settings, "beta", "1")) return -1;
    int rc = ae_evaluate(m, x, n, batch, seed, &r1);
    ae_settings_set(&m->settings, "beta", keep);
    if (rc) return -1;
  }
  double recon = NAN, kl = NAN;
  int found = 0; /* a term's value may itself be NaN: presence is separate */
  for (int i = 0; i < r1.nterms; i++) {
    if (strcmp(r1.term_name[i], "recon") == 0) recon = r1.term[i], found |= 1;
    if (strcmp(r1.term_name[i], "kl") == 0) kl = r1.term[i], found |= 2;
  }
  if (found != 3) {
    ae_set_last_error("the loss of model %s has no recon and kl terms", m->def->name);
    return -1;
  }
  *out = recon + kl;
  return 0;
}

static int is_vae(const ae_model *m) {
  return strcmp(m->def->name, "vae") == 0;
}

int cmd_eval(int argc, char **argv) {
  const char *data = NULL, *split_s = "test";
  int64_t limit = 0, batch = 100, seed = -1, threads = 0;
  cli_opt opts[] = {
      {"--data", CLI_STR, "SPEC", "data set (default: the checkpoint's test data); see `aezoo train --help`",
       &data, 0, 0, 0},
      {"--split", CLI_STR, "test|train", "which split of the data (default test)", &split_s, 0, 0, 0},
      {"--limit", CLI_INT, "N", "only the first N examples (default: all)", &limit, 1, 9.2e18, 0},
      {"--batch-size", CLI_INT, "N", "examples per forward pass (default 100; a noisy loss's noise depends on it)",
       &batch, 1, 1 << 20, 0},
      {"--seed", CLI_INT, "N", "seed of the loss's noise (default: the run's --seed)", &seed, 0, 9.2e18, 0},
      {"--threads", CLI_INT, "N", "threads (default: OpenMP's, all cores)", &threads, 1, 1024, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"eval", "CKPT", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  int split = cli_parse_split("eval", split_s);
  if (split < 0) return CLI_USAGE;
  if (threads) ae_set_threads((int)threads);

  ae_ckpt_meta meta;
  ae_model *m = cli_open_checkpoint(pos[0], &meta);
  if (!m) return CLI_FAIL;
  ae_dataset d = {0};
  const char *spec;
  rc = CLI_FAIL;
  if (cli_open_data(&meta, m, data, split, limit, &d, &spec)) goto done;
  uint64_t s = seed >= 0 ? (uint64_t)seed : meta.seed;
  int64_t n = d.x->shape.d[0];
  ae_eval_result r;
  char desc[1200], path[4096];
  if (ae_evaluate(m, d.x, n, batch, s, &r)) {
    cli_error("eval: %s", ae_last_error());
    goto done;
  }
  ae_ckpt_model_path(pos[0], path, sizeof path);
  printf("checkpoint    %s (%s, step %" PRId64 ", stage %d of %d)\n", path, meta.model, meta.step, meta.stage + 1,
         meta.nstages);
  printf("data          %s\n", cli_data_desc(spec, split, &d, desc, sizeof desc));
  printf("loss          %.6g\n", r.loss);
  for (int i = 0; i < r.nterms; i++) printf("  %-11s %.6g\n", r.term_name[i], r.term[i]);
  printf("mse_pixel     %.6g\n", r.mse_pixel);
  if (is_vae(m)) {
    double ne;
    if (neg_elbo(m, d.x, n, batch, s, &r, &ne)) {
      cli_error("eval: negative ELBO: %s", ae_last_error());
      goto done;
    }
    printf("neg_elbo      %.6g nats per example (recon + KL at beta = 1; this model trained with beta = %s)\n", ne,
           ae_settings_str(&m->settings, "beta"));
  }
  if (!isfinite(r.loss)) {
    cli_error("eval: the loss is %g (not finite) on %s: this model's parameters diverge on this data", r.loss, desc);
    goto done;
  }
  rc = CLI_OK;
done:
  ae_dataset_free(&d);
  ae_model_free(m);
  return rc;
}
