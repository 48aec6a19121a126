/* fuzz_util.h: what the fuzz harnesses share: a private temporary
 * directory made once per process (removed at exit), and writing an input
 * to a file in it, since the readers under test take paths. Header-only:
 * each harness includes it once. */
#ifndef AE_FUZZ_UTIL_H
#define AE_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];

static void fuzz_cleanup(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
  if (system(cmd) != 0) fprintf(stderr, "fuzz: cannot remove %s\n", fuzz_dir);
}

/* dir/name, the directory made on first use. */
static const char *fuzz_path(const char *name) {
  static char path[4][256];
  static int k;
  if (!fuzz_dir[0]) {
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/aezoo_fuzz_XXXXXX");
    if (!mkdtemp(fuzz_dir)) abort();
    atexit(fuzz_cleanup);
  }
  k = (k + 1) % 4;
  snprintf(path[k], sizeof path[k], "%s/%s", fuzz_dir, name);
  return path[k];
}

/* Writes n bytes to dir/name; returns the path. */
static __attribute__((unused)) const char *fuzz_write(const char *name, const void *data, size_t n) {
  const char *p = fuzz_path(name);
  FILE *f = fopen(p, "wb");
  if (!f || (n && fwrite(data, 1, n, f) != n)) abort();
  fclose(f);
  return p;
}

#endif
