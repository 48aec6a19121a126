/* bench_rnn.c: milliseconds for one unrolled LSTM / GRU forward + backward
 * at the sequence autoencoder's shapes (B=128, T=28; encoder I=28 from
 * constant data, decoder I=30 from a repeated code vector that needs a
 * gradient, H=100), fused gate ops (the library's ae_lstm_unroll /
 * ae_gru_unroll) against the same unroll with the gate math composed from
 * slice/sigmoid/tanh/mul/add. The loss is sum(outputs * fixed weights);
 * backward fills every weight's and bias's gradient (and the code's).
 * bench_rnn_torch.py times torch.nn.LSTM / nn.GRU on the same shapes.
 *
 * Usage: bench_rnn [threads [reps]] (defaults 2, 50; 5 warm-up runs).
 * Output, one tab-separated line per case:
 *   cell  layer  gates  median_ms  mean_ms  arena_MiB (tape arena used by one step) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aezoo.h"

enum { B = 128, T = 28, H = 100, WARMUP = 5 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct bench {
  int lstm, I, decoder, composed;
  ae_param *p[4]; /* w_ih, w_hh, b_ih, b_hh */
  ae_tensor *x, *gw; /* input (B,T,I) or code (B,I); output weights (B,T,H) */
  ae_tape *tape;
} bench;

/* Steps of v (B,n,I) by halving, as ops/rnn.c cuts an input that needs a gradient. */
static void split_halving(ae_tape *t, ae_val *v, int n, ae_val **xs) {
  if (n == 1) {
    *xs = ae_reshape(t, v, AE_SHAPE(B, v->t.shape.d[2]));
    return;
  }
  split_halving(t, ae_slice(t, v, 1, 0, n / 2), n / 2, xs);
  split_halving(t, ae_slice(t, v, 1, n / 2, n - n / 2), n - n / 2, xs + n / 2);
}

/* The library's unroll with the gate math composed (no fused op). */
static ae_val *unroll_composed(ae_tape *t, const bench *b, ae_val *x, ae_val *const *w) {
  int G = b->lstm ? 4 : 3;
  ae_val *ones = ae_full(t, AE_SHAPE(B, 1), 1), *hs[T];
  ae_val *h = ae_full(t, AE_SHAPE(B, H), 0), *c = h;
  ae_val *Wl = ae_concat(t, 3, (ae_val *[]){w[0], w[1], ae_reshape(t, ae_add(t, w[2], w[3]), AE_SHAPE(G * H, 1))}, 1);
  ae_val *Wi = ae_concat(t, 2, (ae_val *[]){w[0], ae_reshape(t, w[2], AE_SHAPE(G * H, 1))}, 1);
  ae_val *Wh = ae_concat(t, 2, (ae_val *[]){w[1], ae_reshape(t, w[3], AE_SHAPE(G * H, 1))}, 1);
  ae_val *xs[T];
  if (x->requires_grad)
    split_halving(t, x, T, xs);
  else
    for (int s = 0; s < T; s++) xs[s] = ae_select(t, x, 1, s);
  for (int s = 0; s < T; s++) {
    if (b->lstm) {
      ae_val *p = ae_matmul(t, ae_concat(t, 3, (ae_val *[]){xs[s], h, ones}, 1), Wl, 0, 1);
      ae_val *i = ae_sigmoid(t, ae_slice(t, p, 1, 0, H)), *f = ae_sigmoid(t, ae_slice(t, p, 1, H, H));
      ae_val *u = ae_tanh(t, ae_slice(t, p, 1, 2 * H, H)), *o = ae_sigmoid(t, ae_slice(t, p, 1, 3 * H, H));
      c = ae_add(t, ae_mul(t, f, c), ae_mul(t, i, u));
      h = ae_mul(t, o, ae_tanh(t, c));
    } else {
      ae_val *gx = ae_matmul(t, ae_concat(t, 2, (ae_val *[]){xs[s], ones}, 1), Wi, 0, 1);
      ae_val *gh = ae_matmul(t, ae_concat(t, 2, (ae_val *[]){h, ones}, 1), Wh, 0, 1);
      h = ae_gru_gates_composed(t, gx, gh, h);
    }
    hs[s] = h;
  }
  return ae_stack(t, T, hs, 1);
}

