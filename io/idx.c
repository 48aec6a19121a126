/* idx.c: the IDX reader. A small "source" hides whether the bytes come
 * from a plain FILE (whose length is known up front, so a bad length is
 * caught before anything is allocated) or from a gzip stream through zlib,
 * inflated in 64 KiB chunks into a buffer that grows with the data
 * actually there (from 1 MiB, doubling), after the header's claim was
 * checked against what the compressed size can hold; a row limit stops
 * the inflation early. Also the io/ helpers that refuse special files. */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/tensor.h"

size_t ae_idx_elem_size(int type) {
  switch (type) {
  case AE_IDX_U8:
  case AE_IDX_I8: return 1;
  case AE_IDX_I16: return 2;
  case AE_IDX_I32:
  case AE_IDX_F32: return 4;
  case AE_IDX_F64: return 8;
  default: return 0;
  }
}

const char *ae_idx_type_name(int type) {
  switch (type) {
  case AE_IDX_U8: return "uint8";
  case AE_IDX_I8: return "int8";
  case AE_IDX_I16: return "int16";
  case AE_IDX_I32: return "int32";
  case AE_IDX_F32: return "float32";
  case AE_IDX_F64: return "float64";
  default: return "unknown";
  }
}

int64_t ae_idx_numel(const ae_idx *x) {
  int64_t n = 1;
  for (int i = 0; i < x->ndim; i++) n *= x->dims[i];
  return n;
}

double ae_idx_get(const ae_idx *x, int64_t i) {
  switch (x->type) {
  case AE_IDX_U8: return ((const uint8_t *)x->data)[i];
  case AE_IDX_I8: return ((const int8_t *)x->data)[i];
  case AE_IDX_I16: return ((const int16_t *)x->data)[i];
  case AE_IDX_I32: return ((const int32_t *)x->data)[i];
  case AE_IDX_F32: return ((const float *)x->data)[i];
  case AE_IDX_F64: return ((const double *)x->data)[i];
  default: return 0;
  }
}

void ae_idx_free(ae_idx *x) {
  if (!x) return;
  free(x->data);
  memset(x, 0, sizeof *x);
}

/* ---- byte source: plain file or gzip stream ------------------------------ */

typedef struct source {
  FILE *f;
  gzFile gz;
  int64_t size; /* bytes in the file (compressed bytes for gzip) */
  const char *path;
  char why[256]; /* the reason a read stopped short, if it was an error */
} source;

