/* rnn_rows.h: what tests/rows/rnn.c shares with tests/test_rnn.c: the
 * optional-input mask of the cell and unroll rows, their inputs picked by
 * name, and their builders and plain-loop references (generic in B, T, I
 * and H <= RNN_REF_MAX_H). */
#ifndef AE_RNN_ROWS_H
#define AE_RNN_ROWS_H

#include "../op_table.h"

enum { RNN_H = 1, RNN_C = 2, RNN_BIH = 4, RNN_BHH = 8, RNN_ALL = 15 };
#define RNN_REF_MAX_H 256

/* A cell's or unroll's inputs, in the rows' order (x, [h], [c], w_ih,
 * w_hh, [b_ih], [b_hh]; lstm 0: no c), by name; k: how many. */
typedef struct rnn_in {
  int k;
  ae_val *x, *h, *c, *wi, *wh, *bi, *bh;
} rnn_in;
rnn_in rnn_pick_vals(ae_val *const *in, int mask, int lstm);

ae_val *rnn_build_lstm_cell(ae_tape *t, ae_val *const *in, const op_row *row);
ae_val *rnn_build_gru_cell(ae_tape *t, ae_val *const *in, const op_row *row);
ae_val *rnn_build_lstm_unroll(ae_tape *t, ae_val *const *in, const op_row *row);
ae_val *rnn_build_lstm_seq(ae_tape *t, ae_val *const *in, const op_row *row);
ae_val *rnn_build_gru_unroll(ae_tape *t, ae_val *const *in, const op_row *row);
void rnn_ref_lstm_cell(ae_tensor *const *in, ae_tensor *out, const op_row *row);
void rnn_ref_gru_cell(ae_tensor *const *in, ae_tensor *out, const op_row *row);
void rnn_ref_lstm_unroll(ae_tensor *const *in, ae_tensor *out, const op_row *row);
void rnn_ref_gru_unroll(ae_tensor *const *in, ae_tensor *out, const op_row *row);
void rnn_ref_lstm_seq(ae_tensor *const *in, ae_tensor *out, const op_row *row);

#endif
