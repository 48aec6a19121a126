/* oplist_conv.h: op-list rows of the conv family, AE_OP(ID, name) as in oplist.h. */
#ifndef AE_OPLIST_CONV_H
#define AE_OPLIST_CONV_H

#define AE_OP_LIST_CONV(AE_OP)                  \
  AE_OP(CONV2D, conv2d)                         \
  AE_OP(CONV_TRANSPOSE2D, conv_transpose2d)     \
  AE_OP(CONV2D_WEIGHT_GRAD, conv2d_weight_grad)

#endif
