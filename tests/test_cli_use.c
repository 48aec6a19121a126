/* test_cli_use.c: end-to-end tests of the commands that use a trained
 * checkpoint (`aezoo eval`, `reconstruct`, `sample`, `encode`) and of
 * `aezoo gradcheck`: the built binary ($AEZOO; aezoo64 next to it) is run
 * by fork/exec on checkpoints of tiny `aezoo train` runs (a few steps,
 * hidden sizes of 16 or less, a few hundred examples: the plumbing is
 * tested, not learning), and what it prints or writes is checked against
 * computations made here with the library (the checkpoint loaded with
 * run/checkpoint.c, the data with io/dataset.h). */
#include <math.h>

#include "run/checkpoint.h"
#include "cli_test_util.h"
#include "io/dataset.h"
#include "io/npy.h"
#include "zoo/zoo.h"

TestSuite(cli_use, .init = cli_tmp_make, .fini = cli_tmp_drop, .timeout = 120);

/* The number after `key` at the start of a line of s ("loss      0.123"). */
static double value_of(const char *s, const char *key) {
  size_t k = strlen(key);
  for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    const char *q = p;
    while (*q == ' ') q++;
    if (strncmp(q, key, k) == 0 && q[k] == ' ') return strtod(q + k, NULL);
  }
  cr_assert_fail("no line '%s' in: %s", key, s);
  return NAN;
}
static int close_rel(double a, double b, double rel) { return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)); }

static ae_model *load(const char *dir, ae_ckpt_meta *meta) {
  ae_model *m = ae_ckpt_load_model(dir, meta);
  cr_assert(m, "%s", ae_last_error());
  return m;
}

/* The cell size of a picture grid: 28x28 images are drawn at zoom 2 with 2-pixel gaps. */
#define CELL 58
#define GRID(n) ((n) * CELL + 2)

Test(cli_use, eval_prints_the_loss_its_terms_and_the_pixel_mse) {
  const char *run = tmp_path("run");
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "20", "--out", run,
                     "--quiet"),
               0);
  cr_assert_eq(AEZOO("eval", run), 0, "%s", err_now());
  char *out = out_text();
  double loss = value_of(out, "loss"), mse = value_of(out, "mse"), pix = value_of(out, "mse_pixel");
  cr_assert(strstr(out, "the test split of spiral (500 examples)"), "%s", out);
  cr_assert(!strstr(out, "neg_elbo"), "only vae has an ELBO: %s", out);
  /* independently: the checkpoint's reconstructions of the spiral test split */
  ae_ckpt_meta meta;
  ae_model *m = load(run, &meta);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load("spiral", 1, 0, meta.seed, &d), 0, "%s", ae_last_error());
  ae_tape *t = ae_tape_new((size_t)64 << 20);
  ae_set_grad_enabled(t, 0);
  ae_val *y = m->def->reconstruct(m, t, ae_const_tensor(t, d.x));
  cr_assert(ae_tape_ok(t));
  double sq = 0;
  for (int64_t i = 0; i < d.x->numel; i++) sq += pow((double)y->t.data[i] - (double)d.x->data[i], 2);
  sq /= (double)d.x->numel;
  cr_assert(close_rel(pix, sq, 1e-5), "mse_pixel %g, computed %g", pix, sq);
  cr_assert(close_rel(mse, sq, 1e-5), "the mse term (mean over pixels) %g, computed %g", mse, sq);
  cr_assert(close_rel(loss, mse, 1e-6), "ae's loss is its mse term: %g vs %g", loss, mse);
  ae_tape_free(t);
  ae_dataset_free(&d);
  ae_model_free(m);
  free(out);
  /* the model file itself, another split and a limit */
  char file[600];
  snprintf(file, sizeof file, "%s/model.safetensors", run);
  cr_assert_eq(AEZOO("eval", file), 0);
  out = out_text();
  cr_assert_eq(value_of(out, "loss"), loss);
  free(out);
  cr_assert_eq(AEZOO("eval", run, "--split", "train", "--limit", "100"), 0);
  out = out_text();
  cr_assert(strstr(out, "the train split of spiral (100 examples)"), "%s", out);
  cr_assert_neq(value_of(out, "loss"), loss);
  free(out);
}

