/* test_ops.c: the table-driven op test (rows in tests/rows/, see
 * tests/op_table.h). One parameterized test per row: inputs drawn from a
 * per-row Philox stream, the op built on a tape and compared with the
 * row's plain-loop reference, the tape checked to hold the op's node (and
 * nothing at all in no-grad mode), then gradcheck and gradgradcheck with
 * the default float64 options. Plus: every op in the op list has a row,
 * and row labels are unique (failures name rows by label).
 *
 * Built twice: float64 (everything) and float32 (forward comparisons
 * only: finite differences in float32 cannot check gradients). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "op_table.h"
/* ae__tape_node: checks that a row really records its op (a hidden
 * internal: this test links the static library). */
#include "autograd/tape_internal.h"

#ifdef AE_REAL_DOUBLE
#define DEFAULT_FWD_RTOL 1e-12
#else
/* float32: both sides see the same float32 inputs; the reference computes
 * in double and rounds once, the op rounds each intermediate to float
 * (u = 6e-8). SLEEF's u10 kernels are within 1 ulp, composites chain at
 * most a handful of roundings, and small matmuls accumulate k <= 16
 * products in float (error <= k u sum|a||b|, about 1e-6 for O(1) data).
 * 1e-5 (about 84 ulp, relative plus the same absolute for results near 0
 * after cancellation) is 10x above those bounds, while any real bug (a
 * wrong constant, index or broadcast) gives an O(1) error. */
#define DEFAULT_FWD_RTOL 1e-5
#endif

static double row_fwd_tol(const op_row *row) {
#ifdef AE_REAL_DOUBLE
  return row->fwd_rtol > 0 ? row->fwd_rtol : DEFAULT_FWD_RTOL;
#else
  if (row->fwd_rtol32 > 0) return row->fwd_rtol32;
  return row->fwd_rtol > DEFAULT_FWD_RTOL ? row->fwd_rtol : DEFAULT_FWD_RTOL;
#endif
}

/* FNV-1a of the label, so each row gets its own stream without a seed. */
static uint64_t label_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Shapes with sizes past ndim normalised to 1. */
static ae_shape norm_shape(ae_shape s) {
  for (int k = s.ndim < 0 ? 0 : s.ndim; k < AE_MAX_DIMS; k++) s.d[k] = 1;
  return s;
}

static void free_inputs(ae_tensor **x, int n) {
  for (int k = 0; k < n; k++) ae_tensor_free(x[k]);
}

/* Draws the row's inputs; 0 and a message on failure. */
static int make_inputs(const op_row *row, ae_tensor **x, char *msg, size_t len) {
  if (row->nin < 1 || row->nin > OP_ROW_MAX_IN) {
    snprintf(msg, len, "nin = %d, must be 1..%d", row->nin, OP_ROW_MAX_IN);
    return 0;
  }
  ae_rng r;
  ae_rng_init(&r, row->seed ? row->seed : label_hash(row->label));
  for (int k = 0; k < row->nin; k++) {
    x[k] = ae_tensor_new(norm_shape(row->in_shape[k]));
    if (!x[k]) {
      snprintf(msg, len, "input %d: %s", k, ae_last_error());
      free_inputs(x, k);
      return 0;
    }
    ae_rng_uniform(&r, x[k]->data, x[k]->numel, (ae_real)row->lo, (ae_real)row->hi);
  }
  if (row->init) row->init(x, &r, row);
  return 1;
}

static __attribute__((unused)) ae_val *row_fn(ae_tape *t, ae_val *const *in, void *ctx) {
  const op_row *row = ctx;
  return row->build(t, in, row);
}

/* Binds the inputs (differentiable ones as variables) and builds the row. */
static ae_val *build_on(ae_tape *t, const op_row *row, ae_tensor *const *x) {
  ae_val *in[OP_ROW_MAX_IN];
  for (int k = 0; k < row->nin; k++)
    in[k] = row->nondiff & (1u << k) ? ae_const_tensor(t, x[k]) : ae_var_tensor(t, x[k]);
  return row->build(t, in, row);
}

static int values_match(double got, double want, double tol) {
  if (isnan(want) || isinf(want)) return isnan(want) ? isnan(got) : got == want;
  return fabs(got - want) <= tol * (1 + fabs(want));
}

/* Forward against the reference, the op's node on the tape, and no nodes
 * in no-grad mode. 0 and a message on failure. */
