/* oplist_topk.h: op-list rows of the top-k family, AE_OP(ID, name) as in oplist.h. */
#ifndef AE_OPLIST_TOPK_H
#define AE_OPLIST_TOPK_H

/* topk.c: keep the k largest entries of each row */
#define AE_OP_LIST_TOPK(AE_OP) \
  AE_OP(TOPK_MASK, topk_mask)

#endif
