/* cmd_retrieve.c: `aezoo retrieve CKPT [--bits B]`: semantic hashing
 * (Salakhutdinov and Hinton 2009). The codes of a training set (the
 * database) and of test images (the queries) are made binary, B bits
 * (the B code units of largest variance over the database, each cut at its
 * median there), queries ranked against the database by Hamming distance
 * and scored by label (zoo/retrieval.h: precision@10, precision@100, mean
 * average precision), beside three baselines on the same queries: the
 * real-valued codes by Euclidean distance, PCA + sign at the same bit
 * count (PCA hashing of the pixels), and raw pixels by Euclidean distance.
 * --out draws queries and their nearest results by Hamming distance. */
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
#include "zoo/latent.h"
#include "zoo/retrieval.h"

#define DEFAULT_BITS_MAX 64

static const char about[] =
    "Semantic hashing with the model in checkpoint CKPT (a run directory of `aezoo\n"
    "train` or its model.safetensors): the codes of --train-limit training images (the\n"
    "database) and of --queries test images are made binary with --bits bits (the code\n"
    "units of largest variance over the database, each thresholded at its median there,\n"
    "so every bit splits the database in halves, or at --threshold VALUE, e.g. 0.5 for\n"
    "logistic codes; default: all units, at most 64), and\n"
    "each query ranks the database by Hamming distance (ties by index). A result is\n"
    "relevant when its label is the query's. Prints precision@10, precision@100 and the\n"
    "mean average precision (over the whole ranking) beside the baselines on the same\n"
    "queries: the real-valued codes by Euclidean distance, PCA + sign of the pixels at\n"
    "the same bit count (PCA hashing), and raw pixels by Euclidean distance; chance is\n"
    "the share of a label (0.1 for Fashion-MNIST). --out draws --show queries, one a\n"
    "row, each followed by its --results nearest database images by Hamming distance.\n"
    "Needs labelled data.";

static double *to_double(const ae_tensor *x, int64_t *k) {
  int64_t n = x->shape.d[0];
  *k = x->numel / n;
  double *d = malloc(sizeof(double) * (size_t)x->numel);
  if (d)
    for (int64_t i = 0; i < x->numel; i++) d[i] = (double)x->data[i];
  return d;
}

static void report(const char *method, int bits, const ae_retrieval_score *s) {
  char b[32];
  if (bits > 0)
    snprintf(b, sizeof b, "%d", bits);
  else
    snprintf(b, sizeof b, "-");
  printf("%-34s %6s %8.4f %8.4f %8.4f\n", method, b, s->precision[0], s->precision[1], s->map);
}

