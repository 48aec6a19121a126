/* loss_grad.h: the interface between main.c and loss_grad.c, in plain C
 * types only: loss_grad.c is compiled twice, once against libaezoo
 * (float32) and once against libaezoo64 (-DAE_REAL_DOUBLE, float64), and
 * the two builds of aezoo.h must never meet in one translation unit. */
#ifndef LOSS_GRAD_H
#define LOSS_GRAD_H

enum { LG_OUT = 8, LG_IN = 16, LG_BATCH = 4 };

/* The README's tied contractive autoencoder loss at weights w (LG_OUT x
 * LG_IN) and inputs x (LG_BATCH x LG_IN): writes dL/dw into grad and
 * returns the loss, or NaN with a message on stderr. */
double loss_grad_f32(const double *w, const double *x, double *grad);
double loss_grad_f64(const double *w, const double *x, double *grad);

#endif
