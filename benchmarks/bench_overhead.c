/* bench_overhead.c: the engine's fixed cost per op on tiny tensors, in ns
 * per recorded op, forward only and forward + backward, for add, mul,
 * matmul (2x8 @ 8x8), tanh and sum on a (2,8) value that requires grad;
 * plus the cost of ae_tape_reset and of ae_param_bind.
 *
 * Each timed round resets the tape, binds x, records a chain of K ops
 * (y = op(y, c), so the backward sweep walks every node; sum records K
 * sums of x, a fan-out) and, for forward + backward, takes d/dx of the
 * chain with ae_grad. The figure is the median round time divided by K,
 * so it includes the share of reset and bind (negligible at K = 64).
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID): the work is
 * single-threaded, and on a shared, loaded machine wall time mostly
 * measures preemption.
 *
 * Usage: bench_overhead [threads] (default 1: tiny ops never go parallel).
 * Prints a markdown table. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aezoo.h"

enum { K = 64, ROUNDS = 2000, REPS = 9 };

typedef enum { OP_ADD, OP_MUL, OP_MATMUL, OP_TANH, OP_SUM, OP_COUNT } op_kind;
static const char *op_names[OP_COUNT] = {"add (2,8)+(2,8)", "mul (2,8)*(2,8)", "matmul (2,8)@(8,8)",
                                         "tanh (2,8)", "sum (2,8)->()"};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static ae_real xs[16], cs[16], ws[64];
static ae_val *outs[K];

/* One round: record the chain; with backward, take its gradient. */
static int round_once(ae_tape *t, op_kind op, int backward) {
  ae_tape_reset(t);
  ae_val *x = ae_var(t, AE_SHAPE(2, 8), xs);
  ae_val *c = ae_const(t, AE_SHAPE(2, 8), cs), *w = ae_const(t, AE_SHAPE(8, 8), ws);
  ae_val *y = x;
  for (int k = 0; k < K; k++) {
    switch (op) {
      case OP_ADD: y = ae_add(t, y, c); break;
      case OP_MUL: y = ae_mul(t, y, c); break;
      case OP_MATMUL: y = ae_matmul(t, y, w, 0, 0); break;
      case OP_TANH: y = ae_tanh(t, y); break;
      default: outs[k] = ae_sum(t, x); break;
    }
  }
  if (backward) {
    ae_val *g = NULL;
    if (op == OP_SUM)
      ae_grad(t, K, outs, NULL, 1, &x, &g, 0);
    else
      ae_grad(t, 1, &y, &c, 1, &x, &g, 0);
  }
  return ae_tape_ok(t) ? 0 : -1;
}

/* Median over REPS batches of ROUNDS rounds of the time per round, in ns. */
static double time_rounds(ae_tape *t, op_kind op, int backward) {
  double med[REPS];
  for (int r = 0; r < REPS; r++) {
    double t0 = now();
    for (int i = 0; i < ROUNDS; i++)
      if (round_once(t, op, backward) < 0) {
        fprintf(stderr, "%s: %s\n", op_names[op], ae_tape_error(t));
        exit(1);
      }
    med[r] = (now() - t0) * 1e9 / ROUNDS;
  }
  qsort(med, REPS, sizeof *med, cmp_double);
  return med[REPS / 2];
}

/* ns per call of f: ae_tape_reset alone, and ae_param_bind (K per reset). */
static double time_reset(ae_tape *t) {
  double med[REPS];
  for (int r = 0; r < REPS; r++) {
    double t0 = now();
    for (int i = 0; i < ROUNDS * K; i++) ae_tape_reset(t);
    med[r] = (now() - t0) * 1e9 / ((double)ROUNDS * K);
  }
  qsort(med, REPS, sizeof *med, cmp_double);
  return med[REPS / 2];
}

static double time_bind(ae_tape *t, ae_param *p) {
  double med[REPS];
  for (int r = 0; r < REPS; r++) {
    double t0 = now();
    for (int i = 0; i < ROUNDS; i++) {
      ae_tape_reset(t);
      for (int k = 0; k < K; k++) outs[k] = ae_param_bind(t, p);
    }
    med[r] = (now() - t0) * 1e9 / ((double)ROUNDS * K);
  }
  qsort(med, REPS, sizeof *med, cmp_double);
  return med[REPS / 2];
}

int main(int argc, char **argv) {
  ae_set_threads(argc > 1 ? atoi(argv[1]) : 1);
  for (int i = 0; i < 16; i++) xs[i] = (ae_real)(0.1 * (i % 5) - 0.2), cs[i] = (ae_real)(0.9 + 0.01 * i);
  for (int i = 0; i < 64; i++) ws[i] = (ae_real)((i % 9 == 0 ? 0.9 : 0.0) + 0.01 * (i % 3));
  ae_tape *t = ae_tape_new(16 << 20);
  ae_param *p = ae_param_new("p", AE_SHAPE(2, 8));
  if (!t || !p) return 1;
  printf("| op (K=%d per tape, CPU ns per op) | forward | forward + backward | backward share |\n", K);
  printf("|---|---:|---:|---:|\n");
  for (int op = 0; op < OP_COUNT; op++) {
    round_once(t, op, 1); /* warm */
    double f = time_rounds(t, op, 0) / K, fb = time_rounds(t, op, 1) / K;
    printf("| %s | %.1f | %.1f | %.1f |\n", op_names[op], f, fb, fb - f);
  }
  printf("| ae_tape_reset | %.1f | | |\n", time_reset(t));
  printf("| ae_param_bind | %.1f | | |\n", time_bind(t, p));
  ae_param_free(p);
  ae_tape_free(t);
  return 0;
}
