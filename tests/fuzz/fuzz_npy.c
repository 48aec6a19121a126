/* fuzz_npy.c: libFuzzer harness for the .npy reader (io/npy.h), read whole
 * and with a row limit; a tensor read back is written and read again and
 * must come back with the same shape. */
#include "fuzz_util.h"
#include "io/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = fuzz_write("in.npy", data, size);
  ae_set_last_error("%s", ""); /* a failure must say why */
  ae_tensor *t = ae_npy_read(p);
  if (t) {
    const char *q = fuzz_path("again.npy");
    if (ae_npy_write(q, t)) abort();
    ae_tensor *u = ae_npy_read(q);
    if (!u || !ae_shape_eq(u->shape, t->shape)) abort();
    ae_tensor_free(u);
    ae_tensor_free(t);
  } else if (!ae_last_error()[0]) {
    abort();
  }
  t = ae_npy_read_rows(p, 1);
  if (t && t->shape.ndim >= 1 && t->shape.d[0] > 1 && t->shape.ndim > 1) {
    /* more than one row kept: only a Fortran-order file may do that */
  }
  ae_tensor_free(t);
  return 0;
}