Test(cli_use, eval_of_a_vae_gives_the_negative_elbo_at_beta_1) {
  const char *run = tmp_path("vae");
  cr_assert_eq(AEZOO("train", "vae", "--limit", "256", "--test-limit", "64", "--steps", "5", "--set", "hidden=16",
                     "--set", "code=2", "--set", "beta=4", "--out", run, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("eval", run, "--limit", "200"), 0, "%s", err_now());
  char *out = out_text();
  double loss = value_of(out, "loss"), recon = value_of(out, "recon"), kl = value_of(out, "kl"),
         ne = value_of(out, "neg_elbo");
  cr_assert(strstr(out, "the test split of fashion-mnist (200 examples)"), "%s", out);
  cr_assert(close_rel(loss, recon + kl, 1e-5), "loss %g = recon %g + kl %g", loss, recon, kl);
  /* the kl term carries beta = 4; the ELBO has it at 1, same z, so the same recon */
  cr_assert(kl > 0);
  cr_assert(close_rel(ne, recon + kl / 4, 1e-5), "neg_elbo %g, recon + kl/4 = %g", ne, recon + kl / 4);
  cr_assert(strstr(out, "nats per example") && strstr(out, "trained with beta = 4"), "%s", out);
  /* the noise comes from --seed: the same numbers again, other ones with another seed */
  cr_assert_eq(AEZOO("eval", run, "--limit", "200"), 0);
  char *again = out_text();
  cr_assert_str_eq(out, again);
  cr_assert_eq(AEZOO("eval", run, "--limit", "200", "--seed", "99"), 0);
  char *other = out_text();
  cr_assert_neq(value_of(other, "recon"), recon); /* z's noise; kl is analytic */
  free(out);
  free(again);
  free(other);
}

Test(cli_use, reconstruct_draws_bands_of_inputs_and_reconstructions) {
  const char *ae = tmp_path("ae"), *dae = tmp_path("cdae"), *sp = tmp_path("sp");
  int w, h;
  cr_assert_eq(AEZOO("train", "ae", "--limit", "256", "--test-limit", "64", "--steps", "3", "--set", "hidden=16,4",
                     "--out", ae, "--quiet"),
               0, "%s", err_now());
  /* 8 examples: one row of inputs above one of reconstructions */
  cr_assert_eq(AEZOO("reconstruct", ae, "--out", tmp_path("a.png"), "--count", "8"), 0, "%s", err_now());
  png_size(tmp_path("a.png"), &w, &h);
  cr_assert(w == GRID(8) && h == GRID(2), "%dx%d", w, h);
  /* the default 32: two chunks of 16, each two bands */
  cr_assert_eq(AEZOO("reconstruct", ae, "--out", tmp_path("b.png")), 0);
  png_size(tmp_path("b.png"), &w, &h);
  cr_assert(w == GRID(16) && h == GRID(4), "%dx%d", w, h);
  /* a denoiser adds a band of noisy inputs: 20 examples = 2 chunks of 3 bands */
  cr_assert_eq(AEZOO("train", "conv-dae", "--limit", "128", "--test-limit", "32", "--steps", "2", "--set",
                     "channels=2,4", "--out", dae, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("reconstruct", dae, "--out", tmp_path("c.png"), "--count", "20"), 0, "%s", err_now());
  cr_assert(strstr(slurp_file_out(), "with their noisy inputs"));
  png_size(tmp_path("c.png"), &w, &h);
  cr_assert(w == GRID(16) && h == GRID(6), "%dx%d", w, h);
  /* 2-D points: a scatter plot */
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "3", "--out", sp,
                     "--quiet"),
               0);
  cr_assert_eq(AEZOO("reconstruct", sp, "--out", tmp_path("d.png")), 0, "%s", err_now());
  cr_assert(strstr(slurp_file_out(), "reconstructions of 500 points of spiral"));
  png_size(tmp_path("d.png"), &w, &h);
  cr_assert(w == 640 && h == 640, "%dx%d", w, h);
  /* data of another shape, and an unwritable picture: one line, exit 1 */
  cr_assert_eq(AEZOO("reconstruct", sp, "--out", tmp_path("e.png"), "--data", "fashion-mnist"), 1);
  ERR_IS_ONE_LINE_WITH("have shape (1,28,28); the checkpoint's model ae takes (2,)");
  cr_assert_eq(AEZOO("reconstruct", ae, "--out", tmp_path("no/such/dir/f.png")), 1);
  ERR_IS_ONE_LINE_WITH("no/such/dir/f.png");
  cr_assert_eq(file_size(tmp_path("e.png")), -1);
}

