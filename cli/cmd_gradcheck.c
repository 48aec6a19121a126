/* cmd_gradcheck.c: `aezoo gradcheck MODEL`: the model's full training loss
 * at small sizes (its def->gradcheck_settings, overridden by --set), every
 * parameter's analytic gradient against finite differences, in float64.
 * The float32 `aezoo` re-runs itself as its sibling `aezoo64` (the same
 * command built against libaezoo64, found next to /proc/self/exe) with the
 * same arguments; aezoo64 does the work, and for --float32 and --sweep-eps
 * runs `aezoo` back for the float32 half (gc_f32.h).
 * Input: a batch of 2 examples, uniform in [0,1] from --seed, of shape
 * (1,4,4) (MLPs), (1,8,8) (convolutional models) or (1,5,4) (sequence
 * models: 5 steps of 4). Stacked models are checked stage by stage. The
 * table: parameter, elements, worst absolute error, worst relative error
 * (to |numeric|, at least atol), pass/FAIL against atol + rtol |numeric|
 * (PyTorch's float64 defaults eps 1e-6, atol 1e-5, rtol 1e-3, or --eps,
 * --atol, --rtol), then the error distribution (gc_report.h). Experiments:
 * --fast (v^T J u), --float32, --csv, --sweep-eps (gc_sweep.h), --op
 * (gc_op.h). Exit 0 only when every check passes; 1 on a failure or an
 * error. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "ckpt_data.h"
#include "common.h"
#include "run/progress.h"
#include "gc_f32.h"
#include "gc_model.h"
#include "gc_op.h"
#include "gc_report.h"
#include "gc_sweep.h"
#include "zoo/check.h"
#include "zoo/plugin.h"

#define GC_BATCH 2

static const char about[] =
    "Checks MODEL's gradients in float64: its full training loss (penalties and noise\n"
    "included, noise from a generator reset for every evaluation) at the small sizes\n"
    "of its gradcheck settings (overridden by --set), on 2 examples uniform in [0,1]\n"
    "of shape (1,4,4) for MLP models, (1,8,8) for convolutional ones, (1,5,4) for\n"
    "seq-ae. Every element of every parameter: the analytic gradient (backward) against\n"
    "central differences (eps 1e-6), passing when |analytic - numeric| <= 1e-5 +\n"
    "1e-3 |numeric| (--eps, --atol, --rtol change these). The report gives each\n"
    "parameter's worst errors, then the distribution over every entry: median, 99th\n"
    "percentile, worst, and which entry. --second-order also checks Hessian-vector\n"
    "products (the gradient differentiated again) against differences of the gradient.\n"
    "--fast checks one random projection v^T J u per stage instead of every entry.\n"
    "--float32 checks the float32 build's analytic gradient against float64 central\n"
    "differences at the same (float32-rounded) point. --sweep-eps A:B tabulates the\n"
    "error of forward, central and Richardson differences in float64 and float32 for\n"
    "eps from A down to B and draws it on log-log axes (--out). --op NAME checks one\n"
    "built-in op instead of a model (--shape). --at CKPT checks a trained model at its\n"
    "trained weights on the first --limit examples of its test data (--data), 1000\n"
    "entries chosen at random unless --entries says otherwise. Stacked models are\n"
    "checked stage by stage. Exit status 0 only if every check passes, else 1.\n"
    "`aezoo` runs the float64 build `aezoo64` next to it to do this.";

typedef struct gc_cli {
  int second, fast, f32;
  int64_t seed;
  double eps, atol, rtol;
  const char *csv_path, *sweep, *out, *op, *at, *data;
  int64_t limit, entries;
  cli_list shapes;
  int argc;
  char **argv;
  FILE *csv;
} gc_cli;

#ifndef AE_REAL_DOUBLE
/* The float32 build: run the sibling aezoo64 with the same arguments. */
static int run_aezoo64(int argc, char **argv) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
  if (n < 0) {
    cli_error("gradcheck: cannot find this program (/proc/self/exe): %s", strerror(errno));
    return CLI_FAIL;
  }
  self[n] = 0;
  char *slash = strrchr(self, '/');
  snprintf(slash ? slash + 1 : self, sizeof self - (size_t)(slash ? slash + 1 - self : 0), "%s", "aezoo64");
  char **args = calloc((size_t)argc + 2 + 2 * (size_t)cli_nplugins, sizeof *args);
  if (!args) {
    cli_error("gradcheck: out of memory");
    return CLI_FAIL;
  }
  args[0] = self;
  for (int i = 0; i < argc; i++) args[i + 1] = argv[i]; /* argv[0] is "gradcheck" */
  for (int i = 0; i < cli_nplugins; i++) { /* main.c took them out of argv */
    args[argc + 1 + 2 * i] = "--plugin";
    args[argc + 2 + 2 * i] = (char *)cli_plugins[i];
  }
  fflush(NULL);
  execv(self, args);
  cli_error("gradcheck: cannot run %s: %s (gradient checks run in the float64 build aezoo64, installed next to "
            "aezoo)",
            self, strerror(errno));
  free(args);
  return CLI_FAIL;
}
#endif

