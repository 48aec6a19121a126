/* rnn_internal.h: what the rnn family's files share and do not export:
 * the LSTM gate kernels (rnn_gates.c), the LSTM unroll as one op,
 * lstm_seq (rnn_seq.c), and the switch with which tests have
 * ae_lstm_unroll compose the steps one by one instead (rnn.c). */
#ifndef AE_RNN_INTERNAL_H
#define AE_RNN_INTERNAL_H

#include <stdint.h>

#include "autograd/tape.h"
#include "base/real.h"

/* One example's LSTM step: p (4H) pre-activations, c (H) -> h' at h, c' at
 * cn (H each); s gets the first nkept (0, 2 or 5) of [u T i f o] (H each:
 * u = tanh(pg), T = tanh(c'), the gates). */
void ae__lstm_fwd_row(int64_t H, const ae_real *p, const ae_real *c, ae_real *h, ae_real *cn, ae_real *s, int nkept);
/* The backward of B rows: P (B,4H), C (B,H), G = [gh gc] (B,2H), S the
 * kept rows (B, nkept H) or NULL (all recomputed from P; P is not read
 * when nkept is 5) -> d p (row stride dps) and d c (row stride dcs);
 * either output may be NULL. */
void ae__lstm_bw_rows(int64_t B, int64_t H, const ae_real *P, const ae_real *C, const ae_real *G, const ae_real *S,
                      int nkept, ae_real *dp, int64_t dps, ae_real *dc, int64_t dcs);

/* The LSTM over x (B,T,I) as one lstm_seq node, with the joined weight
 * w = [W_ih W_hh b] (4H,K), K = I + H + has_b (b = b_ih + b_hh as a
 * column; has_b 0: w = [W_ih W_hh]), from h0, c0 (B,H) or NULL (zeros).
 * Returns the outputs (B,T,H), or with with_c [h_1 .. h_T c_T]
 * (B,T+1,H): bitwise what the unroll composed step by step gives. */
ae_val *ae__lstm_seq(ae_tape *t, ae_val *x, ae_val *w, int has_b, ae_val *h0, ae_val *c0, int with_c);

/* Tests: 1 makes this thread's ae_lstm_unroll compose its steps one by
 * one (concat, matmul, lstm_gates, slices), as it did before lstm_seq,
 * to compare the two; 0 (the default) records lstm_seq. */
void ae__lstm_unroll_set_steps(int on);

#endif
