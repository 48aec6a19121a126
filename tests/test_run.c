/* test_run.c: the library's training run (run/run.h) called from C, as a
 * user's program does: the run directory it writes, validation split and
 * best checkpoint, early stopping, extending a finished run (bitwise equal
 * to an uninterrupted one), the run-directory lock and stale temporary
 * files, resume against changed data, learning-rate schedules against their
 * closed forms, gradient clipping inside the optimiser's step, and the data
 * fingerprint, and a trainer step on a batch holding a NaN (ae_trainer_error).
 * Models are tiny and the data synthetic (spiral), so each test
 * takes well under a second. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/parallel.h"
#include "ckpt_compare.h"
#include "io/dataset.h"
#include "io/npy.h"
#include "ops/ops.h"
#include "optim/optim.h"
#include "run/checkpoint.h"
#include "run/run.h"
#include "run/run_dir.h"
#include "zoo/train.h"
#include "zoo/zoo.h"

static char tmp[256];
static void make_tmp(void) {
  snprintf(tmp, sizeof tmp, "/tmp/aezoo_run_XXXXXX");
  cr_assert(mkdtemp(tmp));
}
static void drop_tmp(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(run, .init = make_tmp, .fini = drop_tmp, .timeout = 120);

static const char *in_tmp(const char *name) {
  static char buf[16][512];
  static int k;
  char *b = buf[k++ % 16];
  snprintf(b, 512, "%s/%s", tmp, name);
  return b;
}

static int exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert(f, "cannot open %s", path);
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static const char *const small_ae[] = {"hidden=8,2"};

/* A small run on the spiral: ae 2-8-2, 256 examples, batch 32. */
static void small_config(ae_run_config *c, const char *out) {
  ae_run_config_init(c);
  c->model = "ae";
  c->nset = 1;
  c->set = small_ae;
  c->data = "spiral";
  c->limit = 256;
  c->test_limit = 100;
  c->batch_size = 32;
  c->out = out;
  c->quiet = 1;
  c->no_pictures = 1;
  c->no_report = 1;
}

/* pick_threads times the first steps at 1 and 2 threads and trains on
 * with the faster; since results do not depend on the thread count, the
 * parameters equal those of a run at 1 thread throughout, bit for bit. The
 * model is big enough for the ops and the GEMM to go parallel at 2. */
Test(run, picking_the_thread_count_changes_no_result) {
  const int old = ae_get_threads();
  ae_run_config c;
  ae_run_result r;
  const char *const full_ae[] = {"hidden=100,30"};
  for (int pick = 1; pick >= 0; pick--) {
    ae_set_threads(pick ? 2 : 1);
    ae_run_config_init(&c);
    c.model = "ae";
    c.nset = 1;
    c.set = full_ae;
    c.data = "fashion-mnist";
    c.limit = 1024;
    c.test_limit = 100;
    c.batch_size = 128;
    c.steps = 12; /* the choice takes 2 + 3 x 2 steps */
    c.out = in_tmp(pick ? "picked" : "one");
    c.quiet = c.no_pictures = c.no_report = 1;
    c.pick_threads = pick;
    cr_assert_eq(ae_run(&c, &r), 0, "%s", ae_last_error());
    cr_assert(pick ? r.threads == 1 || r.threads == 2 : r.threads == 1, "threads %d", r.threads);
  }
  ae_set_threads(old);
  assert_same_ckpt_params(in_tmp("picked"), in_tmp("one"), NULL, NULL);
}

Test(run, writes_the_run_directory_with_validation_and_best_checkpoint) {
  ae_run_config c;
  small_config(&c, in_tmp("r"));
  c.epochs = 3;
  c.val_split = 0.25;
  ae_run_result r;
  cr_assert_eq(ae_run(&c, &r), 0, "%s", ae_last_error());
  cr_assert_eq(r.status, AE_RUN_FINISHED);
  /* 192 training examples after the split: 6 steps per epoch */
  cr_assert_eq(r.step, 18);
  cr_assert(isfinite(r.val_loss) && isfinite(r.best_val) && isfinite(r.test_loss));
  cr_assert_leq(r.best_val, r.val_loss);
  cr_assert(exists(in_tmp("r/model.safetensors")) && exists(in_tmp("r/optimizer.safetensors")));
  cr_assert(exists(in_tmp("r/best/model.safetensors")));
  const char *csv = slurp(in_tmp("r/train.csv"));
  cr_assert(strstr(csv, "step,stage,epoch,loss,mse,val_loss,test_loss,wall_time\n"), "header: %.100s", csv);
  /* the best checkpoint is loadable and its step is the best validation's */
  ae_ckpt_meta best;
  cr_assert_eq(ae_ckpt_read_meta(in_tmp("r/best"), &best), 0, "%s", ae_last_error());
  cr_assert_eq(best.best_step, best.step);
  cr_assert_float_eq(best.best_val, r.best_val, 1e-12);
}

