/* test_run_u8.c: training rows kept as the bytes their file stores
 * (io/dataset_u8.h, run/run_rows.c). The byte loader gives the IDX
 * loader's values for all 256 bytes and every row, from IDX files and
 * uint8 .npy files alike; sources stored as floats (and Fortran-order
 * .npy files) are declined; and a run on an IDX file trains to the same
 * bits, with the same data fingerprint, as one on a .npy file of the same
 * values (a validation split too), so a checkpoint of either resumes on
 * the other. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt_compare.h"
#include "cli_test_util.h" /* cli_tmp_make, cli_tmp_drop, tmp_path: a per-test directory */
#include "io/dataset.h"
#include "io/dataset_u8.h"
#include "run/checkpoint.h"
#include "run/run.h"
#include "zoo/train.h"
#include "zoo/zoo.h"

TestSuite(run_u8, .init = cli_tmp_make, .fini = cli_tmp_drop, .timeout = 120);

enum { N = 300, H = 4, W = 4 };

static uint8_t pixel(int64_t i) { return (uint8_t)((i * 2654435761u) >> 13); }

static void put_be32(FILE *f, uint32_t v) {
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
  cr_assert_eq(fwrite(b, 1, 4, f), 4);
}

/* N images of H x W bytes (uncompressed IDX, type uint8), and labels next
 * to them when labels_too. */
static void write_idx(const char *images, int labels_too) {
  FILE *f = fopen(images, "wb");
  cr_assert(f);
  put_be32(f, 0x00000803);
  put_be32(f, N);
  put_be32(f, H);
  put_be32(f, W);
  for (int64_t i = 0; i < (int64_t)N * H * W; i++) fputc(pixel(i), f);
  cr_assert_eq(fclose(f), 0);
  if (!labels_too) return;
  char lab[600];
  snprintf(lab, sizeof lab, "%s", images);
  memcpy(strstr(lab, "images"), "labels", 6);
  memcpy(strstr(lab, "idx3"), "idx1", 4);
  f = fopen(lab, "wb");
  cr_assert(f);
  put_be32(f, 0x00000801);
  put_be32(f, N);
  for (int i = 0; i < N; i++) fputc(i % 7, f);
  cr_assert_eq(fclose(f), 0);
}

/* A new .npy file (version 1.0) with its header written: dtype descr,
 * shape "n, ..." (2 or more dimensions); the data follows. */
static FILE *open_npy(const char *path, const char *descr, int fortran, const char *shape) {
  char dict[160];
  int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }", descr,
                     fortran ? "True" : "False", shape);
  while ((10 + len + 1) % 64) dict[len++] = ' '; /* padded so that the data starts at a multiple of 64 */
  dict[len++] = '\n';
  FILE *f = fopen(path, "wb");
  cr_assert(f);
  unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)len, (unsigned char)(len >> 8)};
  cr_assert_eq(fwrite(head, 1, 10, f), 10);
  cr_assert_eq(fwrite(dict, 1, (size_t)len, f), (size_t)len);
  return f;
}

/* The same images as a .npy file of ae_real ('<f4', or '<f8' in the
 * double build, where ae_npy_write would round them to float): the values
 * ae_dataset_load gives, exactly. */
static void write_npy_of(const char *images, const char *npy) {
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(images, 0, 0, 0, &d), 0, "%s", ae_last_error());
  char descr[8], shape[64];
  snprintf(descr, sizeof descr, "<f%d", (int)sizeof(ae_real));
  snprintf(shape, sizeof shape, "%lld, 1, %d, %d", (long long)d.x->shape.d[0], H, W);
  FILE *f = open_npy(npy, descr, 0, shape);
  cr_assert_eq(fwrite(d.x->data, sizeof(ae_real), (size_t)d.x->numel, f), (size_t)d.x->numel);
  cr_assert_eq(fclose(f), 0);
  ae_dataset_free(&d);
}

Test(run_u8, every_byte_converts_to_the_loaders_value) {
  uint8_t u[256];
  ae_real x[256];
  for (int i = 0; i < 256; i++) u[255 - i] = (uint8_t)i; /* reversed: position is not value */
  ae__dataset_u8_to_real(u, 256, x);
  for (int i = 0; i < 256; i++) {
    ae_real want = (ae_real)(u[i] / 255.0);
    cr_assert_eq(memcmp(&x[i], &want, sizeof want), 0, "byte %d: %.9g, the loader's %.9g", u[i], (double)x[i],
                 (double)want);
  }
}

