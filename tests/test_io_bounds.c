/* test_io_bounds.c: the readers of io/ stay within bounds. A tiny gzip IDX
 * whose header claims 4 GiB is refused before any allocation (checked in a
 * child whose address space is capped with RLIMIT_AS, outside ASan); a
 * header that lies about a long stream costs memory in proportion to the
 * data really there; a row limit stops the gzip inflation early (measured
 * by the compressed bytes consumed, and by a damaged tail that a limited
 * read never reaches); npy row limits; special files (directory,
 * /dev/zero, FIFO, socket) are named for what they are, without hanging;
 * an empty data spec is an error. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "aezoo.h"
#include "io/idx.h"
#include "io/npy.h"
#include "io_test_util.h"

TestSuite(io_bounds, .init = mkdir_tmp, .fini = rm_tmp, .timeout = 30);

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static size_t idx_header(unsigned char *h, int type, int ndim, const uint32_t *dims) {
  h[0] = h[1] = 0;
  h[2] = (unsigned char)type;
  h[3] = (unsigned char)ndim;
  for (int i = 0; i < ndim; i++) {
    h[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
    h[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
    h[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
    h[7 + 4 * i] = (unsigned char)dims[i];
  }
  return 4 + 4 * (size_t)ndim;
}

/* A gzip file of the header followed by `n` payload bytes from fill(i). */
static void write_gz_idx(const char *path, const unsigned char *hdr, size_t hlen, size_t n,
                         unsigned char (*fill)(size_t)) {
  gzFile g = gzopen(path, "wb6");
  cr_assert(g);
  cr_assert_eq(gzwrite(g, hdr, (unsigned)hlen), (int)hlen);
  unsigned char buf[1 << 14];
  for (size_t i = 0; i < n;) {
    size_t m = n - i < sizeof buf ? n - i : sizeof buf;
    for (size_t k = 0; k < m; k++) buf[k] = fill(i + k);
    cr_assert_eq(gzwrite(g, buf, (unsigned)m), (int)m);
    i += m;
  }
  cr_assert_eq(gzclose(g), Z_OK);
}

/* 4 bits of pseudo-random data per byte: compresses about 2:1. */
static unsigned char noisy(size_t i) {
  uint64_t z = (uint64_t)i * 0x9E3779B97F4A7C15ull;
  z ^= z >> 29;
  z *= 0xBF58476D1CE4E5B9ull;
  return (unsigned char)((z >> 40) & 0x0F);
}

static long vm_size_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmSize:", 7)) kb = atol(line + 7);
  if (f) fclose(f);
  return kb;
}

/* Reads path in a child whose address space may grow by at most extra_mb.
 * Returns 0 when the read failed with a message holding `sub`, 1 when it
 * failed with another message, 2 when it succeeded, 3 on a crash. */
static int read_capped(const char *path, long extra_mb, const char *sub) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    struct rlimit r;
    long kb = vm_size_kb();
    r.rlim_cur = r.rlim_max = (rlim_t)(kb + extra_mb * 1024) * 1024;
    if (kb < 0 || setrlimit(RLIMIT_AS, &r)) _exit(4);
    ae_idx x;
    if (ae_idx_read(path, &x) == 0) _exit(2);
    if (!strstr(ae_last_error(), sub)) {
      fprintf(stderr, "capped read: %s\n", ae_last_error());
      _exit(1);
    }
    _exit(0);
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

Test(io_bounds, tiny_gzip_claiming_4_gib_is_refused_before_allocating) {
  unsigned char h[8];
  size_t hl = idx_header(h, AE_IDX_U8, 1, (uint32_t[]){0xFFFFFFFFu});
  write_gz_idx(at("claims4g.gz"), h, hl, 0, noisy);
  size_t sz;
  free(read_whole(at("claims4g.gz"), &sz));
  cr_assert_leq(sz, 40, "the gzip is %zu bytes", sz);
  ae_idx x;
  cr_assert_eq(ae_idx_read(at("claims4g.gz"), &x), -1);
  cr_assert_null(x.data);
  ASSERT_ERR(at("claims4g.gz"));
  ASSERT_ERR("4294967295");
  ASSERT_ERR("claims");
  if (!UNDER_ASAN) cr_assert_eq(read_capped(at("claims4g.gz"), 16, "claims"), 0);
}

static unsigned char from_file_noise(size_t i) { return noisy(i * 7 + 3); }

Test(io_bounds, lying_header_costs_memory_in_proportion_to_the_data) {
  /* 2 MB of real payload (about 1 MB compressed, so the compressed size
   * cannot refute the claim) under a header claiming 512 MB: the reader
   * must grow its buffer with the data, find it truncated, and say so. */
  unsigned char h[8];
  size_t hl = idx_header(h, AE_IDX_U8, 1, (uint32_t[]){512u << 20});
  write_gz_idx(at("lies.gz"), h, hl, 2u << 20, from_file_noise);
  ae_idx x;
  cr_assert_eq(ae_idx_read(at("lies.gz"), &x), -1);
  ASSERT_ERR("truncated");
  ASSERT_ERR(at("lies.gz"));
  /* the old reader allocated 64 MiB up front: under a 40 MiB cap it ran out of memory */
  if (!UNDER_ASAN) cr_assert_eq(read_capped(at("lies.gz"), 40, "truncated"), 0);
}