static ae_shape example_for(ae_input_kind k) {
  switch (k) {
  case AE_INPUT_IMAGE: return AE_SHAPE(1, 8, 8);
  case AE_INPUT_ROWS: return AE_SHAPE(1, 5, 4);
  case AE_INPUT_ANY: break;
  }
  return AE_SHAPE(1, 4, 4);
}

/* The model at its gradcheck sizes and the input batch (same in both builds). */
static int build(const ae_model_def *def, int n, char **kv, uint64_t seed, ae_model **mp, ae_tensor **xp) {
  ae_shape ex = example_for(def->input);
  ae_model *m = cli_build_model(def->name, n, (const char *const *)kv, ex, seed);
  if (!m) return -1;
  ae_shape xs = ae_shape_make(ex.ndim + 1, NULL);
  xs.d[0] = GC_BATCH;
  for (int k = 0; k < ex.ndim; k++) xs.d[k + 1] = ex.d[k];
  ae_tensor *x = ae_tensor_new(xs);
  if (!x) {
    cli_error("gradcheck: out of memory");
    ae_model_free(m);
    return -1;
  }
  ae_rng rng;
  ae_rng_init(&rng, seed ^ 0x9c7a11ull);
  ae_rng_uniform(&rng, x->data, x->numel, 0, 1);
  *mp = m, *xp = x;
  return 0;
}

/* --at CKPT: the trained model and the first --limit examples of its data
 * (the checkpoint's test data unless --data). *d owns x. */
static int build_at(const gc_cli *c, ae_model **mp, ae_dataset *d, char *desc, size_t desclen) {
  ae_ckpt_meta meta;
  memset(d, 0, sizeof *d);
  ae_model *m = cli_open_checkpoint(c->at, &meta);
  if (!m) return -1;
  const char *used = NULL;
  if (cli_open_data(&meta, m, c->data, CLI_SPLIT_TEST, c->limit, d, &used)) {
    ae_model_free(m);
    return -1;
  }
  char dd[512];
  snprintf(desc, desclen, "%s", cli_data_desc(used, CLI_SPLIT_TEST, d, dd, sizeof dd));
  *mp = m;
  return 0;
}

#ifdef AE_REAL_DOUBLE
/* The rows of the parameters the current stage trains (the others are not checked). */
static int stage_table(ae_model *m, const ae_param_check *all, ae_param_check *out) {
  ae_param *ps[AE_MAX_PARAMS];
  int n = ae_model_stage_params(m, m->stage, ps, AE_MAX_PARAMS), k = 0;
  for (int i = 0; i < m->nparams; i++)
    for (int j = 0; j < n; j++)
      if (ps[j] == m->params[i]) out[k++] = all[i];
  return k;
}

