/* registry.c: op names and the backward dispatch table, generated from
 * the op list; ids past the list are ops registered at run time
 * (custom_op.c). */
#include <string.h>

#include "autograd/op_api.h"
#include "oplist.h"

#define AE__DECL(ID, name) void ae_bw_##name(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin);
AE_OP_LIST(AE__DECL)
#undef AE__DECL

static const char *const names[AE_OP_COUNT] = {
#define AE__NAME(ID, name) #name,
    AE_OP_LIST(AE__NAME)
#undef AE__NAME
};

static const ae_backward_fn rules[AE_OP_COUNT] = {
#define AE__RULE(ID, name) ae_bw_##name,
    AE_OP_LIST(AE__RULE)
#undef AE__RULE
};

/* custom_op.c: the same three for registered ops (ids >= AE_OP_COUNT). */
const char *ae__custom_op_name(int op);
int ae__custom_op_find(const char *name);
ae_backward_fn ae__custom_op_backward(int op);

_Static_assert(AE_OP_LEAF == AE_TAPE_LEAF, "the tape marks leaves with AE_TAPE_LEAF");

const char *ae_op_name(int op) { return op >= 0 && op < AE_OP_COUNT ? names[op] : ae__custom_op_name(op); }

int ae_op_find(const char *name) {
  for (int i = 0; i < AE_OP_COUNT; i++)
    if (strcmp(names[i], name) == 0) return i;
  return ae__custom_op_find(name);
}

ae_backward_fn ae_op_backward(int op) { return op < AE_OP_COUNT ? rules[op] : ae__custom_op_backward(op); }

/* Leaves have no rule: the sweep stops at them. */
void ae_bw_leaf(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  (void)t, (void)n, (void)g, (void)gin;
}
