/* test_safetensors.c: safetensors checkpoints (io/safetensors.h), in a
 * fresh mkdtemp directory per test. Write then read round-trips names,
 * shapes, data (bit-exact) and metadata; a one-tensor file matches the
 * format byte for byte (hand-computed); hand-made files with F64, F16 and
 * BF16 tensors in any header order read correctly; every malformed file is
 * rejected with a message naming the file and the problem; load_into names
 * a missing or misshapen tensor and both shapes; a save that fails or is
 * killed midway leaves the previous file intact, and a good save leaves no
 * temporary file behind. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aezoo.h"
#include "io_test_util.h"

TestSuite(st, .init = mkdir_tmp, .fini = rm_tmp);

/* A file with the given u64 header length, header text and data bytes. */
static void write_raw(const char *path, uint64_t hlen, const char *hdr, size_t hdrbytes, const void *data, size_t dlen) {
  static const unsigned char zeros[4096];
  if (!data) data = zeros;
  cr_assert(dlen <= sizeof zeros || data != zeros);
  FILE *f = fopen(path, "wb");
  cr_assert(f);
  unsigned char pre[8];
  for (int i = 0; i < 8; i++) pre[i] = (unsigned char)(hlen >> (8 * i));
  fwrite(pre, 1, 8, f);
  fwrite(hdr, 1, hdrbytes, f);
  if (dlen) fwrite(data, 1, dlen, f);
  fclose(f);
}

static void write_st(const char *path, const char *json, size_t dlen) {
  write_raw(path, strlen(json), json, strlen(json), NULL, dlen);
}

#ifdef AE_REAL_DOUBLE
#define DT AE_ST_F64
#else
#define DT AE_ST_F32
#endif

Test(st, roundtrip_names_shapes_data_metadata) {
  ae_real w[12], b[3], s[1] = {42.5}, big[2 * 3 * 4 * 5];
  for (int i = 0; i < 12; i++) w[i] = (ae_real)((i - 5) * 0.1234567 + 1e-30 * i);
  b[0] = (ae_real)-0.0;
  b[1] = (ae_real)INFINITY;
  b[2] = (ae_real)NAN;
  for (int i = 0; i < 120; i++) big[i] = (ae_real)sin(i * 1.7) * (ae_real)1e5;
  ae_st_writer *wr = ae_st_writer_new();
  cr_assert(ae_st_writer_add(wr, "enc.weight", AE_SHAPE(3, 4), w) == 0);
  cr_assert(ae_st_writer_add(wr, "enc.bias", AE_SHAPE(3), b) == 0);
  cr_assert(ae_st_writer_add(wr, "scalar", AE_SHAPE(), s) == 0);
  cr_assert(ae_st_writer_add(wr, "big", AE_SHAPE(2, 3, 4, 5), big) == 0);
  cr_assert(ae_st_writer_meta(wr, "model", "cae") == 0);
  cr_assert(ae_st_writer_meta(wr, "settings", "{\"hidden\": [256, 64], \"note\": \"a\\tb\nc\"} \xc3\xa9\xe2\x82\xac") == 0);
  cr_assert(ae_st_writer_meta(wr, "step", "1") == 0);
  cr_assert(ae_st_writer_meta(wr, "step", "1200") == 0); /* replaced */
  cr_assert(ae_st_writer_save(wr, at("m.safetensors")) == 0, "%s", ae_last_error());
  ae_st_writer_free(wr);
  cr_assert_eq(count_files(), 1, "a temporary file was left behind");

  ae_st_file *f = ae_st_read(at("m.safetensors"));
  cr_assert(f, "%s", ae_last_error());
  cr_assert_eq(ae_st_count(f), 4);
  const char *names[] = {"enc.weight", "enc.bias", "scalar", "big"};
  const int nd[] = {2, 1, 0, 4};
  for (int i = 0; i < 4; i++) { /* data in insertion order */
    const ae_st_tensor *t = ae_st_get(f, i);
    cr_assert_str_eq(t->name, names[i]);
    cr_assert_eq(t->ndim, nd[i]);
    cr_assert_eq(t->dtype, DT);
    cr_assert_eq(ae_st_find(f, names[i]), t);
  }
  const ae_st_tensor *t = ae_st_find(f, "big");
  cr_assert(t->shape[0] == 2 && t->shape[1] == 3 && t->shape[2] == 4 && t->shape[3] == 5 && t->numel == 120);
  cr_assert_eq(t->bytes, 120 * sizeof(ae_real));
  ae_real w2[12], b2[3], s2[1], big2[120];
  cr_assert(ae_st_load_into(f, "enc.weight", AE_SHAPE(3, 4), w2) == 0, "%s", ae_last_error());
  cr_assert(ae_st_load_into(f, "enc.bias", AE_SHAPE(3), b2) == 0, "%s", ae_last_error());
  cr_assert(ae_st_load_into(f, "scalar", AE_SHAPE(), s2) == 0, "%s", ae_last_error());
  cr_assert(ae_st_load_into(f, "big", AE_SHAPE(2, 3, 4, 5), big2) == 0, "%s", ae_last_error());
  cr_assert(memcmp(w, w2, sizeof w) == 0 && memcmp(b, b2, sizeof b) == 0 && memcmp(s, s2, sizeof s) == 0 &&
            memcmp(big, big2, sizeof big) == 0, "data not bit-exact");
  ae_tensor *bt = ae_st_load_tensor(f, "big");
  cr_assert(bt, "%s", ae_last_error());
  cr_assert(ae_shape_eq(bt->shape, AE_SHAPE(2, 3, 4, 5)) && memcmp(bt->data, big, sizeof big) == 0);
  ae_tensor_free(bt);
  cr_assert_eq(ae_st_meta_count(f), 3);
  cr_assert_str_eq(ae_st_meta(f, "model"), "cae");
  cr_assert_str_eq(ae_st_meta(f, "settings"), "{\"hidden\": [256, 64], \"note\": \"a\\tb\nc\"} \xc3\xa9\xe2\x82\xac");
  cr_assert_str_eq(ae_st_meta(f, "step"), "1200");
  cr_assert_null(ae_st_meta(f, "rng"));
  cr_assert_str_eq(ae_st_meta_key(f, 0), "model");
  ae_st_free(f);
}