static int check_forward_in(const op_row *row, ae_tensor *const *x, size_t arena, int *arena_full, char *msg,
                            size_t len) {
  char s1[AE_SHAPE_BUF], s2[AE_SHAPE_BUF];
  ae_tape *t = ae_tape_new(arena);
  if (!t) {
    snprintf(msg, len, "tape: %s", ae_last_error());
    return 0;
  }
  int ok = 0;
  ae_tensor *ref = NULL;
  ae_val *y = build_on(t, row, x);
  if (!y || !ae_tape_ok(t)) {
    snprintf(msg, len, "build failed: %s", ae_tape_ok(t) ? "returned nil with no tape error" : ae_tape_error(t));
    goto done;
  }
  ae_shape want = norm_shape(row->out_shape);
  if (!ae_shape_eq(y->t.shape, want)) {
    snprintf(msg, len, "output shape %s, row says %s", ae_sstr(y->t.shape, s1), ae_sstr(want, s2));
    goto done;
  }
  int found = 0;
  for (int i = 0; i < ae_tape_node_count(t) && !found; i++) found = ae__tape_node(t, i)->op == row->op;
  if (!found) {
    snprintf(msg, len, "the tape holds no %s node: the row does not exercise its op", ae_op_name(row->op));
    goto done;
  }
  ref = ae_tensor_new(want);
  if (!ref || !row->reference) {
    snprintf(msg, len, "%s", ref ? "row has no reference" : ae_last_error());
    goto done;
  }
  row->reference(x, ref, row);
  double tol = row_fwd_tol(row);
  int64_t bad = -1, nbad = 0;
  double worst = -1;
  for (int64_t i = 0; i < ref->numel; i++) {
    double g = y->t.data[i], w = ref->data[i];
    if (values_match(g, w, tol)) continue;
    nbad++;
    double e = isfinite(g - w) ? fabs(g - w) / (1 + fabs(w)) : INFINITY;
    if (e > worst || bad < 0) worst = e, bad = i;
  }
  if (nbad) {
    snprintf(msg, len, "forward: %lld of %lld elements differ from the reference; worst at %lld: got %.17g want %.17g (tol %g)",
             (long long)nbad, (long long)ref->numel, (long long)bad, (double)y->t.data[bad], (double)ref->data[bad], tol);
    goto done;
  }
  /* No-grad mode: the same value, and the op records nothing. */
  ae_tape_reset(t);
  ae_val *in[OP_ROW_MAX_IN];
  for (int k = 0; k < row->nin; k++)
    in[k] = row->nondiff & (1u << k) ? ae_const_tensor(t, x[k]) : ae_var_tensor(t, x[k]);
  int before = ae_tape_node_count(t);
  ae_set_grad_enabled(t, 0);
  ae_val *y2 = row->build(t, in, row);
  if (!y2 || !ae_tape_ok(t)) {
    snprintf(msg, len, "no-grad build failed: %s", ae_tape_error(t));
    goto done;
  }
  if (ae_tape_node_count(t) != before || y2->requires_grad) {
    snprintf(msg, len, "no-grad mode recorded %d nodes (requires_grad %d)", ae_tape_node_count(t) - before,
             y2->requires_grad);
    goto done;
  }
  if (!ae_shape_eq(y2->t.shape, want)) {
    snprintf(msg, len, "no-grad result has shape %s", ae_sstr(y2->t.shape, s1));
    goto done;
  }
  for (int64_t i = 0; i < ref->numel; i++)
    if (!values_match(y2->t.data[i], ref->data[i], tol)) {
      snprintf(msg, len, "no-grad forward differs at %lld: got %.17g want %.17g", (long long)i,
               (double)y2->t.data[i], (double)ref->data[i]);
      goto done;
    }
  ok = 1;
done:
  *arena_full = ae_tape_status(t) == AE_ERR_ARENA;
  ae_tensor_free(ref);
  ae_tape_free(t);
  return ok;
}

/* Tapes start small and grow only when a row needs it: meson runs tests
 * with MALLOC_PERTURB_ set, which makes glibc write every byte of a fresh
 * allocation, so a default 64 MiB arena per tape (several tapes per row)
 * would spend most of the table's time in page faults. */
#define ARENA_FIRST ((size_t)1 << 20)
#define ARENA_LAST ((size_t)1 << 30)

static int check_forward(const op_row *row, ae_tensor *const *x, char *msg, size_t len) {
  int full = 0, ok = 0;
  for (size_t arena = ARENA_FIRST; arena <= ARENA_LAST; arena *= 16) {
    ok = check_forward_in(row, x, arena, &full, msg, len);
    if (!full) break;
  }
  return ok;
}

static __attribute__((unused)) int run_check(int second_order, const op_row *row, ae_tensor *const *x, ae_gc_opts *o, ae_gc_report *r) {
  int ok = 0;
  for (o->arena = ARENA_FIRST; o->arena <= ARENA_LAST; o->arena *= 16) {
    ok = second_order ? ae_gradgradcheck(row_fn, (void *)row, row->nin, x, o, r)
                      : ae_gradcheck(row_fn, (void *)row, row->nin, x, o, r);
    if (ok || !strstr(r->message, "arena exhausted")) break;
  }
  return ok;
}

