/* npy.c: the .npy reader and writer. The reader parses the header dict
 * strictly with a tiny recursive-descent parser (keys 'descr',
 * 'fortran_order', 'shape', each exactly once), checks the data length
 * against the shape before allocating, and converts to ae_real. The
 * writer emits float32 and replaces the target atomically (ae_io_atomic,
 * io/safetensors.h: temporary file, fsync, rename). */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset_u8.h"  /* ae__npy_read_rows_u8 */
#include "idx.h"         /* ae_io_open_regular, AE_IO_MAX_ELEMS */
#include "safetensors.h" /* ae_io_atomic */

#define NPY_MAX_HEADER (1 << 20)

static int host_is_le(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

/* ---- header dict parser -------------------------------------------------- */

typedef struct npy_header {
  char descr[32];
  int fortran;
  int ndim;
  int64_t dims[AE_MAX_DIMS];
} npy_header;

typedef struct parser {
  const char *s;
  size_t n, i;
  char why[256];
} parser;

static void skip_ws(parser *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
    p->i++;
}

static int fail(parser *p, const char *what) {
  snprintf(p->why, sizeof p->why, "%s at offset %zu of the header", what, p->i);
  return -1;
}

static int expect(parser *p, char c) {
  skip_ws(p);
  if (p->i >= p->n || p->s[p->i] != c) {
    char m[48];
    snprintf(m, sizeof m, "expected '%c'", c);
    return fail(p, m);
  }
  p->i++;
  return 0;
}

/* A Python string literal without escapes, in ' or " quotes. */
static int parse_string(parser *p, char *out, size_t outlen) {
  skip_ws(p);
  if (p->i >= p->n || (p->s[p->i] != '\'' && p->s[p->i] != '"')) return fail(p, "expected a quoted string");
  char q = p->s[p->i++];
  size_t k = 0;
  while (p->i < p->n && p->s[p->i] != q) {
    char c = p->s[p->i];
    if (c == '\\' || c == '\n' || (unsigned char)c < 0x20) return fail(p, "unexpected character in a string");
    if (k + 1 >= outlen) return fail(p, "string too long");
    out[k++] = c;
    p->i++;
  }
  if (p->i >= p->n) return fail(p, "unterminated string");
  p->i++;
  out[k] = 0;
  return 0;
}

static int parse_bool(parser *p, int *out) {
  skip_ws(p);
  if (p->n - p->i >= 4 && !strncmp(p->s + p->i, "True", 4)) {
    *out = 1;
    p->i += 4;
  } else if (p->n - p->i >= 5 && !strncmp(p->s + p->i, "False", 5)) {
    *out = 0;
    p->i += 5;
  } else
    return fail(p, "expected True or False for 'fortran_order'");
  return 0;
}

/* A tuple of non-negative integers: (), (n,), (a, b), (a, b,). Python 2's
 * long suffix (3L) is accepted. */
static int parse_shape(parser *p, npy_header *h) {
  if (expect(p, '(')) return -1;
  h->ndim = 0;
  int commas = 0;
  for (;;) {
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ')') break;
    if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return fail(p, "expected a dimension in 'shape'");
    int64_t v = 0;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
      int d = p->s[p->i++] - '0';
      if (v > (INT64_MAX - d) / 10) return fail(p, "dimension too large in 'shape'");
      v = v * 10 + d;
    }
    if (p->i < p->n && p->s[p->i] == 'L') p->i++;
    if (h->ndim >= AE_MAX_DIMS) return fail(p, "'shape' has more than 4 dimensions");
    h->dims[h->ndim++] = v;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ',') {
      p->i++;
      commas++;
    } else if (p->i < p->n && p->s[p->i] == ')')
      break;
    else
      return fail(p, "expected ',' or ')' in 'shape'");
  }
  if (h->ndim == 1 && commas == 0) return fail(p, "'shape' (n) is not a tuple (a 1-tuple is written (n,))");
  p->i++;
  return 0;
}

