/* oplist_loss.h: op-list rows of the loss family, AE_OP(ID, name) as in oplist.h. */
#ifndef AE_OPLIST_LOSS_H
#define AE_OPLIST_LOSS_H

/* loss.c: element-wise binary cross-entropy on probabilities and on logits */
#define AE_OP_LIST_LOSS(AE_OP) \
  AE_OP(BCE, bce)              \
  AE_OP(BCE_LOGITS, bce_logits)

#endif
