/* safetensors_write.c: the safetensors writer and the atomic file
 * replacement shared by io/ (checkpoints, pictures). The writer builds the
 * header with cJSON (insertion order kept, numbers printed by hand), pads
 * it with spaces to a multiple of 8 and streams the data, converted to
 * little-endian, through ae_io_atomic: temporary file, fsync, rename. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"

int (*ae_io_atomic_test_hook)(const char *path, size_t written, size_t n) = NULL;

static int host_is_le(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

/* ---- atomic file replacement -------------------------------------------- */

int ae_io_atomic_open(ae_io_atomic *a, const char *path) {
  memset(a, 0, sizeof *a);
  a->fd = -1;
  size_t plen = strlen(path);
  a->path = strdup(path);
  a->tmp = malloc(plen + 16);
  if (!a->path || !a->tmp) {
    ae_set_last_error("%s: out of memory", path);
    free(a->path);
    free(a->tmp);
    return -1;
  }
  snprintf(a->tmp, plen + 16, "%s.tmp.XXXXXX", path);
  a->fd = mkstemp(a->tmp);
  if (a->fd < 0) {
    ae_set_last_error("%s: cannot create a temporary file next to it: %s", path, strerror(errno));
    free(a->path);
    free(a->tmp);
    return -1;
  }
  fchmod(a->fd, 0644); /* mkstemp made it 0600 */
  return 0;
}

int ae_io_atomic_write(ae_io_atomic *a, const void *buf, size_t n) {
  if (a->err_no) return -1;
  if (ae_io_atomic_test_hook && ae_io_atomic_test_hook(a->path, a->written, n)) {
    a->err_no = EIO;
    return -1;
  }
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(a->fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      a->err_no = errno;
      return -1;
    }
    p += w;
    n -= (size_t)w;
    a->written += (size_t)w;
  }
  return 0;
}

static void atomic_release(ae_io_atomic *a) {
  free(a->path);
  free(a->tmp);
  a->path = a->tmp = NULL;
  a->fd = -1;
}

void ae_io_atomic_abort(ae_io_atomic *a) {
  if (a->fd >= 0) close(a->fd);
  if (a->tmp) unlink(a->tmp);
  atomic_release(a);
}

int ae_io_atomic_commit(ae_io_atomic *a) {
  int e = a->err_no;
  if (!e && fsync(a->fd) != 0) e = errno;
  if (close(a->fd) != 0 && !e) e = errno;
  a->fd = -1;
  if (!e && rename(a->tmp, a->path) != 0) e = errno;
  if (e) {
    unlink(a->tmp);
    ae_set_last_error("%s: write failed: %s (the previous file, if any, is unchanged)", a->path, strerror(e));
    atomic_release(a);
    return -1;
  }
  /* Make the rename itself durable (best effort). */
  char *dircopy = strdup(a->path);
  if (dircopy) {
    int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    free(dircopy);
  }
  atomic_release(a);
  return 0;
}

/* ---- writing ---------------------------------------------------------------- */

typedef struct st_entry {
  char *name;
  ae_shape shape;
  const ae_real *data;
} st_entry;

struct ae_st_writer {
  int n, cap;
  st_entry *e;
  int nmeta, mcap;
  char **mkey, **mval;
};

ae_st_writer *ae_st_writer_new(void) {
  ae_st_writer *w = calloc(1, sizeof *w);
  if (!w) ae_set_last_error("st_writer_new: out of memory");
  return w;
}

void ae_st_writer_free(ae_st_writer *w) {
  if (!w) return;
  for (int i = 0; i < w->n; i++) free(w->e[i].name);
  for (int i = 0; i < w->nmeta; i++) {
    free(w->mkey[i]);
    free(w->mval[i]);
  }
  free(w->e);
  free(w->mkey);
  free(w->mval);
  free(w);
}

int ae_st_writer_add(ae_st_writer *w, const char *name, ae_shape s, const ae_real *data) {
  if (!w || !name || !data) {
    ae_set_last_error("st_writer_add: %s is NULL", !w ? "writer" : !name ? "name" : "data");
    return -1;
  }
  if (!*name || strcmp(name, "__metadata__") == 0 || !ae_io_utf8_valid(name, strlen(name))) {
    ae_set_last_error("st_writer_add: invalid tensor name '%.128s' (empty, reserved or not UTF-8)", name);
    return -1;
  }
  if (!ae_shape_valid(s)) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", ae_last_error());
    ae_set_last_error("st_writer_add: tensor '%.128s': %s", name, msg);
    return -1;
  }
  for (int i = 0; i < w->n; i++)
    if (strcmp(w->e[i].name, name) == 0) {
      ae_set_last_error("st_writer_add: tensor '%.128s' added twice", name);
      return -1;
    }
  if (w->n == w->cap) {
    int cap = w->cap ? 2 * w->cap : 16;
    st_entry *e = realloc(w->e, (size_t)cap * sizeof *e);
    if (!e) goto oom;
    w->e = e;
    w->cap = cap;
  }
  char *nm = strdup(name);
  if (!nm) goto oom;
  w->e[w->n++] = (st_entry){nm, s, data};
  return 0;
oom:
  ae_set_last_error("st_writer_add: out of memory");
  return -1;
}

