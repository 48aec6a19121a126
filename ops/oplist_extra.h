/* oplist_extra.h: rows for the zoo's op families, each family's rows in
 * its own header (oplist_<family>.h) so families are added independently.
 * Same AE_OP(ID, name) form as oplist.h. */
#ifndef AE_OPLIST_EXTRA_H
#define AE_OPLIST_EXTRA_H

#include "oplist_conv.h"   /* conv.c: conv2d, conv_transpose2d */
#include "oplist_pool.h"   /* pool.c: pooling, unpooling, upsampling */
#include "oplist_tensor.h" /* tensor_ops.c: concat, slice, repeat, softmax */
#include "oplist_loss.h"   /* loss.c: losses and penalties */
#include "oplist_noise.h"  /* noise.c: noise, sampling, proximal ops */
#include "oplist_rnn.h"    /* rnn.c: recurrent cells */
#include "oplist_topk.h"   /* topk.c: top-k mask */

#define AE_OP_LIST_EXTRA(AE_OP) \
  AE_OP_LIST_CONV(AE_OP)        \
  AE_OP_LIST_POOL(AE_OP)        \
  AE_OP_LIST_TENSOR(AE_OP)      \
  AE_OP_LIST_LOSS(AE_OP)        \
  AE_OP_LIST_NOISE(AE_OP)       \
  AE_OP_LIST_RNN(AE_OP)         \
  AE_OP_LIST_TOPK(AE_OP)

#endif
