/* readme_example.c: the README's example, compiled and run by the tests. */
#include <stdio.h>
#include "aezoo.h"

int main(void) {
  ae_rng rng;
  ae_rng_init(&rng, 42);
  ae_param *W = ae_param_new("W", AE_SHAPE(8, 16)); /* (out, in), as PyTorch */
  ae_rng_normal(&rng, W->value.data, W->value.numel, 0, 0.1f);
  ae_tensor *X = ae_tensor_new(AE_SHAPE(4, 16)); /* a batch of 4 inputs */
  ae_rng_uniform(&rng, X->data, X->numel, 0, 1);
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_var_tensor(t, X); /* a var: the penalty differentiates by x */
  ae_val *w = ae_param_bind(t, W);
  ae_val *h = ae_sigmoid(t, ae_matmul(t, x, w, 0, 1)); /* code h = sigmoid(x W^T) */
  ae_val *y = ae_sigmoid(t, ae_matmul(t, h, w, 0, 0)); /* tied decoder */
  ae_val *mse = ae_mean(t, ae_square(t, ae_sub(t, y, x)));
  ae_val *cae = ae_jacobian_frobenius_sq(t, h, x, 1); /* ||dh/dx||_F^2, differentiable */
  ae_val *loss = ae_add(t, mse, ae_scale(t, cae, 0.1f / 4));
  if (ae_backward(t, loss) != 0) return fprintf(stderr, "%s\n", ae_tape_error(t)), 1;
  printf("loss %.6f  penalty %.6f  dL/dW[0] %.6f\n", ae_item(loss), ae_item(cae), W->grad.data[0]);
  ae_tape_free(t);
  ae_param_free(W);
  ae_tensor_free(X);
  return 0;
}
