/* test_npy.c: the .npy reader and writer of io/ on small files written here,
 * in a fresh mkdtemp directory per test: write/read round-trips
 * bit-exactly; every malformed case (bad magic, version, header dict, dtype,
 * truncated data, header past EOF) fails with NULL and a message naming the
 * problem; npy data set specs and the finiteness check; synthetic sets are
 * reproducible, shaped and in [0,1]. The IDX reader: test_idx.c. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"
#include "io_test_util.h"

TestSuite(npy, .init = mkdir_tmp, .fini = rm_tmp);
TestSuite(dataset, .init = mkdir_tmp, .fini = rm_tmp);

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
  ae_tensor *t = ae_npy_read(path);
  cr_assert_null(t, "%s: read should fail", path);
  ASSERT_ERR(sub);
  cr_assert(strstr(ae_last_error(), path), "message '%s' should name the file", ae_last_error());
}

Test(npy, write_then_read_bit_exact) {
  ae_tensor *t = ae_tensor_new(AE_SHAPE(2, 3, 4));
  for (int i = 0; i < 24; i++) t->data[i] = (ae_real)((i - 11) * 0.15625f * (i % 3 ? 1 : 1e-3f));
  t->data[5] = (ae_real)1e-40f; /* a float32 subnormal */
  t->data[6] = (ae_real)-0.0f;
  cr_assert_eq(ae_npy_write(at("a.npy"), t), 0, "%s", ae_last_error());
  ae_tensor *r = ae_npy_read(at("a.npy"));
  cr_assert_not_null(r, "%s", ae_last_error());
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
  cr_assert_eq(ae_npy_write(at("a.npy"), r), 0, "%s", ae_last_error());
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
  cr_assert_eq(ae_npy_write(at("v.npy"), t), 0, "%s", ae_last_error());
  raw = read_whole(at("v.npy"), &n);
  cr_assert(strstr((char *)raw + 10, "'shape': (5,), }"));
  free(raw);
  r = ae_npy_read(at("v.npy"));
  cr_assert(r && r->shape.ndim == 1 && r->shape.d[0] == 5 && r->data[4] == 2);
  ae_tensor_free(t);
  ae_tensor_free(r);
  /* a write that cannot happen */
  t = ae_tensor_new(AE_SHAPE(1));
  cr_assert_eq(ae_npy_write("/no/such/dir/x.npy", t), -1);
  ASSERT_ERR("cannot create");
  ae_tensor_free(t);
}

