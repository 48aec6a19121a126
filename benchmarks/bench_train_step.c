/* bench_train_step.c: milliseconds per training step of two autoencoders
 * built with the public API (ae_linear, activations, ae_mse_loss, Adam):
 *   ae784: 784-256-64-256-784, ReLU hidden layers, sigmoid output,
 *          batch 128 of uniform [0,1) data;
 *   tiny:  2-8-2-8-2, tanh hidden layers, linear output, batch 64.
 * MSE (mean), Adam lr 1e-3 (ae_optim_defaults). Weights and biases start
 * U(-1/sqrt(in), 1/sqrt(in)) like torch.nn.Linear. A step is: reset the
 * tape, bind the parameters, forward, zero_grad, backward, optimiser step.
 * The batch is fixed, so the loss must fall: the first and last losses are
 * printed to show the model trains. bench_train_step_torch.py runs the
 * same models in PyTorch.
 *
 * Usage: bench_train_step [threads [steps_784 [steps_tiny]]]
 * (defaults 2, 200, 2000; 20 warm-up steps each). Output, one line per
 * model, tab-separated:
 *   model  median_ms  mean_ms  loss_first  loss_last  steps  cpu_ms
 * where cpu_ms is the process CPU time per timed step (all threads, spin
 * waits included): with 1 thread it is what a loaded machine cannot
 * inflate, unlike wall time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aezoo.h"

enum { MAX_LAYERS = 8, WARMUP = 20 };
typedef enum { ACT_NONE, ACT_RELU, ACT_SIGMOID, ACT_TANH } act_kind;

typedef struct {
  const char *name;
  int nlayers;
  int dims[MAX_LAYERS + 1];
  act_kind act[MAX_LAYERS];
  int batch;
  ae_param *w[MAX_LAYERS], *b[MAX_LAYERS];
  ae_param *params[2 * MAX_LAYERS];
  ae_tensor *x;
  ae_optim *opt;
  ae_tape *tape;
} model;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int model_init(model *m, uint64_t seed) {
  ae_rng rng;
  ae_rng_init(&rng, seed);
  for (int l = 0; l < m->nlayers; l++) {
    int in = m->dims[l], out = m->dims[l + 1];
    ae_real bound = (ae_real)(1.0 / sqrt((double)in));
    char name[32];
    snprintf(name, sizeof name, "fc%d.weight", l);
    m->w[l] = ae_param_new(name, AE_SHAPE(out, in));
    snprintf(name, sizeof name, "fc%d.bias", l);
    m->b[l] = ae_param_new(name, AE_SHAPE(out));
    if (!m->w[l] || !m->b[l]) return -1;
    ae_rng_uniform(&rng, m->w[l]->value.data, m->w[l]->value.numel, -bound, bound);
    ae_rng_uniform(&rng, m->b[l]->value.data, m->b[l]->value.numel, -bound, bound);
    m->params[2 * l] = m->w[l];
    m->params[2 * l + 1] = m->b[l];
  }
  m->x = ae_tensor_new(AE_SHAPE(m->batch, m->dims[0]));
  if (!m->x) return -1;
  ae_rng_uniform(&rng, m->x->data, m->x->numel, 0, 1);
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_ADAM);
  m->opt = ae_optim_new(&cfg, m->params, 2 * m->nlayers);
  m->tape = ae_tape_new(0);
  return m->opt && m->tape ? 0 : -1;
}

static void model_free(model *m) {
  for (int l = 0; l < m->nlayers; l++) ae_param_free(m->w[l]), ae_param_free(m->b[l]);
  ae_tensor_free(m->x);
  ae_optim_free(m->opt);
  ae_tape_free(m->tape);
}

/* One training step; returns the loss before the update (NaN on error). */
static double step(model *m) {
  ae_tape *t = m->tape;
  ae_tape_reset(t);
  ae_val *x = ae_const_tensor(t, m->x), *h = x;
  for (int l = 0; l < m->nlayers; l++) {
    h = ae_linear(t, h, ae_param_bind(t, m->w[l]), ae_param_bind(t, m->b[l]));
    switch (m->act[l]) {
      case ACT_RELU: h = ae_relu(t, h); break;
      case ACT_SIGMOID: h = ae_sigmoid(t, h); break;
      case ACT_TANH: h = ae_tanh(t, h); break;
      case ACT_NONE: break;
    }
  }
  ae_val *loss = ae_mse_loss(t, h, x, AE_REDUCE_MEAN);
  ae_optim_zero_grad(m->opt);
  if (ae_backward(t, loss) < 0 || ae_optim_step(m->opt) < 0) {
    fprintf(stderr, "%s: %s%s\n", m->name, ae_tape_error(t), ae_last_error());
    return NAN;
  }
  return ae_item(loss);
}

static int run(model *m, int steps) {
  if (model_init(m, 1234) < 0) {
    fprintf(stderr, "%s: init failed: %s\n", m->name, ae_last_error());
    return -1;
  }
  double first = NAN, last = NAN;
  for (int s = 0; s < WARMUP; s++) {
    double l = step(m);
    if (s == 0) first = l;
    if (isnan(l)) return -1;
  }
  double *ms = malloc(sizeof *ms * (size_t)steps), total = 0, cpu0 = cpu_now();
  for (int s = 0; s < steps; s++) {
    double t0 = now();
    last = step(m);
    ms[s] = (now() - t0) * 1e3;
    total += ms[s];
    if (isnan(last)) return -1;
  }
  double cpu_ms = (cpu_now() - cpu0) * 1e3 / steps;
  qsort(ms, (size_t)steps, sizeof *ms, cmp_double);
  printf("%s\t%.6f\t%.6f\t%.6f\t%.6f\t%d\t%.6f\n", m->name, ms[steps / 2], total / steps, first, last,
         steps + WARMUP, cpu_ms);
  fflush(stdout);
  free(ms);
  model_free(m);
  return 0;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  int steps_big = argc > 2 ? atoi(argv[2]) : 200, steps_tiny = argc > 3 ? atoi(argv[3]) : 2000;
  if (threads < 1 || steps_big < 1 || steps_tiny < 1) {
    fprintf(stderr, "usage: bench_train_step [threads [steps_784 [steps_tiny]]]\n");
    return 2;
  }
  ae_set_threads(threads);
  model big = {.name = "ae784", .nlayers = 4, .dims = {784, 256, 64, 256, 784},
               .act = {ACT_RELU, ACT_RELU, ACT_RELU, ACT_SIGMOID}, .batch = 128};
  model tiny = {.name = "tiny", .nlayers = 4, .dims = {2, 8, 2, 8, 2},
                .act = {ACT_TANH, ACT_TANH, ACT_TANH, ACT_NONE}, .batch = 64};
  if (run(&big, steps_big) < 0 || run(&tiny, steps_tiny) < 0) return 1;
  return 0;
}
