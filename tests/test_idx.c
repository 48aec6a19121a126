/* test_idx.c: the IDX reader of io/ on small files written here, in a
 * fresh mkdtemp directory per test: plain and gzipped (via zlib) files read
 * back exactly; every malformed case (truncated, trailing bytes, wrong
 * magic, bad type, zero or overflowing dimensions, broken gzip, labels that
 * do not match images) fails with -1/NULL and a message naming the problem;
 * data set specs of MNIST-style directories and IDX paths. The .npy reader,
 * npy data sets and synthetic sets: test_npy.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "aezoo.h"
#include "io/idx.h"
#include "io_test_util.h"

TestSuite(idx, .init = mkdir_tmp, .fini = rm_tmp);
TestSuite(dataset, .init = mkdir_tmp, .fini = rm_tmp);

static void write_gz(const char *path, const void *buf, size_t n) {
  gzFile g = gzopen(path, "wb");
  cr_assert(g);
  cr_assert_eq(gzwrite(g, buf, (unsigned)n), (int)n);
  cr_assert_eq(gzclose(g), Z_OK);
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

static void expect_idx_fail(const char *path, const char *sub) {
  ae_idx x;
  x.data = (void *)1;
  cr_assert_eq(ae_idx_read(path, &x), -1, "%s: read should fail", path);
  cr_assert_null(x.data, "a failed read owns no data");
  ASSERT_ERR(sub);
  cr_assert(strstr(ae_last_error(), path), "message '%s' should name the file", ae_last_error());
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
    cr_assert_eq(ae_idx_read(paths[k], &x), 0, "%s", ae_last_error());
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
  cr_assert_eq(ae_idx_read(at("f.gz"), &x), 0, "%s", ae_last_error());
  cr_assert_eq(((float *)x.data)[0], -2.5f);
  cr_assert_eq(((float *)x.data)[1], 1.0f);
  ae_idx_free(&x);

  unsigned char i16[4] = {0xFF, 0xFE, 0x01, 0x00};
  n = idx_bytes(buf, 0x0B, 2, (uint32_t[]){1, 2}, i16, 4);
  write_file(at("s"), buf, n);
  cr_assert_eq(ae_idx_read(at("s"), &x), 0, "%s", ae_last_error());
  cr_assert_eq(ae_idx_get(&x, 0), -2.0);
  cr_assert_eq(ae_idx_get(&x, 1), 256.0);
  ae_idx_free(&x);

  unsigned char i32[4] = {0x00, 0x00, 0x01, 0x02};
  n = idx_bytes(buf, 0x0C, 1, (uint32_t[]){1}, i32, 4);
  write_file(at("i"), buf, n);
  cr_assert_eq(ae_idx_read(at("i"), &x), 0, "%s", ae_last_error());
  cr_assert_eq(((int32_t *)x.data)[0], 258);
  ae_idx_free(&x);

  double d = 1e300;
  uint64_t bits;
  memcpy(&bits, &d, 8);
  unsigned char f64[8];
  for (int i = 0; i < 8; i++) f64[i] = (unsigned char)(bits >> (56 - 8 * i));
  n = idx_bytes(buf, 0x0E, 1, (uint32_t[]){1}, f64, 8);
  write_file(at("d"), buf, n);
  cr_assert_eq(ae_idx_read(at("d"), &x), 0, "%s", ae_last_error());
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
  cr_assert_eq(ae_dataset_load(spec, 0, 0, 0, &d), 0, "%s", ae_last_error());
  cr_assert_eq(d.x->shape.ndim, 4);
  cr_assert(d.x->shape.d[0] == 5 && d.x->shape.d[1] == 1 && d.x->shape.d[2] == 2 && d.x->shape.d[3] == 3);
  for (int i = 0; i < 30; i++) cr_assert_eq(d.x->data[i], (ae_real)((unsigned char)(i * 7) / 255.0));
  for (int i = 0; i < 5; i++) cr_assert_eq(d.labels[i], i % 4);
  cr_assert_eq(d.nclasses, 4);
  cr_assert_str_eq(d.name, "mnist");
  ae_dataset_free(&d);
  /* limit: a prefix; nclasses still from the whole file */
  cr_assert_eq(ae_dataset_load(spec, 0, 2, 0, &d), 0, "%s", ae_last_error());
  cr_assert_eq(d.x->shape.d[0], 2);
  cr_assert_eq(d.x->data[11], (ae_real)(77 / 255.0));
  cr_assert_eq(d.nclasses, 4);
  ae_dataset_free(&d);
  /* the directory itself as a spec, uncompressed files */
  rm_tmp();
  mkdir_tmp();
  write_mnist_dir(3, 3, 0);
  snprintf(spec, sizeof spec, "mnist:%s", dir);
  cr_assert_eq(ae_dataset_load(dir, 0, 0, 0, &d), 0, "%s", ae_last_error());
  cr_assert_eq(d.x->shape.d[0], 3);
  ae_dataset_free(&d);
  /* split 1 wants t10k- files, which are missing */
  cr_assert_eq(ae_dataset_load(spec, 1, 0, 0, &d), -1);
  ASSERT_ERR("no t10k-images-idx3-ubyte.gz");
  ASSERT_ERR(dir);
  cr_assert_null(d.x);
}

