/* rnn.h: recurrent cells (ops/rnn.c): an LSTM cell and a GRU cell with
 * PyTorch's equations and parameter layouts (weights exchange with
 * torch.nn.LSTM / nn.GRU / nn.LSTMCell / nn.GRUCell as they are), helpers
 * that unroll them over a (B,T,I) sequence, and the fused gate ops they
 * are built on.
 *
 * LSTM, gate order i, f, g, o: weight_ih (4H,I), weight_hh (4H,H),
 * bias_ih, bias_hh (4H):
 *   [i f g o] = x W_ih^T + b_ih + h W_hh^T + b_hh
 *   i, f, o = sigmoid(.), g = tanh(.);  c' = f c + i g;  h' = o tanh(c')
 * GRU, gate order r, z, n: weight_ih (3H,I), weight_hh (3H,H), biases (3H):
 *   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise,
 *   n = tanh(W_in x + b_in + r (W_hn h + b_hn));  h' = (1 - z) n + z h
 *
 * h and c may be NULL (zeros); either bias may be NULL (none, as with
 * bias=False). Shape mistakes raise AE_ERR_SHAPE naming the argument and
 * both shapes, and the call returns NULL. */
#ifndef AE_RNN_H
#define AE_RNN_H

#include "base/api.h"
#include "autograd/tape.h"

/* One LSTM step: x (B,I), h and c (B,H). Returns h' (B,H); *c_out (may be
 * NULL) gets c' (B,H). */
AE_API ae_val *ae_lstm_cell(ae_tape *t, ae_val *x, ae_val *h, ae_val *c, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih,
                            ae_val *b_hh, ae_val **c_out);
/* One GRU step: x (B,I), h (B,H). Returns h' (B,H). */
AE_API ae_val *ae_gru_cell(ae_tape *t, ae_val *x, ae_val *h, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih, ae_val *b_hh);

/* The cell run over x (B,T,I) from h0, c0 (B,H) (NULL: zeros). Returns the
 * outputs (B,T,H) (h_1 .. h_T, as nn.LSTM with batch_first=True); *h_last
 * and *c_last (may be NULL) get h_T and c_T. */
AE_API ae_val *ae_lstm_unroll(ae_tape *t, ae_val *x, ae_val *h0, ae_val *c0, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih,
                              ae_val *b_hh, ae_val **h_last, ae_val **c_last);
AE_API ae_val *ae_gru_unroll(ae_tape *t, ae_val *x, ae_val *h0, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih, ae_val *b_hh,
                             ae_val **h_last);

/* The fused gate ops (element-wise math of one step, one kernel each way).
 * lstm_gates: pre (B,4H) = the summed pre-activations [i f g o], c (B,H);
 * returns (B,2H) = [h' c'].
 * gru_gates: gx (B,3H) = x W_ih^T + b_ih, gh (B,3H) = h W_hh^T + b_hh,
 * h (B,H); returns h' (B,H). */
AE_API ae_val *ae_lstm_gates(ae_tape *t, ae_val *pre, ae_val *c);
AE_API ae_val *ae_gru_gates(ae_tape *t, ae_val *gx, ae_val *gh, ae_val *h);
/* Their backward kernels, ops in their own right (differentiable again):
 * lstm_gates_backward(g (B,2H), pre, c) = [d pre (4H), d c (H)] (B,5H);
 * gru_gates_backward(g (B,H), gx, gh, h) = [d gx (3H), d gh (3H), d h (H)] (B,7H). */
AE_API ae_val *ae_lstm_gates_backward(ae_tape *t, ae_val *g, ae_val *pre, ae_val *c);
AE_API ae_val *ae_gru_gates_backward(ae_tape *t, ae_val *g, ae_val *gx, ae_val *gh, ae_val *h);

/* The same gate math composed from slice, sigmoid, tanh, mul and add
 * (same results to rounding): for tests and benchmarks/bench_rnn.c. */
AE_API ae_val *ae_lstm_gates_composed(ae_tape *t, ae_val *pre, ae_val *c);
AE_API ae_val *ae_gru_gates_composed(ae_tape *t, ae_val *gx, ae_val *gh, ae_val *h);

#endif