Test(run, the_validation_split_is_fixed_by_the_seed_and_disjoint_from_training) {
  ae_run_config c;
  small_config(&c, in_tmp("a"));
  c.steps = 3;
  c.val_split = 0.5;
  ae_run_result ra, rb;
  cr_assert_eq(ae_run(&c, &ra), 0, "%s", ae_last_error());
  c.out = in_tmp("b");
  cr_assert_eq(ae_run(&c, &rb), 0, "%s", ae_last_error());
  cr_assert_eq(ra.val_loss, rb.val_loss);
  ae_ckpt_meta m;
  cr_assert_eq(ae_ckpt_read_meta(in_tmp("a"), &m), 0, "%s", ae_last_error());
  cr_assert_eq(m.data_rows, 128, "half of 256 examples train");
}

Test(run, early_stopping_ends_the_run_when_validation_stops_improving) {
  ae_run_config c;
  small_config(&c, in_tmp("es"));
  c.epochs = 50;
  c.val_split = 0.25;
  c.early_stop = 2;
  c.optimizer = "sgd";
  c.lr = 0; /* nothing moves: the validation loss never improves after epoch 1 */
  ae_run_result r;
  cr_assert_eq(ae_run(&c, &r), 0, "%s", ae_last_error());
  cr_assert_eq(r.status, AE_RUN_EARLY_STOPPED);
  cr_assert_eq(r.step, 3 * 6, "epoch 1 sets the best, epochs 2 and 3 do not improve");
  ae_ckpt_meta m;
  cr_assert_eq(ae_ckpt_read_meta(in_tmp("es"), &m), 0, "%s", ae_last_error());
  cr_assert(m.finished && m.early_stopped);
  cr_assert_eq(m.best_step, 6);
}

Test(run, early_stopping_needs_a_validation_split) {
  ae_run_config c;
  small_config(&c, in_tmp("x"));
  c.early_stop = 3;
  cr_assert_eq(ae_run(&c, NULL), -2);
  cr_assert(strstr(ae_last_error(), "validation"), "%s", ae_last_error());
}

Test(run, extending_a_finished_run_equals_an_uninterrupted_one) {
  ae_run_config c;
  small_config(&c, in_tmp("two"));
  c.epochs = 2;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  small_config(&c, in_tmp("one"));
  c.epochs = 1;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  ae_run_config e;
  ae_run_config_init(&e);
  e.resume = in_tmp("one");
  e.epochs = 2;
  e.quiet = e.no_pictures = e.no_report = 1;
  ae_run_result r;
  cr_assert_eq(ae_run(&e, &r), 0, "%s", ae_last_error());
  cr_assert_eq(r.step, 16);
  assert_same_ckpt_params(in_tmp("one"), in_tmp("two"), NULL, NULL);
  /* shrinking the budget is refused */
  e.epochs = 1;
  cr_assert_eq(ae_run(&e, NULL), -2);
  cr_assert(strstr(ae_last_error(), "can grow, not shrink"), "%s", ae_last_error());
}

Test(run, a_second_run_on_a_held_directory_is_refused_naming_the_holder) {
  ae_run_dir held;
  cr_assert_eq(ae_run_dir_open(&held, in_tmp("busy"), 0, 0), 0, "%s", ae_last_error());
  ae_run_config c;
  small_config(&c, in_tmp("busy"));
  c.steps = 2;
  cr_assert_eq(ae_run(&c, NULL), -1);
  char pid[64];
  snprintf(pid, sizeof pid, "process %ld", (long)getpid());
  cr_assert(strstr(ae_last_error(), "in use by another run") && strstr(ae_last_error(), pid), "%s", ae_last_error());
  ae_run_dir_close(&held);
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  /* now it holds a checkpoint: a new run there needs force */
  cr_assert_eq(ae_run(&c, NULL), -2);
  cr_assert(strstr(ae_last_error(), "already holds a checkpoint"), "%s", ae_last_error());
  c.force = 1;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
}