static double step(bench *b) {
  double t0 = now();
  ae_tape *t = b->tape;
  ae_tape_reset(t);
  ae_val *w[4];
  for (int k = 0; k < 4; k++) w[k] = ae_param_bind(t, b->p[k]);
  ae_val *x = b->decoder ? ae_repeat(t, ae_var_tensor(t, b->x), 1, T) : ae_const_tensor(t, b->x);
  ae_val *y;
  if (b->composed)
    y = unroll_composed(t, b, x, w);
  else if (b->lstm)
    y = ae_lstm_unroll(t, x, NULL, NULL, w[0], w[1], w[2], w[3], NULL, NULL);
  else
    y = ae_gru_unroll(t, x, NULL, w[0], w[1], w[2], w[3], NULL);
  ae_val *loss = ae_sum(t, ae_mul(t, y, ae_const_tensor(t, b->gw)));
  for (int k = 0; k < 4; k++) memset(b->p[k]->grad.data, 0, sizeof(ae_real) * (size_t)b->p[k]->grad.numel);
  ae_backward(t, loss);
  if (!ae_tape_ok(t)) {
    fprintf(stderr, "bench_rnn: %s\n", ae_tape_error(t));
    exit(1);
  }
  return (now() - t0) * 1e3;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 50;
  ae_set_threads(threads);
  printf("cell\tlayer\tgates\tmedian_ms\tmean_ms\tarena_MiB\n");
  for (int cell = 0; cell < 2; cell++)
    for (int dec = 0; dec < 2; dec++)
      for (int comp = 0; comp < 2; comp++) {
        bench b = {.lstm = cell == 0, .I = dec ? 30 : 28, .decoder = dec, .composed = comp};
        int G = b.lstm ? 4 : 3;
        ae_rng r;
        ae_rng_init(&r, 42);
        ae_real bound = (ae_real)(1 / sqrt((double)H));
        ae_shape shapes[4] = {AE_SHAPE(G * H, b.I), AE_SHAPE(G * H, H), AE_SHAPE(G * H), AE_SHAPE(G * H)};
        for (int k = 0; k < 4; k++) {
          b.p[k] = ae_param_new("w", shapes[k]);
          ae_rng_uniform(&r, b.p[k]->value.data, b.p[k]->value.numel, -bound, bound);
        }
        b.x = ae_tensor_new(dec ? AE_SHAPE(B, b.I) : AE_SHAPE(B, T, b.I));
        b.gw = ae_tensor_new(AE_SHAPE(B, T, H));
        ae_rng_uniform(&r, b.x->data, b.x->numel, -1, 1);
        ae_rng_uniform(&r, b.gw->data, b.gw->numel, -1, 1);
        b.tape = ae_tape_new((size_t)512 << 20);
        double *ms = malloc(sizeof *ms * (size_t)reps), sum = 0;
        for (int i = 0; i < WARMUP; i++) step(&b);
        for (int i = 0; i < reps; i++) sum += ms[i] = step(&b);
        qsort(ms, (size_t)reps, sizeof *ms, cmp_double);
        printf("%s\t%s I=%d\t%s\t%.3f\t%.3f\t%.1f\n", b.lstm ? "lstm" : "gru", dec ? "decoder" : "encoder", b.I,
               comp ? "composed" : "fused", ms[reps / 2], sum / reps, ae_tape_arena_used(b.tape) / 1048576.0);
        fflush(stdout);
        free(ms);
        ae_tape_free(b.tape);
        ae_tensor_free(b.x), ae_tensor_free(b.gw);
        for (int k = 0; k < 4; k++) ae_param_free(b.p[k]);
      }
  return 0;
}
