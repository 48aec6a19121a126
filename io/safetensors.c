/* safetensors.c: the safetensors reader. It loads the whole file, parses
 * the JSON header with cJSON and validates every entry against the format
 * (dtype, shape x size = byte span, offsets that tile the data buffer
 * exactly) before anything is handed out. The writer and the atomic file
 * replacement are in safetensors_write.c. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idx.h" /* ae_io_open_regular */

struct ae_st_file {
  char *path;
  unsigned char *raw;       /* the whole file */
  const unsigned char *buf; /* the data buffer inside raw */
  size_t buflen;
  int n;
  ae_st_tensor *t;          /* sorted by offset */
  int nmeta;
  char **mkey, **mval;
};

static size_t dtype_size(int dt) {
  switch (dt) {
  case AE_ST_F32: return 4;
  case AE_ST_F64: return 8;
  case AE_ST_F16: case AE_ST_BF16: return 2;
  default: return 0;
  }
}

const char *ae_st_dtype_name(int dt) {
  switch (dt) {
  case AE_ST_F32: return "F32";
  case AE_ST_F64: return "F64";
  case AE_ST_F16: return "F16";
  case AE_ST_BF16: return "BF16";
  default: return "unknown";
  }
}

static int dtype_parse(const char *s) {
  for (int dt = AE_ST_F32; dt <= AE_ST_BF16; dt++)
    if (strcmp(s, ae_st_dtype_name(dt)) == 0) return dt;
  return 0;
}

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or values
 * above U+10FFFF). */
int ae_io_utf8_valid(const void *str, size_t n) {
  const unsigned char *s = str;
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) { i++; continue; }
    int len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; c &= 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; c &= 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; c &= 0x07; }
    else return 0;
    if (n - i < (size_t)len) return 0;
    for (int k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    i += (size_t)len;
  }
  return 1;
}

static void shape_fmt(const int64_t *d, int ndim, char *buf, size_t len) {
  size_t k = (size_t)snprintf(buf, len, "(");
  for (int i = 0; i < ndim && k < len; i++)
    k += (size_t)snprintf(buf + k, len - k, i ? ",%lld" : "%lld", (long long)d[i]);
  if (k < len) snprintf(buf + k, len - k, ")");
}

/* ---- reading -------------------------------------------------------------- */

void ae_st_free(ae_st_file *f) {
  if (!f) return;
  for (int i = 0; i < f->n; i++) free((char *)f->t[i].name);
  for (int i = 0; i < f->nmeta; i++) {
    free(f->mkey[i]);
    free(f->mval[i]);
  }
  free(f->t);
  free(f->mkey);
  free(f->mval);
  free(f->raw);
  free(f->path);
  free(f);
}

/* A JSON number that is an integer in [0, 2^53]. */
static int json_uint(const cJSON *v, uint64_t *out) {
  if (!cJSON_IsNumber(v)) return -1;
  double d = v->valuedouble;
  if (!(d >= 0) || d > 9007199254740992.0 || d != floor(d)) return -1;
  *out = (uint64_t)d;
  return 0;
}

static const char *json_kind(const cJSON *v) {
  if (cJSON_IsString(v)) return "a string";
  if (cJSON_IsNumber(v)) return "a number";
  if (cJSON_IsBool(v)) return "a boolean";
  if (cJSON_IsNull(v)) return "null";
  if (cJSON_IsArray(v)) return "an array";
  if (cJSON_IsObject(v)) return "an object";
  return "invalid";
}

/* Parses one tensor entry into t (name not set). On failure -1 with the
 * reason in ae_last_error(). */
