/* test_cli_manifold.c: end-to-end tests of `aezoo tangents`, `interpolate`
 * and `retrieve` (the built binary, $AEZOO, on checkpoints of tiny `aezoo
 * train` runs): each prints its usage with --help; the picture has the
 * layout the command describes (rows x columns of 28x28 cells); the
 * numbers it prints are in range (a fraction of singular values in [0, 1];
 * retrieval precision@10 of a briefly trained ae's 8-bit hash and of the
 * PCA + sign baseline at 8 bits over twice the chance the command reports,
 * near 0.1 for Fashion-MNIST; the library's PCA is checked in
 * test_retrieval.c); and a model that lacks what a command needs is refused with one
 * clear line: tangents on psd (inferred codes), interpolate on deconv-ae
 * (no decoder from a code alone) and on 2-D points, --bits beyond the code. */
#include <math.h>

#include "cli_test_util.h"

TestSuite(cli_manifold, .init = cli_tmp_make, .fini = cli_tmp_drop, .timeout = 120);

#define CELL 58 /* 28x28 images at zoom 2 with 2-pixel gaps */
#define GRID(n) ((n) * CELL + 2)

/* The number after `key` in s. */
static double number_after(const char *s, const char *key) {
  const char *p = strstr(s, key);
  cr_assert(p, "no '%s' in: %s", key, s);
  return strtod(p + strlen(key), NULL);
}

static void train_ae(const char *run) {
  cr_assert_eq(AEZOO("train", "ae", "--limit", "600", "--test-limit", "50", "--steps", "150", "--set", "hidden=32,8",
                     "--out", run, "--quiet", "--threads", "1"),
               0, "%s", err_now());
}

Test(cli_manifold, help_of_each_command) {
  const char *cmds[] = {"tangents", "interpolate", "retrieve"};
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(AEZOO(cmds[i], "--help"), 0);
    char want[64];
    snprintf(want, sizeof want, "usage: aezoo %s CKPT", cmds[i]);
    cr_expect(strstr(slurp_file_out(), want), "%s", slurp_file_out());
  }
  cr_assert_eq(AEZOO("tangents", "x"), 2);
  ERR_IS_ONE_LINE_WITH("tangents: missing --out FILE.png");
  cr_assert_eq(AEZOO("interpolate", "x"), 2);
  ERR_IS_ONE_LINE_WITH("interpolate: missing --out FILE.png");
}

Test(cli_manifold, tangents_picture_and_spectrum) {
  const char *run = tmp_path("ae"), *png = tmp_path("t.png");
  train_ae(run);
  cr_assert_eq(AEZOO("tangents", run, "--out", png, "--count", "3", "--k", "4", "--neighbours", "10", "--train-limit",
                     "200", "--threads", "1", "--spectrum", tmp_path("s.csv")),
               0, "%s", err_now());
  int w, h;
  png_size(png, &w, &h);
  cr_expect(w == GRID(2 * 4 + 2) && h == GRID(3), "%dx%d", w, h);
  /* the spectrum file: 8 ranks, descending, its below-1 column averaging to the printed fraction */
  FILE *sf = fopen(tmp_path("s.csv"), "r");
  cr_assert(sf);
  char line[256];
  cr_assert(fgets(line, sizeof line, sf));
  cr_expect_str_eq(line, "rank,singular_value,below_1\n");
  double prev = INFINITY, below = 0;
  int rows = 0, rank;
  double sv, b;
  while (fscanf(sf, "%d,%lf,%lf", &rank, &sv, &b) == 3) {
    cr_expect_eq(rank, ++rows);
    cr_expect_leq(sv, prev);
    prev = sv, below += b;
  }
  fclose(sf);
  cr_expect_eq(rows, 8);
  const char *o = slurp_file_out();
  double f = number_after(o, "fraction of singular values below 1: ");
  cr_expect(f >= 0 && f <= 1, "%s", o);
  cr_expect_float_eq(below / rows, f, 1e-4, "%s", o);
  cr_expect(strstr(o, "(8 per image, mean over 3 images)"), "%s", o);
  double ov = number_after(o, "||T^T L||_F^2: ");
  cr_expect(ov >= 0 && ov <= 1 + 1e-9, "%s", o);
  /* psd's codes are inferred: refused, naming why */
  const char *psd = tmp_path("psd");
  cr_assert_eq(AEZOO("train", "psd", "--limit", "32", "--test-limit", "8", "--steps", "1", "--set", "code=8", "--out",
                     psd, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("tangents", psd, "--out", tmp_path("p.png"), "--count", "1", "--train-limit", "100"), 1);
  ERR_IS_ONE_LINE_WITH("psd does not depend differentiably on its input");
  cr_assert_eq(file_size(tmp_path("p.png")), -1);
}

Test(cli_manifold, interpolate_picture_and_refusals) {
  const char *run = tmp_path("ae"), *png = tmp_path("i.png");
  train_ae(run);
  cr_assert_eq(AEZOO("interpolate", run, "--out", png, "--pairs", "3", "--steps", "5"), 0, "%s", err_now());
  int w, h;
  png_size(png, &w, &h);
  cr_expect(w == GRID(7) && h == GRID(6), "%dx%d", w, h);
  const char *o = slurp_file_out();
  double code = number_after(o, "code space "), pixel = number_after(o, "pixel space ");
  cr_expect(code >= 0 && pixel >= 0, "%s", o);
  /* no decoder from a code alone */
  const char *dc = tmp_path("dc");
  cr_assert_eq(AEZOO("train", "deconv-ae", "--limit", "32", "--test-limit", "8", "--steps", "1", "--set",
                     "channels=2,2", "--out", dc, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("interpolate", dc, "--out", tmp_path("d.png")), 2);
  ERR_IS_ONE_LINE_WITH("interpolate: model deconv-ae has no decoder that maps a code alone back to an image");
  ERR_IS_ONE_LINE_WITH("models that can interpolate: ae linear-ae");
  /* 2-D points are not images */
  const char *sp = tmp_path("sp");
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "2", "--out", sp, "--quiet"),
               0);
  cr_assert_eq(AEZOO("interpolate", sp, "--out", tmp_path("s.png")), 2);
  ERR_IS_ONE_LINE_WITH("2-D points");
}

