/* ckpt_compare.h: the run tests' check that two checkpoints hold the same
 * parameters, byte for byte (test_run.c, test_run_u8.c). */
#ifndef CKPT_COMPARE_H
#define CKPT_COMPARE_H

#include <criterion/criterion.h>
#include <string.h>

#include "aezoo.h"
#include "run/checkpoint.h"

/* Loads the models of checkpoint files a and b (their metadata into ma, mb
 * when given) and asserts their parameters are bitwise equal. */
static inline void assert_same_ckpt_params(const char *a, const char *b, ae_ckpt_meta *ma, ae_ckpt_meta *mb) {
  ae_model *x = ae_ckpt_load_model(a, ma);
  cr_assert(x, "%s", ae_last_error());
  ae_model *y = ae_ckpt_load_model(b, mb);
  cr_assert(y, "%s", ae_last_error());
  cr_assert_eq(x->nparams, y->nparams);
  for (int i = 0; i < x->nparams; i++)
    cr_assert_eq(memcmp(x->params[i]->value.data, y->params[i]->value.data,
                        sizeof(ae_real) * (size_t)x->params[i]->value.numel),
                 0, "parameter %s differs", x->params[i]->name);
  ae_model_free(x);
  ae_model_free(y);
}

#endif