/* One 2x2 tensor {1,2,3,4}: the header JSON is 57 bytes, padded with 7
 * spaces to 64; the length prefix is 64 little-endian. */
Test(st, byte_exact_small_file) {
  ae_real v[4] = {1, 2, 3, 4};
  ae_st_writer *wr = ae_st_writer_new();
  cr_assert(ae_st_writer_add(wr, "w", AE_SHAPE(2, 2), v) == 0);
  cr_assert(ae_st_writer_save(wr, at("w.safetensors")) == 0, "%s", ae_last_error());
  ae_st_writer_free(wr);
  size_t n;
  unsigned char *b = read_whole(at("w.safetensors"), &n);
#ifdef AE_REAL_DOUBLE
  const char *json = "{\"w\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":[0,32]}}       ";
  const unsigned char data[32] = {0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0x00, 0x40,
                                  0, 0, 0, 0, 0, 0, 0x08, 0x40, 0, 0, 0, 0, 0, 0, 0x10, 0x40};
#else
  const char *json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}       ";
  const unsigned char data[16] = {0, 0, 0x80, 0x3F, 0, 0, 0x00, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40};
#endif
  const unsigned char prefix[8] = {64, 0, 0, 0, 0, 0, 0, 0};
  cr_assert_eq(strlen(json), 64);
  cr_assert_eq(n, 8 + 64 + sizeof data);
  cr_assert(memcmp(b, prefix, 8) == 0, "length prefix");
  cr_assert(memcmp(b + 8, json, 64) == 0, "header: %.64s", (char *)b + 8);
  cr_assert(memcmp(b + 72, data, sizeof data) == 0, "data bytes");
  free(b);
}

Test(st, empty_writer_gives_valid_file) {
  ae_st_writer *wr = ae_st_writer_new();
  cr_assert(ae_st_writer_save(wr, at("e.safetensors")) == 0, "%s", ae_last_error());
  ae_st_writer_free(wr);
  size_t n;
  unsigned char *b = read_whole(at("e.safetensors"), &n);
  cr_assert(n == 16 && b[0] == 8 && memcmp(b + 8, "{}      ", 8) == 0);
  free(b);
  ae_st_file *f = ae_st_read(at("e.safetensors"));
  cr_assert(f, "%s", ae_last_error());
  cr_assert_eq(ae_st_count(f), 0);
  ae_st_free(f);
}

