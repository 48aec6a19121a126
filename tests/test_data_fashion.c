/* test_data_fashion.c: the real Fashion-MNIST from Debian's
 * dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist, which
 * scripts/test installs): sizes, shapes, range, class counts and checksums
 * of the first images, computed independently with Python:
 *   python3 -c "import gzip; d=gzip.open('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz').read();
 *               p=d[16:16+784]; print(sum(p), sum((i+1)*b for i,b in enumerate(p)), sum(d[16:]))"
 * (and the same for t10k-images; labels from d[8:] of the labels files).
 * The load time is logged, not asserted: speed belongs in benchmarks.
 * A missing directory fails the test with a message: it is never skipped. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aezoo.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static double now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct expect {
  int64_t n;
  int per_class;
  int64_t first_sum, first_weighted, all_sum;
  int first_labels[10];
} expect;

static void check_split(int split, const expect *e) {
  struct stat st;
  cr_assert(stat(FASHION_DIR, &st) == 0 && S_ISDIR(st.st_mode),
            FASHION_DIR " is missing: install Debian's dataset-fashion-mnist (scripts/test does)");
  unsetenv("AEZOO_DATA");
  ae_dataset d;
  /* CPU time (all threads), not wall time: the suite runs tests side by
   * side, and a loaded machine must not make this fail. Unloaded, the
   * train split takes about 0.3 s, most of it in zlib's inflate. */
  double w0 = now(CLOCK_MONOTONIC), t0 = now(CLOCK_PROCESS_CPUTIME_ID);
  cr_assert_eq(ae_dataset_load("fashion-mnist", split, 0, 0, &d), 0, "%s", ae_last_error());
  double dt = now(CLOCK_PROCESS_CPUTIME_ID) - t0, wall = now(CLOCK_MONOTONIC) - w0;
  cr_log_info("fashion-mnist split %d loaded in %.3f CPU s, %.3f s wall", split, dt, wall);
  cr_assert_str_eq(d.name, "fashion-mnist");
  cr_assert_eq(d.x->shape.ndim, 4);
  cr_assert(d.x->shape.d[0] == e->n && d.x->shape.d[1] == 1 && d.x->shape.d[2] == 28 && d.x->shape.d[3] == 28);
  cr_assert_not_null(d.labels);
  cr_assert_eq(d.nclasses, 10);
  /* pixels: exactly byte/255, so round(x*255) gives the bytes back */
  int64_t first_sum = 0, first_weighted = 0, all_sum = 0, bad = -1;
  for (int64_t i = 0; i < d.x->numel; i++) {
    ae_real v = d.x->data[i];
    long b = lround(v * 255.0);
    if (!(v >= 0 && v <= 1) || (ae_real)(b / 255.0) != v) {
      bad = i;
      break;
    }
    all_sum += b;
    if (i < 784) {
      first_sum += b;
      first_weighted += (i + 1) * b;
    }
  }
  cr_assert_eq(bad, -1, "pixel %lld = %g is not a multiple of 1/255 in [0,1]", (long long)bad,
               bad >= 0 ? (double)d.x->data[bad] : 0.0);
  cr_assert_eq(first_sum, e->first_sum);
  cr_assert_eq(first_weighted, e->first_weighted);
  cr_assert_eq(all_sum, e->all_sum);
  int count[10] = {0};
  for (int64_t i = 0; i < e->n; i++) {
    cr_assert(d.labels[i] >= 0 && d.labels[i] <= 9);
    count[d.labels[i]]++;
  }
  for (int c = 0; c < 10; c++) cr_assert_eq(count[c], e->per_class, "class %d: %d", c, count[c]);
  for (int i = 0; i < 10; i++) cr_assert_eq(d.labels[i], e->first_labels[i]);
  ae_dataset_free(&d);

  /* limit: the same first examples */
  cr_assert_eq(ae_dataset_load("fashion-mnist", split, 3, 0, &d), 0, "%s", ae_last_error());
  cr_assert_eq(d.x->shape.d[0], 3);
  cr_assert_eq(d.labels[2], e->first_labels[2]);
  ae_dataset_free(&d);
}

Test(fashion, train_split) {
  expect e = {60000, 6000, 76247, 35954273, 3431114169LL, {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}};
  check_split(0, &e);
}

Test(fashion, test_split) {
  expect e = {10000, 1000, 33456, 16008570, 573469082LL, {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}};
  check_split(1, &e);
}

Test(fashion, named_directory_and_idx_path_spec) {
  ae_dataset d;
  cr_assert_eq(ae_dataset_load("fashion-mnist:" FASHION_DIR, 1, 5, 0, &d), 0, "%s", ae_last_error());
  cr_assert_eq(d.labels[4], 6);
  ae_dataset_free(&d);
  cr_assert_eq(ae_dataset_load(FASHION_DIR "/t10k-images-idx3-ubyte.gz", 0, 0, 0, &d), 0, "%s", ae_last_error());
  cr_assert_eq(d.x->shape.d[0], 10000);
  cr_assert_not_null(d.labels, "labels found next to the images file");
  cr_assert_eq(d.labels[1], 2);
  ae_dataset_free(&d);
}