Test(cli_manifold, retrieve_scores_above_chance) {
  const char *run = tmp_path("ae"), *png = tmp_path("r.png");
  train_ae(run);
  cr_assert_eq(AEZOO("retrieve", run, "--train-limit", "400", "--queries", "60", "--out", png, "--show", "3",
                     "--results", "5", "--threads", "1"),
               0, "%s", err_now());
  const char *o = slurp_file_out();
  /* "ae code, Hamming (median bits)  8  P@10 P@100 mAP" */
  const char *row = strstr(o, "ae code, Hamming (median bits)");
  cr_assert(row, "%s", o);
  double bits, p10, p100, map;
  cr_assert_eq(sscanf(row + strlen("ae code, Hamming (median bits)"), "%lf %lf %lf %lf", &bits, &p10, &p100, &map), 4,
               "%s", o);
  cr_expect_eq(bits, 8);
  double chance = number_after(o, "chance (share of the query's label) ");
  cr_expect(chance > 0.05 && chance < 0.15, "%s", o);
  cr_expect_gt(p10, 2 * chance, "%s", o);
  cr_expect_gt(map, chance, "%s", o);
  const char *pca = strstr(o, "PCA + sign of pixels, Hamming");
  cr_assert(pca, "%s", o);
  cr_expect_eq(sscanf(pca + strlen("PCA + sign of pixels, Hamming"), "%lf %lf", &bits, &p10), 2);
  cr_expect_eq(bits, 8);
  cr_expect_gt(p10, 2 * chance, "%s", o);
  int w, h;
  png_size(png, &w, &h);
  cr_expect(w == GRID(7) && h == GRID(3), "%dx%d", w, h);
  cr_assert_eq(AEZOO("retrieve", run, "--bits", "9", "--train-limit", "200", "--queries", "10"), 2);
  ERR_IS_ONE_LINE_WITH("retrieve: --bits 9: the code of this ae has 8 units");
}

Test(cli_manifold, sample_from_a_fitted_mixture) {
  const char *run = tmp_path("ae"), *png = tmp_path("m.png");
  train_ae(run);
  cr_assert_eq(AEZOO("sample", run, "--out", png, "--count", "20", "--mixture", "3", "--limit", "300"), 0, "%s",
               err_now());
  cr_expect(strstr(slurp_file_out(), "20 samples of ae from a mixture of 3 full-covariance Gaussians (EM, 50 "
                                     "iterations) fitted to the 8-unit codes of the train split of fashion-mnist (300"),
            "%s", slurp_file_out());
  int w, h;
  png_size(png, &w, &h);
  cr_expect(w == GRID(16) && h == GRID(2), "%dx%d", w, h);
  /* the same seed, the same picture; the mixture draws differ from the single Gaussian's */
  cr_assert_eq(AEZOO("sample", run, "--out", tmp_path("m2.png"), "--count", "20", "--mixture", "3", "--limit", "300"),
               0);
  cr_expect(same_bytes(png, tmp_path("m2.png")));
  cr_assert_eq(AEZOO("sample", run, "--out", tmp_path("g.png"), "--count", "20", "--limit", "300"), 0);
  cr_expect(!same_bytes(png, tmp_path("g.png")));
  cr_assert_eq(AEZOO("sample", run, "--out", tmp_path("x.png"), "--mixture", "1"), 2);
  ERR_IS_ONE_LINE_WITH("--mixture");
}
