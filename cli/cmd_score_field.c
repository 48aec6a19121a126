/* cmd_score_field.c: `aezoo score-field CKPT --out FILE.png`: for a model
 * trained on 2-D points (spiral, swissroll), the reconstruction field
 * r(x) - x on a grid over the data, drawn as arrows over the training
 * points (and, for a denoiser, a sample of its noisy inputs). For a
 * denoising autoencoder with small Gaussian noise, r(x) - x estimates
 * sigma^2 times the score d log p(x) / dx (Alain and Bengio, 2014): the
 * arrows point back to the data. The command prints how well they do: the
 * mean cosine between r(x) - x and the direction from x to its nearest
 * training point, over the grid points within a band around the data. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "ckpt_data.h"
#include "commands.h"
#include "common.h"
#include "io/plot.h"

#define SIDE 720

static const char about[] =
    "Draws the reconstruction field r(x) - x of the checkpoint CKPT, a model trained on\n"
    "2-D points (spiral, swissroll, or a .npy of 2-D rows), on a GRID x GRID grid over\n"
    "the training data, as arrows over the training points; a denoiser's noisy inputs\n"
    "are drawn too. For a denoising autoencoder r(x) - x estimates sigma^2 times the\n"
    "score of the data density, so the arrows point back to the data. Prints the mean\n"
    "cosine between r(x) - x and the direction to the nearest training point over the\n"
    "grid points within the band --band (a fraction of the data's extent) of the data:\n"
    "1 when every arrow points straight at the data, 0 for random directions.";

/* The index of the training point nearest to (x, y). */
static int64_t nearest(const ae_real *pts, int64_t n, double x, double y, double *d2) {
  int64_t best = 0;
  double bd = DBL_MAX;
  for (int64_t i = 0; i < n; i++) {
    double dx = (double)pts[2 * i] - x, dy = (double)pts[2 * i + 1] - y, d = dx * dx + dy * dy;
    if (d < bd) bd = d, best = i;
  }
  *d2 = bd;
  return best;
}

/* r(x) for the rows of x (n, 2) with no gradients: into out (n*2). 0 or -1 after cli_error. */
static int reconstruct_rows(ae_model *m, const ae_tensor *x, ae_real *out, int noisy, uint64_t seed,
                            ae_real *noisy_out) {
  ae_tape *t = ae_tape_new((size_t)256 << 20);
  if (!t) {
    cli_error("score-field: %s", ae_last_error());
    return -1;
  }
  ae_set_grad_enabled(t, 0);
  ae_rng rng;
  ae_rng_init(&rng, seed);
  ae_val *xv = ae_const_tensor(t, x);
  ae_val *in = noisy && m->def->corrupt ? m->def->corrupt(m, t, xv, &rng) : xv;
  ae_val *r = noisy ? in : m->def->reconstruct(m, t, xv);
  int rc = 0;
  if (!ae_tape_ok(t)) {
    cli_error("score-field: %s", ae_tape_error(t));
    rc = -1;
  } else {
    memcpy(noisy ? noisy_out : out, r->t.data, sizeof(ae_real) * (size_t)x->numel);
  }
  ae_tape_free(t);
  return rc;
}

