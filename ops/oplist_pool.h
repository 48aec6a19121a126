/* oplist_pool.h: op-list rows of the pool family, AE_OP(ID, name) as in oplist.h. */
#ifndef AE_OPLIST_POOL_H
#define AE_OPLIST_POOL_H

#define AE_OP_LIST_POOL(AE_OP)                                        \
  /* pool.c: max pooling and its index ops, average pooling */        \
  AE_OP(MAX_POOL2D, max_pool2d)                                       \
  AE_OP(MAX_POOL2D_BACKWARD, max_pool2d_backward)                     \
  AE_OP(GATHER2D, gather2d)                                           \
  AE_OP(MAX_UNPOOL2D, max_unpool2d)                                   \
  AE_OP(AVG_POOL2D, avg_pool2d)                                       \
  AE_OP(AVG_POOL2D_BACKWARD, avg_pool2d_backward)                     \
  /* upsample.c: nearest-neighbour upsampling and its block sum */    \
  AE_OP(UPSAMPLE_NEAREST, upsample_nearest)                           \
  AE_OP(UPSAMPLE_NEAREST_BACKWARD, upsample_nearest_backward)

#endif
