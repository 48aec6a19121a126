/* main.c: one program linked with both libaezoo and libaezoo64. The same
 * loss (loss_grad.c, compiled once per precision) is differentiated in
 * float32 and in float64; the float32 gradient must match the float64
 * reference to float32 accuracy, and differ from it (two libraries really
 * ran). See README, "Installing", for how to build such a program. */
#include <math.h>
#include <stdio.h>

#include "loss_grad.h"

int main(void) {
  double w[LG_OUT * LG_IN], x[LG_BATCH * LG_IN], g32[LG_OUT * LG_IN], g64[LG_OUT * LG_IN];
  for (int i = 0; i < LG_OUT * LG_IN; i++) w[i] = 0.3 * sin(1.7 * i + 0.2);
  for (int i = 0; i < LG_BATCH * LG_IN; i++) x[i] = 0.5 + 0.45 * cos(0.9 * i);
  double l32 = loss_grad_f32(w, x, g32), l64 = loss_grad_f64(w, x, g64);
  if (isnan(l32) || isnan(l64)) return 1;
  double gmax = 0, err = 0;
  for (int i = 0; i < LG_OUT * LG_IN; i++) {
    gmax = fmax(gmax, fabs(g64[i]));
    err = fmax(err, fabs(g32[i] - g64[i]));
  }
  double rel = err / gmax, lrel = fabs(l32 - l64) / fabs(l64);
  printf("loss float32 %.9g  float64 %.17g  (relative difference %.2g)\n", l32, l64, lrel);
  printf("dL/dW: max |float32 - float64| %.3g, %.3g of max |dL/dW| %.3g\n", err, rel, gmax);
  /* float32 rounding (u = 6e-8) through a few dozen ops: well under 1e-4;
   * a float64 library would agree to ~1e-15, so a zero difference means
   * both calls ran the same precision. */
  if (!(rel < 1e-4 && lrel < 1e-5)) return fprintf(stderr, "float32 gradient too far from float64\n"), 1;
  if (!(rel > 1e-12)) return fprintf(stderr, "float32 and float64 gradients agree to double precision\n"), 1;
  return 0;
}