static int parse_header(parser *p, npy_header *h) {
  int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
  if (expect(p, '{')) return -1;
  for (;;) {
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') break;
    char key[32];
    if (parse_string(p, key, sizeof key)) return -1;
    if (expect(p, ':')) return -1;
    if (!strcmp(key, "descr")) {
      if (seen_descr++) return fail(p, "key 'descr' repeated");
      if (parse_string(p, h->descr, sizeof h->descr)) return -1;
    } else if (!strcmp(key, "fortran_order")) {
      if (seen_fortran++) return fail(p, "key 'fortran_order' repeated");
      if (parse_bool(p, &h->fortran)) return -1;
    } else if (!strcmp(key, "shape")) {
      if (seen_shape++) return fail(p, "key 'shape' repeated");
      if (parse_shape(p, h)) return -1;
    } else {
      char m[80];
      snprintf(m, sizeof m, "unknown key '%s'", key);
      return fail(p, m);
    }
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ',') {
      p->i++;
      continue;
    }
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') break;
    return fail(p, "expected ',' or '}'");
  }
  p->i++;
  skip_ws(p);
  if (p->i != p->n) return fail(p, "unexpected text after the dict");
  if (!seen_descr) return fail(p, "key 'descr' missing");
  if (!seen_fortran) return fail(p, "key 'fortran_order' missing");
  if (!seen_shape) return fail(p, "key 'shape' missing");
  return 0;
}

/* ---- reader -------------------------------------------------------------- */

static void conv(const unsigned char *src, int kind, int64_t n, ae_real *dst) {
  int swap = !host_is_le();
  for (int64_t i = 0; i < n; i++) {
    if (kind == 1)
      dst[i] = (ae_real)(src[i] / 255.0); /* as the IDX loader: the same byte, the same value */
    else if (kind == 4) {
      unsigned char b[4];
      memcpy(b, src + 4 * i, 4);
      if (swap) {
        unsigned char t = b[0]; b[0] = b[3]; b[3] = t;
        t = b[1]; b[1] = b[2]; b[2] = t;
      }
      float f;
      memcpy(&f, b, 4);
      dst[i] = (ae_real)f;
    } else {
      unsigned char b[8];
      memcpy(b, src + 8 * i, 8);
      if (swap)
        for (int a = 0; a < 4; a++) {
          unsigned char t = b[a]; b[a] = b[7 - a]; b[7 - a] = t;
        }
      double d;
      memcpy(&d, b, 8);
      dst[i] = (ae_real)d;
    }
  }
}

/* Fortran (column-major) to C (row-major) order, dims padded to 4. */
static void fortran_to_c(const ae_real *src, ae_real *dst, const int64_t *d) {
  int64_t i = 0;
  for (int64_t a = 0; a < d[0]; a++)
    for (int64_t b = 0; b < d[1]; b++)
      for (int64_t c = 0; c < d[2]; c++)
        for (int64_t e = 0; e < d[3]; e++) dst[i++] = src[a + d[0] * (b + d[1] * (c + d[2] * e))];
}

ae_tensor *ae_npy_read(const char *path) { return ae_npy_read_rows(path, 0); }

/* ae__npy_read_rows_u8's result: status 1 with the bytes and their shape,
 * 0 for data that is not uint8 in C order (nothing read), -1 an error. */
typedef struct npy_u8 {
  uint8_t *bytes;
  ae_shape shape;
  int status;
} npy_u8;

/* ae_npy_read_rows, or with u8 (ae__npy_read_rows_u8) the data's bytes
 * themselves when they are uint8 in C order (or 1-D), after the same
 * checks; then it returns NULL and says so in u8->status. */