Test(run_u8, idx_bytes_gather_to_the_float_loaders_rows_and_labels) {
  const char *img = tmp_path("train-images-idx3-ubyte");
  write_idx(img, 1);
  for (int64_t limit = 0; limit <= 250; limit += 250) {
    ae_dataset f;
    ae__dataset_u8 b;
    cr_assert_eq(ae_dataset_load(img, 0, limit, 0, &f), 0, "%s", ae_last_error());
    cr_assert_eq(ae__dataset_load_u8(img, 0, limit, 0, &b), 1, "%s", ae_last_error());
    cr_assert(ae_shape_eq(b.shape, f.x->shape));
    cr_assert_eq(b.shape.d[0], limit ? limit : N);
    cr_assert_eq(b.nclasses, f.nclasses);
    cr_assert_str_eq(b.name, f.name);
    const int64_t n = b.shape.d[0];
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++) idx[i] = (i * 37) % n; /* out of order, each row once */
    ae_tensor *got = ae_tensor_new(f.x->shape), *want = ae_tensor_new(f.x->shape);
    ae__dataset_u8_gather(&b, idx, n, got);
    ae_gather_rows(f.x, idx, n, want);
    cr_assert_eq(memcmp(got->data, want->data, sizeof(ae_real) * (size_t)want->numel), 0, "limit %lld",
                 (long long)limit);
    cr_assert_eq(memcmp(b.labels, f.labels, sizeof(int32_t) * (size_t)n), 0);
    free(idx);
    ae_tensor_free(got);
    ae_tensor_free(want);
    ae__dataset_u8_free(&b);
    ae_dataset_free(&f);
  }
}

/* The same N images as a uint8 .npy file (N, H, W), in C order or
 * Fortran order (then the bytes are laid out column-major). */
static void write_npy_u8(const char *npy, int fortran) {
  char shape[64];
  snprintf(shape, sizeof shape, "%d, %d, %d", N, H, W);
  FILE *f = open_npy(npy, "|u1", fortran, shape);
  for (int64_t k = 0; k < (int64_t)N * H * W; k++) {
    int64_t i = k; /* C order: element k is image k / (H W), pixel k % (H W) */
    if (fortran) { /* element k is (n, r, c) with n fastest */
      int64_t n = k % N, r = k / N % H, c = k / N / H;
      i = (n * H + r) * W + c;
    }
    fputc(pixel(i), f);
  }
  cr_assert_eq(fclose(f), 0);
}

Test(run_u8, a_uint8_npy_file_is_kept_as_bytes_and_gives_the_idx_values) {
  const char *img = tmp_path("train-images-idx3-ubyte"), *npy = tmp_path("u8.npy"), *fnpy = tmp_path("u8f.npy");
  write_idx(img, 0);
  write_npy_u8(npy, 0);
  write_npy_u8(fnpy, 1);
  ae_dataset fi, fn, ff;
  cr_assert_eq(ae_dataset_load(img, 0, 0, 0, &fi), 0, "%s", ae_last_error());
  cr_assert_eq(ae_dataset_load(npy, 0, 0, 0, &fn), 0, "%s", ae_last_error());
  cr_assert_eq(ae_dataset_load(fnpy, 0, 0, 0, &ff), 0, "%s", ae_last_error());
  cr_assert(ae_shape_eq(fi.x->shape, fn.x->shape) && ae_shape_eq(fi.x->shape, ff.x->shape));
  /* the same byte, the same value, from either format */
  cr_assert_eq(memcmp(fi.x->data, fn.x->data, sizeof(ae_real) * (size_t)fi.x->numel), 0);
  cr_assert_eq(memcmp(fi.x->data, ff.x->data, sizeof(ae_real) * (size_t)fi.x->numel), 0);
  ae__dataset_u8 b;
  cr_assert_eq(ae__dataset_load_u8(npy, 0, 120, 0, &b), 1, "%s", ae_last_error());
  cr_assert_eq(b.shape.d[0], 120);
  cr_assert(ae_shape_eq(ae_shape_make(3, b.shape.d + 1), ae_shape_make(3, fi.x->shape.d + 1)));
  int64_t idx[120];
  for (int i = 0; i < 120; i++) idx[i] = 119 - i;
  ae_tensor *got = ae_tensor_new(b.shape), *want = ae_tensor_new(b.shape);
  ae__dataset_u8_gather(&b, idx, 120, got);
  ae_gather_rows(fi.x, idx, 120, want);
  cr_assert_eq(memcmp(got->data, want->data, sizeof(ae_real) * (size_t)want->numel), 0);
  ae_tensor_free(got), ae_tensor_free(want);
  ae__dataset_u8_free(&b);
  /* Fortran order is declined (the floats reorder it) */
  cr_assert_eq(ae__dataset_load_u8(fnpy, 0, 0, 0, &b), 0, "%s", ae_last_error());
  cr_assert_null(b.x);
  ae_dataset_free(&fi), ae_dataset_free(&fn), ae_dataset_free(&ff);
}

