/* cmd_sample.c: `aezoo sample CKPT --out FILE.png`: --count samples from a
 * generative model's prior, decoded (def->sample): a grid of images, or a
 * scatter plot for 2-D points. Models without a prior are refused with
 * exit status 2 before anything is loaded, naming the models that can. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "base/parallel.h"
#include "ckpt_data.h"
#include "commands.h"
#include "common.h"
#include "io/png.h"
#include "run/pictures.h"
#include "zoo/latent.h"
#include "zoo/mixture.h"

#define DEFAULT_IMAGES 64
#define DEFAULT_POINTS 500
#define DEFAULT_FIT 5000
#define EM_ITERS 50

static const char about[] =
    "Draws --count samples from the prior of the generative model in checkpoint CKPT\n"
    "(a run directory of `aezoo train` or its model.safetensors), decoded: for vae,\n"
    "z ~ N(0, I) through the decoder's Bernoulli means. A model with a decoder but no\n"
    "prior (ae, cae, conv-ae, ...) samples instead from a Gaussian fitted to the codes\n"
    "of --limit training examples (mean and full covariance; diagonal with --diagonal\n"
    "or for codes over 4096 units; a mixture of K by EM with --mixture K, for codes of\n"
    "at most 512 units), decoded; the output line says which. Images give\n"
    "a grid, 16 a row; 2-D points a scatter plot. A model with neither (deconv-ae,\n"
    "whose decoder needs its encoder's pooling indices) is refused with exit status 2.";

static void generative_models(char *buf, size_t len) {
  int used = 0;
  buf[0] = 0;
  for (int i = 0; i < ae_zoo_count() && (size_t)used < len; i++)
    if (ae_zoo_get(i)->sample || ae_zoo_get(i)->decode)
      used += snprintf(buf + used, len - (size_t)used, "%s%s", used ? " " : "", ae_zoo_get(i)->name);
}

/* A Gaussian fitted to the codes of the training data, sampled, decoded. */
static int sample_fitted(ae_model *m, const ae_ckpt_meta *meta, const char *data, int64_t limit, int diagonal,
                         int mixture, int64_t count, uint64_t seed, const char *out) {
  ae_dataset d = {0};
  ae_tensor *codes = NULL, *drawn = NULL, *dec = NULL;
  ae_gaussian g = {0};
  ae_mixture mx = {0};
  char desc[256], fit[160];
  const char *spec;
  int rc = CLI_FAIL;
  if (cli_open_data(meta, m, data, CLI_SPLIT_TRAIN, limit, &d, &spec)) return CLI_FAIL;
  int64_t n = d.x->shape.d[0];
  if (n < 2) {
    cli_error("sample: fitting a Gaussian to codes needs at least 2 training examples; %s has %lld", spec,
              (long long)n);
    goto done;
  }
  if (!(codes = ae_encode_all(m, d.x, n, 256))) goto fail;
  int64_t k = codes->numel / n;
  int diag = diagonal || k > AE_GAUSSIAN_FULL_MAX;
  if (mixture) {
    if (ae_mixture_fit(codes, mixture, EM_ITERS, seed, &mx, NULL)) goto fail;
    snprintf(fit, sizeof fit, "a mixture of %d full-covariance Gaussians (EM, %d iterations)", mixture, EM_ITERS);
  } else {
    if (ae_gaussian_fit(codes, diag, &g)) goto fail;
    snprintf(fit, sizeof fit, "a %s Gaussian",
             diag ? (diagonal ? "diagonal" : "diagonal (code too large for a full covariance)") : "full-covariance");
  }
  ae_shape cs = codes->shape;
  cs.d[0] = count;
  if (!(drawn = ae_tensor_new(cs))) goto fail;
  ae_rng rng;
  ae_rng_init(&rng, seed);
  if (mixture ? ae_mixture_sample(&mx, count, &rng, drawn->data)
              : ae_gaussian_sample(&g, count, &rng, drawn->data))
    goto fail;
  if (!(dec = ae_decode_all(m, drawn, 256))) goto fail;
  if (ae_model_is_points(m)) {
    ae_tensor view = *dec;
    view.shape = AE_SHAPE(count, 2);
    if (ae_png_scatter(out, &view, NULL, 640, 640)) goto fail;
  } else {
    int cols = count < 16 ? (int)count : 16;
    if (ae_picture_examples(m, dec->data, count, cols, out)) goto fail;
  }
  printf("%lld samples of %s from %s fitted to the %lld-unit codes of %s (it has no prior): %s\n",
         (long long)count, meta->model, fit, (long long)k, cli_data_desc(spec, CLI_SPLIT_TRAIN, &d, desc, sizeof desc),
         out);
  rc = CLI_OK;
  goto done;
fail: /* the message is in ae_last_error() */
  cli_error("sample: %s", ae_last_error());
done:
  ae_gaussian_free(&g);
  ae_mixture_free(&mx);
  ae_tensor_free(codes);
  ae_tensor_free(drawn);
  ae_tensor_free(dec);
  ae_dataset_free(&d);
  return rc;
}