static ae_tensor *read_rows(const char *path, int64_t max_rows, npy_u8 *u8) {
  if (u8) *u8 = (npy_u8){NULL, ae_shape_make(0, NULL), -1};
  if (!path) {
    ae_set_last_error("npy_read: path is NULL");
    return NULL;
  }
  int64_t size = 0;
  FILE *f = ae_io_open_regular(path, &size);
  if (!f) return NULL;
  ae_tensor *t = NULL, *tmp = NULL;
  char *hbuf = NULL;
  unsigned char *raw = NULL;
  unsigned char pre[12];
  if (size < 10 || fread(pre, 1, 10, f) != 10) {
    ae_set_last_error("%s: %lld bytes, too short for a .npy header", path, (long long)size);
    goto out;
  }
  if (memcmp(pre, "\x93NUMPY", 6) != 0) {
    ae_set_last_error("%s: not a .npy file: bad magic (a .npy file starts with \\x93NUMPY)", path);
    goto out;
  }
  int major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0) {
    ae_set_last_error("%s: unsupported .npy version %d.%d (1.0, 2.0 and 3.0 are read)", path, major, minor);
    goto out;
  }
  int64_t hlen, pre_len;
  if (major == 1) {
    hlen = pre[8] | pre[9] << 8;
    pre_len = 10;
  } else {
    if (size < 12 || fread(pre + 10, 1, 2, f) != 2) {
      ae_set_last_error("%s: %lld bytes, too short for a version %d.0 .npy header", path, (long long)size,
                   major);
      goto out;
    }
    hlen = (int64_t)pre[8] | (int64_t)pre[9] << 8 | (int64_t)pre[10] << 16 | (int64_t)pre[11] << 24;
    pre_len = 12;
  }
  if (pre_len + hlen > size) {
    ae_set_last_error("%s: header length %lld runs past the end of the file (%lld bytes after the %lld-byte "
                 "preamble, file is %lld bytes)", path, (long long)hlen, (long long)(size - pre_len),
                 (long long)pre_len, (long long)size);
    goto out;
  }
  if (hlen > NPY_MAX_HEADER) {
    ae_set_last_error("%s: header length %lld is larger than %d bytes", path, (long long)hlen, NPY_MAX_HEADER);
    goto out;
  }
  hbuf = malloc((size_t)hlen + 1);
  if (!hbuf || fread(hbuf, 1, (size_t)hlen, f) != (size_t)hlen) {
    ae_set_last_error("%s: cannot read the %lld-byte header", path, (long long)hlen);
    goto out;
  }
  hbuf[hlen] = 0;
  if (memchr(hbuf, 0, (size_t)hlen)) {
    ae_set_last_error("%s: bad header: it contains a NUL byte", path);
    goto out;
  }
  npy_header h = {0};
  parser p = {.s = hbuf, .n = (size_t)hlen};
  if (parse_header(&p, &h) != 0) {
    ae_set_last_error("%s: bad header dict: %s (header: %.120s)", path, p.why, hbuf);
    goto out;
  }
  int kind = !strcmp(h.descr, "|u1") ? 1 : !strcmp(h.descr, "<f4") ? 4 : !strcmp(h.descr, "<f8") ? 8 : 0;
  if (!kind) {
    ae_set_last_error("%s: unsupported dtype '%s' (supported: '|u1' uint8, '<f4' float32, '<f8' float64)", path, h.descr);
    goto out;
  }
  int64_t n = 1;
  for (int i = 0; i < h.ndim; i++) {
    if (h.dims[i] < 1) {
      ae_set_last_error("%s: dimension %d of the shape has size 0; every dimension must be at least 1", path,
                   i);
      goto out;
    }
    if (n > AE_IO_MAX_ELEMS / h.dims[i]) {
      ae_set_last_error("%s: the shape has more than %lld elements (or its product overflows)", path,
                   (long long)AE_IO_MAX_ELEMS);
      goto out;
    }
    n *= h.dims[i];
  }
  int64_t need = n * kind, have = size - pre_len - hlen;
  if (have != need) {
    char sh[64];
    ae_shape_str(ae_shape_make(h.ndim, h.dims), sh, sizeof sh);
    if (have < need)
      ae_set_last_error("%s: truncated data: shape %s of '%s' needs %lld bytes after the header, the file has %lld",
                   path, sh, h.descr, (long long)need, (long long)have);
    else
      ae_set_last_error("%s: %lld trailing bytes: shape %s of '%s' needs %lld bytes after the header, the file has %lld",
                   path, (long long)(have - need), sh, h.descr, (long long)need, (long long)have);
    goto out;
  }
  /* a row limit: only the first rows are read (C order keeps them first) */
  if (max_rows > 0 && h.ndim >= 1 && max_rows < h.dims[0] && (!h.fortran || h.ndim == 1)) {
    n = n / h.dims[0] * max_rows;
    h.dims[0] = max_rows;
  }
  if (u8) {
    u8->status = 0;
    if (kind != 1 || (h.fortran && h.ndim > 1)) goto out;
    u8->status = -1;
    u8->bytes = malloc(n ? (size_t)n : 1);
    if (!u8->bytes) {
      ae_set_last_error("%s: out of memory for %lld elements", path, (long long)n);
      goto out;
    }
    if (fread(u8->bytes, 1, (size_t)n, f) != (size_t)n) {
      ae_set_last_error("%s: read error in the data: %s", path, ferror(f) ? strerror(errno) : "short read");
      free(u8->bytes);
      u8->bytes = NULL;
      goto out;
    }
    u8->shape = ae_shape_make(h.ndim, h.dims);
    u8->status = 1;
    goto out;
  }
  t = ae_tensor_new(ae_shape_make(h.ndim, h.dims));
  if (h.fortran && h.ndim > 1) tmp = ae_tensor_new(ae_shape_make(h.ndim, h.dims));
  if (!t || (h.fortran && h.ndim > 1 && !tmp)) {
    ae_set_last_error("%s: out of memory for %lld elements", path, (long long)n);
    goto fail;
  }
  ae_real *dst = tmp ? tmp->data : t->data;
  const int64_t chunk = 1 << 16;
  raw = malloc((size_t)(chunk * kind));
  if (!raw) {
    ae_set_last_error("%s: out of memory", path);
    goto fail;
  }
  for (int64_t i = 0; i < n; i += chunk) {
    int64_t m = n - i < chunk ? n - i : chunk;
    if (fread(raw, (size_t)kind, (size_t)m, f) != (size_t)m) {
      ae_set_last_error("%s: read error in the data: %s", path, ferror(f) ? strerror(errno) : "short read");
      goto fail;
    }
    conv(raw, kind, m, dst + i);
  }
  if (tmp) {
    int64_t d[4] = {1, 1, 1, 1};
    for (int i = 0; i < h.ndim; i++) d[i] = h.dims[i];
    fortran_to_c(tmp->data, t->data, d);
  }
  goto out;