Test(run, stale_temporary_files_are_removed_at_start) {
  cr_assert_eq(ae_run_mkdir_p(in_tmp("st/best")), 0);
  FILE *f = fopen(in_tmp("st/model.safetensors.tmp.AbC123"), "w");
  cr_assert(f);
  fputs("half a checkpoint", f);
  fclose(f);
  f = fopen(in_tmp("st/best/model.safetensors.tmp.XyZ789"), "w");
  cr_assert(f);
  fclose(f);
  ae_run_config c;
  small_config(&c, in_tmp("st"));
  c.steps = 2;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  cr_assert(!exists(in_tmp("st/model.safetensors.tmp.AbC123")));
  cr_assert(!exists(in_tmp("st/best/model.safetensors.tmp.XyZ789")));
}

static void write_points(const char *path, int64_t n) {
  ae_tensor *t = ae_tensor_new(AE_SHAPE(n, 2));
  for (int64_t i = 0; i < 2 * n; i++) t->data[i] = (ae_real)sin(0.37 * (double)i);
  cr_assert_eq(ae_npy_write(path, t), 0, "%s", ae_last_error());
  ae_tensor_free(t);
}

Test(run, resume_refuses_changed_or_shrunken_data_before_touching_it) {
  const char *npy = in_tmp("pts.npy");
  write_points(npy, 200);
  ae_run_config c;
  small_config(&c, in_tmp("d"));
  c.data = npy;
  c.test_data = npy;
  c.limit = 0;
  c.epochs = 3;
  c.stop_after = 8;
  ae_run_result r;
  cr_assert_eq(ae_run(&c, &r), 0, "%s", ae_last_error());
  cr_assert_eq(r.status, AE_RUN_STOPPED);
  write_points(npy, 100); /* the file lost rows */
  ae_run_config e;
  ae_run_config_init(&e);
  e.resume = in_tmp("d");
  e.quiet = e.no_pictures = e.no_report = 1;
  cr_assert_eq(ae_run(&e, NULL), -1);
  cr_assert(strstr(ae_last_error(), "training data differs"), "%s", ae_last_error());
  /* allowed: it continues on the 100 rows from the start of its epoch (epoch 1 of 3, 3 steps each) */
  e.allow_data_change = 1;
  ae_run_result r2;
  cr_assert_eq(ae_run(&e, &r2), 0, "%s", ae_last_error());
  cr_assert_eq(r2.status, AE_RUN_FINISHED);
  cr_assert_eq(r2.steps_here, 2 * 3, "epochs 2 and 3 of 3 steps of 32 on 100 rows");
}

Test(run, learning_rate_schedules_match_their_closed_forms) {
  ae_lr_sched s;
  cr_assert_eq(ae_lr_sched_parse("constant", &s), 0);
  cr_assert_eq(ae_lr_sched_at(&s, 0.1, 77, 100, 10), 0.1);
  cr_assert_eq(ae_lr_sched_parse("cosine", &s), 0);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 0, 100, 10), 0.1, 1e-15);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 50, 100, 10), 0.05, 1e-15);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 25, 100, 10), 0.05 * (1 + cos(M_PI / 4)), 1e-15);
  cr_assert_eq(ae_lr_sched_parse("step:2:0.5", &s), 0);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 19, 100, 10), 0.1, 1e-15);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 20, 100, 10), 0.05, 1e-15);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 45, 100, 10), 0.025, 1e-15);
  cr_assert_eq(ae_lr_sched_parse("warmup:10", &s), 0);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 5, 100, 10), 0.05, 1e-15);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 60, 100, 10), 0.1, 1e-15);
  cr_assert_eq(ae_lr_sched_parse("warmup:10,cosine", &s), 0);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 5, 110, 10), 0.05, 1e-15);
  cr_assert_float_eq(ae_lr_sched_at(&s, 0.1, 60, 110, 10), 0.05, 1e-15);
  const char *bad[] = {"", "cosine:3", "step:0:0.5", "step:2:1.5", "step:2:-0.5", "step:2:0x1", "step:2:nan",
                       "warmup:x", "warmup:0", "warmup:5,step", "linear"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(ae_lr_sched_parse(bad[i], &s), -1, "'%s' accepted", bad[i]);
    cr_assert(strstr(ae_last_error(), "valid forms"), "%s", ae_last_error());
  }
}

