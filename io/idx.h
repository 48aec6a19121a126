/* idx.h: the IDX file format (LeCun's MNIST format), gzipped or plain.
 * An IDX file is: two zero bytes, a type byte, the number of dimensions,
 * then one big-endian uint32 per dimension, then the elements, big-endian,
 * row-major. The reader checks every one of these against the others and
 * against the file's length, and fails with a message on any mismatch. */
#ifndef AE_IO_IDX_H
#define AE_IO_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "base/api.h"

/* Element type byte (the third byte of the magic number). */
enum {
  AE_IDX_U8 = 0x08,
  AE_IDX_I8 = 0x09,
  AE_IDX_I16 = 0x0B,
  AE_IDX_I32 = 0x0C,
  AE_IDX_F32 = 0x0D,
  AE_IDX_F64 = 0x0E,
};

/* Files holding more elements than this are refused (a hostile header
 * must not make the reader allocate without bound). */
#define AE_IO_MAX_ELEMS ((int64_t)1 << 32)

/* A gzip member inflates to at most about 1032 times its size (deflate's
 * best ratio); a header claiming more data than its compressed file can
 * hold is refused before anything is allocated. */
#define AE_IO_GZIP_MAX_RATIO 1032

typedef struct ae_idx {
  int type;          /* AE_IDX_* */
  int ndim;          /* 1..4 */
  int64_t dims[4];   /* sizes, each >= 1; entries past ndim are 1; dims[0] is the rows read */
  void *data;        /* the elements in host byte order, malloc'ed */
  size_t bytes;      /* bytes of data: product of dims * element size */
  int64_t file_rows; /* dims[0] as the header gives it (more than dims[0] after a row limit) */
  int64_t bytes_in;  /* bytes of the file consumed (compressed bytes for gzip, including zlib's read-ahead) */
} ae_idx;

/* Reads an IDX file. gzip is detected by its magic bytes (1f 8b), not by
 * the name. 0, or -1 with a message naming the file and the problem in
 * ae_last_error(): unreadable file, wrong magic, unknown type byte,
 * ndim outside 1..4, a zero dimension, dimensions whose product overflows
 * or exceeds AE_IO_MAX_ELEMS, a truncated file or trailing bytes (with the
 * expected and actual byte counts), a corrupt or truncated gzip stream.
 * On failure *out is zeroed and owns nothing. */
AE_API int ae_idx_read(const char *path, ae_idx *out);
/* The same, reading at most max_rows rows of the first dimension (0 = all).
 * Rows past the limit are never read (nor inflated, for gzip), so damage
 * there (truncation, trailing bytes) goes unseen; a plain file's length is
 * still checked against the header, since that costs nothing. The data
 * buffer grows with the bytes actually read, so a header that lies costs
 * no more memory than the file holds. Special files (directories, devices,
 * FIFOs, sockets) are refused by what they are, without opening them. */
AE_API int ae_idx_read_rows(const char *path, int64_t max_rows, ae_idx *out);
AE_API void ae_idx_free(ae_idx *x);

/* Size in bytes of one element of an IDX type; 0 for an unknown type. */
AE_API size_t ae_idx_elem_size(int type);
/* "uint8", "float32", ... ("unknown" otherwise). */
AE_API const char *ae_idx_type_name(int type);
/* Element i of x as a double. */
AE_API double ae_idx_get(const ae_idx *x, int64_t i);
/* Number of elements (product of dims). */
AE_API int64_t ae_idx_numel(const ae_idx *x);

/* Internal to io/: 0 when path is a regular file; else -1 with a message
 * naming the path and what it is ("is a directory", "is a FIFO (named
 * pipe)", "is a character device", ..., "no such file or directory"). */
AE_API int ae_io_check_regular(const char *path);
/* Internal to io/: opens a regular file for reading (checked by stat
 * before the open and by fstat after it; opened O_NONBLOCK so a FIFO never
 * hangs). NULL with a message naming the path; *size gets its length. */
#include <stdio.h>
AE_API FILE *ae_io_open_regular(const char *path, int64_t *size);
/* Internal to io/: "a directory", "a FIFO (named pipe)", ... for st_mode. */
AE_API const char *ae_io_file_kind(unsigned mode);

#endif