fail:
  ae_tensor_free(t);
  t = NULL;
out:
  ae_tensor_free(tmp);
  free(raw);
  free(hbuf);
  fclose(f);
  return t;
}

ae_tensor *ae_npy_read_rows(const char *path, int64_t max_rows) { return read_rows(path, max_rows, NULL); }

int ae__npy_read_rows_u8(const char *path, int64_t max_rows, uint8_t **bytes, ae_shape *shape) {
  npy_u8 u8;
  read_rows(path, max_rows, &u8);
  *bytes = u8.bytes;
  *shape = u8.shape;
  return u8.status;
}

/* ---- writer -------------------------------------------------------------- */

int ae_npy_write(const char *path, const ae_tensor *t) {
  if (!path || !t) {
    ae_set_last_error("npy_write: %s is NULL", path ? "tensor" : "path");
    return -1;
  }
  char dict[256];
  int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  for (int i = 0; i < t->shape.ndim; i++)
    k += snprintf(dict + k, sizeof dict - (size_t)k, i ? ", %lld" : "%lld", (long long)t->shape.d[i]);
  k += snprintf(dict + k, sizeof dict - (size_t)k, t->shape.ndim == 1 ? ",), }" : "), }");
  /* preamble (10) + dict + padding spaces + '\n' is a multiple of 64 */
  size_t total = ((size_t)10 + (size_t)k + 1 + 63) / 64 * 64;
  size_t hlen = total - 10;
  char hdr[320];
  memcpy(hdr, "\x93NUMPY\x01\x00", 8);
  hdr[8] = (char)(hlen & 0xff);
  hdr[9] = (char)(hlen >> 8);
  memcpy(hdr + 10, dict, (size_t)k);
  memset(hdr + 10 + k, ' ', hlen - (size_t)k - 1);
  hdr[total - 1] = '\n';

  ae_io_atomic a;
  if (ae_io_atomic_open(&a, path)) return -1;
  int rc = ae_io_atomic_write(&a, hdr, total);
  float buf[4096];
  int swap = !host_is_le();
  for (int64_t i = 0; rc == 0 && i < t->numel; i += 4096) {
    int64_t m = t->numel - i < 4096 ? t->numel - i : 4096;
    for (int64_t j = 0; j < m; j++) {
      buf[j] = (float)t->data[i + j];
      if (swap) {
        unsigned char *b = (unsigned char *)&buf[j], c;
        c = b[0]; b[0] = b[3]; b[3] = c;
        c = b[1]; b[1] = b[2]; b[2] = c;
      }
    }
    rc = ae_io_atomic_write(&a, buf, (size_t)m * sizeof(float));
  }
  /* commit reports a failed write too (and removes the temporary file) */
  return ae_io_atomic_commit(&a);
}