Test(run, a_cosine_schedule_moves_the_learning_rate_of_the_run) {
  /* sgd with lr 0.5 and a cosine schedule over 2 steps: the second step uses
   * lr 0.25. Compare with two hand-made runs of constant lr. */
  ae_run_config c;
  small_config(&c, in_tmp("cos"));
  c.steps = 2;
  c.optimizer = "sgd";
  c.lr = 0.5;
  c.lr_schedule = "cosine";
  c.no_shuffle = 1;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  small_config(&c, in_tmp("c1"));
  c.steps = 1;
  c.optimizer = "sgd";
  c.lr = 0.5;
  c.no_shuffle = 1;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  /* step 2 at lr 0.25 from the one-step checkpoint: a fresh sgd optimiser
   * holds no state, so resuming with another lr is equivalent here */
  ae_model *a = ae_ckpt_load_model(in_tmp("cos"), NULL);
  ae_model *b = ae_ckpt_load_model(in_tmp("c1"), NULL);
  cr_assert(a && b, "%s", ae_last_error());
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_SGD);
  cfg.lr = 0.25;
  ae_trainer *tr = ae_trainer_new(b, &cfg, 0, 0);
  cr_assert(tr, "%s", ae_last_error());
  ae_dataset d;
  cr_assert_eq(ae_dataset_load("spiral", 0, 256, 1, &d), 0, "%s", ae_last_error());
  ae_tensor *batch = ae_tensor_new(AE_SHAPE(32, 2));
  int64_t idx[32];
  for (int i = 0; i < 32; i++) idx[i] = 32 + i; /* the second batch of the unshuffled epoch */
  ae_gather_rows(d.x, idx, 32, batch);
  cr_assert_eq(ae_trainer_step(tr, batch), 0, "%s", ae_trainer_error(tr));
  for (int i = 0; i < a->nparams; i++)
    for (int64_t j = 0; j < a->params[i]->value.numel; j++)
      cr_assert_float_eq(a->params[i]->value.data[j], b->params[i]->value.data[j], 1e-6, "%s[%lld]",
                         a->params[i]->name, (long long)j);
  ae_tensor_free(batch);
  ae_dataset_free(&d);
  ae_trainer_free(tr);
  ae_model_free(a);
  ae_model_free(b);
}

Test(run, clipping_inside_the_step_equals_clip_then_step) {
  ae_param *p = ae_param_new("w", AE_SHAPE(3));
  ae_param *q = ae_param_new("v", AE_SHAPE(3));
  const ae_real g[3] = {3, -4, 12}; /* norm 13 */
  ae_param *ps[1] = {p}, *qs[1] = {q};
  for (int i = 0; i < 3; i++) p->grad.data[i] = q->grad.data[i] = g[i];
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_SGD);
  cfg.lr = 1;
  ae_optim_config clipped = cfg;
  clipped.max_grad_norm = 1.3;
  ae_optim *op = ae_optim_new(&clipped, ps, 1), *oq = ae_optim_new(&cfg, qs, 1);
  cr_assert(op && oq, "%s", ae_last_error());
  cr_assert_eq(ae_optim_step(op), 0);
  ae_clip_grad_norm(qs, 1, 1.3);
  cr_assert_eq(ae_optim_step(oq), 0);
  for (int i = 0; i < 3; i++) {
    cr_assert_float_eq(p->value.data[i], q->value.data[i], 1e-7);
    cr_assert_float_eq(p->value.data[i], -g[i] * 1.3 / 13, 1e-5);
  }
  clipped.max_grad_norm = -1;
  cr_assert_null(ae_optim_new(&clipped, ps, 1));
  ae_optim_free(op);
  ae_optim_free(oq);
  ae_param_free(p);
  ae_param_free(q);
}

Test(run, the_data_fingerprint_sees_one_changed_value) {
  ae_tensor *t = ae_tensor_new(AE_SHAPE(50, 3));
  for (int64_t i = 0; i < t->numel; i++) t->data[i] = (ae_real)i;
  uint64_t h = ae_run_data_hash(t);
  cr_assert_eq(h, ae_run_data_hash(t));
  t->data[77] += (ae_real)0.5;
  cr_assert_neq(h, ae_run_data_hash(t));
  ae_tensor_free(t);
}

static ae_val *plain_encode(ae_model *m, ae_tape *t, ae_val *x) { return ae_model_flat(m, t, x); }
static int plain_build(ae_model *m, ae_rng *r) {
  (void)m, (void)r;
  return 0;
}
static ae_val *plain_loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *r, ae_terms *tm) {
  (void)r, (void)tm;
  return ae_sum(t, plain_encode(m, t, x));
}
static const ae_model_def taken = {.name = "ae", .build = plain_build, .loss = plain_loss, .encode = plain_encode,
                                   .reconstruct = plain_encode};
