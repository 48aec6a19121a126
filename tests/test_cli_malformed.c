/* test_cli_malformed.c: end-to-end tests of malformed input to the aezoo
 * command: truncated, wrong-magic and otherwise broken IDX files and .npy
 * headers given as --data, and truncated, corrupt or inconsistent
 * safetensors checkpoints given to eval, reconstruct, sample, encode and
 * to train's --init and --resume. Each must end in a non-zero exit status
 * (1: the input is bad; never a signal) with one line on stderr naming the
 * file and the problem, and must write no output file. Each group has a
 * well-formed control input that must work, so a broken loader cannot pass
 * by rejecting everything. Files are built here byte by byte (IDX, .npy)
 * or with the safetensors writer from a real checkpoint of a tiny run. */
#include <zlib.h>

#include "cli_test_util.h"
#include "io/safetensors.h"

TestSuite(cli_malformed, .init = cli_tmp_make, .fini = cli_tmp_drop, .timeout = 120);

/* ---- IDX ---------------------------------------------------------------- */

/* An IDX header: magic 0 0 type ndim, then ndim big-endian dimensions. */
static size_t idx_header(unsigned char *b, int m0, int m1, int type, int ndim, const uint32_t *dims) {
  b[0] = (unsigned char)m0, b[1] = (unsigned char)m1, b[2] = (unsigned char)type, b[3] = (unsigned char)ndim;
  for (int i = 0; i < ndim; i++)
    for (int k = 0; k < 4; k++) b[4 + 4 * i + k] = (unsigned char)(dims[i] >> (24 - 8 * k));
  return 4 + 4 * (size_t)ndim;
}

/* An IDX file of 10 images 4x4 (uint8) with the given header fields, `data` bytes of pixels. */
static const char *idx_file(const char *name, int m0, int m1, int type, int ndim, size_t data) {
  unsigned char b[512];
  const uint32_t dims[3] = {10, 4, 4};
  size_t n = idx_header(b, m0, m1, type, ndim, dims);
  for (size_t i = 0; i < data; i++) b[n + i] = (unsigned char)(i * 37);
  write_bytes(tmp_path(name), b, n + data);
  return tmp_path(name);
}