static int parse_entry(const cJSON *e, size_t buflen, ae_st_tensor *t) {
  if (!cJSON_IsObject(e)) {
    ae_set_last_error("its entry is %s, not an object", json_kind(e));
    return -1;
  }
  const cJSON *dt = NULL, *sh = NULL, *off = NULL;
  for (const cJSON *c = e->child; c; c = c->next) {
    const cJSON **slot = strcmp(c->string, "dtype") == 0          ? &dt
                         : strcmp(c->string, "shape") == 0        ? &sh
                         : strcmp(c->string, "data_offsets") == 0 ? &off
                                                                  : NULL;
    if (!slot) {
      ae_set_last_error("unexpected key \"%.64s\" (an entry holds dtype, shape and data_offsets only)", c->string);
      return -1;
    }
    if (*slot) {
      ae_set_last_error("key \"%s\" appears twice", c->string);
      return -1;
    }
    *slot = c;
  }
  if (!dt || !sh || !off) {
    ae_set_last_error("no \"%s\"", !dt ? "dtype" : !sh ? "shape" : "data_offsets");
    return -1;
  }
  if (!cJSON_IsString(dt)) {
    ae_set_last_error("dtype is %s, not a string", json_kind(dt));
    return -1;
  }
  t->dtype = dtype_parse(dt->valuestring);
  if (!t->dtype) {
    ae_set_last_error("unsupported dtype \"%.32s\" (aezoo reads F32, F64, F16 and BF16)", dt->valuestring);
    return -1;
  }
  if (!cJSON_IsArray(sh)) {
    ae_set_last_error("shape is %s, not a list", json_kind(sh));
    return -1;
  }
  int nd = cJSON_GetArraySize(sh);
  if (nd > AE_ST_MAX_DIMS) {
    ae_set_last_error("shape has %d dimensions; at most %d are supported", nd, AE_ST_MAX_DIMS);
    return -1;
  }
  t->ndim = nd;
  uint64_t numel = 1;
  int k = 0;
  for (const cJSON *c = sh->child; c; c = c->next, k++) {
    uint64_t v;
    if (json_uint(c, &v) != 0) {
      ae_set_last_error("shape entry %d is not a non-negative integer", k);
      return -1;
    }
    t->shape[k] = (int64_t)v;
    if (__builtin_mul_overflow(numel, v, &numel) || numel > ((uint64_t)1 << 60)) {
      ae_set_last_error("the shape's element count overflows");
      return -1;
    }
  }
  for (int i = nd; i < AE_ST_MAX_DIMS; i++) t->shape[i] = 1;
  t->numel = (int64_t)numel;
  uint64_t need = numel * dtype_size(t->dtype);
  uint64_t b, en;
  if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || json_uint(off->child, &b) != 0 ||
      json_uint(off->child->next, &en) != 0) {
    ae_set_last_error("data_offsets is not a list of two non-negative integers [begin, end]");
    return -1;
  }
  if (en < b) {
    ae_set_last_error("data_offsets [%llu, %llu] end before they begin", (unsigned long long)b,
             (unsigned long long)en);
    return -1;
  }
  if (en - b != need) {
    char s[160];
    shape_fmt(t->shape, nd, s, sizeof s);
    ae_set_last_error("data_offsets [%llu, %llu] span %llu bytes, but shape %s of %s needs %llu",
             (unsigned long long)b, (unsigned long long)en, (unsigned long long)(en - b), s,
             ae_st_dtype_name(t->dtype), (unsigned long long)need);
    return -1;
  }
  if (en > buflen) {
    ae_set_last_error("data_offsets [%llu, %llu] run past the end of the data buffer (%zu bytes): truncated file?",
             (unsigned long long)b, (unsigned long long)en, buflen);
    return -1;
  }
  t->offset = (size_t)b;
  t->bytes = (size_t)need;
  return 0;
}

