/* bench_conv.c: GFLOP/s of conv2d (float build) on the zoo's shapes, batch
 * 128, 3x3 kernels, padding 1: forward (with bias), and backward = input
 * gradient (conv_transpose2d) + weight gradient (conv2d_weight_grad),
 * which is what conv2d's rule runs. FLOPs: forward 2 N O OH OW C KH KW,
 * backward twice that. Each figure is the median of REPS timed batches.
 * Prints tab-separated lines "shape fwd bwd" (benchmarks/run_conv.sh puts
 * them beside PyTorch's). Usage: [BENCH_CPUTIME=1] bench_conv [threads]. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aezoo.h"

enum { REPS = 7, BATCH = 128 };

/* Wall time, or with BENCH_CPUTIME set the process's CPU time (steadier on a
 * loaded machine; meaningful with 1 thread). */
static double now(void) {
  static int cpu = -1;
  if (cpu < 0) cpu = getenv("BENCH_CPUTIME") != NULL;
  struct timespec ts;
  clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct {
  int c, o, hw, stride;
} conv_shape;

/* One timed call: forward (0) or backward (1); the tape is rewound after. */
static int run(ae_tape *t, int bwd, ae_val *x, ae_val *w, ae_val *b, ae_val *gy, const conv_shape *s) {
  ae_tape_mark m = ae_tape_get_mark(t);
  int ok;
  if (!bwd) {
    ok = ae_conv2d(t, x, w, b, s->stride, 1) != NULL;
  } else {
    int op = (int)((s->hw + 2 - 3) % s->stride);
    ok = ae_conv_transpose2d(t, gy, w, NULL, s->stride, 1, op) && ae_conv2d_weight_grad(t, x, gy, 3, 3, s->stride, s->stride, 1, 1);
  }
  ae_tape_rewind(t, m);
  return ok;
}

static double bench(ae_tape *t, int bwd, ae_val *x, ae_val *w, ae_val *b, ae_val *gy, const conv_shape *s,
                    double flops) {
  run(t, bwd, x, w, b, gy, s); /* warm up */
  double t0 = now();
  if (!run(t, bwd, x, w, b, gy, s)) {
    fprintf(stderr, "bench_conv: %s\n", ae_tape_error(t));
    exit(1);
  }
  double one = now() - t0;
  int batch = one > 0.05 ? 1 : (int)(0.05 / (one + 1e-9)) + 1;
  double gf[REPS];
  for (int r = 0; r < REPS; r++) {
    t0 = now();
    for (int k = 0; k < batch; k++) run(t, bwd, x, w, b, gy, s);
    gf[r] = flops / ((now() - t0) / batch) * 1e-9;
  }
  qsort(gf, REPS, sizeof gf[0], cmp_double);
  return gf[REPS / 2];
}

int main(int argc, char **argv) {
  if (argc > 1) ae_set_threads(atoi(argv[1]));
  static const conv_shape shapes[] = {
      {1, 32, 28, 1}, {32, 32, 28, 1}, {32, 32, 14, 1}, {32, 32, 7, 1}, {32, 1, 28, 1},
      {1, 32, 28, 2}, {32, 32, 28, 2}, {32, 32, 14, 2},
  };
  ae_tape *t = ae_tape_new((size_t)256 << 20);
  ae_set_grad_enabled(t, 0);
  ae_rng r;
  ae_rng_init(&r, 1);
  fprintf(stderr, "aezoo conv2d, float32, %d threads, batch %d, 3x3, pad 1\n", ae_get_threads(), BATCH);
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    const conv_shape *s = &shapes[i];
    int oh = (s->hw + 2 - 3) / s->stride + 1;
    ae_tape_reset(t);
    ae_set_grad_enabled(t, 0);
    ae_val *x = ae_randn(t, AE_SHAPE(BATCH, s->c, s->hw, s->hw), &r);
    ae_val *w = ae_randn(t, AE_SHAPE(s->o, s->c, 3, 3), &r);
    ae_val *b = ae_randn(t, AE_SHAPE(s->o), &r);
    ae_val *gy = ae_randn(t, AE_SHAPE(BATCH, s->o, oh, oh), &r);
    if (!gy) {
      fprintf(stderr, "bench_conv: %s\n", ae_tape_error(t));
      return 1;
    }
    double flops = 2.0 * BATCH * s->o * oh * oh * s->c * 9;
    double f = bench(t, 0, x, w, b, gy, s, flops), bw = bench(t, 1, x, w, b, gy, s, 2 * flops);
    printf("%dx%d %d->%d s%d\t%.1f\t%.1f\n", s->hw, s->hw, s->c, s->o, s->stride, f, bw);
  }
  ae_tape_free(t);
  return 0;
}
