/* cmd_gradcheck.c: `aezoo gradcheck MODEL`: the model's full training loss
 * at small sizes (its def->gradcheck_settings, overridden by --set), every
 * parameter's analytic gradient against central differences (zoo/check.h),
 * in float64. The float32 `aezoo` re-runs itself as its sibling `aezoo64`
 * (the same command built against libaezoo64, found next to
 * /proc/self/exe) with the same arguments; aezoo64 does the work.
 * Input: a batch of 2 examples, uniform in [0,1] from --seed, of shape
 * (1,4,4) (MLPs), (1,8,8) (convolutional models) or (1,5,4) (sequence
 * models: 5 steps of 4). Stacked models are checked stage by stage. The
 * table: parameter, elements, worst absolute error, worst relative error
 * (to |numeric|, at least atol), pass/FAIL against atol + rtol |numeric|
 * (PyTorch's float64 defaults eps 1e-6, atol 1e-5, rtol 1e-3). Exit 0 only
 * when every parameter passes; 1 on a failure or an error. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "common.h"
#include "run/progress.h"
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
    "1e-3 |numeric|. --second-order also checks Hessian-vector products (the gradient\n"
    "differentiated again) against differences of the gradient. Stacked models are\n"
    "checked stage by stage. Exit status 0 only if every parameter passes, else 1.\n"
    "`aezoo` runs the float64 build `aezoo64` next to it to do this.";

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
#else

static ae_shape example_for(ae_input_kind k) {
  switch (k) {
  case AE_INPUT_IMAGE: return AE_SHAPE(1, 8, 8);
  case AE_INPUT_ROWS: return AE_SHAPE(1, 5, 4);
  case AE_INPUT_ANY: break;
  }
  return AE_SHAPE(1, 4, 4);
}

/* Prints one table of n rows; returns 1 when every row passes. */
static int print_table(const ae_param_check *c, int n) {
  int ok = 1;
  printf("  %-28s %9s %13s %13s  %s\n", "parameter", "elements", "max abs err", "max rel err", "result");
  for (int i = 0; i < n; i++) {
    printf("  %-28s %9lld %13.3e %13.3e  %s\n", c[i].name, (long long)c[i].numel, c[i].max_abs, c[i].max_rel,
           c[i].ok ? "pass" : "FAIL");
    if (!c[i].ok) ok = 0;
  }
  return ok;
}

/* The rows of the parameters the current stage trains (the others are not checked). */
static int stage_table(ae_model *m, const ae_param_check *all, ae_param_check *out) {
  ae_param *ps[AE_MAX_PARAMS];
  int n = ae_model_stage_params(m, m->stage, ps, AE_MAX_PARAMS), k = 0;
  for (int i = 0; i < m->nparams; i++)
    for (int j = 0; j < n; j++)
      if (ps[j] == m->params[i]) out[k++] = all[i];
  return k;
}

/* One check (first or second order) of the model's current stage. */
static int check_stage(ae_model *m, const ae_tensor *x, uint64_t seed, int second, int *all_ok) {
  ae_param_check res[AE_MAX_PARAMS], rows[AE_MAX_PARAMS];
  ae_gc_opts o = ae_gc_defaults();
  char err[1024];
  double t0 = ae_monotonic_seconds();
  int r = second ? ae_model_gradgradcheck(m, x, seed, &o, res, err, sizeof err)
                 : ae_model_gradcheck(m, x, seed, &o, res, err, sizeof err);
  if (r < 0) {
    cli_error("gradcheck %s: %s", m->def->name, err);
    *all_ok = 0;
    return -1;
  }
  printf("  %s\n", second ? "second order: Hessian-vector products H v against differences of the gradient along v"
                           : "first order: the gradient against central differences of the loss");
  int ok = print_table(rows, stage_table(m, res, rows));
  printf("  %s (%.2f s)\n", ok ? "every parameter passes" : "FAILED", ae_monotonic_seconds() - t0);
  if (!ok) *all_ok = 0;
  return 0;
}

/* Builds the model at its gradcheck sizes and checks every stage. */
static int run_checks(const ae_model_def *def, int n, char **kv, uint64_t seed, int second) {
  ae_shape ex = example_for(def->input);
  ae_model *m = cli_build_model(def->name, n, (const char *const *)kv, ex, seed);
  if (!m) return CLI_FAIL;
  ae_shape xs = ae_shape_make(ex.ndim + 1, NULL);
  xs.d[0] = GC_BATCH;
  for (int k = 0; k < ex.ndim; k++) xs.d[k + 1] = ex.d[k];
  ae_tensor *x = ae_tensor_new(xs);
  if (!x) {
    cli_error("gradcheck: out of memory");
    ae_model_free(m);
    return CLI_FAIL;
  }
  ae_rng rng;
  ae_rng_init(&rng, seed ^ 0x9c7a11ull);
  ae_rng_uniform(&rng, x->data, x->numel, 0, 1);
  char settings[4096], shape[64];
  ae_settings_format(&m->settings, settings, sizeof settings);
  ae_gc_opts o = ae_gc_defaults();
  printf("gradcheck %s in float64 (eps %g, atol %g, rtol %g)\n", def->name, o.eps, o.atol, o.rtol);
  printf("settings: %s\n", settings);
  printf("input: %d examples of shape %s, uniform in [0,1] (seed %lld); %lld parameters\n", GC_BATCH,
         ae_shape_str(ex, shape, sizeof shape), (long long)seed, (long long)ae_model_param_count(m));
  int all_ok = 1, nst = ae_model_nstages(m), failed = 0;
  for (int s = 0; s < nst && !failed; s++) {
    m->stage = s;
    if (nst > 1)
      printf("stage %d of %d%s%s\n", s + 1, nst, def->stage_name ? ": " : "",
             def->stage_name ? def->stage_name(m, s) : "");
    if (check_stage(m, x, seed, 0, &all_ok)) failed = 1;
    if (!failed && second && check_stage(m, x, seed, 1, &all_ok)) failed = 1;
  }
  printf("%s: %s\n", def->name, all_ok ? "all gradients pass" : "gradient check FAILED");
  ae_tensor_free(x);
  ae_model_free(m);
  return all_ok ? CLI_OK : CLI_FAIL;
}
#endif

int cmd_gradcheck(int argc, char **argv) {
  int second = 0;
  int64_t seed = 1;
  cli_list set = {0};
  cli_opt opts[] = {
      {"--set", CLI_LIST, "KEY=VALUE", "a model setting over the gradcheck settings (repeatable)", &set, 0, 0, 0},
      {"--second-order", CLI_FLAG, NULL, "also check Hessian-vector products (gradgradcheck)", &second, 0, 0, 0},
      {"--seed", CLI_INT, "N", "seed of the input, the initial parameters and the loss's noise (default 1)", &seed,
       0, 9.2e18, 0},
  };
  int nopts = (int)(sizeof opts / sizeof opts[0]);
  cli_cmd_help help = {"gradcheck", "MODEL", about, 1, 1};
  const char *pos[1];
  int npos, rc = cli_parse(&help, opts, nopts, argc, argv, pos, 1, &npos);
  if (rc != CLI_PARSE_OK) return rc == CLI_PARSE_HELP ? CLI_OK : CLI_USAGE;
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
#ifndef AE_REAL_DOUBLE
  (void)second;
  return run_aezoo64(argc, argv);
#else
  return run_checks(def, n, kv, (uint64_t)seed, second);
#endif
}