Test(cli_use, sample_draws_from_the_prior_and_refuses_other_models) {
  const char *vae = tmp_path("vae"), *ae = tmp_path("ae");
  int w, h;
  cr_assert_eq(AEZOO("train", "vae", "--limit", "128", "--test-limit", "32", "--steps", "2", "--set", "hidden=16",
                     "--set", "code=3", "--out", vae, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("sample", vae, "--out", tmp_path("s.png"), "--count", "10"), 0, "%s", err_now());
  png_size(tmp_path("s.png"), &w, &h);
  cr_assert(w == GRID(10) && h == GRID(1), "%dx%d", w, h);
  cr_assert_eq(AEZOO("sample", vae, "--out", tmp_path("t.png")), 0);
  png_size(tmp_path("t.png"), &w, &h);
  cr_assert(w == GRID(16) && h == GRID(4), "64 samples: %dx%d", w, h);
  /* the samples come from --seed */
  cr_assert_eq(AEZOO("sample", vae, "--out", tmp_path("u.png"), "--count", "10"), 0);
  cr_assert(same_bytes(tmp_path("s.png"), tmp_path("u.png")));
  cr_assert_eq(AEZOO("sample", vae, "--out", tmp_path("v.png"), "--count", "10", "--seed", "5"), 0);
  cr_assert(!same_bytes(tmp_path("s.png"), tmp_path("v.png")));
  /* a model without a prior samples a Gaussian fitted to its training codes, and says so */
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "2", "--out", ae,
                     "--quiet"),
               0);
  cr_assert_eq(AEZOO("sample", ae, "--out", tmp_path("w.png"), "--limit", "300"), 0, "%s", err_now());
  cr_assert(strstr(slurp_file_out(), "full-covariance Gaussian fitted to the 2-unit codes of the train split of spiral (300"),
            "%s", slurp_file_out());
  cr_assert_gt(file_size(tmp_path("w.png")), 0);
  /* a model with neither a prior nor a decoder: exit 2, naming it and the models that can sample */
  const char *dc = tmp_path("dc");
  cr_assert_eq(AEZOO("train", "deconv-ae", "--limit", "32", "--test-limit", "8", "--steps", "1", "--set",
                     "channels=2,2", "--out", dc, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("sample", dc, "--out", tmp_path("x.png")), 2);
  ERR_IS_ONE_LINE_WITH("sample: model deconv-ae is not generative");
  ERR_IS_ONE_LINE_WITH("models that can sample: ae linear-ae");
  ERR_IS_ONE_LINE_WITH(" vae psd seq-ae");
  cr_assert_eq(file_size(tmp_path("x.png")), -1);
}