Test(npy, dtypes_versions_and_fortran_order) {
  unsigned char u8[6] = {0, 51, 102, 153, 204, 255};
  write_npy(at("u.npy"), 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", u8, 6);
  ae_tensor *t = ae_npy_read(at("u.npy"));
  cr_assert_not_null(t, "%s", ae_last_error());
  cr_assert(t->shape.ndim == 2 && t->shape.d[0] == 2 && t->shape.d[1] == 3);
  for (int i = 0; i < 6; i++) cr_assert_eq(t->data[i], (ae_real)(u8[i] * (1.0 / 255.0)));
  ae_tensor_free(t);

  double f8[4] = {1.5, -2.25, 1e-3, 3.0};
  write_npy(at("d.npy"), 2, "{\"descr\": \"<f8\", \"shape\": (4,), \"fortran_order\": False}", f8, 32);
  t = ae_npy_read(at("d.npy"));
  cr_assert_not_null(t, "%s", ae_last_error());
  for (int i = 0; i < 4; i++) cr_assert_eq(t->data[i], (ae_real)f8[i]);
  ae_tensor_free(t);

  /* Fortran order: the (2,3) matrix [[0,1,2],[3,4,5]] stored column by column; Python 2's 2L */
  float fo[6] = {0, 3, 1, 4, 2, 5};
  write_npy(at("f.npy"), 3, "{'descr': '<f4', 'fortran_order': True, 'shape': (2L, 3L), }", fo, 24);
  t = ae_npy_read(at("f.npy"));
  cr_assert_not_null(t, "%s", ae_last_error());
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
  t = ae_npy_read(at("f3.npy"));
  cr_assert_not_null(t, "%s", ae_last_error());
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
  cr_assert_eq(ae_dataset_load(at("img.npy"), 0, 0, 0, &d), 0, "%s", ae_last_error());
  cr_assert(d.x->shape.ndim == 4 && d.x->shape.d[0] == 2 && d.x->shape.d[1] == 1 && d.x->shape.d[2] == 2 &&
            d.x->shape.d[3] == 3);
  cr_assert_eq(d.x->data[11], (ae_real)(220 * (1.0 / 255.0)));
  cr_assert_null(d.labels);
  cr_assert_str_eq(d.name, "img.npy");
  ae_dataset_free(&d);

  float v[3] = {1, 2, 3};
  write_npy(at("v.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", v, 12);
  cr_assert_eq(ae_dataset_load(at("v.npy"), 0, 2, 0, &d), 0, "%s", ae_last_error());
  cr_assert(d.x->shape.ndim == 2 && d.x->shape.d[0] == 2 && d.x->shape.d[1] == 1);
  cr_assert_eq(d.x->data[1], 2);
  ae_dataset_free(&d);

  float rows[2 * 4] = {0, 1, 2, 3, 4, 5, NAN, 7};
  write_npy(at("nan.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", rows, 32);
  cr_assert_eq(ae_dataset_load(at("nan.npy"), 0, 0, 0, &d), -1);
  ASSERT_ERR("nan.npy");
  ASSERT_ERR("example 1, position (2) is NaN");
  cr_assert_null(d.x);
  /* the NaN is past the limit: fine */
  cr_assert_eq(ae_dataset_load(at("nan.npy"), 0, 1, 0, &d), 0, "%s", ae_last_error());
  ae_dataset_free(&d);

  write_npy(at("s.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", v, 4);
  cr_assert_eq(ae_dataset_load(at("s.npy"), 0, 0, 0, &d), -1);
  ASSERT_ERR("single scalar");
  write_file(at("bad.npy"), "not numpy at all", 16);
  cr_assert_eq(ae_dataset_load(at("bad.npy"), 0, 0, 0, &d), -1);
  ASSERT_ERR("bad magic");
}

Test(dataset, check_finite_names_example_and_position) {
  ae_dataset d = {0};
  d.x = ae_tensor_new(AE_SHAPE(3, 1, 2, 2));
  snprintf(d.name, sizeof d.name, "demo");
  cr_assert_eq(ae_dataset_check_finite(&d), 0);
  d.x->data[2 * 4 + 3] = (ae_real)INFINITY;
  cr_assert_eq(ae_dataset_check_finite(&d), -1);
  ASSERT_ERR("demo: example 2, position (0,1,1) is Inf");
  ae_dataset_free(&d);
}

/* ---- synthetic sets -------------------------------------------------------- */

Test(dataset, synthetic_sets_reproducible_shaped_in_unit_range) {
  const char *names[] = {"spiral", "swissroll", "sines"};
  for (int k = 0; k < 3; k++) {
    ae_dataset a, b, c, t, p;
    cr_assert_eq(ae_dataset_load(names[k], 0, 0, 7, &a), 0, "%s", ae_last_error());
    cr_assert_eq(ae_dataset_load(names[k], 0, 0, 7, &b), 0, "%s", ae_last_error());
    cr_assert_eq(ae_dataset_load(names[k], 0, 0, 8, &c), 0, "%s", ae_last_error());
    cr_assert_eq(ae_dataset_load(names[k], 1, 0, 7, &t), 0, "%s", ae_last_error());
    cr_assert_eq(ae_dataset_load(names[k], 0, 10, 7, &p), 0, "%s", ae_last_error());
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
  cr_assert_eq(ae_dataset_load("swissroll", 0, 0, 3, &d), 0, "%s", ae_last_error());
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
  cr_assert_eq(ae_dataset_load("sines", 0, 50, 3, &d), 0, "%s", ae_last_error());
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
