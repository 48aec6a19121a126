/* fuzz_dataset.c: libFuzzer harness for data set loading (io/dataset.h)
 * of single files. The first input byte picks the form and the limit:
 *   form 0: an IDX images file, the rest of the input;
 *   form 1: a .npy file, the rest of the input;
 *   form 2: an IDX images file and the labels file next to it: bytes 1-2
 *           (big-endian) give the images part's length, the labels get
 *           what follows it.
 * A loaded set must be consistent: the limit honoured, labels in
 * 0..nclasses-1, values finite. */
#include <math.h>

#include "fuzz_util.h"
#include "io/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int form = data[0] % 3;
  int64_t limit = (data[0] >> 2) & 7;
  data++, size--;
  const char *path;
  unlink(fuzz_path("x-labels-idx1-ubyte"));
  if (form == 1) {
    path = fuzz_write("x.npy", data, size);
  } else if (form == 0) {
    path = fuzz_write("x-images-idx3-ubyte", data, size);
  } else {
    if (size < 2) return 0;
    size_t n = (size_t)data[0] << 8 | data[1];
    data += 2, size -= 2;
    if (n > size) n = size;
    path = fuzz_write("x-images-idx3-ubyte", data, n);
    fuzz_write("x-labels-idx1-ubyte", data + n, size - n);
  }
  ae_dataset d;
  ae_set_last_error("%s", ""); /* a failure must say why */
  if (ae_dataset_load(path, 0, limit, 1, &d) == 0) {
    int64_t n = d.x->shape.d[0];
    if (limit && n > limit) abort();
    for (int64_t i = 0; d.labels && i < n; i++)
      if (d.labels[i] < 0 || d.labels[i] >= d.nclasses) abort();
    for (int64_t i = 0; i < d.x->numel; i++)
      if (!isfinite(d.x->data[i])) abort();
    ae_dataset_free(&d);
  } else if (d.x || d.labels || !ae_last_error()[0]) {
    abort();
  }
  return 0;
}