static int cmp_offset(const void *a, const void *b) {
  const ae_st_tensor *x = a, *y = b;
  if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? -1 : 1;
  return 0;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Fills f from the parsed header root. */
static int load_header(ae_st_file *f, const cJSON *root) {
  const char *path = f->path;
  int total = cJSON_GetArraySize(root);
  f->t = calloc((size_t)(total > 0 ? total : 1), sizeof *f->t);
  if (!f->t) goto oom;
  int seen_meta = 0;
  for (const cJSON *e = root->child; e; e = e->next) {
    if (strcmp(e->string, "__metadata__") == 0) {
      if (seen_meta++) {
        ae_set_last_error("%s: __metadata__ appears twice in the header", path);
        return -1;
      }
      if (!cJSON_IsObject(e)) {
        ae_set_last_error("%s: __metadata__ is %s, not an object of strings", path, json_kind(e));
        return -1;
      }
      int m = cJSON_GetArraySize(e);
      f->mkey = calloc((size_t)(m > 0 ? m : 1), sizeof(char *));
      f->mval = calloc((size_t)(m > 0 ? m : 1), sizeof(char *));
      if (!f->mkey || !f->mval) goto oom;
      for (const cJSON *c = e->child; c; c = c->next) {
        if (!cJSON_IsString(c)) {
          ae_set_last_error("%s: metadata value for \"%.64s\" is %s; metadata values must be strings", path,
                       c->string, json_kind(c));
          return -1;
        }
        for (int i = 0; i < f->nmeta; i++)
          if (strcmp(f->mkey[i], c->string) == 0) {
            ae_set_last_error("%s: metadata key \"%.64s\" appears twice", path, c->string);
            return -1;
          }
        f->mkey[f->nmeta] = strdup(c->string);
        f->mval[f->nmeta] = strdup(c->valuestring);
        f->nmeta++;
        if (!f->mkey[f->nmeta - 1] || !f->mval[f->nmeta - 1]) goto oom;
      }
      continue;
    }
    ae_st_tensor *t = &f->t[f->n];
    if (parse_entry(e, f->buflen, t) != 0) {
      ae_set_last_error("%s: tensor '%.128s': %s", path, e->string, ae_last_error());
      return -1;
    }
    t->name = strdup(e->string);
    if (!t->name) goto oom;
    f->n++;
  }
  /* Names are unique. */
  if (f->n > 1) {
    const char **names = malloc((size_t)f->n * sizeof *names);
    if (!names) goto oom;
    for (int i = 0; i < f->n; i++) names[i] = f->t[i].name;
    qsort(names, (size_t)f->n, sizeof *names, cmp_name);
    for (int i = 1; i < f->n; i++)
      if (strcmp(names[i - 1], names[i]) == 0) {
        ae_set_last_error("%s: tensor '%.128s' appears twice in the header", path, names[i]);
        free(names);
        return -1;
      }
    free(names);
  }
  /* The tensors tile the buffer exactly. */
  qsort(f->t, (size_t)f->n, sizeof *f->t, cmp_offset);
  size_t pos = 0;
  for (int i = 0; i < f->n; i++) {
    const ae_st_tensor *t = &f->t[i];
    if (t->offset < pos) {
      ae_set_last_error("%s: tensor '%.128s' (bytes %zu..%zu) overlaps tensor '%.128s' (which ends at %zu)", path,
                   t->name, t->offset, t->offset + t->bytes, f->t[i - 1].name, pos);
      return -1;
    }
    if (t->offset > pos) {
      ae_set_last_error("%s: bytes %zu..%zu of the data buffer belong to no tensor (a hole before tensor '%.128s')",
                   path, pos, t->offset, t->name);
      return -1;
    }
    pos = t->offset + t->bytes;
  }
  if (pos != f->buflen) {
    ae_set_last_error("%s: the data buffer has %zu bytes but the tensors cover %zu: %zu trailing bytes belong to no tensor",
                 path, f->buflen, pos, f->buflen - pos);
    return -1;
  }
  return 0;
oom:
  ae_set_last_error("%s: out of memory reading the header", path);
  return -1;
}

ae_st_file *ae_st_read(const char *path) {
  if (!path) {
    ae_set_last_error("st_read: path is NULL");
    return NULL;
  }
  ae_st_file *f = calloc(1, sizeof *f);
  if (!f || !(f->path = strdup(path))) {
    free(f);
    ae_set_last_error("%s: out of memory", path);
    return NULL;
  }
  cJSON *root = NULL;
  int64_t fsize = 0;
  FILE *fp = ae_io_open_regular(path, &fsize); /* refuses FIFOs, devices, directories */
  if (!fp) goto fail;
  size_t size = (size_t)fsize;
  f->raw = malloc(size ? size : 1);
  if (!f->raw) {
    ae_set_last_error("%s: out of memory for %zu bytes", path, size);
    fclose(fp);
    goto fail;
  }
  size_t got = fread(f->raw, 1, size, fp);
  int rerr = ferror(fp);
  fclose(fp);
  if (rerr || got != size) {
    ae_set_last_error("%s: read error (%zu of %zu bytes)", path, got, size);
    goto fail;
  }
  if (size < 8) {
    ae_set_last_error("%s: %zu bytes, too short for a safetensors file (8-byte header length, then the header)",
                 path, size);
    goto fail;
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | f->raw[i];
  if (n > AE_ST_MAX_HEADER) {
    ae_set_last_error("%s: header length %llu is above the limit of %llu bytes (not a safetensors file?)", path,
                 (unsigned long long)n, (unsigned long long)AE_ST_MAX_HEADER);
    goto fail;
  }
  if (n > size - 8) {
    ae_set_last_error("%s: header length %llu runs past the end of the file (%zu bytes): truncated header?",
                 path, (unsigned long long)n, size);
    goto fail;
  }
  const char *hdr = (const char *)f->raw + 8;
  if (n < 2 || hdr[0] != '{') {
    ae_set_last_error("%s: the header does not start with '{' (not a safetensors file?)", path);
    goto fail;
  }
  if (!ae_io_utf8_valid(hdr, (size_t)n)) {
    ae_set_last_error("%s: the header is not valid UTF-8", path);
    goto fail;
  }
  const char *end = NULL;
  root = cJSON_ParseWithLengthOpts(hdr, (size_t)n, &end, 0);
  if (!root) {
    size_t at = end && end >= hdr && end <= hdr + n ? (size_t)(end - hdr) : 0;
    ae_set_last_error("%s: the header is not valid JSON (error near byte %zu of %llu)", path, at,
                 (unsigned long long)n);
    goto fail;
  }
  for (const char *p = end; p < hdr + n; p++)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
      ae_set_last_error("%s: unexpected bytes after the header's JSON object (at byte %zu of %llu)", path,
                   (size_t)(p - hdr), (unsigned long long)n);
      goto fail;
    }
  if (!cJSON_IsObject(root)) {
    ae_set_last_error("%s: the header is not a JSON object", path);
    goto fail;
  }
  f->buf = f->raw + 8 + n;
  f->buflen = size - 8 - (size_t)n;
  if (load_header(f, root) != 0) goto fail;
  cJSON_Delete(root);
  return f;
fail:
  cJSON_Delete(root);
  ae_st_free(f);
  return NULL;
}

const char *ae_st_path(const ae_st_file *f) { return f ? f->path : NULL; }
int ae_st_count(const ae_st_file *f) { return f ? f->n : 0; }
const ae_st_tensor *ae_st_get(const ae_st_file *f, int i) {
  return f && i >= 0 && i < f->n ? &f->t[i] : NULL;
}
const ae_st_tensor *ae_st_find(const ae_st_file *f, const char *name) {
  if (!f || !name) return NULL;
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
  return NULL;
}
const void *ae_st_data(const ae_st_file *f, const ae_st_tensor *t) { return f->buf + t->offset; }
const char *ae_st_meta(const ae_st_file *f, const char *key) {
  if (!f || !key) return NULL;
  for (int i = 0; i < f->nmeta; i++)
    if (strcmp(f->mkey[i], key) == 0) return f->mval[i];
  return NULL;
}
int ae_st_meta_count(const ae_st_file *f) { return f ? f->nmeta : 0; }
const char *ae_st_meta_key(const ae_st_file *f, int i) {
  return f && i >= 0 && i < f->nmeta ? f->mkey[i] : NULL;
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, ex = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
  if (ex == 0x1F) bits = sign | 0x7F800000u | (man << 13); /* inf, nan */
  else if (ex) bits = sign | ((ex + 112) << 23) | (man << 13);
  else if (!man) bits = sign;
  else { /* subnormal: renormalise */
    ex = 113;
    while (!(man & 0x400)) { man <<= 1; ex--; }
    bits = sign | (ex << 23) | ((man & 0x3FF) << 13);
  }
  float v;
  memcpy(&v, &bits, 4);
  return v;
}

/* Little-endian element i of raw bytes p as an unsigned integer of `size` bytes. */
static uint64_t le_word(const unsigned char *p, size_t size) {
  uint64_t w = 0;
  for (size_t k = size; k-- > 0;) w = (w << 8) | p[k];
  return w;
}

static void convert(const unsigned char *src, int dtype, int64_t n, ae_real *dst) {
  size_t sz = dtype_size(dtype);
  for (int64_t i = 0; i < n; i++) {
    uint64_t w = le_word(src + (size_t)i * sz, sz);
    switch (dtype) {
    case AE_ST_F32: {
      uint32_t u = (uint32_t)w;
      float v;
      memcpy(&v, &u, 4);
      dst[i] = (ae_real)v;
      break;
    }
    case AE_ST_F64: {
      double v;
      memcpy(&v, &w, 8);
      dst[i] = (ae_real)v;
      break;
    }
    case AE_ST_F16: dst[i] = (ae_real)half_to_float((uint16_t)w); break;
    default: { /* BF16 */
      uint32_t u = (uint32_t)w << 16;
      float v;
      memcpy(&v, &u, 4);
      dst[i] = (ae_real)v;
    }
    }
  }
}

static const ae_st_tensor *find_or_err(const ae_st_file *f, const char *name) {
  const ae_st_tensor *t = ae_st_find(f, name);
  if (t) return t;
  char list[400];
  size_t k = 0;
  list[0] = 0;
  for (int i = 0; i < f->n && k < sizeof list - 8; i++)
    k += (size_t)snprintf(list + k, sizeof list - k, "%s'%.64s'", i ? ", " : "", f->t[i].name);
  if (k >= sizeof list - 8) snprintf(list + sizeof list - 8, 8, ", ...");
  ae_set_last_error("%s: no tensor '%.128s' (the file holds %d: %s)", f->path, name ? name : "(null)", f->n,
               f->n ? list : "none");
  return NULL;
}

int ae_st_load_into(const ae_st_file *f, const char *name, ae_shape expect, ae_real *dst) {
  if (!f || !dst) {
    ae_set_last_error("st_load_into: %s is NULL", f ? "destination" : "file");
    return -1;
  }
  const ae_st_tensor *t = find_or_err(f, name);
  if (!t) return -1;
  int same = t->ndim == expect.ndim;
  for (int i = 0; same && i < t->ndim; i++) same = t->shape[i] == expect.d[i];
  if (!same) {
    char a[160], b[160];
    shape_fmt(t->shape, t->ndim, a, sizeof a);
    shape_fmt(expect.d, expect.ndim, b, sizeof b);
    ae_set_last_error("%s: tensor '%.128s' has shape %s; expected %s", f->path, name, a, b);
    return -1;
  }
  convert(f->buf + t->offset, t->dtype, t->numel, dst);
  return 0;
}

ae_tensor *ae_st_load_tensor(const ae_st_file *f, const char *name) {
  if (!f) {
    ae_set_last_error("st_load_tensor: file is NULL");
    return NULL;
  }
  const ae_st_tensor *t = find_or_err(f, name);
  if (!t) return NULL;
  char s[160];
  shape_fmt(t->shape, t->ndim, s, sizeof s);
  int ok = t->ndim <= AE_MAX_DIMS;
  for (int i = 0; ok && i < t->ndim; i++) ok = t->shape[i] >= 1;
  if (!ok) {
    ae_set_last_error("%s: tensor '%.128s' has shape %s; a tensor needs at most %d dimensions, none of size 0",
                 f->path, name, s, AE_MAX_DIMS);
    return NULL;
  }
  ae_tensor *out = ae_tensor_new(ae_shape_make(t->ndim, t->shape));
  if (!out) {
    ae_set_last_error("%s: tensor '%.128s' %s: %s", f->path, name, s, ae_last_error());
    return NULL;
  }
  convert(f->buf + t->offset, t->dtype, t->numel, out->data);
  return out;
}

