/* test_zoo_seq.c: the recurrent sequence autoencoder (zoo/seq_ae.c):
 * its full loss against finite differences (float64, first and second
 * order), its shapes, and its training loss falling on real Fashion-MNIST. */
#include <criterion/criterion.h>
#include <math.h>

#include "zoo_test_util.h"
#include "random_tensor.h"

#ifdef AE_REAL_DOUBLE
/* Tiny sizes: 4 rows of 3 pixels, 3 LSTM units, a 2-unit code. */
Test(zoo_seq, gradcheck_full_loss) {
  const char *set[] = {"hidden=3", "code=2"};
  ae_model *m = ae_model_new("seq-ae", 2, set, AE_SHAPE(1, 4, 3), 5);
  cr_assert(m, "%s", ae_last_error());
  ae_tensor *x = rt_uniform_seeded(AE_SHAPE(2, 1, 4, 3), 9, 0, 1);
  ae_param_check pc[AE_MAX_PARAMS];
  int ok = ae_model_gradcheck(m, x, 1, NULL, pc);
  cr_assert(ok >= 0, "%s", ae_last_error());
  for (int i = 0; i < m->nparams; i++)
    cr_expect(pc[i].ok, "%s: max abs err %g, rel %g at %lld", pc[i].name, pc[i].max_abs, pc[i].max_rel,
              (long long)pc[i].worst);
  ok = ae_model_gradgradcheck(m, x, 1, NULL, pc);
  cr_assert(ok >= 0, "%s", ae_last_error());
  for (int i = 0; i < m->nparams; i++)
    cr_expect(pc[i].ok, "second order %s: max abs err %g, rel %g", pc[i].name, pc[i].max_abs, pc[i].max_rel);
  ae_tensor_free(x);
  ae_model_free(m);
}
#else
/* Shapes and names: the code is (B, code), the reconstruction has the
 * input's shape in [0,1], and the parameters carry torch.nn.LSTM's names. */
Test(zoo_seq, shapes_and_names) {
  ae_model *m = ae_model_new("seq-ae", 0, NULL, AE_SHAPE(1, 28, 28), 5);
  cr_assert(m, "%s", ae_last_error());
  cr_assert(ae_model_find_param(m, "encoder.lstm1.weight_ih_l0"));
  cr_assert_eq(ae_model_find_param(m, "encoder.lstm1.weight_ih_l0")->value.shape.d[0], 400);
  cr_assert_eq(ae_model_find_param(m, "encoder.lstm2.weight_hh_l0")->value.shape.d[1], 30);
  ae_tape *t = ae_tape_new((size_t)64 << 20);
  const ae_tensor *d = zt_fashion(0, 4);
  ae_val *x = ae_const_tensor(t, d);
  ae_val *h = m->def->encode(m, t, x), *y = m->def->reconstruct(m, t, x);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  cr_assert_eq(h->t.shape.d[0], 4);
  cr_assert_eq(h->t.shape.d[1], 30);
  cr_assert(ae_shape_eq(y->t.shape, x->t.shape));
  for (int64_t i = 0; i < y->t.numel; i++) cr_assert(y->t.data[i] >= 0 && y->t.data[i] <= 1);
  ae_tape_free(t);
  ae_model_free(m);
}

/* 60 Adam steps of batch 32 on 1000 images, at reduced width (32 units,
 * code 8) to stay within the suite's time budget: the loss must fall by a
 * clear margin, and the held-out error must fall with it. */
Test(zoo_seq, loss_falls_on_fashion_mnist, .timeout = 300) {
  const char *set[] = {"hidden=32", "code=8"};
  ae_model *m = ae_model_new("seq-ae", 2, set, AE_SHAPE(1, 28, 28), 3);
  cr_assert(m, "%s", ae_last_error());
  const ae_tensor *train = zt_fashion(0, 1000), *test = zt_fashion(1, 500);
  ae_eval_result before, after;
  cr_assert(ae_evaluate(m, test, 500, 100, 1, &before) == 0, "%s", ae_last_error());
  double losses[60];
  cr_assert(zt_train(m, train, 60, 32, AE_OPT_ADAM, 3e-3, 11, losses) == 0);
  cr_assert(ae_evaluate(m, test, 500, 100, 1, &after) == 0, "%s", ae_last_error());
  double first = zt_mean(losses, 0, 10), last = zt_mean(losses, 50, 60);
  cr_assert(last < 0.75 * first, "training loss %g -> %g", first, last);
  cr_assert(after.mse_pixel < 0.8 * before.mse_pixel, "held-out mse %g -> %g", before.mse_pixel, after.mse_pixel);
  ae_model_free(m);
}
#endif