/* A file made by hand as another writer would: header order differs from
 * data order, F64 / F16 / BF16 tensors, a zero-size tensor, spaces and a
 * newline as padding. */
Test(st, reads_foreign_dtypes_and_order) {
  const char *json = "{\"h\": {\"dtype\": \"F16\", \"shape\": [3], \"data_offsets\": [8, 14]},\n"
                     " \"b\": {\"data_offsets\": [14, 18], \"shape\": [1, 2], \"dtype\": \"BF16\"},\n"
                     " \"z\": {\"dtype\": \"F32\", \"shape\": [0, 5], \"data_offsets\": [18, 18]},\n"
                     " \"__metadata__\": {\"format\": \"pt\"},\n"
                     " \"d\": {\"dtype\": \"F64\", \"shape\": [], \"data_offsets\": [0, 8]}}\n   ";
  unsigned char data[18] = {0, 0, 0, 0, 0, 0, 0xD0, 0x3F, /* 0.25 */
                            0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, /* f16 1, -2, 0.5 */
                            0x80, 0x3F, 0x40, 0xC0};            /* bf16 1, -3 */
  write_raw(at("f.safetensors"), strlen(json), json, strlen(json), data, sizeof data);
  ae_st_file *f = ae_st_read(at("f.safetensors"));
  cr_assert(f, "%s", ae_last_error());
  cr_assert_eq(ae_st_count(f), 4);
  cr_assert_str_eq(ae_st_get(f, 0)->name, "d"); /* sorted by offset */
  cr_assert_str_eq(ae_st_get(f, 1)->name, "h");
  cr_assert_str_eq(ae_st_get(f, 2)->name, "b");
  cr_assert_str_eq(ae_st_get(f, 3)->name, "z");
  cr_assert_eq(ae_st_find(f, "z")->numel, 0);
  cr_assert_str_eq(ae_st_meta(f, "format"), "pt");
  ae_real d, h[3], b[2];
  cr_assert(ae_st_load_into(f, "d", AE_SHAPE(), &d) == 0, "%s", ae_last_error());
  cr_assert(ae_st_load_into(f, "h", AE_SHAPE(3), h) == 0, "%s", ae_last_error());
  cr_assert(ae_st_load_into(f, "b", AE_SHAPE(1, 2), b) == 0, "%s", ae_last_error());
  cr_assert(d == (ae_real)0.25 && h[0] == 1 && h[1] == -2 && h[2] == (ae_real)0.5 && b[0] == 1 && b[1] == -3);
  cr_assert_null(ae_st_load_tensor(f, "z"), "a zero-size tensor cannot be an ae_tensor");
  cr_assert(strstr(ae_last_error(), "'z'") && strstr(ae_last_error(), "(0,5)"), "%s", ae_last_error());
  ae_st_free(f);
}

Test(st, f16_subnormal_and_specials) {
  const char *json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}";
  /* 2^-24 (smallest subnormal), 2^-15 (subnormal), +inf, 65504 (largest) */
  unsigned char data[8] = {0x01, 0x00, 0x00, 0x02, 0x00, 0x7C, 0xFF, 0x7B};
  write_raw(at("h.safetensors"), strlen(json), json, strlen(json), data, 8);
  ae_st_file *f = ae_st_read(at("h.safetensors"));
  cr_assert(f, "%s", ae_last_error());
  ae_real h[4];
  cr_assert(ae_st_load_into(f, "h", AE_SHAPE(4), h) == 0, "%s", ae_last_error());
  cr_assert(h[0] == (ae_real)ldexp(1, -24) && h[1] == (ae_real)ldexp(1, -15) && isinf(h[2]) && h[3] == 65504,
            "%g %g %g %g", (double)h[0], (double)h[1], (double)h[2], (double)h[3]);
  ae_st_free(f);
}

typedef struct bad_case {
  const char *label;
  const char *json;
  size_t dlen;
  const char *want1, *want2; /* substrings of the message */
} bad_case;

