/* fuzz_safetensors.c: libFuzzer harness for the safetensors reader
 * (io/safetensors.h): every tensor and metadata entry of a file that
 * validates is looked at, its data must lie inside the file, and each
 * tensor is loaded as ae_real. */
#include "fuzz_util.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = fuzz_write("in.safetensors", data, size);
  ae_set_last_error("%s", ""); /* a failure must say why */
  ae_st_file *f = ae_st_read(p);
  if (!f) {
    if (!ae_last_error()[0]) abort();
    return 0;
  }
  for (int i = 0; i < ae_st_count(f); i++) {
    const ae_st_tensor *t = ae_st_get(f, i);
    if (ae_st_find(f, t->name) != t || t->bytes > size) abort();
    volatile unsigned char x = 0;
    const unsigned char *b = ae_st_data(f, t);
    for (size_t k = 0; k < t->bytes; k++) x ^= b[k];
    ae_tensor *u = ae_st_load_tensor(f, t->name);
    if (u && u->numel != t->numel) abort();
    ae_tensor_free(u);
  }
  for (int i = 0; i < ae_st_meta_count(f); i++)
    if (!ae_st_meta(f, ae_st_meta_key(f, i))) abort();
  ae_st_free(f);
  return 0;
}
