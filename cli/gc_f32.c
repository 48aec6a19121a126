/* gc_f32.c: float32 gradients and differences computed by the float32
 * build for the float64 one (gc_f32.h). The job and answer files are
 * private to this exchange: little headers of int64 counts, then doubles. */
#include "gc_f32.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define JOB_MAGIC "AEGCF32\n"

void gc_f32_round_point(ae_model *m, ae_tensor *x) {
  for (int i = 0; i < m->nparams; i++)
    for (int64_t j = 0; j < m->params[i]->value.numel; j++)
      m->params[i]->value.data[j] = (ae_real)(float)m->params[i]->value.data[j];
  for (int64_t j = 0; j < x->numel; j++) x->data[j] = (ae_real)(float)x->data[j];
}

static int put_i(FILE *f, int64_t v) { return fwrite(&v, sizeof v, 1, f) == 1 ? 0 : -1; }
static int put_d(FILE *f, double v) { return fwrite(&v, sizeof v, 1, f) == 1 ? 0 : -1; }
static int get_i(FILE *f, int64_t *v) { return fread(v, sizeof *v, 1, f) == 1 ? 0 : -1; }
static int get_d(FILE *f, double *v) { return fread(v, sizeof *v, 1, f) == 1 ? 0 : -1; }

static int write_job(const char *path, const gc_model *g, int neps, const double *eps) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int bad = fwrite(JOB_MAGIC, 8, 1, f) != 1;
  ae_model *m = g->m;
  int64_t total = 0;
  for (int i = 0; i < m->nparams; i++) total += m->params[i]->value.numel;
  bad |= put_i(f, total);
  for (int i = 0; i < m->nparams; i++)
    for (int64_t j = 0; j < m->params[i]->value.numel; j++) bad |= put_d(f, m->params[i]->value.data[j]);
  bad |= put_i(f, g->x->numel);
  for (int64_t j = 0; j < g->x->numel; j++) bad |= put_d(f, g->x->data[j]);
  bad |= put_i(f, m->stage) | put_i(f, g->n) | put_i(f, neps);
  for (int e = 0; e < neps; e++) bad |= put_d(f, eps[e]);
  bad |= fclose(f) != 0;
  return bad ? -1 : 0;
}

int gc_f32_run(gc_model *g, int argc, char **argv, int neps, const double *eps, double *grad32, double *diff32) {
  char dir[PATH_MAX - 16], job[PATH_MAX], ans[PATH_MAX], self[PATH_MAX];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/aezoo_gc32_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    ae_set_last_error("float32: cannot make a temporary directory %s: %s", dir, strerror(errno));
    return -1;
  }
  snprintf(job, sizeof job, "%s/job", dir);
  snprintf(ans, sizeof ans, "%s/job.out", dir);
  int rc = -1;
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 16);
  if (len < 0) {
    ae_set_last_error("float32: cannot find this program (/proc/self/exe): %s", strerror(errno));
    goto done;
  }
  self[len] = 0;
  char *slash = strrchr(self, '/');
  snprintf(slash ? slash + 1 : self, sizeof self - (size_t)(slash ? slash + 1 - self : 0), "%s", "aezoo");
  if (write_job(job, g, neps, eps)) {
    ae_set_last_error("float32: cannot write %s", job);
    goto done;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    ae_set_last_error("float32: cannot start %s: %s", self, strerror(errno));
    goto done;
  }
  if (pid == 0) {
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args) _exit(127);
    args[0] = self;
    for (int i = 0; i < argc; i++) args[i + 1] = argv[i];
    setenv(GC_F32_ENV, job, 1);
    execv(self, args);
    fprintf(stderr, "aezoo: gradcheck --float32: cannot run %s: %s\n", self, strerror(errno));
    _exit(127);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    ae_set_last_error("float32: the float32 build %s failed (see its message above)", self);
    goto done;
  }
  FILE *f = fopen(ans, "rb");
  int64_t n = -1;
  if (!f || get_i(f, &n) || n != g->n) {
    ae_set_last_error("float32: %s gave no answer for %lld entries", self, (long long)g->n);
    if (f) fclose(f);
    goto done;
  }
  int bad = 0;
  for (int64_t k = 0; k < n; k++) bad |= get_d(f, &grad32[k]);
  for (int64_t k = 0; k < (int64_t)neps * GC_NSCHEMES * n; k++) bad |= get_d(f, &diff32[k]);
  fclose(f);
  if (bad) {
    ae_set_last_error("float32: %s's answer is truncated", self);
    goto done;
  }
  rc = 0;