int cmd_score_field(int argc, char **argv) {
  const char *out = NULL, *data = NULL;
  int64_t grid = 25, limit = 1000, seed = -1;
  double band = 0.08;
  cli_opt opts[] = {
      {"--out", CLI_STR, "FILE.png", "the picture (required)", &out, 0, 0, 0},
      {"--data", CLI_STR, "SPEC", "training data (default: the checkpoint's --data)", &data, 0, 0, 0},
      {"--grid", CLI_INT, "N", "arrows per side of the grid (default 25)", &grid, 2, 200, 0},
      {"--limit", CLI_INT, "N", "training points drawn and searched (default 1000)", &limit, 1, 1e6, 0},
      {"--band", CLI_REAL, "F", "grid points within F times the data's extent of the data are scored (default "
                                "0.08)", &band, 1e-6, 10, 0},
      {"--seed", CLI_INT, "N", "seed of the denoiser's noise (default: the run's --seed)", &seed, 0, 9.2e18, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"score-field", "CKPT", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  if (!out) {
    cli_error("score-field: --out FILE.png is required");
    return CLI_USAGE;
  }
  ae_ckpt_meta meta;
  ae_model *m = cli_open_checkpoint(pos[0], &meta);
  if (!m) return CLI_FAIL;
  ae_dataset d = {0};
  ae_tensor *gx = NULL;
  ae_real *r = NULL, *noisy = NULL;
  double *px = NULL, *py = NULL, *u = NULL, *v = NULL;
  int32_t *lab = NULL;
  ae_plot *p = NULL;
  rc = CLI_FAIL;
  if (!ae_model_is_points(m)) {
    char s[64];
    cli_error("score-field: draws models of 2-D points (spiral, swissroll); model %s takes examples of shape %s",
              meta.model, ae_shape_str(m->example, s, sizeof s));
    rc = CLI_USAGE;
    goto done;
  }
  const char *spec;
  if (!data) data = meta.data;
  if (cli_open_data(&meta, m, data, CLI_SPLIT_TRAIN, limit, &d, &spec)) goto done;
  int64_t n = d.x->shape.d[0], g2 = grid * grid;
  const ae_real *pts = d.x->data;
  double lo[2] = {DBL_MAX, DBL_MAX}, hi[2] = {-DBL_MAX, -DBL_MAX};
  for (int64_t i = 0; i < n; i++)
    for (int k = 0; k < 2; k++) {
      lo[k] = fmin(lo[k], (double)pts[2 * i + k]);
      hi[k] = fmax(hi[k], (double)pts[2 * i + k]);
    }
  double ext = fmax(hi[0] - lo[0], hi[1] - lo[1]), margin = 0.1 * ext;
  gx = ae_tensor_new(AE_SHAPE(g2, 2));
  r = malloc(sizeof(ae_real) * (size_t)(2 * g2));
  px = malloc(sizeof(double) * (size_t)(2 * n + g2)), py = malloc(sizeof(double) * (size_t)(2 * n + g2));
  u = malloc(sizeof(double) * (size_t)g2), v = malloc(sizeof(double) * (size_t)g2);
  lab = malloc(sizeof(int32_t) * (size_t)(2 * n));
  noisy = malloc(sizeof(ae_real) * (size_t)(2 * n));
  if (!gx || !r || !px || !py || !u || !v || !lab || !noisy) {
    cli_error("score-field: out of memory");
    goto done;
  }
  for (int64_t i = 0; i < grid; i++)
    for (int64_t j = 0; j < grid; j++) {
      int64_t k = i * grid + j;
      gx->data[2 * k] = (ae_real)(lo[0] - margin + (hi[0] - lo[0] + 2 * margin) * (double)j / (double)(grid - 1));
      gx->data[2 * k + 1] = (ae_real)(lo[1] - margin + (hi[1] - lo[1] + 2 * margin) * (double)i / (double)(grid - 1));
    }
  if (reconstruct_rows(m, gx, r, 0, 0, NULL)) goto done;
  int has_noise = m->def->corrupt != NULL;
  if (has_noise && reconstruct_rows(m, d.x, NULL, 1, seed >= 0 ? (uint64_t)seed : meta.seed, noisy)) goto done;
  /* the field, and how well it points at the data */
  double cos_sum = 0, len_sum = 0;
  int64_t scored = 0;
  for (int64_t k = 0; k < g2; k++) {
    double x = (double)gx->data[2 * k], y = (double)gx->data[2 * k + 1];
    u[k] = (double)r[2 * k] - x, v[k] = (double)r[2 * k + 1] - y;
    px[2 * n + k] = x, py[2 * n + k] = y;
    double d2;
    int64_t q = nearest(pts, n, x, y, &d2);
    double dist = sqrt(d2), fl = hypot(u[k], v[k]);
    if (dist > 1e-12 && dist <= band * ext && fl > 0) {
      cos_sum += (u[k] * ((double)pts[2 * q] - x) + v[k] * ((double)pts[2 * q + 1] - y)) / (fl * dist);
      len_sum += fl;
      scored++;
    }
  }
  int64_t np = 0;
  for (int64_t i = 0; i < n; i++) px[np] = (double)pts[2 * i], py[np] = (double)pts[2 * i + 1], lab[np++] = 0;
  if (has_noise)
    for (int64_t i = 0; i < n; i++) px[np] = (double)noisy[2 * i], py[np] = (double)noisy[2 * i + 1], lab[np++] = 1;
  static const char *const names[2] = {"training data", "noisy inputs"};
  char title[200];
  snprintf(title, sizeof title, "%s: reconstruction field r(x) - x on %s", meta.model, spec);
  p = ae_plot_new(SIDE, SIDE);
  if (!p) {
    cli_error("score-field: %s", ae_last_error());
    goto done;
  }
  ae_plot_title(p, title);
  ae_plot_xlabel(p, "x1");
  ae_plot_ylabel(p, "x2");
  if (ae_plot_scatter(p, np, px, py, lab, names, 2) ||
      ae_plot_quiver(p, "r(x) - x", 3, g2, px + 2 * n, py + 2 * n, u, v, 1.0)) {
    cli_error("score-field: %s", ae_last_error());
    goto done;
  }
  if (ae_plot_save(p, out)) {
    cli_error("score-field: %s", ae_last_error());
    goto done;
  }
  printf("score field of %s on %s: %" PRId64 "x%" PRId64 " grid, %" PRId64 " training points%s: %s\n", meta.model,
         spec, grid, grid, n, has_noise ? " and their noisy inputs" : "", out);
  if (scored)
    printf("mean cosine between r(x) - x and the direction to the nearest training point: %.3f over %" PRId64
           " grid points within %.3g of the data (mean |r(x) - x| %.3g)\n",
           cos_sum / (double)scored, scored, band * ext, len_sum / (double)scored);
  else
    printf("no grid point lies within %.3g of the data: widen --band or refine --grid\n", band * ext);

  rc = CLI_OK;
done:
  ae_plot_free(p);
  ae_tensor_free(gx);
  free(r), free(noisy), free(px), free(py), free(u), free(v), free(lab);
  ae_dataset_free(&d);
  ae_model_free(m);
  return rc;
}
