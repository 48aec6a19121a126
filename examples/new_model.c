/* new_model.c: trains the README's example model (tied_ae.c) for 200 steps
 * on Fashion-MNIST through the zoo's trainer; run by the tests. */
#include <stdio.h>
#include "aezoo.h"

extern const ae_model_def ae_model_tied_ae;

int main(void) {
  ae_dataset d;
  if (ae_dataset_load("fashion-mnist", 0, 2048, 1, &d)) return fprintf(stderr, "%s\n", ae_last_error()), 1;
  ae_model *m = ae_model_from_def(&ae_model_tied_ae, 0, NULL, ae_shape_make(3, d.x->shape.d + 1), 1);
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_ADAM);
  ae_trainer *tr = m ? ae_trainer_new(m, &cfg, 1, 0) : NULL;
  if (!tr) return fprintf(stderr, "%s\n", ae_last_error()), 1;
  ae_tensor *batch = ae_tensor_new(AE_SHAPE(64, 1, 28, 28));
  for (int step = 0; step < 200; step++) {
    int64_t idx[64];
    for (int i = 0; i < 64; i++) idx[i] = (step * 64 + i) % 2048;
    ae_gather_rows(d.x, idx, 64, batch);
    if (ae_trainer_step(tr, batch)) return fprintf(stderr, "%s\n", ae_trainer_error(tr)), 1;
    if (step == 0 || step == 199) printf("step %d loss %.5f mse %.5f l1 %.5f\n", step, tr->loss, tr->term[0], tr->term[1]);
  }
  ae_tensor_free(batch), ae_trainer_free(tr), ae_model_free(m), ae_dataset_free(&d);
  return 0;
}
