/* io_test_util.h: helpers shared by the io/ tests (test_idx.c, test_npy.c,
 * test_safetensors.c, test_png.c): a fresh mkdtemp directory per test (suite init/fini), paths
 * inside it, writing and reading whole files, and message assertions. */
#ifndef AEZOO_TESTS_IO_TEST_UTIL_H
#define AEZOO_TESTS_IO_TEST_UTIL_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aezoo.h"

/* ---- temp directory and file helpers ------------------------------------ */

static char dir[256];

static inline void mkdir_tmp(void) {
  snprintf(dir, sizeof dir, "/tmp/aezoo_test_io_XXXXXX");
  cr_assert(mkdtemp(dir), "mkdtemp failed");
  ae_set_last_error("%s", ""); /* no message left by a previous test */
  ae_io_atomic_test_hook = NULL; /* a test that failed may have left one set */
}

static inline void rm_tmp(void) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[512];
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  closedir(d);
  rmdir(dir);
}

static inline const char *at(const char *name) {
  static char p[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

/* Entries in the directory (temporary files left behind show up here). */
static inline int count_files(void) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static inline void write_file(const char *path, const void *buf, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert(f);
  cr_assert_eq(fwrite(buf, 1, n, f), n);
  fclose(f);
}

static inline unsigned char *read_whole(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  cr_assert(f);
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(*n + 1);
  cr_assert_eq(fread(b, 1, *n, f), *n);
  fclose(f);
  return b;
}

#define ASSERT_ERR(sub) cr_assert(strstr(ae_last_error(), sub), "message '%s' should contain '%s'", ae_last_error(), sub)

#endif