static const ae_model_def mine = {.name = "mine", .build = plain_build, .loss = plain_loss, .encode = plain_encode,
                                  .reconstruct = plain_encode};
static const ae_model_def mine_again = {.name = "mine", .build = plain_build, .loss = plain_loss,
                                        .encode = plain_encode, .reconstruct = plain_encode};

/* A model whose loss is finite on batches of 32 and NaN on any other: its
 * training steps are fine, its test loss (batches of 10 here) is NaN. */
static int nan_build(ae_model *m, ae_rng *r) {
  ae_param *w = ae_model_add_param(m, "w", AE_SHAPE(m->dim));
  ae_init_uniform(w, 1, r);
  return 0;
}
static ae_val *nan_on_test_loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *r, ae_terms *tm) {
  (void)r, (void)tm;
  ae_val *l = ae_mean(t, ae_square(t, ae_mul(t, ae_model_flat(m, t, x), ae_param_bind(t, m->params[0]))));
  return x->t.shape.d[0] == 32 ? l : ae_scale(t, l, (ae_real)NAN);
}
static const ae_model_def nan_on_test = {.name = "nan-on-test", .build = nan_build, .loss = nan_on_test_loss,
                                         .encode = plain_encode, .reconstruct = plain_encode};

Test(run, a_model_whose_test_loss_is_nan_is_never_checkpointed) {
  cr_assert_eq(ae_model_register(&nan_on_test, NULL), 0, "%s", ae_last_error());
  ae_run_config c;
  small_config(&c, in_tmp("nan"));
  c.model = "nan-on-test";
  c.nset = 0;
  c.test_limit = 10;
  c.epochs = 2;
  cr_assert_eq(ae_run(&c, NULL), -1);
  cr_assert(strstr(ae_last_error(), "the test loss is") && strstr(ae_last_error(), "no checkpoint was written"), "%s",
            ae_last_error());
  cr_assert(!exists(in_tmp("nan/model.safetensors")));
}

/* A batch holding a NaN: ae_trainer_step gives -1 and ae_trainer_error
 * names the step, the non-finite loss and the op that made it; no
 * parameter moves, the step count stays, the message outlives later
 * ae_last_error() messages, and a clean batch then steps again. */
Test(run, a_nan_in_a_batch_is_a_trainer_error_naming_the_step) {
  ae_model *m = ae_model_new("cae-deep", 1, (const char *[]){"hidden=12,6"}, AE_SHAPE(1, 8, 8), 1);
  cr_assert(m, "%s", ae_last_error());
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_ADAM);
  ae_trainer *tr = ae_trainer_new(m, &cfg, 2, 0);
  cr_assert(tr, "%s", ae_last_error());
  cr_assert_str_eq(ae_trainer_error(tr), "");
  ae_tensor *x = ae_tensor_new(AE_SHAPE(4, 1, 8, 8));
  cr_assert(x);
  for (int64_t i = 0; i < x->numel; i++) x->data[i] = (ae_real)((double)(i % 17) / 17.0);
  cr_assert_eq(ae_trainer_step(tr, x), 0, "%s", ae_trainer_error(tr));
  cr_assert_eq(tr->step, 1);
  ae_real *before[AE_MAX_PARAMS];
  for (int i = 0; i < m->nparams; i++) {
    before[i] = malloc(sizeof(ae_real) * (size_t)m->params[i]->value.numel);
    memcpy(before[i], m->params[i]->value.data, sizeof(ae_real) * (size_t)m->params[i]->value.numel);
  }
  ae_real keep = x->data[70];
  x->data[70] = (ae_real)NAN;
  cr_assert_eq(ae_trainer_step(tr, x), -1, "a step on a batch holding a NaN succeeded");
  const char *msg = ae_trainer_error(tr);
  cr_log_info("%s", msg);
  cr_expect(strstr(msg, "the loss is") && strstr(msg, "nan") && strstr(msg, "at step 1:"), "%s", msg);
  cr_expect(!strstr(msg, "no op produced"), "the anomaly replay should name an op: %s", msg);
  cr_expect_eq(tr->step, 1);
  for (int i = 0; i < m->nparams; i++) {
    cr_expect(memcmp(before[i], m->params[i]->value.data, sizeof(ae_real) * (size_t)m->params[i]->value.numel) == 0,
              "%s moved on a failed step", m->params[i]->name);
    free(before[i]);
  }
  char copy[512];
  snprintf(copy, sizeof copy, "%s", msg);
  ae_set_last_error("another failure");
  cr_expect_str_eq(ae_trainer_error(tr), copy);
  x->data[70] = keep;
  cr_expect_eq(ae_trainer_step(tr, x), 0, "%s", ae_trainer_error(tr));
  cr_expect_eq(tr->step, 2);
  ae_tensor_free(x);
  ae_trainer_free(tr);
  ae_model_free(m);
}