static void gzip_prefix(const char *src, const char *dst, double keep) {
  int64_t n = file_size(src);
  char *buf = malloc((size_t)n);
  FILE *f = fopen(src, "rb");
  cr_assert(f && fread(buf, 1, (size_t)n, f) == (size_t)n);
  fclose(f);
  uLongf zn = compressBound((uLong)n) + 64;
  unsigned char *z = malloc(zn);
  /* a gzip stream: deflateInit2 with window bits 16 + 15 */
  z_stream s = {0};
  cr_assert_eq(deflateInit2(&s, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  s.next_in = (unsigned char *)buf, s.avail_in = (uInt)n, s.next_out = z, s.avail_out = (uInt)zn;
  cr_assert_eq(deflate(&s, Z_FINISH), Z_STREAM_END);
  size_t zlen = s.total_out;
  deflateEnd(&s);
  write_bytes(dst, z, (size_t)((double)zlen * keep));
  free(buf);
  free(z);
}

/* `aezoo train ae --data FILE` and `aezoo eval RUN --data FILE` both fail with `msg`. */
static void data_rejected(const char *run, const char *file, const char *msg) {
  cr_assert_eq(AEZOO("train", "ae", "--data", file, "--steps", "1", "--out", tmp_path("never"), "--quiet"), 1,
               "train --data %s: %s", file, err_now());
  ERR_IS_ONE_LINE_WITH(msg);
  cr_assert_eq(file_size(tmp_path("never/model.safetensors")), -1);
  cr_assert_eq(AEZOO("eval", run, "--data", file), 1, "eval --data %s: %s", file, err_now());
  ERR_IS_ONE_LINE_WITH(msg);
  cr_assert_eq(AEZOO("encode", run, "--data", file, "--out", tmp_path("never.npy")), 1);
  ERR_IS_ONE_LINE_WITH(msg);
  cr_assert_eq(file_size(tmp_path("never.npy")), -1);
}

Test(cli_malformed, idx_files_truncated_wrong_magic_bad_type) {
  /* the control: a well-formed file trains, and its run evaluates */
  const char *good = idx_file("good-idx3-ubyte", 0, 0, 0x08, 3, 160), *run = tmp_path("run");
  cr_assert_eq(AEZOO("train", "ae", "--data", good, "--set", "hidden=4,2", "--steps", "2", "--out", run, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("eval", run, "--data", good), 0, "%s", err_now());

  data_rejected(run, idx_file("short-idx3-ubyte", 0, 0, 0x08, 3, 100),
                "short-idx3-ubyte: truncated: the header says 10x4x4 uint8, 160 data bytes");
  data_rejected(run, idx_file("long-idx3-ubyte", 0, 0, 0x08, 3, 170), "long-idx3-ubyte");
  data_rejected(run, idx_file("magic-idx3-ubyte", 1, 2, 0x08, 3, 160),
                "magic-idx3-ubyte: not an IDX file: wrong magic number 0x01020803");
  data_rejected(run, idx_file("type-idx3-ubyte", 0, 0, 0x07, 3, 160), "type-idx3-ubyte: bad IDX type byte 0x07");
  data_rejected(run, idx_file("head-idx3-ubyte", 0, 0, 0x08, 3, 0), "head-idx3-ubyte");
  write_bytes(tmp_path("tiny-idx3-ubyte"), "\0\0\x08", 3);
  data_rejected(run, tmp_path("tiny-idx3-ubyte"), "tiny-idx3-ubyte");
  /* gzipped: whole (works) and cut short (rejected) */
  gzip_prefix(good, tmp_path("good-idx3-ubyte.gz"), 1.0);
  cr_assert_eq(AEZOO("eval", run, "--data", tmp_path("good-idx3-ubyte.gz")), 0, "%s", err_now());
  gzip_prefix(good, tmp_path("cut-idx3-ubyte.gz"), 0.5);
  data_rejected(run, tmp_path("cut-idx3-ubyte.gz"), "cut-idx3-ubyte.gz");
  /* a directory without the IDX files */
  cr_assert_eq(AEZOO("eval", run, "--data", tmp_path("run")), 1);
  ERR_IS_ONE_LINE_WITH("no t10k-images-idx3-ubyte.gz (or t10k-images-idx3-ubyte) in");
}

/* ---- .npy --------------------------------------------------------------- */

/* A .npy file: magic, version, header length (`hlen` < 0: the true one), the
 * header dict padded to 64 bytes with spaces and '\n', then `data` bytes of
 * 0.5f floats (`nan`: one NaN among them). */
static const char *npy_file(const char *name, const char *magic, int major, const char *dict, long hlen, size_t data,
                            int nan) {
  unsigned char b[1024];
  size_t dl = strlen(dict), pad = (64 - (10 + dl + 1) % 64) % 64, n = 0;
  memcpy(b, magic, 6);
  b[6] = (unsigned char)major, b[7] = 0;
  size_t len = dl + pad + 1;
  long L = hlen < 0 ? (long)len : hlen;
  b[8] = (unsigned char)(L & 255), b[9] = (unsigned char)((L >> 8) & 255);
  n = 10;
  memcpy(b + n, dict, dl);
  n += dl;
  memset(b + n, ' ', pad);
  n += pad;
  b[n++] = '\n';
  for (size_t i = 0; i < data / 4; i++) {
    float v = nan && i == 5 ? __builtin_nanf("") : 0.5f;
    memcpy(b + n + 4 * i, &v, 4);
  }
  write_bytes(tmp_path(name), b, n + data);
  return tmp_path(name);
}
#define DICT(descr, shape) "{'descr': '" descr "', 'fortran_order': False, 'shape': " shape ", }"

Test(cli_malformed, npy_files_with_bad_headers) {
  const char *good = npy_file("good.npy", "\x93NUMPY", 1, DICT("<f4", "(6, 4)"), -1, 96, 0), *run = tmp_path("run");
  cr_assert_eq(AEZOO("train", "ae", "--data", good, "--set", "hidden=4,2", "--steps", "2", "--out", run, "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("eval", run, "--data", good), 0, "%s", err_now());

  data_rejected(run, npy_file("magic.npy", "\x93NUMPX", 1, DICT("<f4", "(6, 4)"), -1, 96, 0),
                "magic.npy: not a .npy file: bad magic");
  data_rejected(run, npy_file("version.npy", "\x93NUMPY", 9, DICT("<f4", "(6, 4)"), -1, 96, 0),
                "version.npy: unsupported .npy version 9.0");
  data_rejected(run, npy_file("hlen.npy", "\x93NUMPY", 1, DICT("<f4", "(6, 4)"), 5000, 96, 0),
                "hlen.npy: header length 5000 runs past the end of the file");
  data_rejected(run,
                npy_file("key.npy", "\x93NUMPY", 1,
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 4), 'x': 1}", -1, 96, 0),
                "key.npy: bad header dict: unknown key 'x'");
  data_rejected(run, npy_file("nokey.npy", "\x93NUMPY", 1, "{'descr': '<f4', 'shape': (6, 4), }", -1, 96, 0),
                "nokey.npy: bad header dict");
  data_rejected(run, npy_file("tuple.npy", "\x93NUMPY", 1, DICT("<f4", "(6, 4"), -1, 96, 0),
                "tuple.npy: bad header dict");
  data_rejected(run, npy_file("notdict.npy", "\x93NUMPY", 1, "[1, 2, 3]", -1, 96, 0), "notdict.npy");
  data_rejected(run, npy_file("dtype.npy", "\x93NUMPY", 1, DICT("<i8", "(6, 4)"), -1, 96, 0),
                "dtype.npy: unsupported dtype '<i8'");
  data_rejected(run, npy_file("zero.npy", "\x93NUMPY", 1, DICT("<f4", "(0, 4)"), -1, 0, 0), "zero.npy");
  data_rejected(run, npy_file("rank.npy", "\x93NUMPY", 1, DICT("<f4", "(1, 1, 1, 1, 6, 4)"), -1, 96, 0),
                "rank.npy");
  data_rejected(run, npy_file("short.npy", "\x93NUMPY", 1, DICT("<f4", "(6, 4)"), -1, 88, 0),
                "short.npy: truncated data: shape (6,4) of '<f4' needs 96 bytes after the header, the file has 88");
  data_rejected(run, npy_file("trailing.npy", "\x93NUMPY", 1, DICT("<f4", "(6, 4)"), -1, 100, 0), "trailing.npy");
  data_rejected(run, npy_file("nan.npy", "\x93NUMPY", 1, DICT("<f4", "(6, 4)"), -1, 96, 1), "is NaN");
  write_bytes(tmp_path("empty.npy"), "", 0);
  data_rejected(run, tmp_path("empty.npy"), "empty.npy");
  /* well-formed but the wrong shape for the run: exit 1, naming both shapes */
  cr_assert_eq(AEZOO("eval", run, "--data", npy_file("wide.npy", "\x93NUMPY", 1, DICT("<f4", "(4, 6)"), -1, 96, 0)),
               1);
  ERR_IS_ONE_LINE_WITH("have shape (6,); the checkpoint's model ae takes (4,)");
}

/* ---- safetensors checkpoints --------------------------------------------- */

/* Writes dst with the tensors of `tensors` (all but `drop`; plus an extra
 * one when `extra`) and the metadata of `meta_from`, with key `mkey` set to
 * `mval` (NULL: removed). */
static void rewrite(const char *meta_from, const char *tensors, const char *drop, int extra, const char *mkey,
                    const char *mval, const char *dst) {
  ae_st_file *fm = ae_st_read(meta_from), *ft = ae_st_read(tensors);
  cr_assert(fm && ft, "%s", ae_last_error());
  ae_st_writer *w = ae_st_writer_new();
  ae_tensor *keep[64]; /* the writer keeps pointers to the data until it saves */
  int nkeep = 0;
  for (int i = 0; i < ae_st_count(ft) && nkeep < 64; i++) {
    const ae_st_tensor *t = ae_st_get(ft, i);
    if (drop && strcmp(t->name, drop) == 0) continue;
    ae_tensor *x = keep[nkeep++] = ae_st_load_tensor(ft, t->name);
    cr_assert(x, "%s", ae_last_error());
    cr_assert_eq(ae_st_writer_add(w, t->name, x->shape, x->data), 0);
  }
  static const ae_real z[3] = {1, 2, 3};
  if (extra) cr_assert_eq(ae_st_writer_add(w, "extra.weight", AE_SHAPE(3), z), 0);
  for (int i = 0; i < ae_st_meta_count(fm); i++) {
    const char *k = ae_st_meta_key(fm, i);
    if (mkey && strcmp(k, mkey) == 0) continue;
    cr_assert_eq(ae_st_writer_meta(w, k, ae_st_meta(fm, k)), 0);
  }
  if (mkey && mval) cr_assert_eq(ae_st_writer_meta(w, mkey, mval), 0);
  cr_assert_eq(ae_st_writer_save(w, dst), 0, "%s", ae_last_error());
  ae_st_writer_free(w);
  for (int i = 0; i < nkeep; i++) ae_tensor_free(keep[i]);
  ae_st_free(fm);
  ae_st_free(ft);
}

/* eval, reconstruct and encode on ckpt fail with exit 1 and `msg`, writing nothing. */
static void ckpt_rejected(const char *ckpt, const char *msg) {
  cr_assert_eq(AEZOO("eval", ckpt), 1, "eval %s: %s", ckpt, err_now());
  ERR_IS_ONE_LINE_WITH(msg);
  cr_assert_eq(AEZOO("reconstruct", ckpt, "--out", tmp_path("never.png")), 1);
  ERR_IS_ONE_LINE_WITH(msg);
  cr_assert_eq(file_size(tmp_path("never.png")), -1);
  cr_assert_eq(AEZOO("encode", ckpt, "--out", tmp_path("never.npy")), 1);
  ERR_IS_ONE_LINE_WITH(msg);
  cr_assert_eq(file_size(tmp_path("never.npy")), -1);
}

Test(cli_malformed, truncated_and_corrupt_checkpoints) {
  const char *run = tmp_path("run");
  char model[600];
  snprintf(model, sizeof model, "%s/model.safetensors", run);
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "3", "--out", run,
                     "--quiet"),
               0, "%s", err_now());
  cr_assert_eq(AEZOO("eval", model), 0, "the control: %s", err_now());
  int64_t size = file_size(model);
  cr_assert_gt(size, 100);

  copy_prefix(model, tmp_path("t4.safetensors"), 4);
  ckpt_rejected(tmp_path("t4.safetensors"), "t4.safetensors: 4 bytes, too short for a safetensors file");
  copy_prefix(model, tmp_path("t40.safetensors"), 40);
  ckpt_rejected(tmp_path("t40.safetensors"), "t40.safetensors: header length");
  copy_prefix(model, tmp_path("tdata.safetensors"), (size_t)size - 4);
  ckpt_rejected(tmp_path("tdata.safetensors"), "tdata.safetensors: tensor");
  write_bytes(tmp_path("garbage.safetensors"), "garbage! this is not a checkpoint", 33);
  ckpt_rejected(tmp_path("garbage.safetensors"), "garbage.safetensors");
  /* a corrupt byte inside the JSON header */
  copy_prefix(model, tmp_path("json.safetensors"), (size_t)size);
  {
    FILE *f = fopen(tmp_path("json.safetensors"), "r+b");
    cr_assert(f);
    fseek(f, 8, SEEK_SET);
    fputc('[', f);
    fclose(f);
  }
  ckpt_rejected(tmp_path("json.safetensors"), "json.safetensors");
  /* a run directory without a checkpoint, and no such path */
  cr_assert_eq(AEZOO("eval", tmp_path("")), 1);
  ERR_IS_ONE_LINE_WITH("model.safetensors: cannot open");
  cr_assert_eq(AEZOO("eval", tmp_path("nowhere")), 1);
  ERR_IS_ONE_LINE_WITH("nowhere: cannot open");
  /* sample reads the metadata first: a truncated file is a load error (1), not a usage error */
  cr_assert_eq(AEZOO("sample", tmp_path("t40.safetensors"), "--out", tmp_path("never.png")), 1);
  ERR_IS_ONE_LINE_WITH("t40.safetensors: header length");
}

Test(cli_malformed, inconsistent_checkpoints) {
  const char *a = tmp_path("a"), *b = tmp_path("b");
  char ma[600], mb[600];
  snprintf(ma, sizeof ma, "%s/model.safetensors", a);
  snprintf(mb, sizeof mb, "%s/model.safetensors", b);
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "2", "--out", a, "--quiet"),
               0);
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=5,2", "--steps", "2", "--out", b, "--quiet"),
               0);
  /* the control: a faithful rewrite loads */
  rewrite(ma, ma, NULL, 0, NULL, NULL, tmp_path("same.safetensors"));
  cr_assert_eq(AEZOO("eval", tmp_path("same.safetensors")), 0, "%s", err_now());

  /* settings say hidden=8,2, tensors are hidden=5,2 */
  rewrite(ma, mb, NULL, 0, NULL, NULL, tmp_path("mixed.safetensors"));
  ckpt_rejected(tmp_path("mixed.safetensors"), "mixed.safetensors: tensor 'encoder.0.weight' has shape (5,2); model "
                                               "ae expects (8,2)");
  rewrite(ma, ma, "decoder.2.bias", 0, NULL, NULL, tmp_path("missing.safetensors"));
  ckpt_rejected(tmp_path("missing.safetensors"), "missing.safetensors: tensor 'decoder.2.bias' is missing");
  rewrite(ma, ma, NULL, 1, NULL, NULL, tmp_path("extra.safetensors"));
  ckpt_rejected(tmp_path("extra.safetensors"), "extra.safetensors: unexpected tensor 'extra.weight'");
  rewrite(ma, ma, NULL, 0, "format", NULL, tmp_path("noformat.safetensors"));
  ckpt_rejected(tmp_path("noformat.safetensors"), "noformat.safetensors: not an aezoo checkpoint");
  rewrite(ma, ma, NULL, 0, "model", "nope", tmp_path("nomodel.safetensors"));
  ckpt_rejected(tmp_path("nomodel.safetensors"), "nope");
  rewrite(ma, ma, NULL, 0, "settings", "hidden=8,2 bogus=1", tmp_path("setting.safetensors"));
  ckpt_rejected(tmp_path("setting.safetensors"), "bogus");
  rewrite(ma, ma, NULL, 0, "example", "2,x", tmp_path("example.safetensors"));
  ckpt_rejected(tmp_path("example.safetensors"), "example");
  rewrite(ma, ma, NULL, 0, "step", "many", tmp_path("step.safetensors"));
  ckpt_rejected(tmp_path("step.safetensors"), "step");
  rewrite(ma, ma, NULL, 0, "seed", NULL, tmp_path("noseed.safetensors"));
  ckpt_rejected(tmp_path("noseed.safetensors"), "seed");
  /* sample checks the model before loading: a model that cannot generate (no prior, no decoder) is a usage
   * error (2) */
  rewrite(ma, ma, NULL, 0, "model", "deconv-ae", tmp_path("deconv.safetensors"));
  cr_assert_eq(AEZOO("sample", tmp_path("deconv.safetensors"), "--out", tmp_path("never.png")), 2);
  ERR_IS_ONE_LINE_WITH("model deconv-ae is not generative");
  rewrite(ma, ma, NULL, 0, "model", "vae", tmp_path("vae.safetensors"));
  cr_assert_eq(AEZOO("sample", tmp_path("vae.safetensors"), "--out", tmp_path("never.png")), 1);
  ERR_IS_ONE_LINE_WITH("vae.safetensors");
  cr_assert_eq(file_size(tmp_path("never.png")), -1);
}