/* A crash inside a row names the row before the process dies. */
static const char *volatile current_row = "(none)";
static void on_crash(int sig) {
  const char *pre = "\ntest_ops: crashed in row: ";
  (void)!write(2, pre, strlen(pre));
  (void)!write(2, current_row, strlen(current_row));
  (void)!write(2, "\n", 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* Runs one row; 1 when it passes. Failures are reported (naming the
 * family and the row) with cr_expect, so the family's other rows still run. */
static int run_row(const char *fam, const op_row *row) {
  const char *label = row->label ? row->label : "(no label)";
  char msg[640];
  ae_tensor *x[OP_ROW_MAX_IN];
  current_row = label;
  if (!make_inputs(row, x, msg, sizeof msg)) {
    cr_expect(0, "[%s] %s: inputs: %s", fam, label, msg);
    return 0;
  }
  int ok = check_forward(row, x, msg, sizeof msg);
  if (!ok) fprintf(stderr, "[%s] %s: %s\n", fam, label, msg);
  cr_expect(ok, "[%s] %s: %s", fam, label, msg);
#ifdef AE_REAL_DOUBLE
  if (ok && !(row->flags & OP_ROW_FWD_ONLY)) {
    ae_gc_opts o = ae_gc_defaults();
    o.nondiff = row->nondiff;
    ae_gc_report r;
    char what[256];
    snprintf(what, sizeof what, "[%s] %s: gradcheck", fam, label);
    ok = run_check(0, row, x, &o, &r);
    if (!ok) ae_gc_report_print(stderr, what, &r);
    cr_expect(ok, "%s: %s", what, r.message);
    if (ok) {
      snprintf(what, sizeof what, "[%s] %s: gradgradcheck", fam, label);
      ok = run_check(1, row, x, &o, &r);
      if (!ok) ae_gc_report_print(stderr, what, &r);
      cr_expect(ok, "%s: %s", what, r.message);
    }
  }
#endif
  free_inputs(x, row->nin);
  current_row = "(none)";
  return ok;
}

/* One test per row family (a test process costs tens of milliseconds in
 * Criterion, so rows are looped over, not one test each). */
typedef struct family_param {
  int index;
} family_param;

static const op_rows *family_at(int i) {
  const op_rows *f = op_table_first();
  while (f && i-- > 0) f = f->next;
  return f;
}

ParameterizedTestParameters(ops, family) {
  int n = 0;
  for (const op_rows *f = op_table_first(); f; f = f->next) n++;
  family_param *p = cr_malloc(sizeof *p * (size_t)(n > 0 ? n : 1));
  for (int i = 0; i < n; i++) p[i].index = i;
  return cr_make_param_array(family_param, p, (size_t)n);
}

ParameterizedTest(family_param *p, ops, family) {
  const op_rows *f = family_at(p->index);
  cr_assert(f, "row family %d does not exist", p->index);
  signal(SIGSEGV, on_crash);
  signal(SIGBUS, on_crash);
  signal(SIGFPE, on_crash);
  signal(SIGABRT, on_crash);
  int failed = 0;
  for (int i = 0; i < f->count; i++) failed += !run_row(f->family, &f->rows[i]);
  cr_expect(failed == 0, "[%s] %d of %d rows failed (named above)", f->family, failed, f->count);
}

/* Every op in the op list (1 .. AE_OP_COUNT-1; 0 is LEAF) has a row that
 * is gradchecked; every row names a real op. */
Test(ops, every_op_has_a_row) {
  int n = op_table_count(), bad_rows = 0;
  char missing[4096] = "", bad[1024] = "";
  for (int i = 0; i < n; i++) {
    const op_row *row = op_table_row(i);
    if (row->op < 1 || row->op >= AE_OP_COUNT) {
      bad_rows++;
      size_t u = strlen(bad);
      snprintf(bad + u, sizeof bad - u, " '%s' (op %d)", row->label ? row->label : "?", row->op);
    }
  }
  int nmissing = 0;
  for (int op = 1; op < AE_OP_COUNT; op++) {
    int has = 0;
    for (int i = 0; i < n && !has; i++) {
      const op_row *row = op_table_row(i);
      has = row->op == op && !(row->flags & OP_ROW_FWD_ONLY);
    }
    if (!has) {
      nmissing++;
      size_t u = strlen(missing);
      snprintf(missing + u, sizeof missing - u, " %s", ae_op_name(op));
    }
  }
  cr_expect(bad_rows == 0, "%d rows name no op of the op list:%s", bad_rows, bad);
  cr_expect(nmissing == 0, "%d ops have no (gradchecked) test row:%s", nmissing, missing);
}

Test(ops, labels_unique) {
  int n = op_table_count(), dups = 0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      const char *a = op_table_row(i)->label, *b = op_table_row(j)->label;
      if (!a || !b || strcmp(a, b) == 0) {
        dups++;
        cr_log_error("duplicate or missing label: rows %d and %d ('%s')", i, j, a ? a : "(null)");
      }
    }
  cr_expect(dups == 0, "%d duplicate or missing row labels", dups);
}
