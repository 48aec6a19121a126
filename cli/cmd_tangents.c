/* cmd_tangents.c: `aezoo tangents CKPT --out FILE.png`: for --count test
 * images, the --k leading right singular vectors of the encoder's Jacobian
 * dh/dx (zoo/tangent.h: the input-space directions the code is most
 * sensitive to, Rifai et al. 2011), pictured beside the input, and beside
 * them the leading directions of a local PCA of the input's nearest
 * training neighbours. Prints the singular value spectrum (mean over the
 * images), the fraction of singular values below 1 (Rifai et al. report
 * most of a CAE's below 1: the encoder contracts in most directions) and
 * the overlap of the two K-dimensional subspaces. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "base/parallel.h"
#include "ckpt_data.h"
#include "commands.h"
#include "common.h"
#include "run/pictures.h"
#include "zoo/tangent.h"

#define SPECTRUM_SHOWN 10

static const char about[] =
    "For --count images of the test data of checkpoint CKPT (a run directory of\n"
    "`aezoo train` or its model.safetensors), computes the encoder's Jacobian J = dh/dx\n"
    "(code units x pixels) at each image and its SVD (LAPACK). The picture has one row\n"
    "per image: the image, its --k leading right singular vectors of J (the pixel-space\n"
    "directions the code changes fastest along: the model's tangent plane), an empty\n"
    "cell, then the --k leading principal directions of its --neighbours nearest\n"
    "training images (Euclidean, among --train-limit). Directions are drawn grey at 0,\n"
    "white and black at +-max|v|. Prints the singular values (mean over the images),\n"
    "the fraction of all singular values below 1 (Rifai et al. 2011: most of a\n"
    "contractive autoencoder's are), and the overlap of the two subspaces,\n"
    "(1/K) ||T^T L||_F^2, 1 when they coincide, about K/pixels for random ones.\n"
    "Works for any model whose code is a differentiable function of its input; psd's\n"
    "codes are inferred by MFISTA and are refused.";

/* v (d values) scaled into [0, 1]: 0.5 + 0.5 v / max |v| */
static void direction_image(const double *v, int64_t d, ae_real *out) {
  double mx = 0;
  for (int64_t j = 0; j < d; j++) mx = fmax(mx, fabs(v[j]));
  for (int64_t j = 0; j < d; j++) out[j] = (ae_real)(mx > 0 ? 0.5 + 0.5 * v[j] / mx : 0.5);
}

