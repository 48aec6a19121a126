/* fuzz_idx.c: libFuzzer harness for the IDX reader (io/idx.h): the input
 * is the file itself, plain or gzip (the reader tells them by magic), read
 * whole and with a row limit. A successful read must describe its data
 * consistently (bytes = rows x row size x element size). */
#include "base/tensor.h" /* ae_last_error */
#include "fuzz_util.h"
#include "io/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = fuzz_write("in.idx", data, size);
  for (int64_t limit = 0; limit <= 2; limit += 2) {
    ae_idx x;
    ae_set_last_error("%s", ""); /* a failure must say why */
    if (ae_idx_read_rows(p, limit, &x) == 0) {
      if ((int64_t)x.bytes != ae_idx_numel(&x) * (int64_t)ae_idx_elem_size(x.type)) abort();
      if (x.dims[0] > x.file_rows || (limit && x.dims[0] > limit)) abort();
      volatile double sum = 0;
      for (int64_t i = 0; i < ae_idx_numel(&x); i++) sum += ae_idx_get(&x, i);
      ae_idx_free(&x);
    } else if (x.data || !ae_last_error()[0]) {
      abort(); /* a failure owns nothing and says why */
    }
  }
  return 0;
}