Test(run_u8, float_sources_are_declined_and_errors_are_the_loaders) {
  const char *img = tmp_path("train-images-idx3-ubyte"), *npy = tmp_path("x.npy");
  write_idx(img, 0);
  write_npy_of(img, npy);
  ae__dataset_u8 b;
  cr_assert_eq(ae__dataset_load_u8(npy, 0, 0, 0, &b), 0);
  cr_assert_null(b.x);
  cr_assert_eq(ae__dataset_load_u8("spiral", 0, 100, 1, &b), 0);
  cr_assert_null(b.x);
  /* an IDX file of floats */
  const char *fl = tmp_path("f-idx2");
  FILE *f = fopen(fl, "wb");
  put_be32(f, 0x00000d02);
  put_be32(f, 3);
  put_be32(f, 2);
  for (int i = 0; i < 6; i++) put_be32(f, 0x3f800000); /* 1.0f */
  fclose(f);
  cr_assert_eq(ae__dataset_load_u8(fl, 0, 0, 0, &b), 0, "%s", ae_last_error());
  cr_assert_null(b.x);
  ae_dataset d;
  cr_assert_eq(ae_dataset_load(fl, 0, 0, 0, &d), 0, "%s", ae_last_error());
  ae_dataset_free(&d);
  /* a missing file: the loader's message */
  const char *gone = tmp_path("absent/train-images-idx3-ubyte");
  cr_assert_eq(ae_dataset_load(gone, 0, 0, 0, &d), -1);
  char want[1024];
  snprintf(want, sizeof want, "%s", ae_last_error());
  cr_assert_eq(ae__dataset_load_u8(gone, 0, 0, 0, &b), -1);
  cr_assert_str_eq(ae_last_error(), want);
}

static const char *const small_ae[] = {"hidden=8,2"};

static void config(ae_run_config *c, const char *data, const char *out) {
  ae_run_config_init(c);
  c->model = "ae";
  c->nset = 1;
  c->set = small_ae;
  c->data = data;
  c->test_limit = 50;
  c->batch_size = 32;
  c->epochs = 2;
  c->val_split = 0.2;
  c->out = out;
  c->quiet = 1;
  c->no_pictures = 1;
  c->no_report = 1;
}

/* Runs a and b (directories): the same parameters, bitwise, the same
 * step and data fingerprint. */
static void assert_same_training(const char *a, const char *b) {
  char pa[600], pb[600];
  snprintf(pa, sizeof pa, "%s/model.safetensors", a);
  snprintf(pb, sizeof pb, "%s/model.safetensors", b);
  ae_ckpt_meta ma, mb;
  assert_same_ckpt_params(pa, pb, &ma, &mb);
  cr_assert_eq(ma.data_rows, mb.data_rows);
  cr_assert_eq(ma.data_hash, mb.data_hash, "fingerprints %016llx and %016llx", (unsigned long long)ma.data_hash,
               (unsigned long long)mb.data_hash);
  cr_assert_eq(ma.step, mb.step);
}

Test(run_u8, a_run_on_bytes_trains_as_one_on_floats_and_resumes_across) {
  const char *img = tmp_path("train-images-idx3-ubyte"), *npy = tmp_path("train.npy");
  write_idx(img, 1);
  write_npy_of(img, npy);
  ae_run_config c;
  config(&c, img, tmp_path("bytes"));
  c.test_data = npy;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  config(&c, npy, tmp_path("floats"));
  c.test_data = npy;
  cr_assert_eq(ae_run(&c, NULL), 0, "%s", ae_last_error());
  assert_same_training(tmp_path("bytes"), tmp_path("floats"));
  /* one path, first a .npy file (floats), then the same values as IDX
   * bytes: the checkpoint taken on floats resumes on bytes */
  const char *both = tmp_path("data.bin");
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", npy, both);
  cr_assert_eq(system(cmd), 0);
  config(&c, both, tmp_path("across"));
  c.test_data = npy;
  c.stop_after = 5;
  ae_run_result r;
  cr_assert_eq(ae_run(&c, &r), 0, "%s", ae_last_error());
  cr_assert_eq(r.status, AE_RUN_STOPPED);
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", img, both);
  cr_assert_eq(system(cmd), 0);
  ae_run_config e;
  ae_run_config_init(&e);
  e.resume = tmp_path("across");
  e.quiet = e.no_pictures = e.no_report = 1;
  cr_assert_eq(ae_run(&e, &r), 0, "%s", ae_last_error());
  cr_assert_eq(r.status, AE_RUN_FINISHED);
  assert_same_training(tmp_path("across"), tmp_path("floats"));
}
