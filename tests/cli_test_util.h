/* cli_test_util.h: helpers for the end-to-end tests of the aezoo commands
 * (test_cli_use.c, test_cli_malformed.c): run the built binary ($AEZOO) by
 * fork/exec with stdout and stderr in files of a per-test temporary
 * directory, read those back, write raw bytes, and read the size of a PNG
 * and the header of a .npy. Header-only (static functions): each test
 * executable includes it once. */
#ifndef AE_TESTS_CLI_TEST_UTIL_H
#define AE_TESTS_CLI_TEST_UTIL_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* each test file uses some of these */
#define CLI_UTIL static __attribute__((unused))

CLI_UTIL char cli_tmp[256];

CLI_UTIL void cli_tmp_make(void) {
  snprintf(cli_tmp, sizeof cli_tmp, "/tmp/aezoo_cli2_XXXXXX");
  cr_assert(mkdtemp(cli_tmp));
}
CLI_UTIL void cli_tmp_drop(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", cli_tmp);
  cr_assert_eq(system(cmd), 0);
}

/* tmp/name, kept for the whole test (a pool of static buffers, no heap:
 * a test makes at most a few hundred paths). */
CLI_UTIL const char *tmp_path(const char *name) {
  static char pool[1024][300];
  static int used;
  cr_assert_lt(used, 1024, "too many paths in one test");
  char *b = pool[used++];
  cr_assert_lt(snprintf(b, sizeof pool[0], "%s/%s", cli_tmp, name), (int)sizeof pool[0]);
  return b;
}

/* Runs aezoo with args (NULL-terminated); stdout, stderr into tmp/out.txt,
 * tmp/err.txt. The exit status, or 128 + the signal that killed it. */
CLI_UTIL int cli_run(const char *const *args) {
  const char *argv[64];
  int n = 0;
  argv[n++] = getenv("AEZOO");
  cr_assert(argv[0] && *argv[0], "AEZOO must name the aezoo binary");
  for (int i = 0; args[i]; i++) argv[n++] = args[i];
  argv[n] = NULL;
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    char po[300], pe[300];
    snprintf(po, sizeof po, "%s/out.txt", cli_tmp);
    snprintf(pe, sizeof pe, "%s/err.txt", cli_tmp);
    int o = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
#define AEZOO(...) cli_run((const char *const[]){__VA_ARGS__, NULL})

/* The whole file as a string (static buffer, "" when missing). */
CLI_UTIL const char *slurp_file(const char *path) {
  static char buf[1 << 17];
  buf[0] = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return buf;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}
/* The last command's stdout / stderr: a malloc'd copy, and a look at the static buffer. */
CLI_UTIL char *out_text(void) {
  char p[300];
  snprintf(p, sizeof p, "%s/out.txt", cli_tmp);
  return strdup(slurp_file(p));
}
CLI_UTIL char *err_text(void) {
  char p[300];
  snprintf(p, sizeof p, "%s/err.txt", cli_tmp);
  return strdup(slurp_file(p));
}
CLI_UTIL const char *slurp_file_out(void) {
  char p[300];
  snprintf(p, sizeof p, "%s/out.txt", cli_tmp);
  return slurp_file(p);
}
CLI_UTIL const char *err_now(void) {
  char p[300];
  snprintf(p, sizeof p, "%s/err.txt", cli_tmp);
  return slurp_file(p);
}
CLI_UTIL int lines_in(const char *s) {
  int n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}
/* stderr holds exactly one line, and it contains `want` */
#define ERR_IS_ONE_LINE_WITH(want)                                                                                   \
  do {                                                                                                               \
    char *e_ = err_text();                                                                                           \
    cr_assert(strstr(e_, want), "stderr lacks '%s': %s", want, e_);                                                  \
    cr_assert_eq(lines_in(e_), 1, "stderr is not one line: %s", e_);                                                 \
    free(e_);                                                                                                        \
  } while (0)

CLI_UTIL void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert(f, "cannot write %s", path);
  cr_assert_eq(fwrite(data, 1, n, f), n);
  fclose(f);
}
/* The first n bytes of src into dst. */
CLI_UTIL void copy_prefix(const char *src, const char *dst, size_t n) {
  FILE *f = fopen(src, "rb");
  cr_assert(f, "cannot read %s", src);
  char *buf = malloc(n ? n : 1);
  cr_assert_eq(fread(buf, 1, n, f), n);
  fclose(f);
  write_bytes(dst, buf, n);
  free(buf);
}
CLI_UTIL int64_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* The whole file (malloc'd, *n its size; NULL when missing). */
CLI_UTIL char *read_all(const char *path, size_t *n) {
  int64_t sz = file_size(path);
  *n = 0;
  if (sz < 0) return NULL;
  char *buf = malloc((size_t)sz + 1);
  FILE *f = fopen(path, "rb");
  cr_assert(buf && f);
  cr_assert_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
  fclose(f);
  buf[sz] = 0;
  *n = (size_t)sz;
  return buf;
}
/* 1 when both files exist and hold the same bytes. */
CLI_UTIL int same_bytes(const char *a, const char *b) {
  size_t na, nb;
  char *x = read_all(a, &na), *y = read_all(b, &nb);
  int same = x && y && na == nb && memcmp(x, y, na) == 0;
  free(x);
  free(y);
  return same;
}
/* The header dict of a .npy file (after its 10-byte preamble), as text. */
CLI_UTIL const char *npy_header_text(const char *path) {
  static char h[256];
  size_t n;
  char *b = read_all(path, &n);
  h[0] = 0;
  if (b && n > 10) snprintf(h, sizeof h, "%.*s", (int)(n - 10 < sizeof h - 1 ? n - 10 : sizeof h - 1), b + 10);
  free(b);
  return h;
}

/* Width and height of a PNG from its IHDR (-1 when it is not a PNG). */
CLI_UTIL void png_size(const char *path, int *w, int *h) {
  unsigned char b[24];
  *w = *h = -1;
  FILE *f = fopen(path, "rb");
  if (!f) return;
  size_t n = fread(b, 1, sizeof b, f);
  fclose(f);
  if (n != 24 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) || memcmp(b + 12, "IHDR", 4)) return;
  *w = b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
  *h = b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
}

#endif
