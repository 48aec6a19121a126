/* oplist_noise.h: op-list rows of the noise family, AE_OP(ID, name) as in oplist.h. */
#ifndef AE_OPLIST_NOISE_H
#define AE_OPLIST_NOISE_H

/* prox.c: soft-threshold (the noise ops themselves are composites) */
#define AE_OP_LIST_NOISE(AE_OP) \
  AE_OP(SHRINK, shrink)

#endif