Test(st, malformed_files_rejected) {
  const bad_case cases[] = {
      {"truncated buffer", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 12, "'w'",
       "past the end of the data buffer (12 bytes): truncated"},
      {"invalid JSON", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],", 0, "not valid JSON", NULL},
      {"wrong dtype", "{\"w\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16, "'w'",
       "unsupported dtype \"I64\""},
      {"shape/offset mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12, "'w'",
       "span 12 bytes, but shape (2,2) of F32 needs 16"},
      {"overlap",
       "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
       16, "'b'", "overlaps tensor 'a'"},
      {"hole",
       "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
       20, "bytes 8..12", "hole before tensor 'b'"},
      {"trailing bytes", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, "4 trailing bytes",
       NULL},
      {"offsets past the end",
       "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[100,108]}}",
       8, "'b'", "[100, 108] run past the end"},
      {"offsets reversed", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, "'a'",
       "end before they begin"},
      {"metadata not a string", "{\"__metadata__\":{\"step\":3}}", 0, "metadata value for \"step\" is a number",
       NULL},
      {"metadata not an object", "{\"__metadata__\":[\"a\"]}", 0, "__metadata__ is an array", NULL},
      {"negative dimension", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "'w'",
       "shape entry 0 is not a non-negative integer"},
      {"fractional dimension", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8, "'w'",
       "shape entry 0"},
      {"shape not a list", "{\"w\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}}", 16, "'w'",
       "shape is a number, not a list"},
      {"too many dimensions",
       "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "'w'",
       "9 dimensions"},
      {"missing offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "'w'", "no \"data_offsets\""},
      {"three offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8, "'w'",
       "not a list of two"},
      {"unknown key", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, "'w'",
       "unexpected key \"x\""},
      {"repeated key", "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
       "'w'", "\"dtype\" appears twice"},
      {"entry not an object", "{\"w\":[1,2]}", 0, "'w'", "an array, not an object"},
      {"duplicate tensor",
       "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
       "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
       8, "'w' appears twice", NULL},
      {"not an object", "[1, 2, 3]", 0, "does not start with '{'", NULL},
      {"trailing garbage", "{} x", 0, "unexpected bytes after the header", NULL},
      {"invalid UTF-8", "{\"\xff\":1}", 0, "not valid UTF-8", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const bad_case *c = &cases[i];
    const char *p = at("bad.safetensors");
    write_st(p, c->json, c->dlen);
    ae_set_last_error("%s", ""); /* a failure must say why */
    ae_st_file *f = ae_st_read(p);
    cr_expect_null(f, "%s: accepted", c->label);
    ae_st_free(f);
    cr_expect(strstr(ae_last_error(), p) != NULL, "%s: message does not name the file: %s", c->label, ae_last_error());
    cr_expect(strstr(ae_last_error(), c->want1) != NULL, "%s: message '%s' lacks '%s'", c->label, ae_last_error(), c->want1);
    if (c->want2) cr_expect(strstr(ae_last_error(), c->want2) != NULL, "%s: message '%s' lacks '%s'", c->label, ae_last_error(), c->want2);
  }
}

Test(st, truncated_or_tiny_files_rejected) {
  const char *p = at("t.safetensors");
  /* empty and 3-byte files */
  write_raw(p, 0, "", 0, NULL, 0);
  FILE *fp = fopen(p, "wb");
  fclose(fp);
  cr_assert_null(ae_st_read(p));
  cr_assert(strstr(ae_last_error(), p) && strstr(ae_last_error(), "0 bytes, too short"), "%s", ae_last_error());
  fp = fopen(p, "wb");
  fwrite("abc", 1, 3, fp);
  fclose(fp);
  cr_assert_null(ae_st_read(p));
  cr_assert(strstr(ae_last_error(), "3 bytes, too short"), "%s", ae_last_error());
  /* a header cut short: the length says 64, 30 bytes follow */
  const char *json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
  write_raw(p, 64, json, 30, NULL, 0);
  cr_assert_null(ae_st_read(p));
  cr_assert(strstr(ae_last_error(), "header length 64 runs past the end of the file (38 bytes)"), "%s", ae_last_error());
  /* a length field far beyond the file, and one above the cap */
  write_raw(p, 1000, json, strlen(json), NULL, 16);
  cr_assert_null(ae_st_read(p));
  cr_assert(strstr(ae_last_error(), "header length 1000 runs past the end"), "%s", ae_last_error());
  write_raw(p, (uint64_t)1 << 40, json, strlen(json), NULL, 16);
  cr_assert_null(ae_st_read(p));
  cr_assert(strstr(ae_last_error(), "above the limit"), "%s", ae_last_error());
  /* a good file cut at every length is rejected every time, never read */
  ae_real v[6] = {1, 2, 3, 4, 5, 6};
  ae_st_writer *wr = ae_st_writer_new();
  ae_st_writer_add(wr, "a", AE_SHAPE(2), v);
  ae_st_writer_add(wr, "b", AE_SHAPE(4), v + 2);
  ae_st_writer_meta(wr, "model", "x");
  cr_assert(ae_st_writer_save(wr, at("good.safetensors")) == 0, "%s", ae_last_error());
  ae_st_writer_free(wr);
  size_t n;
  unsigned char *b = read_whole(at("good.safetensors"), &n);
  for (size_t cut = 0; cut < n; cut++) {
    fp = fopen(p, "wb");
    fwrite(b, 1, cut, fp);
    fclose(fp);
    ae_st_file *f = ae_st_read(p);
    cr_expect_null(f, "truncated to %zu of %zu bytes: accepted", cut, n);
    ae_st_free(f);
  }
  free(b);
  cr_assert_null(ae_st_read(at("missing.safetensors")));
  cr_assert(strstr(ae_last_error(), "cannot open") && strstr(ae_last_error(), "missing.safetensors"), "%s", ae_last_error());
  cr_assert_null(ae_st_read(dir));
  cr_assert(strstr(ae_last_error(), "not a regular file"), "%s", ae_last_error());
}

Test(st, load_into_names_missing_and_misshapen) {
  ae_real v[12] = {0};
  ae_st_writer *wr = ae_st_writer_new();
  ae_st_writer_add(wr, "enc.w", AE_SHAPE(3, 4), v);
  ae_st_writer_add(wr, "enc.b", AE_SHAPE(3), v);
  cr_assert(ae_st_writer_save(wr, at("m.safetensors")) == 0, "%s", ae_last_error());
  ae_st_writer_free(wr);
  ae_st_file *f = ae_st_read(at("m.safetensors"));
  cr_assert(f, "%s", ae_last_error());
  ae_real dst[12];
  cr_assert(ae_st_load_into(f, "dec.w", AE_SHAPE(4, 3), dst) == -1);
  cr_assert(strstr(ae_last_error(), "m.safetensors") && strstr(ae_last_error(), "no tensor 'dec.w'") && strstr(ae_last_error(), "'enc.w', 'enc.b'"), "%s",
            ae_last_error());
  cr_assert(ae_st_load_into(f, "enc.w", AE_SHAPE(4, 3), dst) == -1);
  cr_assert(strstr(ae_last_error(), "tensor 'enc.w' has shape (3,4); expected (4,3)"), "%s", ae_last_error());
  cr_assert(ae_st_load_into(f, "enc.b", AE_SHAPE(1, 3), dst) == -1);
  cr_assert(strstr(ae_last_error(), "tensor 'enc.b' has shape (3); expected (1,3)"), "%s", ae_last_error());
  cr_assert_null(ae_st_load_tensor(f, "nope"));
  cr_assert(strstr(ae_last_error(), "no tensor 'nope'"), "%s", ae_last_error());
  ae_st_free(f);
}

Test(st, writer_rejects_bad_input) {
  ae_real v[4] = {0};
  ae_st_writer *wr = ae_st_writer_new();
  cr_assert(ae_st_writer_add(wr, "a", AE_SHAPE(2), v) == 0);
  cr_assert(ae_st_writer_add(wr, "a", AE_SHAPE(2), v) == -1);
  cr_assert(strstr(ae_last_error(), "'a' added twice"), "%s", ae_last_error());
  cr_assert(ae_st_writer_add(wr, "__metadata__", AE_SHAPE(2), v) == -1);
  cr_assert(ae_st_writer_add(wr, "", AE_SHAPE(2), v) == -1);
  cr_assert(ae_st_writer_add(wr, "bad\xff", AE_SHAPE(2), v) == -1);
  cr_assert(ae_st_writer_add(wr, "b", AE_SHAPE(2), NULL) == -1);
  ae_shape zero = AE_SHAPE(2);
  zero.d[0] = 0;
  cr_assert(ae_st_writer_add(wr, "c", zero, v) == -1);
  cr_assert(strstr(ae_last_error(), "'c'"), "%s", ae_last_error());
  cr_assert(ae_st_writer_meta(wr, "k", NULL) == -1);
  cr_assert(ae_st_writer_meta(wr, "k\xc3", "v") == -1);
  ae_st_writer_free(wr);
}

/* ---- atomicity -------------------------------------------------------------- */

static size_t fail_at;
static int fail_hook(const char *path, size_t written, size_t n) { return written + n > fail_at; }
static int kill_hook(const char *path, size_t written, size_t n) {
  if (written + n > fail_at) raise(SIGKILL);
  return 0;
}

static void save_values(const char *path, ae_real fill, int64_t n) {
  ae_real *v = malloc((size_t)n * sizeof *v);
  for (int64_t i = 0; i < n; i++) v[i] = fill;
  ae_st_writer *wr = ae_st_writer_new();
  ae_st_writer_add(wr, "w", AE_SHAPE(n), v);
  ae_st_writer_meta(wr, "step", fill == 1 ? "1" : "2");
  int rc = ae_st_writer_save(wr, path);
  ae_st_writer_free(wr);
  free(v);
  cr_assert(rc == 0 || ae_io_atomic_test_hook, "%s", ae_last_error());
}

static void check_values(const char *path, ae_real fill, int64_t n) {
  ae_st_file *f = ae_st_read(path);
  cr_assert(f, "the previous checkpoint was damaged: %s", ae_last_error());
  cr_assert_str_eq(ae_st_meta(f, "step"), fill == 1 ? "1" : "2");
  ae_real *v = malloc((size_t)n * sizeof *v);
  cr_assert(ae_st_load_into(f, "w", AE_SHAPE(n), v) == 0, "%s", ae_last_error());
  for (int64_t i = 0; i < n; i++) cr_assert(v[i] == fill);
  free(v);
  ae_st_free(f);
}

Test(st, failed_save_keeps_previous_file) {
  const int64_t n = 50000; /* several write chunks */
  const char *p = at("ckpt.safetensors");
  save_values(p, 1, n);
  const size_t fails[] = {0, 8, 100, 70000};
  for (size_t k = 0; k < 4; k++) {
    fail_at = fails[k];
    ae_io_atomic_test_hook = fail_hook;
    save_values(p, 2, n);
    ae_io_atomic_test_hook = NULL;
    cr_assert(strstr(ae_last_error(), p) && strstr(ae_last_error(), "write failed") && strstr(ae_last_error(), "unchanged"), "%s", ae_last_error());
    check_values(p, 1, n);
    cr_assert_eq(count_files(), 1, "the temporary file was not removed");
  }
  save_values(p, 2, n); /* and a good save replaces it */
  check_values(p, 2, n);
  cr_assert_eq(count_files(), 1);
}

Test(st, killed_save_keeps_previous_file) {
  const int64_t n = 50000;
  const char *p = at("ckpt.safetensors");
  save_values(p, 1, n);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    fail_at = 100000; /* mid-data */
    ae_io_atomic_test_hook = kill_hook;
    save_values(p, 2, n);
    _exit(0); /* not reached */
  }
  int status;
  cr_assert(waitpid(pid, &status, 0) == pid);
  cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the writer was not killed mid-write");
  check_values(p, 1, n);
}

Test(st, unwritable_target_reports_error) {
  ae_real v[2] = {1, 2};
  ae_st_writer *wr = ae_st_writer_new();
  ae_st_writer_add(wr, "w", AE_SHAPE(2), v);
  cr_assert(ae_st_writer_save(wr, at("no/such/dir/m.safetensors")) == -1);
  cr_assert(strstr(ae_last_error(), "no/such/dir/m.safetensors") && strstr(ae_last_error(), "cannot create a temporary file"), "%s", ae_last_error());
  /* a directory where the file should be: the rename fails, nothing left over */
  char sub[600];
  snprintf(sub, sizeof sub, "%s/isdir", dir);
  cr_assert(mkdir(sub, 0755) == 0);
  cr_assert(ae_st_writer_save(wr, sub) == -1);
  cr_assert(strstr(ae_last_error(), "write failed"), "%s", ae_last_error());
  rmdir(sub);
  cr_assert_eq(count_files(), 0);
  ae_st_writer_free(wr);
}