/* Second order: Hessian-vector products (zoo/check.h) of the current stage. */
static int check_second(ae_model *m, const ae_tensor *x, const gc_cli *c, int *all_ok) {
  ae_param_check res[AE_MAX_PARAMS], rows[AE_MAX_PARAMS];
  ae_gc_opts o = ae_gc_defaults();
  o.eps = c->eps, o.atol = c->atol, o.rtol = c->rtol, o.seed = (uint64_t)c->seed;
  double t0 = ae_monotonic_seconds();
  int r = ae_model_gradgradcheck(m, x, (uint64_t)c->seed, &o, res);
  if (r < 0) {
    cli_error("gradcheck %s: %s", m->def->name, ae_last_error());
    return -1;
  }
  printf("  second order: Hessian-vector products H v against differences of the gradient along v\n");
  printf("  %-28s %9s %13s %13s  %s\n", "parameter", "elements", "max abs err", "max rel err", "result");
  int n = stage_table(m, res, rows), ok = 1;
  for (int i = 0; i < n; i++) {
    printf("  %-28s %9lld %13.3e %13.3e  %s\n", rows[i].name, (long long)rows[i].numel, rows[i].max_abs,
           rows[i].max_rel, rows[i].ok ? "pass" : "FAIL");
    if (!rows[i].ok) ok = 0;
  }
  printf("  %s (%.2f s)\n", ok ? "every parameter passes" : "FAILED", ae_monotonic_seconds() - t0);
  if (!ok) *all_ok = 0;
  return 0;
}

/* --fast: one projection u^T grad (v = 1: the loss is a scalar) against the
 * central difference of the loss along u. */
static int check_fast(gc_model *g, const double *grad, const gc_cli *c, int *all_ok) {
  ae_rng rng;
  ae_rng_init(&rng, (uint64_t)c->seed ^ 0xfa57ull);
  double *u = malloc(sizeof(double) * (size_t)(g->n ? g->n : 1)), *keep = malloc(sizeof(double) * (size_t)(g->n ? g->n : 1));
  if (!u || !keep) {
    free(u), free(keep);
    cli_error("gradcheck: out of memory");
    return -1;
  }
  double an = 0, l[2];
  for (int64_t k = 0; k < g->n; k++) {
    u[k] = ae_rng_double(&rng) * 2 - 1;
    an += u[k] * grad[k];
    keep[k] = g->m->params[g->param[k]]->value.data[g->index[k]];
  }
  for (int sgn = 0; sgn < 2; sgn++) {
    for (int64_t k = 0; k < g->n; k++)
      g->m->params[g->param[k]]->value.data[g->index[k]] = (ae_real)(keep[k] + (sgn ? -c->eps : c->eps) * u[k]);
    l[sgn] = gc_model_loss(g);
  }
  for (int64_t k = 0; k < g->n; k++) g->m->params[g->param[k]]->value.data[g->index[k]] = (ae_real)keep[k];
  free(u), free(keep);
  double num = (l[0] - l[1]) / (2 * c->eps), e = fabs(an - num);
  int ok = isfinite(an) && isfinite(num) && e <= c->atol + c->rtol * fabs(num);
  printf("  fast: u^T grad for a random u in [-1,1]^%lld against (L(p + eps u) - L(p - eps u)) / 2 eps\n",
         (long long)g->n);
  printf("  analytic %.12g, numeric %.12g, abs err %.3e, rel err %.3e: %s\n", an, num, e, e / fmax(fabs(num), c->atol),
         ok ? "pass" : "FAIL");
  if (c->csv) fprintf(c->csv, "%d,u^T grad,-1,%.17g,%.17g,%.6e,%.6e,%d\n", g->m->stage, an, num, e,
                      e / fmax(fabs(num), c->atol), ok);
  if (!ok) *all_ok = 0;
  return 0;
}

