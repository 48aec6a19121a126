/* test_cli_train.c: end-to-end tests of `aezoo list` and `aezoo train`: the
 * built binary (path in $AEZOO) is run with fork/exec and what it writes is
 * read back with the checkpoint loader (run/checkpoint.c) and the
 * safetensors reader. Sizes are tiny (hidden 16,4; a few hundred examples;
 * tens of steps) so each test takes well under a few seconds: they test the
 * plumbing (files, resume, init, signals, errors), not learning. */
#include <criterion/criterion.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/checkpoint.h"
#include "io/safetensors.h"
#include "zoo/zoo.h"

static const char *aezoo(void) {
  const char *p = getenv("AEZOO");
  cr_assert(p && *p, "AEZOO must name the aezoo binary");
  return p;
}

static char tmpdir[256];
static void make_tmp(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/aezoo_cli_XXXXXX");
  cr_assert(mkdtemp(tmpdir));
}
static void drop_tmp(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(cli_train, .init = make_tmp, .fini = drop_tmp, .timeout = 120);

static char *path_in(const char *name) {
  static char buf[8][512];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, 512, "%s/%s", tmpdir, name);
  return b;
}

/* Starts aezoo with args (NULL-terminated), stdout/stderr into tmpdir/out.txt, err.txt. */
static pid_t start(const char *const *args) {
  const char *argv[64];
  int n = 0;
  argv[n++] = aezoo();
  for (int i = 0; args[i]; i++) argv[n++] = args[i];
  argv[n] = NULL;
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    int o = open(path_in("out.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(path_in("err.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  return pid;
}
static int finish(pid_t pid) {
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
#define RUN(...) finish(start((const char *const[]){__VA_ARGS__, NULL}))

/* The file's text in one of 8 rotating static buffers (no allocation, so an
 * assertion message that reads a file leaks nothing). */
static char *slurp(const char *path) {
  static char bufs[8][1 << 16];
  static int next;
  char *buf = bufs[next++ % 8];
  buf[0] = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return buf;
  size_t n = fread(buf, 1, sizeof bufs[0] - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}
static int count_lines(const char *path) {
  char *s = slurp(path);
  int n = 0;
  for (char *p = s; *p; p++) n += *p == '\n';
  return n;
}
static int has_file(const char *dir, const char *name) {
  char p[600];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  struct stat st;
  return stat(p, &st) == 0 && st.st_size > 0;
}
#define ERR_HAS(s) cr_assert(strstr(slurp(path_in("err.txt")), s), "stderr lacks '%s': %s", s, slurp(path_in("err.txt")))

/* Every tensor of file a equals file b's byte for byte (same names, shapes, bytes). */
static void same_tensors(const char *a, const char *b) {
  ae_st_file *fa = ae_st_read(a), *fb = ae_st_read(b);
  cr_assert(fa && fb, "%s", ae_last_error());
  cr_assert_eq(ae_st_count(fa), ae_st_count(fb));
  cr_assert_gt(ae_st_count(fa), 0);
  for (int i = 0; i < ae_st_count(fa); i++) {
    const ae_st_tensor *ta = ae_st_get(fa, i), *tb = ae_st_find(fb, ta->name);
    cr_assert(tb, "%s missing in %s", ta->name, b);
    cr_assert_eq(ta->bytes, tb->bytes, "%s", ta->name);
    cr_assert(memcmp(ae_st_data(fa, ta), ae_st_data(fb, tb), ta->bytes) == 0, "tensor %s differs", ta->name);
  }
  ae_st_free(fa);
  ae_st_free(fb);
}

static ae_model *load(const char *dir, ae_ckpt_meta *meta) {
  ae_model *m = ae_ckpt_load_model(dir, meta);
  cr_assert(m, "%s", ae_last_error());
  return m;
}

Test(cli_train, list_shows_every_model_and_its_settings) {
  cr_assert_eq(RUN("list"), 0);
  char *out = slurp(path_in("out.txt"));
  for (int i = 0; i < ae_zoo_count(); i++) {
    const ae_model_def *d = ae_zoo_get(i);
    char line[256];
    snprintf(line, sizeof line, "%-10s %s\n", d->name, d->description);
    cr_assert(strstr(out, line), "list lacks %s", d->name);
    for (int k = 0; k < d->nsettings; k++) {
      snprintf(line, sizeof line, " %s=%s ", d->settings[k].key, d->settings[k].def);
      cr_assert(strstr(out, line), "list lacks %s's setting %s", d->name, line);
    }
  }
}

Test(cli_train, ae_on_spiral_writes_a_loadable_run) {
  const char *out = path_in("run");
  cr_assert_eq(RUN("train", "ae", "--data", "spiral", "--set", "hidden=16,2", "--epochs", "2", "--limit", "256",
                   "--batch-size", "32", "--out", out, "--quiet"),
               0, "%s", slurp(path_in("err.txt")));
  cr_assert(has_file(out, "model.safetensors") && has_file(out, "optimizer.safetensors"));
  cr_assert(has_file(out, "reconstructions.png") && has_file(out, "codes.png"));
  cr_assert(!has_file(out, "samples.png")); /* ae is not generative */
  char csv[600];
  snprintf(csv, sizeof csv, "%s/train.csv", out);
  cr_assert_eq(count_lines(csv), 1 + 2 * 256 / 32);
  char *s = slurp(csv);
  cr_assert(strncmp(s, "step,stage,epoch,loss,mse,test_loss,wall_time\n", 46) == 0, "%s", s);
  ae_ckpt_meta meta;
  ae_model *m = load(out, &meta);
  cr_assert_str_eq(meta.model, "ae");
  cr_assert_eq(meta.step, 16);
  cr_assert_eq(meta.epoch, 2);
  cr_assert_eq(meta.finished, 1);
  cr_assert_eq(meta.example.ndim, 1);
  cr_assert_eq(meta.example.d[0], 2);
  cr_assert(strstr(meta.settings, "hidden=16,2"));
  cr_assert_eq(ae_model_find_param(m, "encoder.0.weight")->value.shape.d[0], 16);
  ae_model_free(m);
}

Test(cli_train, vae_on_fashion_mnist_with_a_step_budget) {
  const char *out = path_in("run");
  cr_assert_eq(RUN("train", "vae", "--set", "hidden=16", "--set", "code=2", "--steps", "12", "--limit", "200",
                   "--test-limit", "100", "--batch-size", "32", "--out", out),
               0, "%s", slurp(path_in("err.txt")));
  cr_assert(has_file(out, "reconstructions.png") && has_file(out, "samples.png") && has_file(out, "codes.png"));
  char csv[600];
  snprintf(csv, sizeof csv, "%s/train.csv", out);
  cr_assert_eq(count_lines(csv), 13);
  /* not a terminal: one line per epoch (200 / 32 = 6 steps an epoch) */
  char *err = slurp(path_in("err.txt"));
  cr_assert(strstr(err, "epoch 1  step 6/12") && strstr(err, "epoch 2  step 12/12"), "%s", err);
  ae_ckpt_meta meta;
  ae_model *m = load(out, &meta);
  cr_assert_eq(meta.steps, 12);
  cr_assert_eq(meta.example.ndim, 3);
  cr_assert_eq(meta.example.d[1], 28);
  ae_model_free(m);
}

/* Train in one go, and in pieces with --stop-after and --resume; the
 * weights and optimiser state must agree bitwise. */
static void resume_equals_uninterrupted(const char *model, const char *const *opts, int nopts,
                                        const char *const *stops) {
  const char *a = path_in("a"), *b = path_in("b");
  const char *args[40];
  int n = 0;
  args[n++] = "train";
  args[n++] = model;
  for (int i = 0; i < nopts; i++) args[n++] = opts[i];
  args[n++] = "--threads";
  args[n++] = "2";
  args[n++] = "--quiet";
  args[n++] = "--out";
  args[n++] = a;
  args[n] = NULL;
  cr_assert_eq(finish(start(args)), 0, "%s", slurp(path_in("err.txt")));
  args[n - 1] = b;
  args[n++] = "--stop-after";
  args[n++] = stops[0];
  args[n] = NULL;
  cr_assert_eq(finish(start(args)), 0, "%s", slurp(path_in("err.txt")));
  for (int i = 1; stops[i - 1]; i++) {
    const char *more[] = {"train", "--resume", b, "--quiet", "--threads", "2", stops[i] ? "--stop-after" : NULL,
                          stops[i], NULL};
    cr_assert_eq(finish(start(more)), 0, "%s", slurp(path_in("err.txt")));
  }
  ae_ckpt_meta ma, mb;
  ae_model_free(load(a, &ma));
  ae_model_free(load(b, &mb));
  cr_assert_eq(mb.finished, 1);
  cr_assert_eq(ma.step, mb.step);
  cr_assert_eq(ma.rng_counter, mb.rng_counter);
  char pa[600], pb[600];
  snprintf(pa, sizeof pa, "%s/model.safetensors", a);
  snprintf(pb, sizeof pb, "%s/model.safetensors", b);
  same_tensors(pa, pb);
  snprintf(pa, sizeof pa, "%s/optimizer.safetensors", a);
  snprintf(pb, sizeof pb, "%s/optimizer.safetensors", b);
  same_tensors(pa, pb);
  /* train.csv: the same rows up to wall_time, the last column */
  snprintf(pa, sizeof pa, "%s/train.csv", a);
  snprintf(pb, sizeof pb, "%s/train.csv", b);
  cr_assert_eq(count_lines(pa), count_lines(pb));
  char *sa = slurp(pa), *sb = slurp(pb);
  char *sva, *svb;
  for (char *p = strtok_r(sa, "\n", &sva), *q = strtok_r(sb, "\n", &svb); p && q;
       p = strtok_r(NULL, "\n", &sva), q = strtok_r(NULL, "\n", &svb)) {
    *strrchr(p, ',') = 0;
    *strrchr(q, ',') = 0;
    cr_assert_str_eq(p, q);
  }
}

Test(cli_train, resume_equals_uninterrupted_dae_fashion_mnist) {
  /* dae draws noise every step: the generator's state must come back too.
   * 256 examples / 32 = 8 steps an epoch; stops mid-epoch and past an epoch end. */
  const char *opts[] = {"--set", "hidden=16,4", "--steps", "20", "--limit", "256", "--test-limit", "64",
                        "--batch-size", "32"};
  const char *stops[] = {"5", "6", NULL};
  resume_equals_uninterrupted("dae", opts, 10, stops);
}

Test(cli_train, resume_equals_uninterrupted_stacked_across_stages) {
  /* 3 stages of 12 steps; stop inside stage 0, then inside stage 1 */
  const char *opts[] = {"--data", "spiral", "--set", "hidden=8,2", "--steps", "12", "--limit", "200",
                        "--batch-size", "16", "--optimizer", "nadam"};
  const char *stops[] = {"7", "10", NULL};
  resume_equals_uninterrupted("stacked-ae", opts, 12, stops);
}

Test(cli_train, init_round_trips_and_names_bad_tensors) {
  const char *a = path_in("a"), *b = path_in("b");
  cr_assert_eq(RUN("train", "ae", "--data", "spiral", "--set", "hidden=16,2", "--steps", "5", "--out", a, "--quiet"), 0);
  char file[600], fb[600];
  snprintf(file, sizeof file, "%s/model.safetensors", a);
  snprintf(fb, sizeof fb, "%s/model.safetensors", b);
  /* lr 0: one step changes nothing, so b holds exactly the weights it started from */
  cr_assert_eq(RUN("train", "ae", "--data", "spiral", "--set", "hidden=16,2", "--steps", "1", "--optimizer", "sgd",
                   "--lr", "0", "--seed", "7", "--init", file, "--out", b, "--quiet"),
               0, "%s", slurp(path_in("err.txt")));
  same_tensors(file, fb);
  /* misshapen: hidden 8 instead of 16 */
  cr_assert_eq(RUN("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "1", "--init", file, "--out",
                   path_in("c"), "--quiet"),
               1);
  ERR_HAS("tensor 'encoder.0.weight' has shape (16,2); model ae expects (8,2)");
  /* missing: a linear-ae's file has no encoder.0.bias... */
  const char *l = path_in("l");
  cr_assert_eq(RUN("train", "linear-ae", "--data", "spiral", "--set", "code=1", "--steps", "1", "--out", l, "--quiet"),
               0);
  snprintf(file, sizeof file, "%s/model.safetensors", l);
  cr_assert_eq(RUN("train", "ae", "--data", "spiral", "--set", "hidden=16,2", "--steps", "1", "--init", file, "--out",
                   path_in("d"), "--quiet"),
               1);
  ERR_HAS("is missing (model ae expects it with shape");
}

Test(cli_train, sigterm_leaves_a_loadable_checkpoint) {
  const char *out = path_in("run");
  char csv[600];
  snprintf(csv, sizeof csv, "%s/train.csv", out);
  pid_t pid = start((const char *const[]){"train", "ae", "--data", "spiral", "--set", "hidden=16,2", "--steps",
                                          "100000000", "--out", out, "--quiet", NULL});
  /* train.csv reaches the disk at each checkpoint: wait for the first epoch's (31 steps) */
  for (int i = 0; i < 6000 && count_lines(csv) < 2; i++) usleep(10000);
  cr_assert_geq(count_lines(csv), 2, "no epoch finished");
  cr_assert_eq(kill(pid, SIGTERM), 0);
  cr_assert_eq(finish(pid), 128 + SIGTERM);
  ERR_HAS("interrupted by SIGTERM");
  ae_ckpt_meta meta;
  ae_model_free(load(out, &meta));
  cr_assert_eq(meta.finished, 0);
  cr_assert_geq(meta.step, 31);
  cr_assert_eq(count_lines(csv), 1 + meta.step);
  /* and it resumes */
  cr_assert_eq(RUN("train", "--resume", out, "--stop-after", "3", "--quiet"), 0, "%s", slurp(path_in("err.txt")));
  ae_ckpt_meta again;
  ae_model_free(load(out, &again));
  cr_assert_eq(again.step, meta.step + 3);
  cr_assert_eq(count_lines(csv), 1 + again.step);
}

Test(cli_train, nan_loss_stops_and_keeps_the_last_good_checkpoint) {
  /* 64 examples, batch 64: one step an epoch, so step 1 is checkpointed
   * (its test loss is finite); sgd with lr 1e17 then overflows in the next
   * step (a matmul). (A model whose test loss is NaN is not checkpointed:
   * tests/test_run.c.) */
  const char *out = path_in("run");
  cr_assert_eq(RUN("train", "ae", "--data", "spiral", "--set", "hidden=16,2", "--steps", "50", "--limit", "64",
                   "--optimizer", "sgd", "--lr", "1e17", "--out", out, "--quiet"),
               1);
  /* the loss itself, or first its gradient (which comes first depends on
   * the build's rounding), then the op that produced it, found by the
   * anomaly replay */
  ERR_HAS("training stopped: the loss");
  ERR_HAS("produced NaN or Inf in its output");
  ERR_HAS("last good checkpoint is kept");
  ae_ckpt_meta meta;
  ae_model *m = load(out, &meta);
  cr_assert_geq(meta.step, 1);
  cr_assert_eq(meta.finished, 0);
  for (int i = 0; i < m->nparams; i++)
    for (int64_t k = 0; k < m->params[i]->value.numel; k++) cr_assert(isfinite(m->params[i]->value.data[k]));
  ae_model_free(m);
}

Test(cli_train, usage_errors_exit_2_with_one_line_naming_the_problem) {
  struct {
    const char *args[8];
    const char *msg;
  } cases[] = {
      {{"train", "ae", "--epoch", "3"}, "unknown option '--epoch'; valid options: --data"},
      {{"train", "nope"}, "unknown model 'nope'; valid models: ae linear-ae"},
      {{"train", "ae", "--set", "hiden=3"}, "unknown setting 'hiden'; valid settings: hidden"},
      {{"train", "ae", "--set", "loss=l3"}, "loss"},
      {{"train", "ae", "--steps"}, "option --steps needs a value"},
      {{"train", "ae", "--lr", "fast"}, "option --lr: 'fast' is not a finite number"},
      {{"train", "ae", "--batch-size", "0"}, "option --batch-size: 0 is out of range"},
      {{"train", "ae", "--optimizer", "adamax"}, "unknown optimizer 'adamax'; valid optimizers: sgd"},
      {{"train", "ae", "--steps", "3", "--epochs", "2"}, "--epochs or --steps, not both"},
      {{"train"}, "missing argument MODEL"},
      {{"frob"}, "unknown command 'frob'; valid commands: list train"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cr_assert_eq(finish(start(cases[i].args)), 2, "case %zu", i);
    char *e = slurp(path_in("err.txt"));
    cr_assert(strstr(e, cases[i].msg), "case %zu: %s", i, e);
    cr_assert_eq(count_lines(path_in("err.txt")), 1, "case %zu: %s", i, e);
  }
  cr_assert_eq(RUN("train", "--help"), 0);
  cr_assert(strstr(slurp(path_in("out.txt")), "usage: aezoo train MODEL"));
}

Test(cli_train, resume_rejects_changed_options_and_damaged_checkpoints) {
  const char *out = path_in("run");
  cr_assert_eq(RUN("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "40", "--stop-after", "3",
                   "--out", out, "--quiet"),
               0);
  cr_assert_eq(RUN("train", "--resume", out, "--lr", "0.5"), 2);
  ERR_HAS("--lr 0.5 differs from the checkpoint's 0.001");
  cr_assert_eq(RUN("train", "--resume", out, "--set", "hidden=8,3"), 2);
  ERR_HAS("--set changes the checkpoint's settings");
  cr_assert_eq(RUN("train", "ae", "--data", "spiral", "--out", out), 2); /* no silent overwrite */
  ERR_HAS("already holds a checkpoint");
  /* an optimizer file from another step: interrupted between the two renames */
  char model[600], opt[600], keep[600], cmd[2000];
  snprintf(model, sizeof model, "%s/model.safetensors", out);
  snprintf(opt, sizeof opt, "%s/optimizer.safetensors", out);
  snprintf(keep, sizeof keep, "%s/opt.keep", tmpdir);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", opt, keep);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(RUN("train", "--resume", out, "--stop-after", "2", "--quiet"), 0);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", keep, opt);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(RUN("train", "--resume", out, "--quiet"), 1);
  ERR_HAS("optimizer.safetensors: inconsistent with model.safetensors: it is at step 3");
  /* a truncated model file */
  struct stat st;
  cr_assert_eq(stat(model, &st), 0);
  cr_assert_eq(truncate(model, st.st_size - 10), 0);
  cr_assert_eq(RUN("train", "--resume", out, "--quiet"), 1);
  ERR_HAS("model.safetensors");
  cr_assert_eq(count_lines(path_in("err.txt")), 1);
  /* not a checkpoint at all */
  cr_assert_eq(RUN("train", "--resume", path_in("nowhere"), "--quiet"), 1);
  ERR_HAS("no such directory");
}
