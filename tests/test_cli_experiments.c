/* test_cli_experiments.c: end-to-end tests of the experiment commands
 * (runs the built aezoo, $AEZOO): `aezoo plot` draws a real run's
 * train.csv and names the file and line of a malformed one; `aezoo
 * gradcheck`'s experiment options (error distribution, --csv, --sweep-eps,
 * --op). */
#include <math.h>

#include "cli_test_util.h"

TestSuite(cli_exp, .init = cli_tmp_make, .fini = cli_tmp_drop, .timeout = 120);

Test(cli_exp, plot_draws_a_real_run) {
  const char *run = tmp_path("run");
  cr_assert_eq(AEZOO("train", "ae", "--limit", "256", "--test-limit", "64", "--steps", "50", "--batch-size", "32",
                     "--set", "hidden=16,4", "--out", run, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("plot", run), 0, "%s", err_now());
  char *out = out_text();
  cr_assert(strstr(out, "loss curves (50 steps"), "%s", out);
  free(out);
  int w, h;
  png_size(tmp_path("run/loss.png"), &w, &h);
  cr_assert(w == 800 && h == 500, "loss.png is %dx%d", w, h);
  /* --out, and the CSV file named directly */
  cr_assert_eq(AEZOO("plot", tmp_path("run/train.csv"), "--out", tmp_path("curves.png")), 0, "%s", err_now());
  png_size(tmp_path("curves.png"), &w, &h);
  cr_assert(w == 800 && h == 500);
  cr_assert_eq(AEZOO("plot", "--help"), 0);
}

Test(cli_exp, plot_errors_name_the_file_and_line) {
  cr_assert_eq(AEZOO("plot", tmp_path("nothing")), 1);
  ERR_IS_ONE_LINE_WITH("nothing");
  const char *dir = tmp_path("d");
  cr_assert_eq(mkdir(dir, 0755), 0);
  cr_assert_eq(AEZOO("plot", dir), 1);
  ERR_IS_ONE_LINE_WITH("d/train.csv");
  const char *bad = tmp_path("bad.csv");
  const char text[] = "step,stage,epoch,loss,test_loss,wall_time\n1,0,1,0.5,,0.1\n2,0,1,zz,,0.2\n";
  write_bytes(bad, text, sizeof text - 1);
  cr_assert_eq(AEZOO("plot", bad), 1);
  ERR_IS_ONE_LINE_WITH("bad.csv line 3: column 'loss': 'zz' is not a number");
  const char shortrow[] = "step,stage,epoch,loss,test_loss,wall_time\n1,0,1,0.5\n";
  write_bytes(bad, shortrow, sizeof shortrow - 1);
  cr_assert_eq(AEZOO("plot", bad), 1);
  ERR_IS_ONE_LINE_WITH("bad.csv line 2: 4 fields, the header has 6");
  const char nohead[] = "a,b\n1,2\n";
  write_bytes(bad, nohead, sizeof nohead - 1);
  cr_assert_eq(AEZOO("plot", bad), 1);
  ERR_IS_ONE_LINE_WITH("bad.csv line 1");
  cr_assert_eq(AEZOO("plot"), 2);
}

/* ---- gradcheck experiments ---------------------------------------------------- */

/* The number after `key` in s (NAN when absent). */
static double number_after(const char *s, const char *key) {
  const char *p = strstr(s, key);
  return p ? strtod(p + strlen(key), NULL) : NAN;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

Test(cli_exp, gradcheck_csv_has_every_entry_and_the_reported_distribution) {
  const char *csv = tmp_path("entries.csv");
  cr_assert_eq(AEZOO("gradcheck", "ae", "--csv", csv), 0, "%s", err_now());
  char *out = out_text();
  double nparams = number_after(out, "(seed 1); ");
  double med = number_after(out, "abs median "), p99 = number_after(out, "99th percentile "),
         worst = number_after(out, "worst ");
  cr_assert(nparams > 100, "%s", out);
  /* every row: abs_err = |analytic - numeric|, and the distribution printed is the CSV's */
  FILE *f = fopen(csv, "r");
  cr_assert(f);
  char line[512];
  cr_assert(fgets(line, sizeof line, f));
  cr_assert_str_eq(line, "stage,param,index,analytic,numeric,abs_err,rel_err,pass\n");
  double errs[4096];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    char stage[16], param[64];
    long long idx;
    double a, u, e, r;
    int pass;
    cr_assert_eq(sscanf(line, "%15[^,],%63[^,],%lld,%lf,%lf,%lf,%lf,%d", stage, param, &idx, &a, &u, &e, &r, &pass),
                 8, "row %d: %s", n + 1, line);
    cr_assert_float_eq(e, fabs(a - u), 1e-6 * e + 1e-300, "row %d: %s", n + 1, line);
    cr_assert_eq(pass, 1);
    cr_assert_lt(n, 4096);
    errs[n++] = e;
  }
  fclose(f);
  cr_assert_eq(n, (int)nparams, "%d rows for %g parameters (ae has one stage: every parameter is checked)", n,
               nparams);
  qsort(errs, (size_t)n, sizeof errs[0], cmp_double);
  cr_assert_float_eq(med, errs[(n + 1) / 2 - 1], 1e-3 * med, "median %g", med);
  cr_assert_float_eq(p99, errs[(int)ceil(0.99 * n) - 1], 1e-3 * p99, "p99 %g", p99);
  cr_assert_float_eq(worst, errs[n - 1], 1e-3 * worst, "worst %g", worst);
  cr_assert(strstr(out, "closest to failing: encoder.") || strstr(out, "closest to failing: decoder."), "%s", out);
  free(out);
  /* a stacked model: rows for each stage's parameters */
  cr_assert_eq(AEZOO("gradcheck", "stacked-ae", "--csv", csv), 0, "%s", err_now());
  size_t sz;
  char *all = read_all(csv, &sz);
  cr_assert(strstr(all, "\n0,") && strstr(all, "\n1,") && strstr(all, "\n2,"), "rows of stages 0, 1, 2");
  free(all);
}

Test(cli_exp, gradcheck_tolerances_fast_and_float32) {
  /* a coarse eps with no tolerance fails, and says where */
  cr_assert_eq(AEZOO("gradcheck", "ae", "--eps", "0.1", "--atol", "1e-12", "--rtol", "0"), 1);
  char *out = out_text();
  cr_assert(strstr(out, "FAIL") && strstr(out, "(eps 0.1, atol 1e-12, rtol 0)"), "%s", out);
  free(out);
  cr_assert_eq(AEZOO("gradcheck", "vae", "--fast"), 0, "%s", err_now());
  out = out_text();
  cr_assert(strstr(out, "fast: u^T grad") && strstr(out, ": pass"), "%s", out);
  free(out);
  /* float32's analytic gradient: within the default tolerances, but with float32 rounding in it */
  cr_assert_eq(AEZOO("gradcheck", "ae", "--set", "activation=tanh"), 0);
  out = out_text();
  double w64 = number_after(out, "worst ");
  free(out);
  cr_assert_eq(AEZOO("gradcheck", "ae", "--set", "activation=tanh", "--float32"), 0, "%s", err_now());
  out = out_text();
  double w32 = number_after(out, "worst ");
  cr_assert(strstr(out, "float32 build's analytic gradient"), "%s", out);
  cr_assert(w32 > 10 * w64 && w32 < 1e-5, "float32 worst %g, float64 worst %g", w32, w64);
  free(out);
}

/* The sweep's CSV: error[e][p][s] for eps index e, precision p (0 float64), scheme s. */
typedef struct sweep {
  int n;
  double eps[64], err[64][2][3];
} sweep;

static sweep read_sweep(const char *path) {
  sweep w = {0};
  FILE *f = fopen(path, "r");
  cr_assert(f, "no %s", path);
  char line[256];
  cr_assert(fgets(line, sizeof line, f));
  cr_assert_str_eq(line, "eps,precision,scheme,max_abs_err,median_abs_err\n");
  const char *schemes[3] = {"forward", "central", "richardson"};
  while (fgets(line, sizeof line, f)) {
    double eps, mx, md;
    char prec[16], sch[16];
    cr_assert_eq(sscanf(line, "%lf,%15[^,],%15[^,],%lf,%lf", &eps, prec, sch, &mx, &md), 5, "%s", line);
    if (w.n == 0 || w.eps[w.n - 1] != eps) w.eps[w.n++] = eps;
    int p = strcmp(prec, "float32") == 0, s = -1;
    for (int k = 0; k < 3; k++)
      if (!strcmp(sch, schemes[k])) s = k;
    cr_assert(s >= 0, "%s", line);
    w.err[w.n - 1][p][s] = mx;
  }
  fclose(f);
  return w;
}

Test(cli_exp, gradcheck_eps_sweep_shows_truncation_and_rounding) {
  const char *csv = tmp_path("sweep.csv"), *png = tmp_path("sweep.png");
  cr_assert_eq(AEZOO("gradcheck", "ae", "--set", "activation=tanh", "--sweep-eps", "1e-1:1e-9:1", "--csv", csv,
                     "--out", png),
               0, "%s", err_now());
  sweep w = read_sweep(csv);
  cr_assert_eq(w.n, 9);
  double best64 = INFINITY, best32 = INFINITY;
  for (int e = 0; e < w.n; e++)
    for (int s = 0; s < 3; s++) best64 = fmin(best64, w.err[e][0][s]), best32 = fmin(best32, w.err[e][1][s]);
  cr_assert_lt(best64, 1e-6, "the float64 minimum %g", best64);
  cr_assert_gt(best32, 10 * best64, "float32 rounding: minimum %g against float64's %g", best32, best64);
  /* truncation regime: central error ~ eps^2 (slope 2 between eps 1e-2 and 1e-3), forward ~ eps */
  cr_assert_float_eq(w.eps[1], 1e-2, 1e-12);
  cr_assert_float_eq(w.eps[2], 1e-3, 1e-12);
  double central = log10(w.err[1][0][1] / w.err[2][0][1]), forward = log10(w.err[1][0][0] / w.err[2][0][0]);
  cr_assert(central > 1.8 && central < 2.2, "central slope %g", central);
  cr_assert(forward > 0.8 && forward < 1.2, "forward slope %g", forward);
  /* rounding regime: at eps 1e-9 the float64 central error grows again (V shape) */
  double vmin = INFINITY;
  for (int e = 0; e < w.n; e++) vmin = fmin(vmin, w.err[e][0][1]);
  cr_assert_gt(w.err[w.n - 1][0][1], 10 * vmin);
  int pw, ph;
  png_size(png, &pw, &ph);
  cr_assert(pw == 800 && ph == 560, "%dx%d", pw, ph);
}

Test(cli_exp, gradcheck_op_and_its_errors) {
  cr_assert_eq(AEZOO("gradcheck", "--op", "tanh", "--shape", "2,3"), 0, "%s", err_now());
  char *out = out_text();
  cr_assert(strstr(out, "inputs (2,3)") && strstr(out, "tanh: first and second order pass"), "%s", out);
  cr_assert(strstr(out, "36 entries"), "a (2,3) -> (2,3) Jacobian has 36 entries: %s", out);
  free(out);
  cr_assert_eq(AEZOO("gradcheck", "--op", "matmul"), 0, "%s", err_now());
  cr_assert_eq(AEZOO("gradcheck", "--op", "linear_sigmoid", "--shape", "6,9", "--shape", "4,9", "--shape", "4"), 0,
               "%s", err_now());
  cr_assert_eq(AEZOO("gradcheck", "--op", "linear_tanh"), 0, "%s", err_now());
  struct {
    const char *args[8];
    const char *msg;
  } cases[] = {
      {{"gradcheck", "--op", "tanhh"}, "unknown op 'tanhh'; valid ops: add sub mul div"},
      {{"gradcheck", "--op", "tanh", "--shape", "2,x"}, "--shape '2,x'"},
      {{"gradcheck", "--op", "tanh", "--shape", "2", "--shape", "3"}, "op tanh takes 1 input; 2 --shape given"},
      {{"gradcheck", "ae", "--op", "tanh"}, "give MODEL or --op NAME, not both"},
      {{"gradcheck", "ae", "--sweep-eps", "1e-9:1e-1"}, "--sweep-eps '1e-9:1e-1': expected A:B"},
      {{"gradcheck", "ae", "--out", "x.png"}, "--out names the --sweep-eps picture"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_assert_eq(cli_run(cases[i].args), 2, "case %zu: %s", i, err_now());
    ERR_IS_ONE_LINE_WITH(cases[i].msg);
  }
}

Test(cli_exp, gradcheck_at_trained_weights_on_real_examples) {
  const char *run = tmp_path("run"), *csv = tmp_path("at.csv");
  cr_assert_eq(AEZOO("train", "ae", "--limit", "256", "--test-limit", "64", "--steps", "30", "--set", "hidden=16,4",
                     "--out", run, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("gradcheck", "--at", run, "--limit", "4", "--entries", "150", "--csv", csv), 0, "%s",
               err_now());
  char *out = out_text();
  cr_assert(strstr(out, "gradcheck ae at ") && strstr(out, "input: 4 examples of shape (1,28,28), the test split of "
                                                           "fashion-mnist"),
            "%s", out);
  cr_assert(strstr(out, "150 of the 26036 entries"), "ae 784-16-4 has 26036 parameters: %s", out);
  free(out);
  size_t n;
  char *all = read_all(csv, &n);
  cr_assert_eq(lines_in(all), 1 + 150, "a header and one row per checked entry");
  free(all);
  /* the float64 sweep at trained weights reaches below 1e-6 too */
  cr_assert_eq(AEZOO("gradcheck", "--at", run, "--limit", "2", "--entries", "30", "--sweep-eps", "1e-2:1e-7:1",
                     "--csv", csv, "--out", tmp_path("at.png")),
               0, "%s", err_now());
  sweep w = read_sweep(csv);
  double best = INFINITY;
  for (int e = 0; e < w.n; e++) best = fmin(best, w.err[e][0][1]);
  cr_assert_lt(best, 1e-6);
  cr_assert_eq(AEZOO("gradcheck", "ae", "--at", run), 2);
  ERR_IS_ONE_LINE_WITH("--at CKPT checks the checkpoint's own model");
  cr_assert_eq(AEZOO("gradcheck", "ae", "--limit", "3"), 2);
  ERR_IS_ONE_LINE_WITH("give --at too");
  cr_assert_eq(AEZOO("gradcheck", "--at", tmp_path("nothing")), 1);
  ERR_IS_ONE_LINE_WITH("nothing");
}