Test(cli_malformed, damaged_files_for_init_and_resume) {
  const char *run = tmp_path("run");
  char model[600];
  snprintf(model, sizeof model, "%s/model.safetensors", run);
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "6", "--stop-after", "3",
                     "--out", run, "--quiet"),
               0, "%s", err_now());
  int64_t size = file_size(model);
  copy_prefix(model, tmp_path("half.safetensors"), (size_t)size / 2);
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "1", "--init",
                     tmp_path("half.safetensors"), "--out", tmp_path("x"), "--quiet"),
               1);
  ERR_IS_ONE_LINE_WITH("half.safetensors");
  cr_assert_eq(file_size(tmp_path("x/model.safetensors")), -1);
  write_bytes(tmp_path("junk.safetensors"), "\x10\0\0\0\0\0\0\0{\"a\":1}        ", 24);
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "1", "--init",
                     tmp_path("junk.safetensors"), "--out", tmp_path("y"), "--quiet"),
               1);
  ERR_IS_ONE_LINE_WITH("junk.safetensors");
  /* resume from a run whose model file lost its tail: rejected, and left as it was */
  copy_prefix(model, tmp_path("keep.safetensors"), (size_t)size);
  copy_prefix(tmp_path("keep.safetensors"), model, (size_t)size - 8);
  cr_assert_eq(AEZOO("train", "--resume", run, "--quiet"), 1);
  ERR_IS_ONE_LINE_WITH("model.safetensors");
  cr_assert_eq(file_size(model), size - 8);
  /* resume from a run whose optimizer file is garbage */
  copy_prefix(tmp_path("keep.safetensors"), model, (size_t)size);
  char opt[600];
  snprintf(opt, sizeof opt, "%s/optimizer.safetensors", run);
  write_bytes(opt, "nonsense", 8);
  cr_assert_eq(AEZOO("train", "--resume", run, "--quiet"), 1);
  ERR_IS_ONE_LINE_WITH("optimizer.safetensors");
  /* eval does not need the optimizer file */
  cr_assert_eq(AEZOO("eval", run), 0, "%s", err_now());
}

