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
