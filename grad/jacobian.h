/* jacobian.h: Jacobian tools built on the reverse sweep (ae_grad):
 * vector-Jacobian and Jacobian-vector products, the full Jacobian, and the
 * squared Frobenius norm ||dy/dx||_F^2 that a contractive autoencoder
 * penalises, exactly or by Hutchinson's stochastic estimate.
 *
 * Conventions. J = dy/dx is the numel(y) x numel(x) Jacobian of the
 * flattened (row-major) values. Every function takes create_graph: when
 * set, everything it computes is recorded on the tape, so the result can be
 * differentiated again (with respect to parameters, x, or the vectors),
 * e.g. a loss holding a contractive penalty is trained with ae_backward.
 * When clear, the result is a constant and intermediate work is rewound
 * from the arena where possible. x must require grad (a var or a bound
 * parameter, or a value computed from one). Errors (nil values, shape
 * mismatches, probes < 1, a NULL rng) raise on the tape and return NULL. */
#ifndef AE_JACOBIAN_H
#define AE_JACOBIAN_H

#include "base/api.h"
#include "base/rng.h"
#include "autograd/tape.h"

/* v^T J, of x's shape: one reverse sweep (ae_grad with out-gradient v).
 * v has y's shape (or y's number of elements). */
AE_API ae_val *ae_vjp(ae_tape *t, ae_val *y, ae_val *v, ae_val *x, int create_graph);

/* J u, of y's shape, u of x's shape (or x's number of elements), by the
 * double-vector-Jacobian trick (no forward mode needed): with w a dummy
 * differentiable leaf of y's shape (zeros), g(w) = J^T w is computed by one
 * sweep with create_graph; g is linear in w, so d<g, u>/dw = J u is a
 * second sweep, from g down to w. Costs two sweeps, the second one over
 * the (larger) backward graph. */
AE_API ae_val *ae_jvp(ae_tape *t, ae_val *y, ae_val *x, ae_val *u, int create_graph);

/* The full Jacobian as an (numel(y), numel(x)) value: row by row with
 * VJPs when numel(y) <= numel(x), else column by column with JVPs (the
 * first sweep of the JVP trick is shared by all columns). Rows/columns are
 * assembled as a sum of outer products with one-hot constants, which costs
 * O(numel(y)^2 numel(x)): meant for small functions. */
AE_API ae_val *ae_jacobian(ae_tape *t, ae_val *y, ae_val *x, int create_graph);

/* Exact sum over the batch of ||dy_b/dx_b||_F^2, a scalar (shape ()).
 * The leading dimension of y (B, ...) and x (B, ...) is the batch, with
 * m = numel(y)/B outputs and n = numel(x)/B inputs per example, and row b
 * of y must depend only on row b of x (true of any encoder without
 * batch-coupling layers such as batch norm): then J is block diagonal and
 * one probe that is one-hot in unit j of every example reads row j of
 * every block at once. For a non-batched function, reshape to B = 1.
 * Costs min(m, n) probes: when m <= n, one VJP per output unit j
 * (v = e_j in every row: sum over b of ||row j of J_b||^2); else one JVP
 * per input unit i (u = e_i in every row: columns of J_b), sharing the
 * JVP's first sweep. If rows are coupled (y_b depends on x_c, c != b),
 * each probe mixes examples and the result is not a Frobenius norm; use
 * B = 1 (a reshape) or the Hutchinson estimate, which needs no assumption. */
AE_API ae_val *ae_jacobian_frobenius_sq(ae_tape *t, ae_val *y, ae_val *x, int create_graph);

/* Hutchinson's estimator of ||J||_F^2 = tr(J J^T) = tr(J^T J) for the full
 * Jacobian (no batch assumption needed; under it this equals the sum over
 * the batch above). With probes v of E[v v^T] = I:
 *   output side: ||J^T v||^2 = ||v^T J||^2, v of y's shape, one VJP each
 *                (Hoffman et al. 2019, facebookresearch/jacobian_regularizer);
 *   input side:  ||J u||^2, u of x's shape, one JVP each (two sweeps; the
 *                first is shared by all probes).
 * The result is the mean over `probes` probes: unbiased, with variance
 * (1/probes) times, for A = J J^T (output side) or A = J^T J (input side),
 *   Gaussian probes:   2 ||A||_F^2 = 2 sum_i s_i^4   (s_i singular values of J)
 *   Rademacher (+-1):  2 (||A||_F^2 - sum_i A_ii^2)  (never larger; zero when A is diagonal).
 * Probes are drawn from rng (advanced by the number of values drawn). */
typedef enum ae_probe_dist {
  AE_PROBE_GAUSSIAN = 0,   /* standard normal entries */
  AE_PROBE_RADEMACHER = 1, /* +1 or -1 with probability 1/2 each */
} ae_probe_dist;

typedef enum ae_probe_side {
  AE_PROBE_OUTPUT = 0, /* v of y's shape, ||J^T v||^2 by a VJP */
  AE_PROBE_INPUT = 1,  /* u of x's shape, ||J u||^2 by a JVP */
} ae_probe_side;

/* Gaussian probes on the output side. */
AE_API ae_val *ae_jacobian_frobenius_sq_hutchinson(ae_tape *t, ae_val *y, ae_val *x, int probes, ae_rng *rng,
                                                   int create_graph);
/* Any probe distribution and side. */
AE_API ae_val *ae_jacobian_frobenius_sq_hutchinson_ex(ae_tape *t, ae_val *y, ae_val *x, int probes, ae_probe_dist dist,
                                                      ae_probe_side side, ae_rng *rng, int create_graph);

#endif