int ae_st_writer_meta(ae_st_writer *w, const char *key, const char *value) {
  if (!w || !key || !value) {
    ae_set_last_error("st_writer_meta: %s is NULL", !w ? "writer" : !key ? "key" : "value");
    return -1;
  }
  if (!ae_io_utf8_valid(key, strlen(key)) || !ae_io_utf8_valid(value, strlen(value))) {
    ae_set_last_error("st_writer_meta: key or value of '%.64s' is not UTF-8", key);
    return -1;
  }
  char *v = strdup(value);
  if (!v) goto oom;
  for (int i = 0; i < w->nmeta; i++)
    if (strcmp(w->mkey[i], key) == 0) {
      free(w->mval[i]);
      w->mval[i] = v;
      return 0;
    }
  if (w->nmeta == w->mcap) {
    int cap = w->mcap ? 2 * w->mcap : 16;
    char **k2 = realloc(w->mkey, (size_t)cap * sizeof *k2);
    if (k2) w->mkey = k2;
    char **v2 = realloc(w->mval, (size_t)cap * sizeof *v2);
    if (v2) w->mval = v2;
    if (!k2 || !v2) {
      free(v);
      goto oom;
    }
    w->mcap = cap;
  }
  char *k = strdup(key);
  if (!k) {
    free(v);
    goto oom;
  }
  w->mkey[w->nmeta] = k;
  w->mval[w->nmeta++] = v;
  return 0;
oom:
  ae_set_last_error("st_writer_meta: out of memory");
  return -1;
}

/* The header JSON, unpadded; malloc'ed, NULL when out of memory. */
static char *build_header(const ae_st_writer *w, int dtype, size_t esize) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return NULL;
  int ok = 1;
  if (w->nmeta) {
    cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
    ok = m != NULL;
    for (int i = 0; ok && i < w->nmeta; i++) ok = cJSON_AddStringToObject(m, w->mkey[i], w->mval[i]) != NULL;
  }
  uint64_t off = 0;
  for (int i = 0; ok && i < w->n; i++) {
    const st_entry *e = &w->e[i];
    /* Numbers written by hand ("%llu"): cJSON would print large ones as 1e+15. */
    char shape[8 * 24 + 4], offs[64];
    size_t k = (size_t)snprintf(shape, sizeof shape, "[");
    for (int d = 0; d < e->shape.ndim; d++)
      k += (size_t)snprintf(shape + k, sizeof shape - k, d ? ",%lld" : "%lld", (long long)e->shape.d[d]);
    snprintf(shape + k, sizeof shape - k, "]");
    uint64_t bytes = (uint64_t)ae_shape_numel(e->shape) * esize;
    snprintf(offs, sizeof offs, "[%llu,%llu]", (unsigned long long)off, (unsigned long long)(off + bytes));
    off += bytes;
    cJSON *t = cJSON_AddObjectToObject(root, e->name);
    ok = t && cJSON_AddStringToObject(t, "dtype", ae_st_dtype_name(dtype)) && cJSON_AddRawToObject(t, "shape", shape) &&
         cJSON_AddRawToObject(t, "data_offsets", offs);
  }
  char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  return s;
}

int ae_st_writer_save(ae_st_writer *w, const char *path) {
  if (!w || !path) {
    ae_set_last_error("st_writer_save: %s is NULL", w ? "path" : "writer");
    return -1;
  }
#ifdef AE_REAL_DOUBLE
  const int dtype = AE_ST_F64;
#else
  const int dtype = AE_ST_F32;
#endif
  const size_t esize = sizeof(ae_real);
  char *json = build_header(w, dtype, esize);
  if (!json) {
    ae_set_last_error("%s: out of memory building the header", path);
    return -1;
  }
  size_t jlen = strlen(json);
  size_t hlen = (jlen + 7) / 8 * 8; /* 8 + hlen stays a multiple of 8 */
  unsigned char *head = malloc(8 + hlen);
  if (!head) {
    free(json);
    ae_set_last_error("%s: out of memory building the header", path);
    return -1;
  }
  for (int i = 0; i < 8; i++) head[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
  memcpy(head + 8, json, jlen);
  memset(head + 8 + jlen, ' ', hlen - jlen);
  free(json);

  ae_io_atomic a;
  if (ae_io_atomic_open(&a, path) != 0) {
    free(head);
    return -1;
  }
  int rc = ae_io_atomic_write(&a, head, 8 + hlen);
  free(head);
  const int swap = !host_is_le();
  unsigned char chunk[1 << 14];
  const size_t per = sizeof chunk / esize;
  for (int i = 0; rc == 0 && i < w->n; i++) {
    const ae_real *src = w->e[i].data;
    int64_t n = ae_shape_numel(w->e[i].shape);
    for (int64_t j = 0; rc == 0 && j < n; j += (int64_t)per) {
      size_t m = (size_t)(n - j) < per ? (size_t)(n - j) : per;
      memcpy(chunk, src + j, m * esize);
      if (swap)
        for (size_t q = 0; q < m; q++)
          for (size_t b = 0; b < esize / 2; b++) {
            unsigned char *p = chunk + q * esize, c = p[b];
            p[b] = p[esize - 1 - b];
            p[esize - 1 - b] = c;
          }
      rc = ae_io_atomic_write(&a, chunk, m * esize);
    }
  }
  return ae_io_atomic_commit(&a);
}