Test(run, registering_models) {
  cr_assert_eq(ae_model_register(&taken, NULL), -1);
  cr_assert(strstr(ae_last_error(), "taken by the zoo"), "%s", ae_last_error());
  cr_assert_eq(ae_model_register(&mine, NULL), 0, "%s", ae_last_error());
  cr_assert_eq(ae_model_register(&mine, NULL), 0, "the same definition twice is a no-op");
  cr_assert_eq(ae_model_register(&mine_again, NULL), -1);
  cr_assert(strstr(ae_last_error(), "already registered"), "%s", ae_last_error());
  cr_assert_eq(ae_model_lookup("mine"), &mine);
  cr_assert_eq(ae_model_lookup("ae"), ae_zoo_find("ae"));
  cr_assert_null(ae_model_plugin(&mine));
}

/* Flips one byte of the first tensor's data in a checkpoint's model file. */
static void flip_a_data_byte(const char *model_file) {
  FILE *f = fopen(model_file, "r+b");
  cr_assert(f);
  uint64_t hlen;
  cr_assert_eq(fread(&hlen, 8, 1, f), 1);
  long at = (long)(8 + hlen + 3);
  fseek(f, at, SEEK_SET);
  int c = fgetc(f);
  fseek(f, at, SEEK_SET);
  fputc(c ^ 0x10, f);
  fclose(f);
}

Test(run, a_flipped_byte_or_a_nan_in_a_checkpoint_is_refused_naming_the_tensor) {
  ae_run_config c;
  small_config(&c, in_tmp("ck"));
  c.steps = 4;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  ae_ckpt_meta meta;
  ae_model *m = ae_ckpt_load_model(in_tmp("ck"), &meta);
  cr_assert(m, "%s", ae_last_error());
  /* a NaN parameter saved (as a buggy program might) is refused on load */
  cr_assert_eq(ae_run_mkdir_p(in_tmp("nan")), 0);
  m->params[1]->value.data[0] = NAN;
  cr_assert_eq(ae_ckpt_save(in_tmp("nan"), m, NULL, &meta), 0, "%s", ae_last_error());
  cr_assert_null(ae_ckpt_load_model(in_tmp("nan"), NULL));
  cr_assert(strstr(ae_last_error(), m->params[1]->name) && strstr(ae_last_error(), "non-finite"), "%s",
            ae_last_error());
  ae_model_free(m);
  /* one flipped bit in the stored data */
  flip_a_data_byte(in_tmp("ck/model.safetensors"));
  cr_assert_null(ae_ckpt_load_model(in_tmp("ck"), NULL));
  cr_assert(strstr(ae_last_error(), "is damaged") && strstr(ae_last_error(), "checksum"), "%s", ae_last_error());
}

Test(run, a_checkpoint_is_one_generation_published_by_one_link) {
  ae_run_config c;
  small_config(&c, in_tmp("g"));
  c.epochs = 3;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  char cur[256];
  ssize_t n = readlink(in_tmp("g/current"), cur, sizeof cur - 1);
  cr_assert_gt(n, 0);
  cur[n] = 0;
  cr_assert_eq(strncmp(cur, "gen-", 4), 0, "%s", cur);
  char link[256];
  n = readlink(in_tmp("g/model.safetensors"), link, sizeof link - 1);
  cr_assert_gt(n, 0);
  link[n] = 0;
  cr_assert_str_eq(link, "current/model.safetensors");
  /* only the current generation is left */
  char cmd[600], out[64];
  snprintf(cmd, sizeof cmd, "ls -d %s/g/gen-* | wc -l", tmp);
  FILE *p = popen(cmd, "r");
  cr_assert(p && fgets(out, sizeof out, p));
  pclose(p);
  cr_assert_eq(atoi(out), 1);
}