int cmd_retrieve(int argc, char **argv) {
  const char *out = NULL, *data = NULL, *threshold = "median";
  int64_t bits = 0, queries = 1000, train_limit = 10000, show = 8, results = 12, threads = 0;
  cli_opt opts[] = {
      {"--bits", CLI_INT, "B", "bits of the binary codes (default: the code's units, at most 64)", &bits, 1, 4096, 0},
      {"--threshold", CLI_STR, "median|VALUE", "where each code unit is cut into a bit (default median)", &threshold,
       0, 0, 0},
      {"--queries", CLI_INT, "N", "test images used as queries (default 1000)", &queries, 1, 9.2e18, 0},
      {"--train-limit", CLI_INT, "N", "training images in the database (default 10000)", &train_limit, 100, 9.2e18,
       0},
      {"--out", CLI_STR, "FILE.png", "also draw queries and their nearest results", &out, 0, 0, 0},
      {"--show", CLI_INT, "Q", "queries drawn with --out (default 8)", &show, 1, 256, 0},
      {"--results", CLI_INT, "R", "results drawn per query with --out (default 12)", &results, 1, 64, 0},
      {"--data", CLI_STR, "SPEC", "labelled data (default: the checkpoint's)", &data, 0, 0, 0},
      {"--threads", CLI_INT, "N", "threads (default: OpenMP's, all cores)", &threads, 1, 1024, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"retrieve", "CKPT", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  double cut = 0;
  int by_median = strcmp(threshold, "median") == 0;
  if (!by_median) {
    char *end;
    cut = strtod(threshold, &end);
    if (end == threshold || *end || !isfinite(cut)) {
      cli_error("retrieve: option --threshold: '%s' is neither 'median' nor a number", threshold);
      return CLI_USAGE;
    }
  }
  if (threads) ae_set_threads((int)threads);

  ae_ckpt_meta meta;
  ae_model *m = cli_open_checkpoint(pos[0], &meta);
  if (!m) return CLI_FAIL;
  ae_dataset tr = {0}, te = {0};
  const char *spec, *train_spec;
  char desc[256], desc2[256];
  ae_tensor *cdb = NULL, *cq = NULL;
  double *hdb = NULL, *hq = NULL, *pdb = NULL, *pq = NULL, *thr = NULL, *mean = NULL, *dirs = NULL, *var = NULL,
         *projdb = NULL, *projq = NULL;
  int64_t *unit = NULL, *top = NULL;
  ae_bits bdb = {0}, bq = {0}, pbdb = {0}, pbq = {0};
  rc = CLI_FAIL;
  if (cli_open_data(&meta, m, data, CLI_SPLIT_TRAIN, train_limit, &tr, &train_spec) ||
      cli_open_data(&meta, m, data, CLI_SPLIT_TEST, queries, &te, &spec))
    goto done;
  if (!tr.labels || !te.labels) {
    cli_error("retrieve: scores by label, and %s has no labels", tr.labels ? spec : train_spec);
    rc = CLI_USAGE;
    goto done;
  }
  int64_t n = tr.x->shape.d[0], nq = te.x->shape.d[0], k, d;
  if (n < 100) {
    cli_error("retrieve: precision@100 needs a database of at least 100 images; %s has %lld", train_spec,
              (long long)n);
    rc = CLI_USAGE;
    goto done;
  }
  if (!(cdb = ae_encode_all(m, tr.x, n, 256)) || !(cq = ae_encode_all(m, te.x, nq, 256)))
    goto fail;
  hdb = to_double(cdb, &k);
  hq = to_double(cq, &k);
  pdb = to_double(tr.x, &d);
  pq = to_double(te.x, &d);
  if (!bits) bits = k < DEFAULT_BITS_MAX ? k : DEFAULT_BITS_MAX;
  if (bits > k) {
    cli_error("retrieve: --bits %lld: the code of this %s has %lld units", (long long)bits, meta.model, (long long)k);
    rc = CLI_USAGE;
    goto done;
  }
  int pbits = (int)(bits < d ? bits : d);
  unit = malloc(sizeof(int64_t) * (size_t)bits);
  thr = malloc(sizeof(double) * (size_t)k);
  mean = malloc(sizeof(double) * (size_t)d);
  dirs = malloc(sizeof(double) * (size_t)(pbits * d));
  var = malloc(sizeof(double) * (size_t)pbits);
  projdb = malloc(sizeof(double) * (size_t)(n * pbits));
  projq = malloc(sizeof(double) * (size_t)(nq * pbits));
  if (!hdb || !hq || !pdb || !pq || !unit || !thr || !mean || !dirs || !var || !projdb || !projq) {
    goto oom;
  }
  /* the model's hash: top-variance units, median thresholds */
  if (ae_top_variance_units(hdb, n, k, (int)bits, unit) ||
      ae_column_medians(hdb, n, k, thr))
    goto fail;
  double *t_sel = malloc(sizeof(double) * (size_t)bits);
  if (!t_sel) goto oom;
  for (int64_t j = 0; j < bits; j++) t_sel[j] = by_median ? thr[unit[j]] : cut;
  int e = ae_bits_from(hdb, n, k, (int)bits, unit, t_sel, &bdb) ||
          ae_bits_from(hq, nq, k, (int)bits, unit, t_sel, &bq);
  free(t_sel);
  if (e) goto fail;
  /* PCA + sign of the pixels */
  if (ae_pca(pdb, n, d, pbits, mean, dirs, var)) goto fail;
  for (int64_t i = 0; i < n + nq; i++) {
    const double *row = i < n ? pdb + i * d : pq + (i - n) * d;
    double *o = i < n ? projdb + i * pbits : projq + (i - n) * pbits;
    for (int p = 0; p < pbits; p++) {
      double acc = 0;
      for (int64_t j = 0; j < d; j++) acc += (row[j] - mean[j]) * dirs[p * d + j];
      o[p] = acc;
    }
  }
  double *zeros = calloc((size_t)pbits, sizeof(double));
  if (!zeros) goto oom;
  e = ae_bits_from(projdb, n, pbits, pbits, NULL, zeros, &pbdb) ||
      ae_bits_from(projq, nq, pbits, pbits, NULL, zeros, &pbq);
  free(zeros);
  if (e) goto fail;

  int ntop = out ? (int)results : 0;
  if (out && !(top = malloc(sizeof(int64_t) * (size_t)(nq * results)))) goto oom;
  ae_retrieval_score hs = {.nk = 2, .k = {10, 100}}, cs = hs, ps = hs, xs = hs;
  if (ae_retrieve_hamming(&bdb, tr.labels, &bq, te.labels, &hs, top, ntop) ||
      ae_retrieve_euclidean(hdb, n, tr.labels, hq, nq, te.labels, k, &cs, NULL, 0) ||
      ae_retrieve_hamming(&pbdb, tr.labels, &pbq, te.labels, &ps, NULL, 0) ||
      ae_retrieve_euclidean(pdb, n, tr.labels, pq, nq, te.labels, d, &xs, NULL, 0))
    goto fail;
  printf("retrieval with %s: queries %s, database %s\n", meta.model,
         cli_data_desc(spec, CLI_SPLIT_TEST, &te, desc, sizeof desc),
         cli_data_desc(train_spec, CLI_SPLIT_TRAIN, &tr, desc2, sizeof desc2));
  int64_t *count = calloc((size_t)(tr.nclasses > 0 ? tr.nclasses : 1), sizeof(int64_t));
  double chance = 0;
  if (count) {
    for (int64_t i = 0; i < n; i++)
      if (tr.labels[i] >= 0 && tr.labels[i] < tr.nclasses) count[tr.labels[i]]++;
    for (int64_t i = 0; i < nq; i++)
      if (te.labels[i] >= 0 && te.labels[i] < tr.nclasses) chance += (double)count[te.labels[i]] / (double)n;
    chance /= (double)nq;
    free(count);
  }
  printf("%-34s %6s %8s %8s %8s\n", "method", "bits", "P@10", "P@100", "mAP");
  char name[192];
  if (by_median)
    snprintf(name, sizeof name, "%s code, Hamming (median bits)", meta.model);
  else
    snprintf(name, sizeof name, "%s code, Hamming (cut at %g)", meta.model, cut);
  report(name, (int)bits, &hs);
  snprintf(name, sizeof name, "%s code (%lld units), Euclidean", meta.model, (long long)k);
  report(name, 0, &cs);
  report("PCA + sign of pixels, Hamming", pbits, &ps);
  report("raw pixels, Euclidean", 0, &xs);
  printf("chance (share of the query's label) %.4f\n", chance);
  if (pbits < bits) printf("(PCA + sign has at most %lld bits: the pixels' dimension)\n", (long long)d);
  if (out) {
    int64_t q = show < nq ? show : nq, cols = results + 2, dim = m->dim;
    ae_real *grid = malloc(sizeof(ae_real) * (size_t)(q * cols * dim));
    if (!grid) goto oom;
    for (int64_t i = 0; i < q; i++) {
      ae_real *row = grid + i * cols * dim;
      memcpy(row, te.x->data + i * dim, sizeof(ae_real) * (size_t)dim);
      for (int64_t j = 0; j < dim; j++) row[dim + j] = (ae_real)NAN;
      for (int64_t r = 0; r < results; r++)
        memcpy(row + (2 + r) * dim, tr.x->data + top[i * results + r] * dim, sizeof(ae_real) * (size_t)dim);
    }
    e = ae_picture_examples(m, grid, q * cols, (int)cols, out);
    free(grid);
    if (e) goto fail;
    printf("queries and their %lld nearest by Hamming distance: %s\n", (long long)results, out);
  }
  rc = CLI_OK;
  goto done;
oom:
  ae_set_last_error("out of memory");
fail: /* the message is in ae_last_error() */
  cli_error("retrieve: %s", ae_last_error());
done:
  ae_bits_free(&bdb), ae_bits_free(&bq), ae_bits_free(&pbdb), ae_bits_free(&pbq);
  free(hdb), free(hq), free(pdb), free(pq), free(thr), free(mean), free(dirs), free(var), free(projdb), free(projq);
  free(unit), free(top);
  ae_tensor_free(cdb);
  ae_tensor_free(cq);
  ae_dataset_free(&tr);
  ae_dataset_free(&te);
  ae_model_free(m);
  return rc;
}
