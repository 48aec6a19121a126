/* oplist.h: THE list of ops. One row per op generates the op enum, the
 * names, and the backward dispatch table (ops/registry.c); the op test
 * table (tests/op_table.c) is checked against it, so an op without a test
 * row fails the suite. Adding an op: one row here, its forward + backward
 * in an ops/ source file, one row in the test table.
 *
 * AE_OP(ID, name): the backward rule is ae_bw_<name>. Rows are grouped by
 * the source file that holds the op (core ops first, then each family). */
#ifndef AE_OPLIST_H
#define AE_OPLIST_H


#define AE_OP_LIST(AE_OP)                                             \
  /* leaves (no rule; backward stops here) */                       \
  AE_OP(LEAF, leaf)                                                 \
  /* binary.c: element-wise with broadcasting */                    \
  AE_OP(ADD, add)                                                   \
  AE_OP(SUB, sub)                                                   \
  AE_OP(MUL, mul)                                                   \
  AE_OP(DIV, div)                                                   \
  AE_OP(WHERE, where)                                               \
  /* pointwise.c: unary arithmetic */                               \
  AE_OP(NEG, neg)                                                   \
  AE_OP(SCALE, scale)                                               \
  AE_OP(ADD_SCALAR, add_scalar)                                     \
  AE_OP(SQUARE, square)                                             \
  AE_OP(POW, pow)                                                   \
  AE_OP(ABS, abs)                                                   \
  AE_OP(CLAMP, clamp)                                               \
  /* transcendental.c */                                            \
  AE_OP(EXP, exp)                                                   \
  AE_OP(LOG, log)                                                   \
  AE_OP(SQRT, sqrt)                                                 \
  AE_OP(SOFTPLUS, softplus)                                         \
  AE_OP(LOG_SIGMOID, log_sigmoid)                                   \
  /* activation.c: activations and their fused backward kernels */  \
  AE_OP(RELU, relu)                                                 \
  AE_OP(RELU_BACKWARD, relu_backward)                               \
  AE_OP(LEAKY_RELU, leaky_relu)                                     \
  AE_OP(LEAKY_RELU_BACKWARD, leaky_relu_backward)                   \
  AE_OP(SIGMOID, sigmoid)                                           \
  AE_OP(SIGMOID_BACKWARD, sigmoid_backward)                         \
  AE_OP(TANH, tanh)                                                 \
  AE_OP(TANH_BACKWARD, tanh_backward)                               \
  /* reduce.c: reductions and broadcasting */                       \
  AE_OP(SUM, sum)                                                   \
  AE_OP(SUM_AXIS, sum_axis)                                         \
  AE_OP(MAX_AXIS, max_axis)                                         \
  AE_OP(SUM_TO, sum_to)                                             \
  AE_OP(BROADCAST_TO, broadcast_to)                                 \
  /* shape.c */                                                     \
  AE_OP(RESHAPE, reshape)                                           \
  AE_OP(TRANSPOSE, transpose)                                       \
  /* matmul.c */                                                    \
  AE_OP(MATMUL, matmul)                                             \
  AE_OP(LINEAR, linear)                                             \
  /* conv.c: convolution and its weight gradient */                 \
  AE_OP(CONV2D, conv2d)                                             \
  AE_OP(CONV_TRANSPOSE2D, conv_transpose2d)                         \
  AE_OP(CONV2D_WEIGHT_GRAD, conv2d_weight_grad)                     \
  /* pool.c: max pooling and its index ops, average pooling */      \
  AE_OP(MAX_POOL2D, max_pool2d)                                     \
  AE_OP(MAX_POOL2D_BACKWARD, max_pool2d_backward)                   \
  AE_OP(GATHER2D, gather2d)                                         \
  AE_OP(MAX_UNPOOL2D, max_unpool2d)                                 \
  AE_OP(AVG_POOL2D, avg_pool2d)                                     \
  AE_OP(AVG_POOL2D_BACKWARD, avg_pool2d_backward)                   \
  /* upsample.c: nearest-neighbour upsampling and its block sum */  \
  AE_OP(UPSAMPLE_NEAREST, upsample_nearest)                         \
  AE_OP(UPSAMPLE_NEAREST_BACKWARD, upsample_nearest_backward)       \
  /* tensor_ops.c: joining, cutting, padding, repeating */          \
  AE_OP(CONCAT, concat)                                             \
  AE_OP(SLICE, slice)                                               \
  AE_OP(PAD_AXIS, pad_axis)                                         \
  AE_OP(REPEAT, repeat)                                             \
  /* softmax.c */                                                   \
  AE_OP(SOFTMAX, softmax)                                           \
  AE_OP(LOG_SOFTMAX, log_softmax)                                   \
  /* loss.c: binary cross-entropy, reduced mse (of a sigmoid) */    \
  AE_OP(BCE, bce)                                                   \
  AE_OP(BCE_LOGITS, bce_logits)                                     \
  AE_OP(MSE_LOSS, mse_loss)                                         \
  AE_OP(SIGMOID_MSE_LOSS, sigmoid_mse_loss)                         \
  /* prox.c: soft-thresholding */                                   \
  AE_OP(SHRINK, shrink)                                             \
  /* rnn_gates.c: fused LSTM / GRU gate math and its backward */    \
  AE_OP(LSTM_GATES, lstm_gates)                                     \
  AE_OP(LSTM_GATES_BACKWARD, lstm_gates_backward)                   \
  AE_OP(GRU_GATES, gru_gates)                                       \
  AE_OP(GRU_GATES_BACKWARD, gru_gates_backward)                     \
  /* topk.c: top-k mask */                                          \
  AE_OP(TOPK_MASK, topk_mask)                                       \
  /* reduce.c, added later: at the end, so earlier ids stay put */  \
  AE_OP(SUM_SQ, sum_sq)                                             \
  /* rnn_seq.c: a whole LSTM unroll, added later */                 \
  AE_OP(LSTM_SEQ, lstm_seq)                                         \
  /* loss.c: the reduced bce_logits, added later */                 \
  AE_OP(BCE_LOGITS_LOSS, bce_logits_loss)

#include "base/api.h"

typedef enum ae_op_id {
#define AE__ENUM(ID, name) AE_OP_##ID,
  AE_OP_LIST(AE__ENUM)
#undef AE__ENUM
  AE_OP_COUNT
} ae_op_id;

#include "autograd/op_api.h"

AE_API const char *ae_op_name(int op);
/* Looks an op up by name; -1 when unknown. */
AE_API int ae_op_find(const char *name);
AE_API ae_backward_fn ae_op_backward(int op);

#endif