int cmd_tangents(int argc, char **argv) {
  const char *out = NULL, *data = NULL, *spectrum = NULL;
  int64_t count = 8, k = 6, neighbours = 50, train_limit = 10000, threads = 0;
  cli_opt opts[] = {
      {"--out", CLI_STR, "FILE.png", "the picture to write (required)", &out, 0, 0, 0},
      {"--count", CLI_INT, "N", "test images, one row each (default 8)", &count, 1, 1000, 0},
      {"--k", CLI_INT, "K", "directions of each kind pictured (default 6)", &k, 1, 64, 0},
      {"--neighbours", CLI_INT, "M", "nearest training images for the local PCA (default 50)", &neighbours, 2, 1e6, 0},
      {"--train-limit", CLI_INT, "N", "training images searched for neighbours (default 10000)", &train_limit, 2,
       9.2e18, 0},
      {"--spectrum", CLI_STR, "FILE.csv", "also write the mean singular values: rank,singular_value,below_1", &spectrum,
       0, 0, 0},
      {"--data", CLI_STR, "SPEC", "data set (default: the checkpoint's test data; its train split for neighbours)",
       &data, 0, 0, 0},
      {"--threads", CLI_INT, "N", "threads (default: OpenMP's, all cores)", &threads, 1, 1024, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"tangents", "CKPT", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  if (!out) {
    cli_error("tangents: missing --out FILE.png; usage: aezoo tangents CKPT --out FILE.png [options]");
    return CLI_USAGE;
  }
  if (k >= neighbours) {
    cli_error("tangents: --k %lld needs more --neighbours than that (got %lld)", (long long)k, (long long)neighbours);
    return CLI_USAGE;
  }
  if (threads) ae_set_threads((int)threads);

  ae_ckpt_meta meta;
  ae_model *m = cli_open_checkpoint(pos[0], &meta);
  if (!m) return CLI_FAIL;
  ae_dataset te = {0}, tr = {0};
  const char *spec;
  char desc[256];
  int64_t dim = m->dim, cols = 2 * k + 2;
  double *s = malloc(sizeof(double) * (size_t)dim), *sum_s = calloc((size_t)dim, sizeof(double));
  double *below_at = calloc((size_t)dim, sizeof(double)); /* images whose j-th singular value is below 1 */
  double *tdir = malloc(sizeof(double) * (size_t)(k * dim)), *ldir = malloc(sizeof(double) * (size_t)(k * dim));
  double *var = malloc(sizeof(double) * (size_t)k);
  ae_real *grid = malloc(sizeof(ae_real) * (size_t)(count * cols * dim));
  rc = CLI_FAIL;
  if (!s || !sum_s || !below_at || !tdir || !ldir || !var || !grid) {
    cli_error("tangents: out of memory");
    goto done;
  }
  if (ae_model_is_points(m)) {
    cli_error("tangents: draws images; the examples of this %s are 2-D points", meta.model);
    rc = CLI_USAGE;
    goto done;
  }
  if (cli_open_data(&meta, m, data, CLI_SPLIT_TEST, count, &te, &spec)) goto done;
  const char *train_spec;
  if (cli_open_data(&meta, m, data, CLI_SPLIT_TRAIN, train_limit, &tr, &train_spec)) goto done;
  if (tr.x->shape.d[0] <= neighbours) {
    cli_error("tangents: --neighbours %lld needs more training images than %lld", (long long)neighbours,
              (long long)tr.x->shape.d[0]);
    rc = CLI_USAGE;
    goto done;
  }
  count = te.x->shape.d[0];
  int64_t r = 0, below = 0, total = 0;
  double overlap = 0;
  for (int64_t i = 0; i < count; i++) {
    const ae_real *x = te.x->data + i * dim;
    if (ae_tangent_directions(m, x, (int)k, s, &r, tdir)) goto fail;
    int64_t kt = k < r ? k : r; /* directions past the rank are zeros */
    if (ae_local_pca(tr.x->data, tr.x->shape.d[0], dim, x, neighbours, (int)k, var, ldir, NULL))
      goto fail;
    for (int64_t j = 0; j < r; j++) {
      sum_s[j] += s[j];
      below += s[j] < 1;
      below_at[j] += s[j] < 1;
    }
    total += r;
    double ov = 0;
    for (int64_t a = 0; a < kt; a++)
      for (int64_t b = 0; b < k; b++) {
        double dot = 0;
        for (int64_t j = 0; j < dim; j++) dot += tdir[a * dim + j] * ldir[b * dim + j];
        ov += dot * dot;
      }
    overlap += ov / (double)k;
    ae_real *row = grid + i * cols * dim;
    memcpy(row, x, sizeof(ae_real) * (size_t)dim);
    for (int64_t c = 1; c < cols; c++)
      for (int64_t j = 0; j < dim; j++) row[c * dim + j] = (ae_real)NAN; /* empty cells */
    for (int64_t a = 0; a < kt; a++) direction_image(tdir + a * dim, dim, row + (1 + a) * dim);
    for (int64_t b = 0; b < k; b++) direction_image(ldir + b * dim, dim, row + (k + 2 + b) * dim);
  }
  if (ae_picture_examples(m, grid, count * cols, (int)cols, out)) goto fail;
  printf("tangents of %s at %s: %s\n", meta.model, cli_data_desc(spec, CLI_SPLIT_TEST, &te, desc, sizeof desc), out);
  printf("rows: image, %lld leading right singular vectors of dh/dx, gap, %lld local PCA directions of its %lld "
         "nearest of %lld training images\n",
         (long long)k, (long long)k, (long long)neighbours, (long long)tr.x->shape.d[0]);
  printf("singular values of dh/dx (%lld per image, mean over %lld images):", (long long)r, (long long)count);
  for (int64_t j = 0; j < r && j < SPECTRUM_SHOWN; j++) printf(" %.4g", sum_s[j] / (double)count);
  if (r > SPECTRUM_SHOWN) printf(" ... %.4g", sum_s[r - 1] / (double)count);
  printf("\nfraction of singular values below 1: %.4f (%lld of %lld)\n", (double)below / (double)total,
         (long long)below, (long long)total);
  printf("overlap of the tangent and local PCA subspaces (1/K)||T^T L||_F^2: %.4f (random: %.4f)\n",
         overlap / (double)count, (double)k / (double)dim);
  if (spectrum) {
    FILE *f = fopen(spectrum, "w");
    int bad = !f;
    if (f) {
      fprintf(f, "rank,singular_value,below_1\n");
      for (int64_t j = 0; j < r; j++) fprintf(f, "%lld,%.9g,%.6f\n", (long long)(j + 1), sum_s[j] / (double)count,
                                              below_at[j] / (double)count);
      bad = ferror(f) | (fclose(f) != 0);
    }
    if (bad) {
      ae_set_last_error("%s: cannot write the spectrum", spectrum);
      goto fail;
    }
    printf("spectrum: %s\n", spectrum);
  }
  rc = CLI_OK;
  goto done;
fail: /* the message is in ae_last_error() */
  cli_error("tangents: %s", ae_last_error());
done:
  free(s), free(sum_s), free(below_at), free(tdir), free(ldir), free(var), free(grid);
  ae_dataset_free(&te);
  ae_dataset_free(&tr);
  ae_model_free(m);
  return rc;
}
