/* fuzz_idx_gz.c: libFuzzer harness for the gzip path of the IDX reader:
 * the input is compressed here into a well-formed gzip file, so mutations
 * reach the IDX header and data behind the inflation rather than breaking
 * the deflate stream. Read whole and with a row limit. */
#include <zlib.h>

#include "fuzz_util.h"
#include "io/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = fuzz_path("in.idx.gz");
  gzFile g = gzopen(p, "wb1");
  if (!g) abort();
  if (size && gzwrite(g, data, (unsigned)size) != (int)size) abort();
  if (gzclose(g) != Z_OK) abort();
  for (int64_t limit = 0; limit <= 1; limit++) {
    ae_idx x;
    if (ae_idx_read_rows(p, limit, &x) == 0) {
      if ((int64_t)x.bytes != ae_idx_numel(&x) * (int64_t)ae_idx_elem_size(x.type)) abort();
      if (limit == 0 && (size_t)x.bytes + 4 + 4 * (size_t)x.ndim != size) abort(); /* whole: every byte accounted */
      ae_idx_free(&x);
    }
  }
  return 0;
}
