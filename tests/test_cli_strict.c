/* test_cli_strict.c: the aezoo command is strict about what it is given.
 * Lenient readings that used to pass (hidden=1,,2 read as 1,2; --data ''
 * training on Fashion-MNIST; --lr 0x10 read as 16; a repeated --set
 * keeping the last) are one-line errors with exit status 2; special files
 * given as data or --init (a character device, a FIFO, a directory) are
 * named for what they are, without hanging; settings whose estimated
 * memory exceeds --max-memory (or the available memory) are refused with
 * the estimate before anything is allocated, while the defaults train. */
#include <sys/stat.h>

#include "aezoo.h"
#include "cli_test_util.h"

TestSuite(cli_strict, .init = cli_tmp_make, .fini = cli_tmp_drop, .timeout = 120);

static int is_there(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

static void usage_error(const char *const *args, const char *want) {
  cr_assert_eq(cli_run(args), 2, "%s %s: %s", args[0], args[1], err_now());
  ERR_IS_ONE_LINE_WITH(want);
}
#define USAGE_ERROR(want, ...) usage_error((const char *const[]){__VA_ARGS__, NULL}, want)

Test(cli_strict, lenient_values_are_usage_errors) {
  const char *out = tmp_path("never");
  USAGE_ERROR("element 2 of the list is empty", "train", "ae", "--set", "hidden=1,,2", "--data", "spiral", "--out",
              out);
  USAGE_ERROR("element 1 of the list is empty", "train", "ae", "--set", "hidden=,2", "--data", "spiral", "--out", out);
  USAGE_ERROR("--data: the value is empty", "train", "ae", "--data", "", "--out", out);
  USAGE_ERROR("--data: the value is empty", "train", "ae", "--data=", "--out", out);
  USAGE_ERROR("--set: the value is empty", "train", "ae", "--set", "", "--out", out);
  USAGE_ERROR("'0x10' is not a finite number", "train", "ae", "--lr", "0x10", "--data", "spiral", "--out", out);
  USAGE_ERROR("'inf' is not a finite number", "train", "ae", "--lr", "inf", "--out", out);
  USAGE_ERROR("'nan' is not a finite number", "train", "ae", "--lr", "nan", "--out", out);
  USAGE_ERROR("'0x10' is not an integer", "train", "ae", "--steps", "0x10", "--out", out);
  USAGE_ERROR("' 5' is not an integer", "train", "ae", "--steps", " 5", "--out", out);
  USAGE_ERROR("weight_decay=0x1", "train", "ae", "--set", "weight_decay=0x1", "--out", out);
  USAGE_ERROR("weight_decay=nan", "train", "ae", "--set", "weight_decay=nan", "--out", out);
  USAGE_ERROR("hidden given twice", "train", "ae", "--set", "hidden=3", "--set", "hidden=4", "--data", "spiral",
              "--out", out);
  USAGE_ERROR("probes=1000000", "train", "cae", "--set", "probes=1000000", "--out", out);
  USAGE_ERROR("hidden given twice", "gradcheck", "ae", "--set", "hidden=3", "--set", "hidden=4");
  USAGE_ERROR("--max-memory: '2X' is not a size", "train", "ae", "--max-memory", "2X", "--out", out);
  USAGE_ERROR("--max-memory given twice", "train", "ae", "--max-memory", "2G", "--max-memory=3G", "--out", out);
  USAGE_ERROR("unknown option '--max-memory'", "list", "--max-memory", "2G");
  cr_assert(!is_there(out));
}

Test(cli_strict, special_files_are_named) {
  const char *out = tmp_path("never");
  cr_assert_eq(AEZOO("train", "ae", "--data", "/dev/zero", "--steps", "1", "--out", out, "--quiet"), 1);
  ERR_IS_ONE_LINE_WITH("is a character device");
  cr_assert_eq(mkfifo(tmp_path("fifo"), 0600), 0);
  cr_assert_eq(AEZOO("train", "ae", "--data", tmp_path("fifo"), "--steps", "1", "--out", out, "--quiet"), 1);
  ERR_IS_ONE_LINE_WITH("is a FIFO");
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--init", tmp_path("fifo"), "--steps", "1", "--out", out,
                     "--quiet"),
               1);
  ERR_IS_ONE_LINE_WITH("is a FIFO");
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--init", cli_tmp, "--steps", "1", "--out", out, "--quiet"),
               1);
  ERR_IS_ONE_LINE_WITH("is a directory");
  cr_assert(!is_there(tmp_path("never/model.safetensors")));
}

Test(cli_strict, memory_estimate_refuses_huge_models_and_accepts_defaults) {
  /* two 28x28 images */
  ae_tensor *x = ae_tensor_new(AE_SHAPE(2, 28, 28));
  for (int64_t i = 0; i < x->numel; i++) x->data[i] = (ae_real)(i % 7) / 7;
  const char *data = tmp_path("two.npy");
  cr_assert_eq(ae_npy_write(data, x), 0, "%s", ae_last_error());
  ae_tensor_free(x);
  const char *out = tmp_path("run");
  cr_assert_eq(AEZOO("train", "ae", "--data", data, "--set", "hidden=1000000", "--steps", "1", "--max-memory", "8G",
                     "--out", out, "--quiet"),
               1, "%s", err_now());
  ERR_IS_ONE_LINE_WITH("need about");
  ERR_IS_ONE_LINE_WITH("more than the limit of 8.0 GiB");
  cr_assert(!is_there(tmp_path("run/model.safetensors")));
  /* the default limit is the available memory: ~25 GB do not fit on this kind of machine */
  const ae_model_def *d = ae_zoo_find("ae");
  ae_settings s;
  ae_settings_init(&s, d->settings, d->nsettings);
  cr_assert_eq(ae_settings_parse(&s, "hidden=1000000"), 0);
  if (ae_available_memory() < ae_model_footprint(d, &s, AE_SHAPE(1, 28, 28), 64)) {
    cr_assert_eq(AEZOO("train", "ae", "--data", data, "--set", "hidden=1000000", "--steps", "1", "--out", out,
                       "--quiet"),
                 1, "%s", err_now());
    ERR_IS_ONE_LINE_WITH("more than the available memory");
  }
  /* gradcheck builds models too */
  cr_assert_eq(AEZOO("gradcheck", "ae", "--set", "hidden=1000000", "--max-memory", "1G"), 1, "%s", err_now());
  ERR_IS_ONE_LINE_WITH("need about");
  /* the defaults fit in 1 GiB and train */
  cr_assert_eq(AEZOO("train", "ae", "--data", data, "--steps", "1", "--max-memory", "1G", "--out", out, "--quiet"), 0,
               "%s", err_now());
  cr_assert(is_there(tmp_path("run/model.safetensors")));
}
