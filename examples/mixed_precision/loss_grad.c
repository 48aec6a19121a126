/* loss_grad.c: one loss and its gradient, compiled twice: against
 * libaezoo (defines loss_grad_f32) and with -DAE_REAL_DOUBLE against
 * libaezoo64 (defines loss_grad_f64; every ae_X call becomes ae64_X). */
#include <math.h>
#include <stdio.h>

#include "aezoo.h"
#include "loss_grad.h"

#ifdef AE_REAL_DOUBLE
#define LOSS_GRAD loss_grad_f64
#else
#define LOSS_GRAD loss_grad_f32
#endif

double LOSS_GRAD(const double *w, const double *x, double *grad) {
  ae_param *W = ae_param_new("W", AE_SHAPE(LG_OUT, LG_IN));
  ae_tensor *X = ae_tensor_new(AE_SHAPE(LG_BATCH, LG_IN));
  for (int i = 0; i < LG_OUT * LG_IN; i++) W->value.data[i] = (ae_real)w[i];
  for (int i = 0; i < LG_BATCH * LG_IN; i++) X->data[i] = (ae_real)x[i];
  ae_tape *t = ae_tape_new(0);
  ae_val *xv = ae_var_tensor(t, X);
  ae_val *wv = ae_param_bind(t, W);
  ae_val *h = ae_sigmoid(t, ae_matmul(t, xv, wv, 0, 1));
  ae_val *y = ae_sigmoid(t, ae_matmul(t, h, wv, 0, 0));
  ae_val *mse = ae_mean(t, ae_square(t, ae_sub(t, y, xv)));
  ae_val *cae = ae_jacobian_frobenius_sq(t, h, xv, 1);
  ae_val *loss = ae_add(t, mse, ae_scale(t, cae, (ae_real)0.1 / LG_BATCH));
  double result = NAN;
  if (ae_backward(t, loss) != 0) {
    fprintf(stderr, "%s: %s\n", AE_REAL_NAME, ae_tape_error(t));
  } else {
    result = ae_item(loss);
    for (int i = 0; i < LG_OUT * LG_IN; i++) grad[i] = W->grad.data[i];
  }
  ae_tape_free(t);
  ae_param_free(W);
  ae_tensor_free(X);
  return result;
}