/* First order, entry by entry (or --fast), of the current stage. */
static int check_first(ae_model *m, ae_tensor *x, const gc_cli *c, int *all_ok) {
  gc_model g;
  if (gc_model_open(&g, m, x, (uint64_t)c->seed)) {
    cli_error("gradcheck %s: %s", m->def->name, g.err);
    return -1;
  }
  int64_t all = g.n;
  gc_model_keep(&g, c->entries, (uint64_t)c->seed);
  if (g.n < all) printf("  %lld of the %lld entries, chosen at random (--entries)\n", (long long)g.n, (long long)all);
  double t0 = ae_monotonic_seconds();
  size_t per = (size_t)(g.n ? g.n : 1);
  double *an = malloc(sizeof(double) * per), *num = malloc(sizeof(double) * per);
  int rc = -1;
  if (!an || !num) {
    cli_error("gradcheck: out of memory");
    goto out;
  }
  if (c->f32) {
    if (gc_f32_run(&g, c->argc, c->argv, 0, NULL, an, NULL)) {
      cli_error("gradcheck %s --float32: %s", m->def->name, ae_last_error());
      goto out;
    }
  } else if (gc_model_grad(&g, an)) {
    cli_error("gradcheck %s: %s", m->def->name, g.err);
    goto out;
  }
  if (c->fast) {
    rc = check_fast(&g, an, c, all_ok);
    goto out;
  }
  for (int64_t k = 0; k < g.n; k++) num[k] = gc_model_diff(&g, k, GC_CENTRAL, c->eps);
  printf("  first order: the %s gradient against float64 central differences of the loss\n",
         c->f32 ? "float32 build's analytic" : "analytic");
  char stage[16];
  snprintf(stage, sizeof stage, "%d", m->stage);
  int ok = gc_report(&g, an, num, (gc_tol){c->atol, c->rtol}, c->csv, stage);
  if (ok < 0) {
    cli_error("gradcheck: out of memory");
    goto out;
  }
  printf("  %s (%.2f s)\n", ok ? "every parameter passes" : "FAILED", ae_monotonic_seconds() - t0);
  if (!ok) *all_ok = 0;
  rc = 0;
out:
  free(an), free(num);
  gc_model_close(&g);
  return rc;
}

/* Checks every stage of m on x (or sweeps eps); `input` says what x is. */
static int run_checks(ae_model *m, ae_tensor *x, const gc_cli *c, const char *input) {
  const ae_model_def *def = m->def;
  if (c->f32 || c->sweep) gc_f32_round_point(m, x);
  char settings[4096], shape[64];
  ae_settings_format(&m->settings, settings, sizeof settings);
  printf("gradcheck %s%s%s in float64 (eps %g, atol %g, rtol %g)%s\n", def->name, c->at ? " at " : "",
         c->at ? c->at : "", c->eps, c->atol, c->rtol,
         c->f32 || c->sweep ? "; parameters and input rounded to float32" : "");
  printf("settings: %s\n", settings);
  printf("input: %lld examples of shape %s, %s (seed %lld); %lld parameters\n", (long long)x->shape.d[0],
         ae_shape_str(cli_example_shape(x), shape, sizeof shape), input, (long long)c->seed,
         (long long)ae_model_param_count(m));
  int all_ok = 1, nst = ae_model_nstages(m), failed = 0;
  if (c->sweep) {
    double eps[GC_SWEEP_MAX];
    int neps;
    gc_sweep_parse(c->sweep, eps, &neps); /* checked in cmd_gradcheck */
    char png[4096];
    if (c->out) snprintf(png, sizeof png, "%s", c->out);
    else snprintf(png, sizeof png, "eps-sweep-%s.png", def->name);
    m->stage = 0;
    if (nst > 1) printf("stage 1 of %d (the sweep looks at the first stage)\n", nst);
    gc_model g;
    int rc = CLI_FAIL;
    if (gc_model_open(&g, m, x, (uint64_t)c->seed)) {
      cli_error("gradcheck %s: %s", def->name, g.err);
    } else {
      gc_model_keep(&g, c->entries, (uint64_t)c->seed);
      rc = gc_sweep_run(&g, c->argc, c->argv, neps, eps, png, c->csv, def->name);
      gc_model_close(&g);
    }
    return rc;
  }
  for (int s = 0; s < nst && !failed; s++) {
    m->stage = s;
    if (nst > 1)
      printf("stage %d of %d%s%s\n", s + 1, nst, def->stage_name ? ": " : "",
             def->stage_name ? def->stage_name(m, s) : "");
    if (check_first(m, x, c, &all_ok)) failed = 1;
    if (!failed && c->second && check_second(m, x, c, &all_ok)) failed = 1;
  }
  if (failed) all_ok = 0;
  printf("%s: %s\n", def->name, all_ok ? "all gradients pass" : "gradient check FAILED");
  return all_ok ? CLI_OK : CLI_FAIL;
}
#endif

/* Runs the checks on m and x (or, in the float32 build, the float32 half
 * of a float64 run), then frees m and x (x belongs to data when not NULL). */
