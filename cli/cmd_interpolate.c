/* cmd_interpolate.c: `aezoo interpolate CKPT --out FILE.png`: decoded
 * images along straight lines in code space between pairs of test images
 * (zoo/latent.h: ae_interpolate_codes), each line drawn above the
 * pixel-space line between the same two images, with the inputs at both
 * ends. Also prints how far each kind of interpolant lies from the model's
 * manifold: the mean squared error of the model's reconstruction of the
 * interpolants (an image the model reconstructs well is one it can
 * represent). Models without a decode hook (deconv-ae) are refused with
 * exit status 2 before anything is loaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "base/parallel.h"
#include "ckpt_data.h"
#include "commands.h"
#include "common.h"
#include "run/pictures.h"
#include "zoo/latent.h"

static const char about[] =
    "Decodes points along straight lines in code space between pairs of images of the\n"
    "test data of checkpoint CKPT (a run directory of `aezoo train` or its\n"
    "model.safetensors): pair p joins test images p and p + --pairs. Each pair gives two\n"
    "rows of the picture: the code-space line h = (1-t) encode(a) + t encode(b), decoded,\n"
    "for --steps values of t from 0 to 1, then the pixel-space line (1-t) a + t b; the\n"
    "inputs a and b stand at both ends of both rows. Prints the mean squared error of\n"
    "the model's reconstructions of the interior interpolants of each kind: code-space\n"
    "interpolants are images the model can represent (small error), pixel-space ones\n"
    "(ghostly overlays) mostly are not. Needs a model that decodes a code on its own\n"
    "(every zoo model but deconv-ae).";

/* mean over the rows of x of mean((reconstruct(x) - x)^2); 0, or -1 with
 * ae_last_error() */
static int recon_mse(ae_model *m, const ae_tensor *x, double *mse) {
  ae_tensor *r = ae_reconstruct_all(m, x, 256);
  if (!r) return -1;
  double s = 0;
  for (int64_t i = 0; i < x->numel; i++) s += ((double)r->data[i] - x->data[i]) * ((double)r->data[i] - x->data[i]);
  *mse = s / (double)x->numel;
  ae_tensor_free(r);
  return 0;
}