Test(cli_use, encode_writes_the_codes_in_batches_and_plots_2d_codes) {
  const char *vae = tmp_path("vae"), *ae = tmp_path("ae");
  cr_assert_eq(AEZOO("train", "vae", "--limit", "128", "--test-limit", "32", "--steps", "3", "--set", "hidden=16",
                     "--set", "code=2", "--out", vae, "--quiet"),
               0, "%s", err_now());
  /* 50 examples in batches of 7 (the last one short) */
  cr_assert_eq(AEZOO("encode", vae, "--limit", "50", "--batch-size", "7", "--out", tmp_path("c.npy"), "--plot",
                     tmp_path("c.png")),
               0, "%s", err_now());
  ae_tensor *c = ae_npy_read(tmp_path("c.npy"));
  cr_assert(c, "%s", ae_last_error());
  cr_assert(c->shape.ndim == 2 && c->shape.d[0] == 50 && c->shape.d[1] == 2);
  cr_assert(strstr(npy_header_text(tmp_path("c.npy")), "'shape': (50, 2)"), "%s", npy_header_text(tmp_path("c.npy")));
  /* equal to mu of the same 50 images computed here in one batch */
  ae_ckpt_meta meta;
  ae_model *m = load(vae, &meta);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load("fashion-mnist", 1, 50, 0, &d), 0, "%s", ae_last_error());
  ae_tape *t = ae_tape_new((size_t)64 << 20);
  ae_set_grad_enabled(t, 0);
  ae_val *mu = m->def->encode(m, t, ae_const_tensor(t, d.x));
  cr_assert(ae_tape_ok(t) && mu->t.numel == 100);
  for (int64_t i = 0; i < 100; i++)
    cr_assert(fabs((double)c->data[i] - (double)mu->t.data[i]) <= 1e-5 * (1 + fabs((double)mu->t.data[i])),
              "code %lld: %g vs %g", (long long)i, (double)c->data[i], (double)mu->t.data[i]);
  ae_tape_free(t);
  ae_dataset_free(&d);
  ae_model_free(m);
  ae_tensor_free(c);
  int w, h;
  png_size(tmp_path("c.png"), &w, &h);
  cr_assert(w == 640 && h == 640, "%dx%d", w, h);
  /* a 4-unit code: the codes, and a plot of their first two principal components */
  cr_assert_eq(AEZOO("train", "ae", "--limit", "128", "--test-limit", "32", "--steps", "2", "--set", "hidden=16,4",
                     "--out", ae, "--quiet"),
               0);
  cr_assert_eq(AEZOO("encode", ae, "--limit", "40", "--out", tmp_path("d.npy"), "--plot", tmp_path("d.png")), 0,
               "%s", err_now());
  cr_assert(strstr(npy_header_text(tmp_path("d.npy")), "'shape': (40, 4)"));
  png_size(tmp_path("d.png"), &w, &h);
  cr_assert(w == 640 && h == 640, "%dx%d", w, h);
  cr_assert_eq(AEZOO("encode", ae, "--limit", "30", "--out", tmp_path("d.npy")), 0, "%s", err_now());
  cr_assert(strstr(npy_header_text(tmp_path("d.npy")), "'shape': (30, 4)"));
  cr_assert_eq(file_size(tmp_path("d.npy")), 128 + 30 * 4 * 4);
}

/* The rows of a gradcheck table that passed / failed. */
static int rows_ending(const char *out, const char *word) {
  int n = 0;
  size_t k = strlen(word);
  for (const char *p = out; *p;) {
    const char *e = strchr(p, '\n');
    if (!e) break;
    if ((size_t)(e - p) > k && strncmp(e - k, word, k) == 0 && e[-(long)k - 1] == ' ') n++;
    p = e + 1;
  }
  return n;
}

Test(cli_use, gradcheck_passes_for_every_model_in_float64) {
  for (int i = 0; i < ae_zoo_count(); i++) {
    const ae_model_def *d = ae_zoo_get(i);
    int rc = AEZOO("gradcheck", d->name);
    char *out = out_text();
    cr_assert_eq(rc, 0, "gradcheck %s exits %d:\n%s%s", d->name, rc, out, err_now());
    char want[128];
    snprintf(want, sizeof want, "%s: all gradients pass\n", d->name);
    cr_assert(strstr(out, want), "%s", out);
    cr_assert(strstr(out, "in float64"), "aezoo must run the float64 aezoo64: %s", out);
    cr_assert_geq(rows_ending(out, "pass"), 2, "%s", out);
    cr_assert_eq(rows_ending(out, "FAIL"), 0, "%s", out);
    free(out);
  }
}

