/* gc_op.c: gradient checks of single built-in ops from the command line
 * (gc_op.h). Each row names an op, how many inputs it takes, the interval
 * its inputs are drawn from (inside the op's smooth domain), default
 * shapes, and how to build it on a tape. */
#include "gc_op.h"

#include <stdlib.h>
#include <string.h>

#include "grad/gradcheck.h"
#include "base/rng.h"
#include "common.h"
#include "run/progress.h"
#include "ops/ops.h"

#define OP_MAX_IN 3

typedef ae_val *(*op_build)(ae_tape *t, ae_val *const *in);

typedef struct op_entry {
  const char *name;
  int nin;
  double lo, hi;
  const char *shape[OP_MAX_IN]; /* defaults */
  op_build build;
} op_entry;

#define UNARY(fn)                                                                                                  \
  static ae_val *b_##fn(ae_tape *t, ae_val *const *in) { return ae_##fn(t, in[0]); }
#define BINARY(fn)                                                                                                 \
  static ae_val *b_##fn(ae_tape *t, ae_val *const *in) { return ae_##fn(t, in[0], in[1]); }
UNARY(neg)
UNARY(square)
UNARY(abs)
UNARY(exp)
UNARY(log)
UNARY(sqrt)
UNARY(softplus)
UNARY(log_sigmoid)
UNARY(relu)
UNARY(sigmoid)
UNARY(tanh)
UNARY(sum)
UNARY(mean)
BINARY(add)
BINARY(sub)
BINARY(mul)
BINARY(div)
static ae_val *b_pow(ae_tape *t, ae_val *const *in) { return ae_pow(t, in[0], (ae_real)3); }
static ae_val *b_leaky_relu(ae_tape *t, ae_val *const *in) { return ae_leaky_relu(t, in[0], (ae_real)0.1); }
static ae_val *b_matmul(ae_tape *t, ae_val *const *in) { return ae_matmul(t, in[0], in[1], 0, 0); }
static ae_val *b_linear(ae_tape *t, ae_val *const *in) { return ae_linear(t, in[0], in[1], in[2]); }
/* the fused dense layer with a smooth activation (relu's kink would make a
 * random point's finite differences unreliable) */
static ae_val *b_linear_sigmoid(ae_tape *t, ae_val *const *in) {
  return ae_linear_act(t, in[0], in[1], in[2], AE_ACT_SIGMOID, 0);
}
static ae_val *b_linear_tanh(ae_tape *t, ae_val *const *in) {
  return ae_linear_act(t, in[0], in[1], in[2], AE_ACT_TANH, 0);
}

static const op_entry ops[] = {
    {"add", 2, -1, 1, {"3,4", "3,4"}, b_add},
    {"sub", 2, -1, 1, {"3,4", "3,4"}, b_sub},
    {"mul", 2, -1, 1, {"3,4", "3,4"}, b_mul},
    {"div", 2, 0.5, 2, {"3,4", "3,4"}, b_div},
    {"neg", 1, -1, 1, {"3,4"}, b_neg},
    {"square", 1, -1, 1, {"3,4"}, b_square},
    {"pow", 1, 0.2, 2, {"3,4"}, b_pow},
    {"abs", 1, 0.1, 1, {"3,4"}, b_abs},
    {"exp", 1, -1, 1, {"3,4"}, b_exp},
    {"log", 1, 0.2, 2, {"3,4"}, b_log},
    {"sqrt", 1, 0.2, 2, {"3,4"}, b_sqrt},
    {"softplus", 1, -2, 2, {"3,4"}, b_softplus},
    {"log_sigmoid", 1, -2, 2, {"3,4"}, b_log_sigmoid},
    {"relu", 1, 0.1, 1, {"3,4"}, b_relu},
    {"leaky_relu", 1, 0.1, 1, {"3,4"}, b_leaky_relu},
    {"sigmoid", 1, -2, 2, {"3,4"}, b_sigmoid},
    {"tanh", 1, -2, 2, {"3,4"}, b_tanh},
    {"sum", 1, -1, 1, {"3,4"}, b_sum},
    {"mean", 1, -1, 1, {"3,4"}, b_mean},
    {"matmul", 2, -1, 1, {"3,4", "4,5"}, b_matmul},
    {"linear", 3, -1, 1, {"3,4", "5,4", "5"}, b_linear},
    {"linear_sigmoid", 3, -1, 1, {"3,4", "5,4", "5"}, b_linear_sigmoid},
    {"linear_tanh", 3, -1, 1, {"3,4", "5,4", "5"}, b_linear_tanh},
};
#define NOPS ((int)(sizeof ops / sizeof ops[0]))

static const op_entry *find(const char *name) {
  for (int i = 0; i < NOPS; i++)
    if (strcmp(ops[i].name, name) == 0) return &ops[i];
  return NULL;
}