done:
  unlink(ans);
  unlink(job);
  rmdir(dir);
  return rc;
}

int gc_f32_child(const char *job, ae_model *m, ae_tensor *x, uint64_t seed) {
  FILE *f = fopen(job, "rb");
  char magic[8];
  if (!f || fread(magic, 8, 1, f) != 1 || memcmp(magic, JOB_MAGIC, 8)) {
    cli_error("gradcheck (float32 half): cannot read the job %s", job);
    if (f) fclose(f);
    return CLI_FAIL;
  }
  int64_t total = 0, want = 0, xn = 0, stage = 0, n = 0, neps = 0;
  for (int i = 0; i < m->nparams; i++) want += m->params[i]->value.numel;
  int bad = get_i(f, &total) || total != want;
  for (int i = 0; i < m->nparams && !bad; i++)
    for (int64_t j = 0; j < m->params[i]->value.numel; j++) {
      double v = 0;
      bad |= get_d(f, &v);
      m->params[i]->value.data[j] = (ae_real)v;
    }
  bad |= get_i(f, &xn) || xn != x->numel;
  for (int64_t j = 0; j < x->numel && !bad; j++) {
    double v = 0;
    bad |= get_d(f, &v);
    x->data[j] = (ae_real)v;
  }
  bad |= get_i(f, &stage) || get_i(f, &n) || get_i(f, &neps) || neps < 0 || neps > 1000 || stage < 0 ||
         stage >= ae_model_nstages(m);
  double *eps = bad ? NULL : malloc(sizeof(double) * (size_t)(neps + 1));
  for (int64_t e = 0; e < neps && eps && !bad; e++) bad |= get_d(f, &eps[e]);
  fclose(f);
  if (bad || !eps) {
    cli_error("gradcheck (float32 half): the job %s does not fit this model", job);
    free(eps);
    return CLI_FAIL;
  }
  m->stage = (int)stage;
  gc_model g;
  if (gc_model_open(&g, m, x, seed)) {
    cli_error("gradcheck (float32 half): %s", g.err);
    free(eps);
    return CLI_FAIL;
  }
  gc_model_keep(&g, n, seed); /* the parent's subset of entries (--entries) */
  int rc = CLI_FAIL;
  double *grad = malloc(sizeof(double) * (size_t)(g.n ? g.n : 1));
  char ans[PATH_MAX];
  snprintf(ans, sizeof ans, "%s.out", job);
  FILE *o = NULL;
  if (g.n != n || !grad) {
    cli_error("gradcheck (float32 half): %lld entries here, %lld in the job", (long long)g.n, (long long)n);
    goto out;
  }
  if (gc_model_grad(&g, grad)) {
    cli_error("gradcheck (float32 half): %s", g.err);
    goto out;
  }
  o = fopen(ans, "wb");
  if (!o) {
    cli_error("gradcheck (float32 half): cannot write %s: %s", ans, strerror(errno));
    goto out;
  }
  bad = put_i(o, n);
  for (int64_t k = 0; k < n; k++) bad |= put_d(o, grad[k]);
  for (int64_t e = 0; e < neps; e++)
    for (int s = 0; s < GC_NSCHEMES; s++)
      for (int64_t k = 0; k < n; k++) bad |= put_d(o, gc_model_diff(&g, k, (gc_scheme)s, eps[e]));
  bad |= fclose(o) != 0;
  if (bad) {
    cli_error("gradcheck (float32 half): cannot write %s", ans);
    goto out;
  }
  rc = CLI_OK;
out:
  gc_model_close(&g);
  free(grad);
  free(eps);
  return rc;
}