Test(dataset, labels_count_mismatch_names_both_files) {
  write_mnist_dir(3, 2, 1);
  char spec[300];
  snprintf(spec, sizeof spec, "mnist:%s", dir);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(spec, 0, 0, 0, &d), -1);
  ASSERT_ERR("labels do not match images");
  ASSERT_ERR("train-images-idx3-ubyte.gz has 3 images");
  ASSERT_ERR("train-labels-idx1-ubyte.gz has 2 labels");
  cr_assert_null(d.x);
  cr_assert_null(d.labels);
  /* the same through an IDX path spec, which finds the labels next to it */
  cr_assert_eq(ae_dataset_load(at("train-images-idx3-ubyte.gz"), 0, 0, 0, &d), -1);
  ASSERT_ERR("has 2 labels");
}

Test(dataset, idx_path_spec_finds_labels_or_goes_without) {
  write_mnist_dir(4, 4, 0);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(at("train-images-idx3-ubyte"), 1, 0, 0, &d), 0, "%s", ae_last_error());
  cr_assert_not_null(d.labels);
  cr_assert_eq(d.labels[3], 3);
  cr_assert_str_eq(d.name, "train-images-idx3-ubyte");
  ae_dataset_free(&d);
  unlink(at("train-labels-idx1-ubyte"));
  cr_assert_eq(ae_dataset_load(at("train-images-idx3-ubyte"), 0, 0, 0, &d), 0, "%s", ae_last_error());
  cr_assert_null(d.labels);
  cr_assert_eq(d.nclasses, 0);
  ae_dataset_free(&d);
}

Test(dataset, bad_specs_and_missing_dirs) {
  ae_dataset d;
  cr_assert_eq(ae_dataset_load("cifar", 0, 0, 0, &d), -1);
  ASSERT_ERR("unknown data spec 'cifar'");
  ASSERT_ERR("mnist:DIR");
  ASSERT_ERR("spiral, swissroll, sines");
  cr_assert_null(strchr(ae_last_error(), '\n'), "one line");
  cr_assert_eq(ae_dataset_load("/no/such/file.npy", 0, 0, 0, &d), -1);
  ASSERT_ERR("no such file or directory");
  cr_assert_eq(ae_dataset_load("mnist", 0, 0, 0, &d), -1);
  ASSERT_ERR("mnist:DIR");
  cr_assert_eq(ae_dataset_load("fashion-mnist:/no/such/dir", 0, 0, 0, &d), -1);
  ASSERT_ERR("/no/such/dir does not exist");
  cr_assert_eq(ae_dataset_load("spiral", 2, 0, 0, &d), -1);
  ASSERT_ERR("split 2");
  cr_assert_eq(ae_dataset_load("spiral", 0, -1, 0, &d), -1);
  ASSERT_ERR("limit -1");
  /* AEZOO_DATA moves the default */
  setenv("AEZOO_DATA", dir, 1);
  cr_assert_str_eq(ae_dataset_default_dir(), dir);
  cr_assert_eq(ae_dataset_load("fashion-mnist", 0, 0, 0, &d), -1);
  ASSERT_ERR("no train-images-idx3-ubyte.gz");
  ASSERT_ERR(dir);
  unsetenv("AEZOO_DATA");
  cr_assert_str_eq(ae_dataset_default_dir(), "/usr/share/datasets/fashion-mnist");
}