/* "3,4" -> shape. 0, or -1. */
static int parse_shape(const char *s, ae_shape *out) {
  int64_t d[AE_MAX_DIMS];
  int n = 0;
  const char *p = s;
  while (*p) {
    char *e;
    long long v = strtoll(p, &e, 10);
    if (e == p || v < 1 || v > 4096 || n == AE_MAX_DIMS) return -1;
    d[n++] = v;
    if (*e == ',') e++;
    else if (*e) return -1;
    p = e;
  }
  if (n == 0) return -1;
  *out = ae_shape_make(n, d);
  return ae_shape_numel(*out) <= 4096 ? 0 : -1;
}

int gc_op_check_args(const char *name, int nshapes, const char *const *shapes) {
  const op_entry *o = find(name);
  if (!o) {
    char buf[1024];
    int used = snprintf(buf, sizeof buf, "gradcheck: unknown op '%s'; valid ops:", name);
    for (int i = 0; i < NOPS && used > 0 && (size_t)used < sizeof buf; i++)
      used += snprintf(buf + used, sizeof buf - (size_t)used, " %s", ops[i].name);
    cli_error("%s", buf);
    return CLI_USAGE;
  }
  if (nshapes > o->nin) {
    cli_error("gradcheck: op %s takes %d input%s; %d --shape given", name, o->nin, o->nin > 1 ? "s" : "", nshapes);
    return CLI_USAGE;
  }
  for (int i = 0; i < nshapes; i++) {
    ae_shape s;
    if (parse_shape(shapes[i], &s)) {
      cli_error("gradcheck: --shape '%s': expected sizes 1..4096 separated by commas (e.g. 3,4), at most %d "
                "dimensions and 4096 elements",
                shapes[i], AE_MAX_DIMS);
      return CLI_USAGE;
    }
  }
  return CLI_OK;
}

static ae_val *call(ae_tape *t, ae_val *const *in, void *ctx) { return ((const op_entry *)ctx)->build(t, in); }

static void csv_row(FILE *csv, const char *order, const ae_gc_report *r) {
  if (!csv) return;
  char param[32];
  snprintf(param, sizeof param, "input %d", r->input);
  fprintf(csv, "%s,%s,%lld,%.17g,%.17g,%.6e,%.6e,%d\n", order, param, (long long)r->in_index, r->analytic,
          r->numeric, r->abs_err, r->rel_err, r->ok);
}

int gc_op_run(const char *name, int nshapes, const char *const *shapes, double eps, double atol, double rtol,
              uint64_t seed, FILE *csv) {
  const op_entry *o = find(name);
  ae_tensor *in[OP_MAX_IN] = {0};
  ae_rng rng;
  ae_rng_init(&rng, seed);
  char desc[256] = "";
  int used = 0, rc = CLI_FAIL;
  for (int i = 0; i < o->nin; i++) {
    ae_shape s;
    /* one --shape for a binary op: both inputs that shape */
    const char *sp = i < nshapes ? shapes[i] : nshapes == 1 && o->nin == 2 ? shapes[0] : o->shape[i];
    if (parse_shape(sp, &s)) {
      cli_error("gradcheck: op %s: bad shape '%s'", name, sp);
      goto out;
    }
    in[i] = ae_tensor_new(s);
    if (!in[i]) {
      cli_error("gradcheck: op %s: %s", name, ae_last_error());
      goto out;
    }
    ae_rng_uniform(&rng, in[i]->data, in[i]->numel, (ae_real)o->lo, (ae_real)o->hi);
    used += snprintf(desc + used, sizeof desc - (size_t)used, "%s(%s)", i ? ", " : "", sp);
  }
  ae_gc_opts opt = ae_gc_defaults();
  opt.eps = eps, opt.atol = atol, opt.rtol = rtol, opt.seed = seed;
  printf("gradcheck --op %s in float64 (eps %g, atol %g, rtol %g): inputs %s uniform in [%g, %g] (seed %llu)\n", name,
         eps, atol, rtol, desc, o->lo, o->hi, (unsigned long long)seed);
  ae_gc_report r1, r2;
  double t0 = ae_monotonic_seconds();
  int ok1 = ae_gradcheck(call, (void *)o, o->nin, in, &opt, &r1);
  ae_gc_report_print(stdout, "first order", &r1);
  csv_row(csv, "first", &r1);
  int ok2 = ae_gradgradcheck(call, (void *)o, o->nin, in, &opt, &r2);
  ae_gc_report_print(stdout, "second order", &r2);
  csv_row(csv, "second", &r2);
  printf("%s: %s (%.2f s)\n", name, ok1 && ok2 ? "first and second order pass" : "gradient check FAILED",
         ae_monotonic_seconds() - t0);
  rc = ok1 && ok2 ? CLI_OK : CLI_FAIL;
out:
  for (int i = 0; i < OP_MAX_IN; i++) ae_tensor_free(in[i]);
  return rc;
}