Test(cli_malformed, resume_checks_the_position_against_the_data_before_reading_it) {
  const char *run = tmp_path("pos");
  char model[600];
  snprintf(model, sizeof model, "%s/model.safetensors", run);
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--epochs", "3", "--limit", "256",
                     "--stop-after", "3", "--out", run, "--quiet"),
               0, "%s", err_now());
  const char *keep = tmp_path("pos.safetensors");
  copy_prefix(model, keep, (size_t)file_size(model));
  /* a position past the end of the epoch (the batch array) */
  rewrite(keep, keep, NULL, 0, "step_in_epoch", "100000", model);
  cr_assert_eq(AEZOO("train", "--resume", run, "--quiet"), 1);
  ERR_IS_ONE_LINE_WITH("does not fit");
  /* the data lost rows: its fingerprint differs */
  rewrite(keep, keep, NULL, 0, NULL, NULL, model);
  cr_assert_eq(AEZOO("train", "--resume", run, "--limit", "128", "--quiet"), 2);
  ERR_IS_ONE_LINE_WITH("--limit 128 differs from the checkpoint's 256");
  rewrite(keep, keep, NULL, 0, "data_rows", "300", model);
  cr_assert_eq(AEZOO("train", "--resume", run, "--quiet"), 1);
  ERR_IS_ONE_LINE_WITH("training data differs");
}

Test(cli_malformed, a_checkpoint_whose_settings_cannot_fit_is_refused_before_building) {
  const char *run = tmp_path("big");
  char model[600];
  snprintf(model, sizeof model, "%s/model.safetensors", run);
  cr_assert_eq(AEZOO("train", "ae", "--data", "spiral", "--set", "hidden=8,2", "--steps", "2", "--out", run,
                     "--quiet", "--no-pictures"),
               0, "%s", err_now());
  const char *keep = tmp_path("big.safetensors");
  copy_prefix(model, keep, (size_t)file_size(model));
  /* a small file whose metadata claims a model of ~200000 x 200000 */
  rewrite(keep, keep, NULL, 0, "settings", "hidden=200000,200000,2 activation=relu loss=mse weight_decay=0", model);
  cr_assert_eq(AEZOO("eval", run, "--max-memory", "1G"), 1);
  ERR_IS_ONE_LINE_WITH("these settings need about");
  cr_assert_eq(AEZOO("train", "--resume", run, "--max-memory", "1G", "--quiet"), 1);
  ERR_IS_ONE_LINE_WITH("these settings need about");
}