static int finish(gc_cli *c, ae_model *m, ae_tensor *x, const char *input, ae_dataset *data) {
  int rc;
#ifndef AE_REAL_DOUBLE
  /* the float32 half of --float32 / --sweep-eps, for the aezoo64 that started us */
  (void)input;
  rc = gc_f32_child(getenv(GC_F32_ENV), m, x, (uint64_t)c->seed);
#else
  rc = CLI_FAIL;
  if (c->csv_path && !(c->csv = fopen(c->csv_path, "w"))) {
    cli_error("gradcheck: cannot write %s: %s", c->csv_path, strerror(errno));
    goto out;
  }
  if (c->csv && !c->sweep) gc_report_csv_header(c->csv);
  rc = run_checks(m, x, c, input);
  if (c->csv && fclose(c->csv)) {
    cli_error("gradcheck: cannot write %s", c->csv_path);
    rc = CLI_FAIL;
  }
out:
#endif
  if (data) ae_dataset_free(data);
  else ae_tensor_free(x);
  ae_model_free(m);
  return rc;
}

int cmd_gradcheck(int argc, char **argv) {
  gc_cli c = {0};
  c.seed = 1;
  ae_gc_opts d = ae_gc_defaults();
  c.eps = d.eps, c.atol = d.atol, c.rtol = d.rtol;
  c.limit = 8;
  cli_list set = {0};
  cli_opt opts[] = {
      {"--set", CLI_LIST, "KEY=VALUE", "a model setting over the gradcheck settings (repeatable)", &set, 0, 0, 0},
      {"--second-order", CLI_FLAG, NULL, "also check Hessian-vector products (gradgradcheck)", &c.second, 0, 0, 0},
      {"--seed", CLI_INT, "N", "seed of the input, the initial parameters and the loss's noise (default 1)", &c.seed,
       0, 9.2e18, 0},
      {"--eps", CLI_REAL, "X", "finite-difference step (default 1e-6)", &c.eps, 1e-300, 1, 0},
      {"--atol", CLI_REAL, "X", "absolute tolerance (default 1e-5)", &c.atol, 0, 0, 0},
      {"--rtol", CLI_REAL, "X", "relative tolerance (default 1e-3)", &c.rtol, 0, 0, 0},
      {"--fast", CLI_FLAG, NULL, "check one random projection u^T grad per stage instead of every entry", &c.fast, 0,
       0, 0},
      {"--float32", CLI_FLAG, NULL, "check the float32 build's gradient against float64 differences", &c.f32, 0, 0,
       0},
      {"--csv", CLI_STR, "FILE", "write every checked entry (or the --sweep-eps table) as CSV", &c.csv_path, 0, 0, 0},
      {"--sweep-eps", CLI_STR, "A:B[:K]", "error against eps from A down to B, K per decade (e.g. 1e-1:1e-9)",
       &c.sweep, 0, 0, 0},
      {"--out", CLI_STR, "FILE.png", "the --sweep-eps picture (default eps-sweep-MODEL.png)", &c.out, 0, 0, 0},
      {"--op", CLI_STR, "NAME", "check one built-in op instead of a model (a wrong name lists them)", &c.op, 0, 0, 0},
      {"--shape", CLI_LIST, "D,D,...", "an input shape for --op (repeatable: one per input)", &c.shapes, 0, 0, 0},
      {"--at", CLI_STR, "CKPT", "check a trained checkpoint's model (run directory or model file) instead of MODEL",
       &c.at, 0, 0, 0},
      {"--data", CLI_STR, "SPEC", "with --at: the examples (default: the checkpoint's test data)", &c.data, 0, 0, 0},
      {"--limit", CLI_INT, "N", "with --at: how many examples (default 8)", &c.limit, 1, 1e9, 0},
      {"--entries", CLI_INT, "N", "check N entries chosen at random (default: all; with --at 1000)", &c.entries, 1,
       9e18, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"gradcheck", "MODEL | --op NAME | --at CKPT", about, 0, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
  if (c.atol < 0 || c.rtol < 0) {
    cli_error("gradcheck: --atol and --rtol must be >= 0");
    return CLI_USAGE;
  }
  if (c.sweep) {
    double eps[GC_SWEEP_MAX];
    int neps;
    if (gc_sweep_parse(c.sweep, eps, &neps)) {
      cli_error("gradcheck: %s", ae_last_error());
      return CLI_USAGE;
    }
    if (c.second || c.fast || c.f32 || c.op) {
      cli_error("gradcheck: --sweep-eps works alone (not with --second-order, --fast, --float32 or --op)");
      return CLI_USAGE;
    }
  }
  if (c.out && !c.sweep) {
    cli_error("gradcheck: --out names the --sweep-eps picture; give --sweep-eps A:B too");
    return CLI_USAGE;
  }
  cli_opt *lim = cli_find_opt(opts, nopts, "--limit"), *ent = cli_find_opt(opts, nopts, "--entries");
  if ((cli_find_opt(opts, nopts, "--data")->given || lim->given) && !c.at) {
    cli_error("gradcheck: --data and --limit choose the examples of --at CKPT; give --at too");
    return CLI_USAGE;
  }
  if (c.at) {
    if (npos || c.op || set.n || c.shapes.n) {
      cli_error("gradcheck: --at CKPT checks the checkpoint's own model; give no MODEL, --op, --set or --shape with it");
      return CLI_USAGE;
    }
    if (!ent->given) c.entries = 1000;
  } else if (c.op) {
    if (npos) {
      cli_error("gradcheck: give MODEL or --op NAME, not both");
      return CLI_USAGE;
    }
    if (c.fast || c.f32) {
      cli_error("gradcheck: --op checks float64 first and second order; --fast and --float32 are for models");
      return CLI_USAGE;
    }
    if ((rc = gc_op_check_args(c.op, c.shapes.n, c.shapes.v))) return rc;
  } else if (npos == 0) {
    fprintf(stderr, "aezoo gradcheck: missing argument MODEL (see `aezoo list`) or --op NAME; usage: aezoo "
                    "gradcheck MODEL [options]\n");
    return CLI_USAGE;
  } else if (c.shapes.n) {
    cli_error("gradcheck: --shape is for --op");
    return CLI_USAGE;
  }
#ifndef AE_REAL_DOUBLE
  const char *job = getenv(GC_F32_ENV);
  if (!job || c.op) return run_aezoo64(argc, argv);
#endif
  if (c.op) {
    if (c.csv_path && !(c.csv = fopen(c.csv_path, "w"))) {
      cli_error("gradcheck: cannot write %s: %s", c.csv_path, strerror(errno));
      return CLI_FAIL;
    }
    if (c.csv) gc_report_csv_header(c.csv);
    rc = gc_op_run(c.op, c.shapes.n, c.shapes.v, c.eps, c.atol, c.rtol, (uint64_t)c.seed, c.csv);
    if (c.csv && fclose(c.csv)) {
      cli_error("gradcheck: cannot write %s", c.csv_path);
      rc = CLI_FAIL;
    }
    return rc;
  }
  c.argc = argc, c.argv = argv;
  ae_model *m = NULL;
  ae_tensor *x = NULL;
  ae_dataset data = {0};
  char input[600];
  if (c.at) {
    if (build_at(&c, &m, &data, input, sizeof input)) return CLI_FAIL;
    x = data.x;
    return finish(&c, m, x, input, &data);
  }
  if ((rc = cli_check_model_args(pos[0], set.n, set.v))) return rc;
  const ae_model_def *def = ae_model_resolve(pos[0]);
  /* the gradcheck settings, less those --set gives (each key once) */
  char buf[1024];
  char *kv[AE_MAX_SETTINGS + CLI_LIST_MAX];
  int ng = def->gradcheck_settings ? ae_settings_split(def->gradcheck_settings, buf, sizeof buf, kv, AE_MAX_SETTINGS)
                                   : 0, n = 0;
  for (int g = 0; g < ng; g++) {
    size_t klen = strcspn(kv[g], "=");
    int overridden = 0;
    for (int i = 0; i < set.n; i++) overridden |= !strncmp(set.v[i], kv[g], klen) && set.v[i][klen] == '=';
    if (!overridden) kv[n++] = kv[g];
  }
  for (int i = 0; i < set.n; i++) kv[n++] = (char *)set.v[i];
  if ((rc = cli_check_model_args(pos[0], n, (const char *const *)kv))) return rc;
  if (build(def, n, kv, (uint64_t)c.seed, &m, &x)) return CLI_FAIL;
  snprintf(input, sizeof input, "uniform in [0,1]");
  return finish(&c, m, x, input, NULL);
}
