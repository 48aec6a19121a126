/* test_io.c: the data readers of io/ on small files written here, in a
 * fresh mkdtemp directory per test: IDX (plain and gzipped via zlib) and
 * .npy files read back exactly; every malformed case (truncated, trailing
 * bytes, wrong magic, bad type, zero or overflowing dimensions, broken
 * gzip, labels that do not match images; npy: bad magic, version, header
 * dict, dtype, truncated data, header past EOF) fails with -1/NULL and a
 * message naming the problem; npy write/read round-trips bit-exactly;
 * dataset specs; synthetic sets are reproducible, shaped and in [0,1]. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "aezoo.h"
#include "io/idx.h"

/* ---- temp directory and file helpers ------------------------------------ */

static char dir[256];
static char err[1024];

static void mkdir_tmp(void) {
  snprintf(dir, sizeof dir, "/tmp/aezoo_test_io_XXXXXX");
  cr_assert(mkdtemp(dir), "mkdtemp failed");
  err[0] = 0;
}

static void rm_tmp(void) {
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

TestSuite(idx, .init = mkdir_tmp, .fini = rm_tmp);
TestSuite(npy, .init = mkdir_tmp, .fini = rm_tmp);
TestSuite(dataset, .init = mkdir_tmp, .fini = rm_tmp);

static const char *at(const char *name) {
  static char p[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
  return p[k];
}

static void write_file(const char *path, const void *buf, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert(f);
  cr_assert_eq(fwrite(buf, 1, n, f), n);
  fclose(f);
}

static void write_gz(const char *path, const void *buf, size_t n) {
  gzFile g = gzopen(path, "wb");
  cr_assert(g);
  cr_assert_eq(gzwrite(g, buf, (unsigned)n), (int)n);
  cr_assert_eq(gzclose(g), Z_OK);
}

static unsigned char *read_whole(const char *path, size_t *n) {
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

/* An IDX image in memory: header for (type, dims), then payload bytes as given. */
static size_t idx_bytes(unsigned char *out, int type, int ndim, const uint32_t *dims, const void *payload,
                        size_t plen) {
  out[0] = out[1] = 0;
  out[2] = (unsigned char)type;
  out[3] = (unsigned char)ndim;
  for (int i = 0; i < ndim; i++) {
    out[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
    out[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
    out[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
    out[7 + 4 * i] = (unsigned char)dims[i];
  }
  if (plen) memcpy(out + 4 + 4 * ndim, payload, plen);
  return 4 + 4 * (size_t)ndim + plen;
}

/* (3,2,4) uint8 images 0..23 times 10 mod 256 */
static size_t small_images(unsigned char *out, unsigned char *pix) {
  for (int i = 0; i < 24; i++) pix[i] = (unsigned char)(i * 10 + 3);
  return idx_bytes(out, 0x08, 3, (uint32_t[]){3, 2, 4}, pix, 24);
}

#define ASSERT_ERR(sub) cr_assert(strstr(err, sub), "message '%s' should contain '%s'", err, sub)

static void expect_idx_fail(const char *path, const char *sub) {
  ae_idx x;
  x.data = (void *)1;
  cr_assert_eq(ae_idx_read(path, &x, err, sizeof err), -1, "%s: read should fail", path);
  cr_assert_null(x.data, "a failed read owns no data");
  ASSERT_ERR(sub);
  cr_assert(strstr(err, path), "message '%s' should name the file", err);
}

/* ---- IDX ----------------------------------------------------------------- */

Test(idx, plain_and_gzipped_u8_read_back_exactly) {
  unsigned char buf[64], pix[24];
  size_t n = small_images(buf, pix);
  write_file(at("a.idx"), buf, n);
  write_gz(at("a.idx.gz"), buf, n);
  write_gz(at("gz_without_suffix"), buf, n); /* gzip found by magic, not name */
  const char *paths[] = {at("a.idx"), at("a.idx.gz"), at("gz_without_suffix")};
  for (int k = 0; k < 3; k++) {
    ae_idx x;
    cr_assert_eq(ae_idx_read(paths[k], &x, err, sizeof err), 0, "%s", err);
    cr_assert_eq(x.type, AE_IDX_U8);
    cr_assert_eq(x.ndim, 3);
    cr_assert(x.dims[0] == 3 && x.dims[1] == 2 && x.dims[2] == 4 && x.dims[3] == 1);
    cr_assert_eq(x.bytes, 24);
    cr_assert_eq(memcmp(x.data, pix, 24), 0);
    ae_idx_free(&x);
    cr_assert_null(x.data);
  }
}

Test(idx, multibyte_types_are_big_endian) {
  /* float32 -2.5 = 0xC0200000, int16 -2 = 0xFFFE, int32 258 = 0x00000102,
   * float64 1e300 */
  unsigned char buf[64];
  unsigned char f32[8] = {0xC0, 0x20, 0x00, 0x00, 0x3F, 0x80, 0x00, 0x00};
  size_t n = idx_bytes(buf, 0x0D, 1, (uint32_t[]){2}, f32, 8);
  write_gz(at("f.gz"), buf, n);
  ae_idx x;
  cr_assert_eq(ae_idx_read(at("f.gz"), &x, err, sizeof err), 0, "%s", err);
  cr_assert_eq(((float *)x.data)[0], -2.5f);
  cr_assert_eq(((float *)x.data)[1], 1.0f);
  ae_idx_free(&x);

  unsigned char i16[4] = {0xFF, 0xFE, 0x01, 0x00};
  n = idx_bytes(buf, 0x0B, 2, (uint32_t[]){1, 2}, i16, 4);
  write_file(at("s"), buf, n);
  cr_assert_eq(ae_idx_read(at("s"), &x, err, sizeof err), 0, "%s", err);
  cr_assert_eq(ae_idx_get(&x, 0), -2.0);
  cr_assert_eq(ae_idx_get(&x, 1), 256.0);
  ae_idx_free(&x);

  unsigned char i32[4] = {0x00, 0x00, 0x01, 0x02};
  n = idx_bytes(buf, 0x0C, 1, (uint32_t[]){1}, i32, 4);
  write_file(at("i"), buf, n);
  cr_assert_eq(ae_idx_read(at("i"), &x, err, sizeof err), 0, "%s", err);
  cr_assert_eq(((int32_t *)x.data)[0], 258);
  ae_idx_free(&x);

  double d = 1e300;
  uint64_t bits;
  memcpy(&bits, &d, 8);
  unsigned char f64[8];
  for (int i = 0; i < 8; i++) f64[i] = (unsigned char)(bits >> (56 - 8 * i));
  n = idx_bytes(buf, 0x0E, 1, (uint32_t[]){1}, f64, 8);
  write_file(at("d"), buf, n);
  cr_assert_eq(ae_idx_read(at("d"), &x, err, sizeof err), 0, "%s", err);
  cr_assert_eq(((double *)x.data)[0], 1e300);
  ae_idx_free(&x);
}

Test(idx, truncated_plain_file) {
  unsigned char buf[64], pix[24];
  size_t n = small_images(buf, pix);
  write_file(at("t"), buf, n - 1);
  expect_idx_fail(at("t"), "truncated");
  ASSERT_ERR("24 data bytes");
  ASSERT_ERR("only 23");
}

Test(idx, trailing_bytes_plain_and_gz) {
  unsigned char buf[64], pix[24];
  size_t n = small_images(buf, pix);
  buf[n] = buf[n + 1] = buf[n + 2] = 7;
  write_file(at("t"), buf, n + 3);
  expect_idx_fail(at("t"), "3 trailing bytes");
  ASSERT_ERR("40 bytes in all"); /* 16 header + 24 data */
  ASSERT_ERR("holds 43");
  write_gz(at("t.gz"), buf, n + 3);
  expect_idx_fail(at("t.gz"), "3 trailing bytes");
}

Test(idx, wrong_magic_and_bad_type_and_ndim) {
  unsigned char buf[64], pix[24];
  size_t n = small_images(buf, pix);
  buf[1] = 0x42;
  write_file(at("m"), buf, n);
  expect_idx_fail(at("m"), "wrong magic number 0x00420803");
  buf[1] = 0;
  buf[2] = 0x07;
  write_file(at("ty"), buf, n);
  expect_idx_fail(at("ty"), "bad IDX type byte 0x07");
  buf[2] = 0x08;
  buf[3] = 0;
  write_file(at("n0"), buf, n);
  expect_idx_fail(at("n0"), "0 dimensions; 1 to 4");
  buf[3] = 5;
  write_file(at("n5"), buf, n);
  expect_idx_fail(at("n5"), "5 dimensions; 1 to 4");
}

Test(idx, short_files) {
  write_file(at("empty"), "", 0);
  expect_idx_fail(at("empty"), "too short");
  unsigned char h[8] = {0, 0, 8, 3, 0, 0, 0, 1};
  write_file(at("hdr"), h, 8);
  expect_idx_fail(at("hdr"), "truncated header");
  ASSERT_ERR("need 16 header bytes, the file has 8");
  expect_idx_fail(at("does_not_exist"), "cannot open");
}

Test(idx, zero_overflowing_and_huge_dims) {
  unsigned char buf[64];
  size_t n = idx_bytes(buf, 0x08, 3, (uint32_t[]){3, 0, 4}, NULL, 0);
  write_file(at("z"), buf, n);
  expect_idx_fail(at("z"), "dimension 1 has size 0");
  n = idx_bytes(buf, 0x08, 4, (uint32_t[]){0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, NULL, 0);
  write_file(at("o"), buf, n);
  expect_idx_fail(at("o"), "overflows");
  write_gz(at("o.gz"), buf, n);
  expect_idx_fail(at("o.gz"), "overflows");
  /* no overflow, but 2^33 elements: refused before any allocation */
  n = idx_bytes(buf, 0x08, 3, (uint32_t[]){65536, 65536, 2}, NULL, 0);
  write_gz(at("big.gz"), buf, n);
  expect_idx_fail(at("big.gz"), "more than the limit");
}

Test(idx, truncated_and_corrupt_gzip) {
  /* enough pixels that the compressed stream is long */
  enum { N = 50, H = 28, W = 28 };
  size_t plen = (size_t)N * H * W;
  unsigned char *buf = malloc(16 + plen);
  unsigned char *pix = malloc(plen);
  uint32_t s = 12345;
  for (size_t i = 0; i < plen; i++) {
    s = s * 1103515245u + 12345u;
    pix[i] = (unsigned char)(s >> 24);
  }
  size_t n = idx_bytes(buf, 0x08, 3, (uint32_t[]){N, H, W}, pix, plen);
  write_gz(at("full.gz"), buf, n);
  size_t gzn;
  unsigned char *gz = read_whole(at("full.gz"), &gzn);
  write_file(at("half.gz"), gz, gzn / 2);
  expect_idx_fail(at("half.gz"), "truncated");
  ASSERT_ERR("39200 data bytes");
  ASSERT_ERR("gzip stream: unexpected end of file");
  /* cut only the 8-byte trailer (CRC and length): all data is there but the stream is unfinished */
  write_file(at("notrailer.gz"), gz, gzn - 8);
  expect_idx_fail(at("notrailer.gz"), "gzip stream");
  /* flip bits in the middle of the deflate data */
  for (size_t i = gzn / 2; i < gzn / 2 + 16; i++) gz[i] ^= 0x5A;
  write_file(at("bad.gz"), gz, gzn);
  expect_idx_fail(at("bad.gz"), "gzip stream");
  free(gz);
  free(buf);
  free(pix);
}

/* ---- datasets from IDX --------------------------------------------------- */

static void write_mnist_dir(int nimg, int nlab, int gz) {
  enum { H = 2, W = 3 };
  unsigned char buf[4096], pix[2048], lab[256];
  for (int i = 0; i < nimg * H * W; i++) pix[i] = (unsigned char)(i * 7);
  for (int i = 0; i < nlab; i++) lab[i] = (unsigned char)(i % 4);
  size_t n = idx_bytes(buf, 0x08, 3, (uint32_t[]){(uint32_t)nimg, H, W}, pix, (size_t)nimg * H * W);
  (gz ? write_gz : write_file)(at(gz ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte"), buf, n);
  n = idx_bytes(buf, 0x08, 1, (uint32_t[]){(uint32_t)nlab}, lab, (size_t)nlab);
  (gz ? write_gz : write_file)(at(gz ? "train-labels-idx1-ubyte.gz" : "train-labels-idx1-ubyte"), buf, n);
}

Test(dataset, mnist_dir_images_scaled_and_labels) {
  write_mnist_dir(5, 5, 1);
  char spec[300];
  snprintf(spec, sizeof spec, "mnist:%s", dir);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(spec, 0, 0, 0, &d, err, sizeof err), 0, "%s", err);
  cr_assert_eq(d.x->shape.ndim, 4);
  cr_assert(d.x->shape.d[0] == 5 && d.x->shape.d[1] == 1 && d.x->shape.d[2] == 2 && d.x->shape.d[3] == 3);
  for (int i = 0; i < 30; i++) cr_assert_eq(d.x->data[i], (ae_real)((unsigned char)(i * 7) / 255.0));
  for (int i = 0; i < 5; i++) cr_assert_eq(d.labels[i], i % 4);
  cr_assert_eq(d.nclasses, 4);
  cr_assert_str_eq(d.name, "mnist");
  ae_dataset_free(&d);
  /* limit: a prefix; nclasses still from the whole file */
  cr_assert_eq(ae_dataset_load(spec, 0, 2, 0, &d, err, sizeof err), 0, "%s", err);
  cr_assert_eq(d.x->shape.d[0], 2);
  cr_assert_eq(d.x->data[11], (ae_real)(77 / 255.0));
  cr_assert_eq(d.nclasses, 4);
  ae_dataset_free(&d);
  /* the directory itself as a spec, uncompressed files */
  rm_tmp();
  mkdir_tmp();
  write_mnist_dir(3, 3, 0);
  snprintf(spec, sizeof spec, "mnist:%s", dir);
  cr_assert_eq(ae_dataset_load(dir, 0, 0, 0, &d, err, sizeof err), 0, "%s", err);
  cr_assert_eq(d.x->shape.d[0], 3);
  ae_dataset_free(&d);
  /* split 1 wants t10k- files, which are missing */
  cr_assert_eq(ae_dataset_load(spec, 1, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("no t10k-images-idx3-ubyte.gz");
  ASSERT_ERR(dir);
  cr_assert_null(d.x);
}

Test(dataset, labels_count_mismatch_names_both_files) {
  write_mnist_dir(3, 2, 1);
  char spec[300];
  snprintf(spec, sizeof spec, "mnist:%s", dir);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(spec, 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("labels do not match images");
  ASSERT_ERR("train-images-idx3-ubyte.gz has 3 images");
  ASSERT_ERR("train-labels-idx1-ubyte.gz has 2 labels");
  cr_assert_null(d.x);
  cr_assert_null(d.labels);
  /* the same through an IDX path spec, which finds the labels next to it */
  cr_assert_eq(ae_dataset_load(at("train-images-idx3-ubyte.gz"), 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("has 2 labels");
}

Test(dataset, idx_path_spec_finds_labels_or_goes_without) {
  write_mnist_dir(4, 4, 0);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(at("train-images-idx3-ubyte"), 1, 0, 0, &d, err, sizeof err), 0, "%s", err);
  cr_assert_not_null(d.labels);
  cr_assert_eq(d.labels[3], 3);
  cr_assert_str_eq(d.name, "train-images-idx3-ubyte");
  ae_dataset_free(&d);
  unlink(at("train-labels-idx1-ubyte"));
  cr_assert_eq(ae_dataset_load(at("train-images-idx3-ubyte"), 0, 0, 0, &d, err, sizeof err), 0, "%s", err);
  cr_assert_null(d.labels);
  cr_assert_eq(d.nclasses, 0);
  ae_dataset_free(&d);
}

Test(dataset, bad_specs_and_missing_dirs) {
  ae_dataset d;
  cr_assert_eq(ae_dataset_load("cifar", 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("unknown data spec 'cifar'");
  ASSERT_ERR("mnist:DIR");
  ASSERT_ERR("spiral, swissroll, sines");
  cr_assert_null(strchr(err, '\n'), "one line");
  cr_assert_eq(ae_dataset_load("/no/such/file.npy", 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("no such file or directory");
  cr_assert_eq(ae_dataset_load("mnist", 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("mnist:DIR");
  cr_assert_eq(ae_dataset_load("fashion-mnist:/no/such/dir", 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("/no/such/dir does not exist");
  cr_assert_eq(ae_dataset_load("spiral", 2, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("split 2");
  cr_assert_eq(ae_dataset_load("spiral", 0, -1, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("limit -1");
  /* AEZOO_DATA moves the default */
  setenv("AEZOO_DATA", dir, 1);
  cr_assert_str_eq(ae_dataset_default_dir(), dir);
  cr_assert_eq(ae_dataset_load("fashion-mnist", 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("no train-images-idx3-ubyte.gz");
  ASSERT_ERR(dir);
  unsetenv("AEZOO_DATA");
  cr_assert_str_eq(ae_dataset_default_dir(), "/usr/share/datasets/fashion-mnist");
}

/* ---- npy ------------------------------------------------------------------ */

/* Writes a .npy with the given version, dict text (padded with spaces and
 * '\n' to a multiple of 64 bytes) and payload. */
static void write_npy(const char *path, int major, const char *dict, const void *payload, size_t plen) {
  unsigned char buf[8192];
  size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
  size_t total = (pre + dl + 1 + 63) / 64 * 64, hlen = total - pre;
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  buf[7] = 0;
  for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(hlen >> (8 * i));
  memcpy(buf + pre, dict, dl);
  memset(buf + pre + dl, ' ', hlen - dl - 1);
  buf[total - 1] = '\n';
  memcpy(buf + total, payload, plen);
  write_file(path, buf, total + plen);
}

static void expect_npy_fail(const char *path, const char *sub) {
  ae_tensor *t = ae_npy_read(path, err, sizeof err);
  cr_assert_null(t, "%s: read should fail", path);
  ASSERT_ERR(sub);
  cr_assert(strstr(err, path), "message '%s' should name the file", err);
}

Test(npy, write_then_read_bit_exact) {
  ae_tensor *t = ae_tensor_new(AE_SHAPE(2, 3, 4));
  for (int i = 0; i < 24; i++) t->data[i] = (ae_real)((i - 11) * 0.15625f * (i % 3 ? 1 : 1e-3f));
  t->data[5] = (ae_real)1e-40f; /* a float32 subnormal */
  t->data[6] = (ae_real)-0.0f;
  cr_assert_eq(ae_npy_write(at("a.npy"), t, err, sizeof err), 0, "%s", err);
  ae_tensor *r = ae_npy_read(at("a.npy"), err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  cr_assert(ae_shape_eq(r->shape, t->shape));
  for (int i = 0; i < 24; i++) {
    float a = (float)t->data[i], b = (float)r->data[i];
    cr_assert_eq(memcmp(&a, &b, 4), 0, "element %d: %a vs %a", i, a, b);
  }
  /* the header numpy would write */
  size_t n;
  unsigned char *raw = read_whole(at("a.npy"), &n);
  cr_assert_eq(n, 128 + 24 * 4);
  cr_assert_eq(memcmp(raw, "\x93NUMPY\x01\x00\x76\x00", 10), 0);
  const char *want = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }";
  cr_assert_eq(memcmp(raw + 10, want, strlen(want)), 0);
  cr_assert_eq(raw[127], '\n');
  free(raw);
  /* no temporary left behind; rewriting replaces the file */
  cr_assert_eq(ae_npy_write(at("a.npy"), r, err, sizeof err), 0, "%s", err);
  DIR *dd = opendir(dir);
  int files = 0;
  struct dirent *e;
  while ((e = readdir(dd))) files += e->d_name[0] != '.';
  closedir(dd);
  cr_assert_eq(files, 1);
  ae_tensor_free(t);
  ae_tensor_free(r);
  /* rank 1 and rank 0 shapes */
  t = ae_tensor_full(AE_SHAPE(5), 2);
  cr_assert_eq(ae_npy_write(at("v.npy"), t, err, sizeof err), 0, "%s", err);
  raw = read_whole(at("v.npy"), &n);
  cr_assert(strstr((char *)raw + 10, "'shape': (5,), }"));
  free(raw);
  r = ae_npy_read(at("v.npy"), err, sizeof err);
  cr_assert(r && r->shape.ndim == 1 && r->shape.d[0] == 5 && r->data[4] == 2);
  ae_tensor_free(t);
  ae_tensor_free(r);
  /* a write that cannot happen */
  t = ae_tensor_new(AE_SHAPE(1));
  cr_assert_eq(ae_npy_write("/no/such/dir/x.npy", t, err, sizeof err), -1);
  ASSERT_ERR("cannot create");
  ae_tensor_free(t);
}

Test(npy, dtypes_versions_and_fortran_order) {
  unsigned char u8[6] = {0, 51, 102, 153, 204, 255};
  write_npy(at("u.npy"), 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", u8, 6);
  ae_tensor *t = ae_npy_read(at("u.npy"), err, sizeof err);
  cr_assert_not_null(t, "%s", err);
  cr_assert(t->shape.ndim == 2 && t->shape.d[0] == 2 && t->shape.d[1] == 3);
  for (int i = 0; i < 6; i++) cr_assert_eq(t->data[i], (ae_real)(u8[i] * (1.0 / 255.0)));
  ae_tensor_free(t);

  double f8[4] = {1.5, -2.25, 1e-3, 3.0};
  write_npy(at("d.npy"), 2, "{\"descr\": \"<f8\", \"shape\": (4,), \"fortran_order\": False}", f8, 32);
  t = ae_npy_read(at("d.npy"), err, sizeof err);
  cr_assert_not_null(t, "%s", err);
  for (int i = 0; i < 4; i++) cr_assert_eq(t->data[i], (ae_real)f8[i]);
  ae_tensor_free(t);

  /* Fortran order: the (2,3) matrix [[0,1,2],[3,4,5]] stored column by column; Python 2's 2L */
  float fo[6] = {0, 3, 1, 4, 2, 5};
  write_npy(at("f.npy"), 3, "{'descr': '<f4', 'fortran_order': True, 'shape': (2L, 3L), }", fo, 24);
  t = ae_npy_read(at("f.npy"), err, sizeof err);
  cr_assert_not_null(t, "%s", err);
  for (int i = 0; i < 6; i++) cr_assert_eq(t->data[i], (ae_real)i);
  ae_tensor_free(t);
  /* Fortran order, rank 3: element (a,b,c) at a + 2*(b + 3*c) */
  float f3[24], want[24];
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 3; b++)
      for (int c = 0; c < 4; c++) {
        want[(a * 3 + b) * 4 + c] = (float)(100 * a + 10 * b + c);
        f3[a + 2 * (b + 3 * c)] = (float)(100 * a + 10 * b + c);
      }
  write_npy(at("f3.npy"), 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 4), }", f3, 96);
  t = ae_npy_read(at("f3.npy"), err, sizeof err);
  cr_assert_not_null(t, "%s", err);
  for (int i = 0; i < 24; i++) cr_assert_eq(t->data[i], (ae_real)want[i]);
  ae_tensor_free(t);
}

Test(npy, malformed_files_fail_with_a_message) {
  float f[6] = {0};
  write_file(at("magic.npy"), "\x93NUMPZ\x01\x00\x00\x00 junk", 15);
  expect_npy_fail(at("magic.npy"), "bad magic");
  write_file(at("short.npy"), "\x93NUM", 4);
  expect_npy_fail(at("short.npy"), "too short");
  write_file(at("ver.npy"), "\x93NUMPY\x04\x00\x10\x00{}", 12);
  expect_npy_fail(at("ver.npy"), "version 4.0");
  /* header length past the end of the file */
  write_file(at("hlen.npy"), "\x93NUMPY\x01\x00\xff\x7f{'descr'", 18);
  expect_npy_fail(at("hlen.npy"), "header length 32767 runs past the end");
  write_file(at("hlen2.npy"), "\x93NUMPY\x02\x00\xff\xff\xff\xff{}", 14);
  expect_npy_fail(at("hlen2.npy"), "runs past the end");

  struct { const char *dict, *sub; } bad[] = {
      {"{'descr': '<f4', 'fortran_order': False}", "key 'shape' missing"},
      {"{'descr': '<f4', 'shape': (2, 3), }", "key 'fortran_order' missing"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}", "unknown key 'extra'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", "key 'descr' repeated"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': (6,)}", "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", "not a tuple"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", "expected a dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} trailing", "unexpected text after the dict"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (6,)}", "expected ',' or '}'"},
      {"['descr', '<f4']", "expected '{'"},
      {"{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}", "bad header dict"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 6)}", "more than 4 dimensions"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "too large"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_npy(at("h.npy"), 1, bad[i].dict, f, 24);
    expect_npy_fail(at("h.npy"), bad[i].sub);
    if (i < 10) ASSERT_ERR("bad header dict");
  }

  write_npy(at("i8.npy"), 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", f, 24);
  expect_npy_fail(at("i8.npy"), "unsupported dtype '<i8'");
  write_npy(at("be.npy"), 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", f, 24);
  expect_npy_fail(at("be.npy"), "unsupported dtype '>f4'");
  write_npy(at("z.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0), }", f, 0);
  expect_npy_fail(at("z.npy"), "dimension 1 of the shape has size 0");
  write_npy(at("o.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967295, 4294967295, 4294967295, 4294967295), }", f, 0);
  expect_npy_fail(at("o.npy"), "more than");
  write_npy(at("t.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f, 23);
  expect_npy_fail(at("t.npy"), "truncated data");
  ASSERT_ERR("needs 24 bytes after the header, the file has 23");
  write_npy(at("tr.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 5), }", f, 24);
  expect_npy_fail(at("tr.npy"), "4 trailing bytes");
  expect_npy_fail(at("missing.npy"), "cannot open");
}

/* ---- datasets from npy ----------------------------------------------------- */

Test(dataset, npy_shapes_and_nan_rejected) {
  unsigned char u8[2 * 2 * 3];
  for (int i = 0; i < 12; i++) u8[i] = (unsigned char)(20 * i);
  write_npy(at("img.npy"), 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }", u8, 12);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(at("img.npy"), 0, 0, 0, &d, err, sizeof err), 0, "%s", err);
  cr_assert(d.x->shape.ndim == 4 && d.x->shape.d[0] == 2 && d.x->shape.d[1] == 1 && d.x->shape.d[2] == 2 &&
            d.x->shape.d[3] == 3);
  cr_assert_eq(d.x->data[11], (ae_real)(220 * (1.0 / 255.0)));
  cr_assert_null(d.labels);
  cr_assert_str_eq(d.name, "img.npy");
  ae_dataset_free(&d);

  float v[3] = {1, 2, 3};
  write_npy(at("v.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", v, 12);
  cr_assert_eq(ae_dataset_load(at("v.npy"), 0, 2, 0, &d, err, sizeof err), 0, "%s", err);
  cr_assert(d.x->shape.ndim == 2 && d.x->shape.d[0] == 2 && d.x->shape.d[1] == 1);
  cr_assert_eq(d.x->data[1], 2);
  ae_dataset_free(&d);

  float rows[2 * 4] = {0, 1, 2, 3, 4, 5, NAN, 7};
  write_npy(at("nan.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", rows, 32);
  cr_assert_eq(ae_dataset_load(at("nan.npy"), 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("nan.npy");
  ASSERT_ERR("example 1, position (2) is NaN");
  cr_assert_null(d.x);
  /* the NaN is past the limit: fine */
  cr_assert_eq(ae_dataset_load(at("nan.npy"), 0, 1, 0, &d, err, sizeof err), 0, "%s", err);
  ae_dataset_free(&d);

  write_npy(at("s.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", v, 4);
  cr_assert_eq(ae_dataset_load(at("s.npy"), 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("single scalar");
  write_file(at("bad.npy"), "not numpy at all", 16);
  cr_assert_eq(ae_dataset_load(at("bad.npy"), 0, 0, 0, &d, err, sizeof err), -1);
  ASSERT_ERR("bad magic");
}

Test(dataset, check_finite_names_example_and_position) {
  ae_dataset d = {0};
  d.x = ae_tensor_new(AE_SHAPE(3, 1, 2, 2));
  snprintf(d.name, sizeof d.name, "demo");
  cr_assert_eq(ae_dataset_check_finite(&d, err, sizeof err), 0);
  d.x->data[2 * 4 + 3] = (ae_real)INFINITY;
  cr_assert_eq(ae_dataset_check_finite(&d, err, sizeof err), -1);
  ASSERT_ERR("demo: example 2, position (0,1,1) is Inf");
  ae_dataset_free(&d);
}

/* ---- synthetic sets -------------------------------------------------------- */

Test(dataset, synthetic_sets_reproducible_shaped_in_unit_range) {
  const char *names[] = {"spiral", "swissroll", "sines"};
  for (int k = 0; k < 3; k++) {
    ae_dataset a, b, c, t, p;
    cr_assert_eq(ae_dataset_load(names[k], 0, 0, 7, &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ae_dataset_load(names[k], 0, 0, 7, &b, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ae_dataset_load(names[k], 0, 0, 8, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ae_dataset_load(names[k], 1, 0, 7, &t, err, sizeof err), 0, "%s", err);
    cr_assert_eq(ae_dataset_load(names[k], 0, 10, 7, &p, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.name, names[k]);
    cr_assert_eq(a.x->shape.d[0], AE_SYNTH_TRAIN);
    cr_assert_eq(t.x->shape.d[0], AE_SYNTH_TEST);
    cr_assert_eq(p.x->shape.d[0], 10);
    if (k < 2) {
      cr_assert(a.x->shape.ndim == 2 && a.x->shape.d[1] == 2);
    } else {
      cr_assert(a.x->shape.ndim == 3 && a.x->shape.d[1] == 32 && a.x->shape.d[2] == 1);
      cr_assert_null(a.labels);
      cr_assert_eq(a.nclasses, 0);
    }
    size_t bytes = (size_t)a.x->numel * sizeof(ae_real);
    cr_assert_eq(memcmp(a.x->data, b.x->data, bytes), 0, "same seed, same data");
    cr_assert_neq(memcmp(a.x->data, c.x->data, bytes), 0, "another seed, other data");
    cr_assert_neq(memcmp(a.x->data, t.x->data, (size_t)t.x->numel * sizeof(ae_real)), 0, "test split differs");
    cr_assert_eq(memcmp(a.x->data, p.x->data, (size_t)p.x->numel * sizeof(ae_real)), 0, "limit is a prefix");
    double lo = 1, hi = 0;
    for (int64_t i = 0; i < a.x->numel; i++) {
      lo = fmin(lo, a.x->data[i]);
      hi = fmax(hi, a.x->data[i]);
    }
    cr_assert(lo >= 0 && hi <= 1, "%s in [%g, %g]", names[k], lo, hi);
    cr_assert(hi - lo > 0.5, "%s spans [%g, %g], should fill most of [0,1]", names[k], lo, hi);
    if (a.labels) {
      int count[4] = {0};
      for (int64_t i = 0; i < a.x->shape.d[0]; i++) {
        cr_assert(a.labels[i] >= 0 && a.labels[i] < a.nclasses);
        count[a.labels[i]]++;
      }
      for (int j = 0; j < a.nclasses; j++)
        cr_assert(count[j] > AE_SYNTH_TRAIN / a.nclasses / 2, "%s class %d has %d", names[k], j, count[j]);
    }
    ae_dataset_free(&a);
    ae_dataset_free(&b);
    ae_dataset_free(&c);
    ae_dataset_free(&t);
    ae_dataset_free(&p);
  }
}

Test(dataset, synthetic_geometry) {
  /* spiral: a point's distance from the centre (0.5, 0.5) is u * 1/2.1 up to
   * the noise, and the two classes are point reflections of each other at
   * equal u, so class means lie near the centre. swissroll: radius t/(2b)
   * with t in [1.5pi, 4.5pi]. sines: within [0.5 - A/2, 0.5 + A/2]. */
  ae_dataset d;
  cr_assert_eq(ae_dataset_load("swissroll", 0, 0, 3, &d, err, sizeof err), 0, "%s", err);
  const double b = 4.5 * M_PI + 0.3;
  for (int64_t i = 0; i < d.x->shape.d[0]; i++) {
    double x = (d.x->data[2 * i] - 0.5) * 2 * b, y = (d.x->data[2 * i + 1] - 0.5) * 2 * b;
    double r = sqrt(x * x + y * y);
    cr_assert(r > 1.5 * M_PI - 0.4 && r < 4.5 * M_PI + 0.4, "swissroll radius %g", r);
    /* label = quarter of the arm: radius grows with the label */
    double t_lo = 1.5 * M_PI * (1 + 2 * 0.25 * d.labels[i]), t_hi = 1.5 * M_PI * (1 + 2 * 0.25 * (d.labels[i] + 1));
    cr_assert(r > t_lo - 0.4 && r < t_hi + 0.4, "label %d radius %g", d.labels[i], r);
  }
  ae_dataset_free(&d);
  cr_assert_eq(ae_dataset_load("sines", 0, 50, 3, &d, err, sizeof err), 0, "%s", err);
  for (int64_t i = 0; i < 50; i++) {
    /* a sine sampled at 32 steps with f >= 0.15 covers > 4.6 rad: it must go up and down */
    int up = 0, down = 0;
    for (int t = 1; t < 32; t++) {
      up |= d.x->data[i * 32 + t] > d.x->data[i * 32 + t - 1];
      down |= d.x->data[i * 32 + t] < d.x->data[i * 32 + t - 1];
    }
    cr_assert(up && down);
  }
  ae_dataset_free(&d);
}