Test(cli_use, gradcheck_second_order_and_its_usage_errors) {
  const char *models[] = {"vae", "cae", "psd", "conv-ae", "stacked-ae", "seq-ae"};
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
    int rc = AEZOO("gradcheck", models[i], "--second-order");
    char *out = out_text();
    cr_assert_eq(rc, 0, "gradcheck %s --second-order exits %d:\n%s", models[i], rc, out);
    cr_assert(strstr(out, "second order: Hessian-vector products"), "%s", out);
    cr_assert_eq(rows_ending(out, "FAIL"), 0, "%s", out);
    free(out);
  }
  /* stacked-ae: each of its 3 stages */
  cr_assert_eq(AEZOO("gradcheck", "stacked-ae"), 0);
  char *out = out_text();
  cr_assert(strstr(out, "stage 1 of 3") && strstr(out, "stage 3 of 3"), "%s", out);
  free(out);
  /* --set overrides the gradcheck settings */
  cr_assert_eq(AEZOO("gradcheck", "ae", "--set", "hidden=3,2", "--set", "activation=tanh"), 0);
  out = out_text();
  cr_assert(strstr(out, "settings: hidden=3,2 activation=tanh"), "%s", out);
  free(out);
  struct {
    const char *args[6];
    const char *msg;
  } cases[] = {
      {{"gradcheck", "nope"}, "unknown model 'nope'; valid models: ae linear-ae"},
      {{"gradcheck", "ae", "--set", "bogus=1"}, "unknown setting 'bogus'"},
      {{"gradcheck", "ae", "--set", "hidden=0"}, "hidden"},
      {{"gradcheck", "ae", "--second-order=yes"}, "option --second-order takes no value"},
      {{"gradcheck", "ae", "--order", "2"}, "unknown option '--order'; valid options: --set --second-order"},
      {{"gradcheck"}, "missing argument MODEL"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_assert_eq(cli_run(cases[i].args), 2, "case %zu: %s", i, err_now());
    ERR_IS_ONE_LINE_WITH(cases[i].msg);
  }
}

Test(cli_use, usage_errors_and_help_of_each_command) {
  struct {
    const char *args[8];
    const char *msg;
  } cases[] = {
      {{"eval"}, "eval: missing argument CKPT"},
      {{"eval", "run", "--dat", "spiral"}, "unknown option '--dat'; valid options: --data --split"},
      {{"eval", "run", "--split", "val"}, "unknown --split 'val'; valid values: test train"},
      {{"eval", "run", "--limit", "-3"}, "option --limit: -3 is out of range"},
      {{"eval", "a", "b"}, "unexpected argument 'b'"},
      {{"reconstruct", "run"}, "reconstruct: missing --out FILE.png"},
      {{"reconstruct", "run", "--out", "x.png", "--count", "0"}, "option --count: 0 is out of range"},
      {{"sample", "run"}, "sample: missing --out FILE.png"},
      {{"sample", "run", "--out", "x.png", "--count", "many"}, "option --count: 'many' is not an integer"},
      {{"encode", "run"}, "encode: missing --out FILE.npy"},
      {{"encode", "run", "--out"}, "option --out needs a value (FILE.npy)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_assert_eq(cli_run(cases[i].args), 2, "case %zu: %s", i, err_now());
    ERR_IS_ONE_LINE_WITH(cases[i].msg);
  }
  const char *cmds[] = {"eval", "reconstruct", "sample", "encode", "gradcheck"};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    cr_assert_eq(AEZOO(cmds[i], "--help"), 0);
    char want[64];
    snprintf(want, sizeof want, "usage: aezoo %s ", cmds[i]);
    cr_assert(strstr(slurp_file_out(), want), "%s", slurp_file_out());
  }
}
