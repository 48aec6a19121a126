/* safetensors.h: reading and writing the safetensors format
 * (https://github.com/huggingface/safetensors), used for model and
 * optimiser checkpoints so that PyTorch and NumPy users can load them.
 *
 * Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
 *   {"__metadata__": {"key": "value", ...},
 *    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
 * (padded with spaces), then the data buffer. Offsets are relative to the
 * buffer's start; each tensor is contiguous, row-major, little-endian; the
 * tensors cover the buffer exactly, without holes or overlaps.
 *
 * Reader in safetensors.c, writer in safetensors_write.c. Also here,
 * internal to io/: the atomic file writer (temporary file in the
 * same directory, fsync, rename over the target, fsync of the directory)
 * that checkpoints and pictures share. */
#ifndef AE_IO_SAFETENSORS_H
#define AE_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "base/api.h"
#include "base/tensor.h"

/* Element types. Reading accepts all four (converted to ae_real); writing
 * stores F32 (F64 in the float64 build, so nothing is rounded). */
enum { AE_ST_F32 = 1, AE_ST_F64, AE_ST_F16, AE_ST_BF16 };

#define AE_ST_MAX_DIMS 8
/* A header longer than this is refused (as the reference implementation does). */
#define AE_ST_MAX_HEADER ((uint64_t)100000000)

typedef struct ae_st_tensor {
  const char *name;                /* owned by the file */
  int dtype;                       /* AE_ST_* */
  int ndim;                        /* 0 (scalar) .. AE_ST_MAX_DIMS */
  int64_t shape[AE_ST_MAX_DIMS];
  int64_t numel;                   /* product of shape (1 for a scalar) */
  size_t offset, bytes;            /* within the data buffer */
} ae_st_tensor;

/* A parsed, validated file held in memory. */
typedef struct ae_st_file ae_st_file;

/* Reads and validates a whole file. NULL with a message naming the file and
 * the problem (and the tensor, when it is about one) in ae_last_error()
 * for: an unreadable file, fewer than 8 bytes, a header
 * length beyond the file or above AE_ST_MAX_HEADER, a header that is not
 * UTF-8 or not one JSON object (trailing non-space bytes included), an entry
 * that is not {"dtype", "shape", "data_offsets"} with nothing else, an
 * unsupported dtype (named), a shape that is not a list of at most 8
 * non-negative integers, offsets that are not [begin, end] with
 * begin <= end, a byte count that differs from shape x dtype size, offsets
 * past the end of the data (a truncated file), overlapping tensors, a hole
 * between tensors or bytes after the last one, duplicate names, and
 * __metadata__ that is not an object of strings. Nothing half-read is ever
 * returned. */
AE_API ae_st_file *ae_st_read(const char *path);
AE_API void ae_st_free(ae_st_file *f);

AE_API const char *ae_st_path(const ae_st_file *f);
/* Tensors, in the order of their data in the buffer. */
AE_API int ae_st_count(const ae_st_file *f);
AE_API const ae_st_tensor *ae_st_get(const ae_st_file *f, int i);
AE_API const ae_st_tensor *ae_st_find(const ae_st_file *f, const char *name);
/* The tensor's raw little-endian bytes. */
AE_API const void *ae_st_data(const ae_st_file *f, const ae_st_tensor *t);
/* Metadata: value of key, NULL if absent; and listing by index. */
AE_API const char *ae_st_meta(const ae_st_file *f, const char *key);
AE_API int ae_st_meta_count(const ae_st_file *f);
AE_API const char *ae_st_meta_key(const ae_st_file *f, int i);
/* "F32", "F64", "F16", "BF16". */
AE_API const char *ae_st_dtype_name(int dtype);

/* Copies tensor `name` into dst (expect's numel values), converting to
 * ae_real. 0, or -1 with a message naming the file and the tensor if it is
 * missing, or if its shape differs from `expect` (both shapes given). */
AE_API int ae_st_load_into(const ae_st_file *f, const char *name, ae_shape expect, ae_real *dst);
/* A new tensor holding tensor `name` with its own shape (rank 0..4, no zero
 * sizes). NULL with a message when missing or not representable. */
AE_API ae_tensor *ae_st_load_tensor(const ae_st_file *f, const char *name);

/* Writing: collect tensors and metadata, then save atomically. The writer
 * keeps the data pointers (not copies): the data must stay valid and
 * unchanged until ae_st_writer_save returns. Tensors are stored in the
 * order they were added. */
typedef struct ae_st_writer ae_st_writer;
AE_API ae_st_writer *ae_st_writer_new(void);
/* 0, or -1 (ae_last_error()) for a NULL/empty/duplicate name, the name
 * "__metadata__", an invalid shape or NULL data. */
AE_API int ae_st_writer_add(ae_st_writer *w, const char *name, ae_shape s, const ae_real *data);
/* Sets (or replaces) a metadata string. 0 or -1. */
AE_API int ae_st_writer_meta(ae_st_writer *w, const char *key, const char *value);
/* Writes the file: temporary file next to path, write, fsync, rename over
 * path, fsync the directory. On any failure the previous file at path is
 * untouched, the temporary file is removed, and -1 comes back with a
 * message naming path. The writer can be saved again. */
AE_API int ae_st_writer_save(ae_st_writer *w, const char *path);
AE_API void ae_st_writer_free(ae_st_writer *w);

/* ---- internal to io/: atomic replacement of a file ---------------------- */

typedef struct ae_io_atomic {
  char *path;    /* the target */
  char *tmp;     /* the temporary file next to it */
  int fd;
  size_t written;
  int err_no;    /* errno of the first failed write */
} ae_io_atomic;

/* Creates the temporary file (mode 0644). 0, or -1 with ae_last_error(). */
AE_INTERNAL int ae_io_atomic_open(ae_io_atomic *a, const char *path);
/* Appends n bytes. 0, or -1 with the errno kept in a->err_no. */
AE_INTERNAL int ae_io_atomic_write(ae_io_atomic *a, const void *buf, size_t n);
/* fsync, close, rename over the target, fsync the directory. On failure
 * the temporary file is removed and ae_last_error() names the target.
 * Frees a. */
AE_INTERNAL int ae_io_atomic_commit(ae_io_atomic *a);
/* Closes and removes the temporary file; frees a. */
AE_INTERNAL void ae_io_atomic_abort(ae_io_atomic *a);

/* 1 when s[0..n) is well-formed UTF-8. */
AE_INTERNAL int ae_io_utf8_valid(const void *s, size_t n);

/* Test hook: when set, called before each write with the target path, the
 * bytes written so far and the size of this write; a non-zero return makes
 * the write fail with EIO (a full disk, say). A test may also kill its own
 * process from it to simulate a crash mid-write. NULL in normal use. */
AE_INTERNAL extern int (*ae_io_atomic_test_hook)(const char *path, size_t written, size_t n);

#endif
