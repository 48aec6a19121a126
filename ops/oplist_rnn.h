/* oplist_rnn.h: op-list rows of the rnn family, AE_OP(ID, name) as in oplist.h. */
#ifndef AE_OPLIST_RNN_H
#define AE_OPLIST_RNN_H

#define AE_OP_LIST_RNN(AE_OP)                                         \
  /* rnn_gates.c: fused LSTM / GRU gate math and its backward */      \
  AE_OP(LSTM_GATES, lstm_gates)                                       \
  AE_OP(LSTM_GATES_BACKWARD, lstm_gates_backward)                     \
  AE_OP(GRU_GATES, gru_gates)                                         \
  AE_OP(GRU_GATES_BACKWARD, gru_gates_backward)

#endif
