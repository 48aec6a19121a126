/* npy.h: NumPy .npy files, read into and written from ae_tensor.
 * Format: "\x93NUMPY", a version (1.0, 2.0 or 3.0), a little-endian header
 * length (2 bytes in 1.0, 4 in 2.0/3.0), a Python dict literal
 * {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then the raw data. */
#ifndef AE_IO_NPY_H
#define AE_IO_NPY_H

#include <stddef.h>

#include "base/api.h"
#include "base/tensor.h"

/* Reads a .npy file into a new tensor of ae_real with the file's shape
 * (rank 0..4; a rank-1 file stays rank 1).
 * Accepted dtypes: '|u1' (uint8, (ae_real)(u / 255.0) in [0,1], the value
 * ae_dataset_load gives the same byte from an IDX file), '<f4' and
 * '<f8' (converted to ae_real as they are; float64 values beyond float's
 * range become inf in the float32 build). fortran_order True is accepted
 * and the data reordered to C order. NULL with a message naming the file
 * and the problem in ae_last_error() for: a bad magic string or
 * version, a header length past the end of the file, a header dict that
 * does not parse strictly (unknown, missing or repeated keys, malformed
 * values), any other dtype (named in the message), rank above 4, a zero or
 * overflowing dimension, a data length that differs from what the shape
 * and dtype need (truncated or trailing bytes, both counts given). */
AE_API ae_tensor *ae_npy_read(const char *path);
/* The same, keeping at most max_rows rows of the first dimension (0 = all):
 * only those are read (a Fortran-order file of rank above 1 is read whole).
 * The file's length is still checked against the whole shape. Special
 * files (directories, devices, FIFOs, sockets) are refused by what they
 * are, without blocking. */
#include <stdint.h>
AE_API ae_tensor *ae_npy_read_rows(const char *path, int64_t max_rows);

/* Writes t as float32 ('<f4', C order, version 1.0, header padded to 64
 * bytes as numpy does). In the float64 build values are rounded to float.
 * Atomic: writes a temporary file in the same directory, fsyncs it,
 * renames it over path and fsyncs the directory. 0, or -1 with
 * ae_last_error(). */
AE_API int ae_npy_write(const char *path, const ae_tensor *t);

#endif
