/* tensor.h: persistent tensors and parameters, living on the heap outside
 * any tape. A tensor is a row-major array of up to AE_MAX_DIMS dimensions
 * of ae_real, 64-byte aligned. A parameter is a named tensor with a
 * gradient buffer of the same shape; it is bound to a tape each step
 * (ae_param_bind in tape.h) and optimisers (optim/) step it.
 *
 * Functions that can fail on user input return NULL (or -1) and leave a
 * message in ae_last_error(); nothing here aborts on bad input. */
#ifndef AE_TENSOR_H
#define AE_TENSOR_H

#include <stdio.h>
#include "api.h"
#include "real.h"

#define AE_MAX_DIMS 4

typedef struct ae_shape {
  int ndim;                 /* 0 (scalar) .. AE_MAX_DIMS */
  int64_t d[AE_MAX_DIMS];   /* sizes; entries past ndim are 1 */
} ae_shape;

/* AE_SHAPE(2, 3) is the shape (2,3); AE_SHAPE() is a scalar. */
#define AE__NARGS(...) AE__NARGS_(0, ##__VA_ARGS__, 4, 3, 2, 1, 0)
#define AE__NARGS_(z, a, b, c, d, n, ...) n
#define AE_SHAPE(...) ae_shape_make(AE__NARGS(__VA_ARGS__), (const int64_t[]){0, ##__VA_ARGS__} + 1)

typedef struct ae_tensor {
  ae_shape shape;
  int64_t numel;
  ae_real *data;
} ae_tensor;

typedef struct ae_param {
  char name[64];
  ae_tensor value;
  ae_tensor grad;
} ae_param;

/* Shapes. */
AE_API ae_shape ae_shape_make(int ndim, const int64_t *dims);
AE_API int64_t ae_shape_numel(ae_shape s);
AE_API int ae_shape_eq(ae_shape a, ae_shape b);
/* Writes "(2,3)" into buf; returns buf. */
AE_API char *ae_shape_str(ae_shape s, char *buf, size_t len);
/* 1 when ndim and every size are valid (0 <= ndim <= 4, sizes >= 1, no
 * int64 overflow of the product); else 0 with the reason in ae_last_error(). */
AE_API int ae_shape_valid(ae_shape s);

/* Heap tensors. */
AE_API ae_tensor *ae_tensor_new(ae_shape s);            /* zeros */
AE_API ae_tensor *ae_tensor_full(ae_shape s, ae_real v);
AE_API ae_tensor *ae_tensor_from(ae_shape s, const ae_real *src);
AE_API ae_tensor *ae_tensor_copy(const ae_tensor *t);
AE_API void ae_tensor_free(ae_tensor *t);
AE_API void ae_tensor_fprint(FILE *f, const ae_tensor *t, const char *label);
#define ae_tensor_zeros(s) ae_tensor_new(s)
#define ae_tensor_ones(s) ae_tensor_full((s), 1)

/* Aligned buffers (counted by ae_heap_allocs). */
AE_API void *ae_aligned_alloc(size_t bytes);
AE_API void ae_aligned_free(void *p);
/* Number of heap allocations the library has made so far (for the
 * "steady-state step allocates nothing" test). */
AE_API int64_t ae_heap_allocs(void);
/* Internal: count a heap allocation made with plain malloc/realloc. */
AE_INTERNAL void ae_note_heap_alloc(void);

/* Parameters. */
AE_API ae_param *ae_param_new(const char *name, ae_shape s);
AE_API void ae_param_free(ae_param *p);
AE_API void ae_param_zero_grad(ae_param *p);

/* Errors outside a tape: a call that fails returns NULL or -1 and leaves
 * its message here, per thread ("" if none). A message is cut at
 * AE_LAST_ERROR_MAX - 1 bytes; it may quote the previous one:
 * ae_set_last_error("loading %s: %s", path, ae_last_error()). */
#define AE_LAST_ERROR_MAX 8192
AE_API const char *ae_last_error(void);
AE_API void ae_set_last_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
