/* fuzz_ckpt.c: libFuzzer harness for the checkpoint reader of the aezoo
 * command (run/checkpoint.h): the input is a run directory's
 * model.safetensors. Its metadata is read and validated; when that passes
 * and the model it names fits in 256 MiB by the memory estimate
 * (zoo/footprint.h), the model is built and its parameters loaded. Every
 * refusal leaves its reason in ae_last_error() (else: abort). */
#include "run/checkpoint.h"
#include "fuzz_util.h"
#include "zoo/footprint.h"

/* A call failed: its message must be there. */
static int refused(void) {
  if (!ae_last_error()[0]) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_write("model.safetensors", data, size);
  const char *dir = fuzz_dir;
  static ae_ckpt_meta meta;
  ae_set_last_error("%s", "");
  if (ae_ckpt_read_meta(dir, &meta)) return refused();
  const ae_model_def *d = ae_zoo_find(meta.model);
  if (!d) return 0;
  ae_settings s;
  ae_settings_init(&s, d->settings, d->nsettings);
  char buf[sizeof meta.settings];
  char *kv[AE_MAX_SETTINGS];
  int n = ae_settings_split(meta.settings, buf, sizeof buf, kv, AE_MAX_SETTINGS);
  ae_set_last_error("%s", "");
  if (ae_settings_parse_all(&s, n, (const char *const *)kv)) return refused();
  if (ae_model_check_footprint(d, &s, meta.example, 1, (int64_t)256 << 20)) return refused();
  ae_model *m = ae_ckpt_load_model(dir, &meta);
  if (!m) refused();
  ae_model_free(m);
  return 0;
}
