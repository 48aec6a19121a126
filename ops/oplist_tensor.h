/* oplist_tensor.h: op-list rows of the tensor family, AE_OP(ID, name) as in oplist.h. */
#ifndef AE_OPLIST_TENSOR_H
#define AE_OPLIST_TENSOR_H

#define AE_OP_LIST_TENSOR(AE_OP)                                      \
  /* tensor_ops.c: joining, cutting, padding, repeating */            \
  AE_OP(CONCAT, concat)                                               \
  AE_OP(SLICE, slice)                                                 \
  AE_OP(PAD_AXIS, pad_axis)                                           \
  AE_OP(REPEAT, repeat)                                               \
  /* softmax.c */                                                     \
  AE_OP(SOFTMAX, softmax)                                             \
  AE_OP(LOG_SOFTMAX, log_softmax)

#endif