Test(io_bounds, row_limit_stops_gzip_inflation_early) {
  enum { ROWS = 4000, COLS = 784 };
  unsigned char h[16];
  size_t hl = idx_header(h, AE_IDX_U8, 3, (uint32_t[]){ROWS, 28, 28});
  write_gz_idx(at("big-images-idx3-ubyte.gz"), h, hl, (size_t)ROWS * COLS, noisy);
  size_t gzsize;
  unsigned char *whole = read_whole(at("big-images-idx3-ubyte.gz"), &gzsize);
  cr_assert_gt(gzsize, 1000000, "the test file should be large (%zu bytes)", gzsize);

  ae_idx x;
  cr_assert_eq(ae_idx_read_rows(at("big-images-idx3-ubyte.gz"), 10, &x), 0, "%s", ae_last_error());
  cr_assert_eq(x.dims[0], 10);
  cr_assert_eq(x.file_rows, ROWS);
  cr_assert_eq(x.bytes, 10 * COLS);
  for (size_t i = 0; i < 10 * COLS; i++) cr_assert_eq(((unsigned char *)x.data)[i], noisy(i));
  /* 10 rows are 7840 bytes; zlib reads ahead one 64 KiB buffer */
  cr_assert_lt(x.bytes_in, 200000, "consumed %lld of %zu compressed bytes", (long long)x.bytes_in, gzsize);
  ae_idx_free(&x);

  /* the whole file consumes it all */
  cr_assert_eq(ae_idx_read(at("big-images-idx3-ubyte.gz"), &x), 0, "%s", ae_last_error());
  cr_assert_eq(x.bytes_in, (int64_t)gzsize);
  ae_idx_free(&x);

  /* a damaged tail: the limited read never gets there, the full read does */
  write_file(at("cut-images-idx3-ubyte.gz"), whole, gzsize / 2);
  free(whole);
  cr_assert_eq(ae_idx_read_rows(at("cut-images-idx3-ubyte.gz"), 10, &x), 0, "%s", ae_last_error());
  ae_idx_free(&x);
  cr_assert_eq(ae_idx_read(at("cut-images-idx3-ubyte.gz"), &x), -1);

  /* the data set front end passes --limit down */
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(at("cut-images-idx3-ubyte.gz"), 0, 10, 1, &d), 0, "%s", ae_last_error());
  cr_assert_eq(d.x->shape.d[0], 10);
  cr_assert_float_eq(d.x->data[5], noisy(5) / 255.0, 1e-6);
  ae_dataset_free(&d);
  cr_assert_eq(ae_dataset_load(at("cut-images-idx3-ubyte.gz"), 0, 0, 1, &d), -1);
}

Test(io_bounds, npy_row_limit_reads_the_first_rows) {
  ae_tensor *t = ae_tensor_new(AE_SHAPE(1000, 8));
  for (int64_t i = 0; i < t->numel; i++) t->data[i] = (ae_real)i;
  cr_assert_eq(ae_npy_write(at("a.npy"), t), 0, "%s", ae_last_error());
  ae_tensor *r = ae_npy_read_rows(at("a.npy"), 10);
  cr_assert(r, "%s", ae_last_error());
  cr_assert(r->shape.ndim == 2 && r->shape.d[0] == 10 && r->shape.d[1] == 8);
  for (int64_t i = 0; i < r->numel; i++) cr_assert_eq(r->data[i], (ae_real)i);
  ae_tensor_free(r);
  r = ae_npy_read_rows(at("a.npy"), 5000); /* more than there are: all */
  cr_assert(r && r->shape.d[0] == 1000);
  ae_tensor_free(r);
  ae_tensor_free(t);
}

static void expect_kind(const char *path, const char *kind) {
  ae_idx x;
  cr_assert_eq(ae_idx_read(path, &x), -1);
  ASSERT_ERR(kind);
  ASSERT_ERR(path);
  cr_assert_null(ae_npy_read(path));
  ASSERT_ERR(kind);
  cr_assert_null(ae_st_read(path));
  ASSERT_ERR(kind);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(path, 0, 0, 1, &d), -1);
  cr_assert(!strstr(ae_last_error(), "no such file"), "'%s' should not say no such file", ae_last_error());
}

Test(io_bounds, special_files_are_named_for_what_they_are) {
  expect_kind("/dev/zero", "character device");
  cr_assert_eq(mkfifo(at("fifo"), 0600), 0);
  expect_kind(at("fifo"), "FIFO"); /* and does not hang: no writer ever opens it */
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(at("fifo"), 0, 0, 1, &d), -1);
  ASSERT_ERR("FIFO");
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  cr_assert(s >= 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", at("sock"));
  cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  expect_kind(at("sock"), "socket");
  close(s);
  ae_idx x;
  cr_assert_eq(ae_idx_read(dir, &x), -1);
  ASSERT_ERR("directory");
  cr_assert_null(ae_npy_read(dir));
  ASSERT_ERR("directory");
}

Test(io_bounds, empty_data_spec_is_an_error) {
  ae_dataset d;
  cr_assert_eq(ae_dataset_load("", 0, 0, 1, &d), -1);
  ASSERT_ERR("empty");
}