int cmd_sample(int argc, char **argv) {
  const char *out = NULL, *data = NULL;
  int64_t count = 0, seed = -1, threads = 0, limit = DEFAULT_FIT;
  int diagonal = 0;
  int64_t mixture = 0;
  cli_opt opts[] = {
      {"--out", CLI_STR, "FILE.png", "the picture to write (required)", &out, 0, 0, 0},
      {"--count", CLI_INT, "N", "samples drawn (default 64 images, 500 points)", &count, 1, 4096, 0},
      {"--seed", CLI_INT, "N", "seed of the samples (default: the run's --seed)", &seed, 0, 9.2e18, 0},
      {"--threads", CLI_INT, "N", "threads (default: OpenMP's, all cores)", &threads, 1, 1024, 0},
      {"--limit", CLI_INT, "N", "models without a prior: training examples whose codes are fitted (default 5000)",
       &limit, 2, 9.2e18, 0},
      {"--data", CLI_STR, "SPEC", "models without a prior: data to fit (default: the checkpoint's training data)",
       &data, 0, 0, 0},
      {"--diagonal", CLI_FLAG, NULL, "models without a prior: a diagonal Gaussian instead of a full covariance",
       &diagonal, 0, 0, 0},
      {"--mixture", CLI_INT, "K", "models without a prior: a mixture of K full-covariance Gaussians (EM)", &mixture, 2,
       256, 0},
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
  ae_model *m; /* the model is checked before the checkpoint is loaded where it can be */
  const ae_model_def *def = cli_checkpoint_def(pos[0], &meta, &m);
  if (!def) return CLI_FAIL;
  if (!def->sample && !def->decode) {
    char gen[512];
    generative_models(gen, sizeof gen);
    cli_error("sample: model %s is not generative: it has neither a prior nor a decoder that maps a code alone "
              "back to an example%s; "
              "models that can sample: %s",
              meta.model, strcmp(meta.model, "deconv-ae") == 0 ? " (deconv-ae unpools at its encoder's argmax positions)" : "",
              gen);
    ae_model_free(m);
    return CLI_USAGE;
  }
  if (!m) m = cli_open_checkpoint(pos[0], &meta);
  if (!m) return CLI_FAIL;
  if (!count) count = ae_model_is_points(m) ? DEFAULT_POINTS : DEFAULT_IMAGES;
  uint64_t s = seed >= 0 ? (uint64_t)seed : meta.seed;
  rc = CLI_OK;
  if (m->def->sample) {
    if (ae_picture_samples(m, count, s, out)) {
      cli_error("sample: %s", ae_last_error());
      rc = CLI_FAIL;
    } else {
      printf("%lld samples of %s from its prior N(0, I): %s\n", (long long)count, meta.model, out);
    }
  } else {
    rc = sample_fitted(m, &meta, data, limit, diagonal, (int)mixture, count, s, out);
  }
  ae_model_free(m);
  return rc;
}