const char *ae_io_file_kind(unsigned mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

int ae_io_check_regular(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    ae_set_last_error("%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    ae_set_last_error("%s: is %s, not a regular file", path, ae_io_file_kind(st.st_mode));
    return -1;
  }
  return 0;
}

/* Opens path for reading without blocking (a FIFO swapped in after the
 * stat must not hang us) and checks again, on the descriptor, that it is a
 * regular file. A FILE, or NULL with a message; *size gets its length. */
FILE *ae_io_open_regular(const char *path, int64_t *size) {
  if (ae_io_check_regular(path)) return NULL;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0) {
    ae_set_last_error("%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ae_set_last_error("%s: is %s, not a regular file", path, ae_io_file_kind(st.st_mode));
    close(fd);
    return NULL;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    ae_set_last_error("%s: cannot open: %s", path, strerror(errno));
    close(fd);
    return NULL;
  }
  *size = (int64_t)st.st_size;
  return f;
}

static int source_open(source *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->path = path;
  FILE *f = ae_io_open_regular(path, &s->size);
  if (!f) return -1;
  unsigned char m[2] = {0, 0};
  size_t got = fread(m, 1, 2, f);
  if (fseek(f, 0, SEEK_SET) != 0) {
    ae_set_last_error("%s: cannot read: %s", path, strerror(errno));
    fclose(f);
    return -1;
  }
  if (got == 2 && m[0] == 0x1f && m[1] == 0x8b) {
    int fd = dup(fileno(f));
    fclose(f);
    s->gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (!s->gz) {
      ae_set_last_error("%s: cannot open as gzip: %s", path, errno ? strerror(errno) : "out of memory");
      if (fd >= 0) close(fd);
      return -1;
    }
    /* small buffer: with a row limit, little is read past what is needed */
    gzbuffer(s->gz, 1 << 16);
    return 0;
  }
  s->f = f;
  return 0;
}

/* Bytes of the file consumed so far. */
static int64_t source_offset(source *s) {
  if (s->gz) return (int64_t)gzoffset(s->gz);
  if (s->f) return (int64_t)ftell(s->f);
  return 0;
}

static void source_close(source *s) {
  if (s->f) fclose(s->f);
  if (s->gz) gzclose(s->gz);
  s->f = NULL;
  s->gz = NULL;
}

/* Reads up to n bytes; returns how many were read (short at the end of the
 * data or on an error, whose reason goes to s->why). */
static int64_t source_read(source *s, void *buf, int64_t n) {
  int64_t done = 0;
  while (done < n) {
    int64_t want = n - done;
    /* gzip: small chunks, because zlib drops the count of a call that ends
     * in an error, and the message should say how much data was there. */
    int64_t chunk = s->f ? (1 << 30) : (1 << 16);
    if (want > chunk) want = chunk;
    if (s->f) {
      size_t got = fread((char *)buf + done, 1, (size_t)want, s->f);
      done += (int64_t)got;
      if ((int64_t)got < want) {
        if (ferror(s->f)) snprintf(s->why, sizeof s->why, "read error: %s", strerror(errno));
        break;
      }
    } else {
      int got = gzread(s->gz, (char *)buf + done, (unsigned)want);
      if (got > 0) done += got;
      if (got < (int)want) {
        int errnum = Z_OK;
        const char *msg = gzerror(s->gz, &errnum);
        /* zlib's message starts with the stream's name; the caller names the file */
        size_t pl = strlen(s->path);
        if (!strncmp(msg, s->path, pl) && !strncmp(msg + pl, ": ", 2)) msg += pl + 2;
        /* gzdopen'ed streams are named "<fd:N>" */
        if (!strncmp(msg, "<fd:", 4) && strstr(msg, ">: ")) msg = strstr(msg, ">: ") + 3;
        if (errnum != Z_OK) snprintf(s->why, sizeof s->why, "gzip stream: %s", msg);
        break;
      }
    }
  }
  return done;
}

/* ---- the reader ---------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int host_is_le(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

static void swap_bytes(void *data, int64_t n, size_t esize) {
  unsigned char *p = data;
  for (int64_t i = 0; i < n; i++, p += esize)
    for (size_t a = 0, b = esize - 1; a < b; a++, b--) {
      unsigned char t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

static void dims_str(const ae_idx *x, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; i < x->ndim && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, i ? "x%lld" : "%lld", (long long)x->dims[i]);
}

/* Reads exactly `need` data bytes (the rows wanted) into a buffer that
 * grows as data arrives (gzip: from 1 MiB, doubling, so the allocation
 * follows what is really there), or in one go (plain files, whose length
 * was already checked). Trailing bytes are an error only when every row was
 * wanted (`all`). */
static int read_data(source *s, const char *path, ae_idx *x, int64_t hdr, int all) {
  int64_t need = (int64_t)x->bytes;
  int64_t cap = s->f ? need : (need < (1 << 20) ? need : (1 << 20));
  unsigned char *buf = malloc(cap ? (size_t)cap : 1);
  if (!buf) goto oom;
  int64_t have = 0;
  for (;;) {
    int64_t got = source_read(s, buf + have, cap - have);
    have += got;
    if (have < cap || cap == need) break;
    int64_t ncap = cap * 2 < need ? cap * 2 : need;
    unsigned char *nb = realloc(buf, (size_t)ncap);
    if (!nb) goto oom;
    buf = nb;
    cap = ncap;
  }
  if (have < need) {
    char d[96];
    dims_str(x, d, sizeof d);
    ae_set_last_error("%s: truncated: the header says %s %s, %lld data bytes after the %lld-byte header, "
                 "but only %lld are there%s%s",
                 path, d, ae_idx_type_name(x->type), (long long)need, (long long)hdr, (long long)have,
                 s->why[0] ? "; " : "", s->why);
    free(buf);
    return -1;
  }
  /* Anything after the data is an error too. */
  unsigned char extra[4096];
  int64_t trailing = 0;
  int64_t got;
  while (all && trailing < (1 << 20) && (got = source_read(s, extra, sizeof extra)) > 0) trailing += got;
  if (all && (trailing > 0 || s->why[0])) {
    char d[96];
    dims_str(x, d, sizeof d);
    if (trailing > 0)
      ae_set_last_error("%s: %s%lld trailing bytes: the header says %s %s, %lld bytes in all, but the file "
                   "holds %s%lld",
                   path, trailing >= (1 << 20) ? "at least " : "", (long long)trailing, d,
                   ae_idx_type_name(x->type), (long long)(hdr + need), trailing >= (1 << 20) ? "at least " : "",
                   (long long)(hdr + need + trailing));
    else
      ae_set_last_error("%s: after the %lld expected bytes: %s", path, (long long)(hdr + need), s->why);
    free(buf);
    return -1;
  }
  size_t es = ae_idx_elem_size(x->type);
  if (es > 1 && host_is_le()) swap_bytes(buf, need / (int64_t)es, es);
  x->data = buf;
  return 0;
oom:
  free(buf);
  ae_set_last_error("%s: out of memory for %lld data bytes", path, (long long)need);
  return -1;
}

int ae_idx_read(const char *path, ae_idx *out) {
  return ae_idx_read_rows(path, 0, out);
}

int ae_idx_read_rows(const char *path, int64_t max_rows, ae_idx *out) {
  if (!out) {
    ae_set_last_error("idx_read: output is NULL");
    return -1;
  }
  memset(out, 0, sizeof *out);
  if (!path) {
    ae_set_last_error("idx_read: path is NULL");
    return -1;
  }
  source s;
  if (source_open(&s, path) != 0) return -1;
  ae_idx x = {0};
  unsigned char h[4 + 4 * 4];
  int64_t got = source_read(&s, h, 4);
  if (got < 4) {
    ae_set_last_error("%s: %lld bytes, too short for the 4-byte IDX magic number%s%s", path,
                 (long long)got, s.why[0] ? "; " : "", s.why);
    goto fail;
  }
  if (h[0] != 0 || h[1] != 0) {
    ae_set_last_error("%s: not an IDX file: wrong magic number 0x%02x%02x%02x%02x (an IDX file starts with two zero "
                 "bytes, a type byte and the number of dimensions, e.g. 0x00000803)",
                 path, h[0], h[1], h[2], h[3]);
    goto fail;
  }
  x.type = h[2];
  if (ae_idx_elem_size(x.type) == 0) {
    ae_set_last_error("%s: bad IDX type byte 0x%02x (known: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, "
                 "0x0D float32, 0x0E float64)",
                 path, h[2]);
    goto fail;
  }
  x.ndim = h[3];
  if (x.ndim < 1 || x.ndim > 4) {
    ae_set_last_error("%s: IDX header has %d dimensions; 1 to 4 are supported", path, x.ndim);
    goto fail;
  }
  int64_t hdr = 4 + 4 * (int64_t)x.ndim;
  got = source_read(&s, h + 4, 4 * x.ndim);
  if (got < 4 * x.ndim) {
    ae_set_last_error("%s: truncated header: %d dimensions need %lld header bytes, the file has %lld%s%s",
                 path, x.ndim, (long long)hdr, (long long)(4 + got), s.why[0] ? "; " : "", s.why);
    goto fail;
  }
  for (int i = 0; i < 4; i++) x.dims[i] = 1;
  int64_t n = 1;
  for (int i = 0; i < x.ndim; i++) {
    x.dims[i] = be32(h + 4 + 4 * i);
    if (x.dims[i] < 1) {
      ae_set_last_error("%s: dimension %d has size 0; every dimension must be at least 1", path, i);
      goto fail;
    }
    if (n > INT64_MAX / x.dims[i]) {
      ae_set_last_error("%s: the product of the dimensions overflows at dimension %d (size %lld)", path, i,
                   (long long)x.dims[i]);
      goto fail;
    }
    n *= x.dims[i];
  }
  if (n > AE_IO_MAX_ELEMS) {
    char d[96];
    dims_str(&x, d, sizeof d);
    ae_set_last_error("%s: dimensions %s make %lld elements, more than the limit of %lld", path, d,
                 (long long)n, (long long)AE_IO_MAX_ELEMS);
    goto fail;
  }
  x.bytes = (size_t)n * ae_idx_elem_size(x.type);
  if (max_rows < 0) {
    ae_set_last_error("%s: row limit %lld, must be >= 0 (0 = all)", path, (long long)max_rows);
    goto fail;
  }
  if (s.gz && (double)(hdr + (int64_t)x.bytes) > (double)s.size * AE_IO_GZIP_MAX_RATIO + 4096) {
    char d[96];
    dims_str(&x, d, sizeof d);
    ae_set_last_error("%s: the header claims %s %s, %lld bytes, but a gzip file of %lld bytes inflates to at most "
                 "about %lld",
                 path, d, ae_idx_type_name(x.type), (long long)(hdr + (int64_t)x.bytes), (long long)s.size,
                 (long long)(s.size * AE_IO_GZIP_MAX_RATIO + 4096));
    goto fail;
  }
  if (s.f && s.size != hdr + (int64_t)x.bytes) {
    char d[96];
    dims_str(&x, d, sizeof d);
    int64_t have = s.size - hdr;
    if (have < (int64_t)x.bytes)
      ae_set_last_error("%s: truncated: the header says %s %s, %lld data bytes after the %lld-byte header, "
                   "but only %lld are there (file is %lld bytes, expected %lld)",
                   path, d, ae_idx_type_name(x.type), (long long)x.bytes, (long long)hdr, (long long)have,
                   (long long)s.size, (long long)(hdr + (int64_t)x.bytes));
    else
      ae_set_last_error("%s: %lld trailing bytes: the header says %s %s, %lld bytes in all, but the file holds %lld",
                   path, (long long)(have - (int64_t)x.bytes), d, ae_idx_type_name(x.type),
                   (long long)(hdr + (int64_t)x.bytes), (long long)s.size);
    goto fail;
  }
  x.file_rows = x.dims[0];
  int all = max_rows == 0 || max_rows >= x.dims[0];
  if (!all) {
    x.bytes = x.bytes / (size_t)x.dims[0] * (size_t)max_rows;
    x.dims[0] = max_rows;
  }
  if (read_data(&s, path, &x, hdr, all) != 0) goto fail;
  x.bytes_in = source_offset(&s);
  source_close(&s);
  *out = x;
  return 0;
fail:
  source_close(&s);
  return -1;
}