int cmd_interpolate(int argc, char **argv) {
  const char *out = NULL, *data = NULL;
  int64_t pairs = 8, steps = 10, threads = 0;
  cli_opt opts[] = {
      {"--out", CLI_STR, "FILE.png", "the picture to write (required)", &out, 0, 0, 0},
      {"--pairs", CLI_INT, "P", "pairs of test images, two rows each (default 8)", &pairs, 1, 256, 0},
      {"--steps", CLI_INT, "S", "points on each line, both ends included (default 10)", &steps, 2, 64, 0},
      {"--data", CLI_STR, "SPEC", "data set (default: the checkpoint's test data)", &data, 0, 0, 0},
      {"--threads", CLI_INT, "N", "threads (default: OpenMP's, all cores)", &threads, 1, 1024, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"interpolate", "CKPT", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  if (!out) {
    cli_error("interpolate: missing --out FILE.png; usage: aezoo interpolate CKPT --out FILE.png [options]");
    return CLI_USAGE;
  }
  if (threads) ae_set_threads((int)threads);

  ae_ckpt_meta meta;
  ae_model *m;
  const ae_model_def *def = cli_checkpoint_def(pos[0], &meta, &m);
  if (!def) return CLI_FAIL;
  if (!def->decode) {
    char with[512];
    ae_models_with_decode(with, sizeof with);
    cli_error("interpolate: model %s has no decoder that maps a code alone back to an image%s; models that can "
              "interpolate: %s",
              meta.model, strcmp(meta.model, "deconv-ae") == 0 ? " (deconv-ae unpools at its encoder's argmax positions)" : "",
              with);
    ae_model_free(m);
    return CLI_USAGE;
  }
  if (!m && !(m = cli_open_checkpoint(pos[0], &meta))) return CLI_FAIL;
  if (ae_model_is_points(m)) {
    cli_error("interpolate: draws images; the examples of this %s are 2-D points", meta.model);
    ae_model_free(m);
    return CLI_USAGE;
  }
  ae_dataset d = {0};
  const char *spec;
  ae_tensor *code_pts = NULL, *pixel_pts = NULL;
  ae_real *grid = NULL;
  rc = CLI_FAIL;
  if (cli_open_data(&meta, m, data, CLI_SPLIT_TEST, 2 * pairs, &d, &spec)) goto done;
  if (d.x->shape.d[0] < 2 * pairs) {
    cli_error("interpolate: %lld pairs need %lld test images; %s has %lld", (long long)pairs, (long long)(2 * pairs),
              spec, (long long)d.x->shape.d[0]);
    rc = CLI_USAGE;
    goto done;
  }
  int64_t dim = m->dim, cols = steps + 2, inner = steps - 2;
  grid = malloc(sizeof(ae_real) * (size_t)(2 * pairs * cols * dim));
  ae_shape ps = d.x->shape;
  ps.d[0] = inner > 0 ? pairs * inner : 1;
  code_pts = ae_tensor_new(ps);
  pixel_pts = ae_tensor_new(ps);
  if (!grid || !code_pts || !pixel_pts) {
    cli_error("interpolate: out of memory");
    goto done;
  }
  for (int64_t p = 0; p < pairs; p++) {
    const ae_real *a = d.x->data + p * dim, *b = d.x->data + (p + pairs) * dim;
    ae_real *code_row = grid + (2 * p) * cols * dim, *pix_row = grid + (2 * p + 1) * cols * dim;
    if (ae_interpolate_codes(m, a, b, (int)steps, code_row + dim)) {
      cli_error("interpolate: %s", ae_last_error());
      goto done;
    }
    for (int64_t s = 0; s < steps; s++) {
      double t = (double)s / (double)(steps - 1);
      for (int64_t j = 0; j < dim; j++) pix_row[(s + 1) * dim + j] = (ae_real)((1 - t) * a[j] + t * b[j]);
    }
    for (int r = 0; r < 2; r++) {
      ae_real *row = r ? pix_row : code_row;
      memcpy(row, a, sizeof(ae_real) * (size_t)dim);
      memcpy(row + (cols - 1) * dim, b, sizeof(ae_real) * (size_t)dim);
    }
    for (int64_t s = 0; s < inner; s++) {
      memcpy(code_pts->data + (p * inner + s) * dim, code_row + (s + 2) * dim, sizeof(ae_real) * (size_t)dim);
      memcpy(pixel_pts->data + (p * inner + s) * dim, pix_row + (s + 2) * dim, sizeof(ae_real) * (size_t)dim);
    }
  }
  if (ae_picture_examples(m, grid, 2 * pairs * cols, (int)cols, out)) {
    cli_error("interpolate: %s", ae_last_error());
    goto done;
  }
  char desc[256];
  printf("%lld pairs of %s, %lld steps: rows alternate the code-space line (decoded) and the pixel-space line, "
         "inputs at both ends: %s\n",
         (long long)pairs, cli_data_desc(spec, CLI_SPLIT_TEST, &d, desc, sizeof desc), (long long)steps, out);
  if (inner > 0) {
    double mc, mp;
    if (recon_mse(m, code_pts, &mc) || recon_mse(m, pixel_pts, &mp)) {
      cli_error("interpolate: %s", ae_last_error());
      goto done;
    }
    printf("reconstruction MSE of the interior interpolants: code space %.5f, pixel space %.5f\n", mc, mp);
  }
  rc = CLI_OK;
done:
  free(grid);
  ae_tensor_free(code_pts);
  ae_tensor_free(pixel_pts);
  ae_dataset_free(&d);
  ae_model_free(m);
  return rc;
}
