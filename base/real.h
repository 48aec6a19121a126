/* real.h: the compile-time scalar type. One source tree builds twice:
 * libaezoo with ae_real = float (training) and libaezoo64 with
 * ae_real = double (gradient checks), selected by AE_REAL_DOUBLE. */
#ifndef AE_REAL_H
#define AE_REAL_H

#include <stdint.h>
#include <stddef.h>

#ifdef AE_REAL_DOUBLE
typedef double ae_real;
#define AE_REAL_NAME "float64"
#define AE_REAL_EPS 2.220446049250313e-16
#else
typedef float ae_real;
#define AE_REAL_NAME "float32"
#define AE_REAL_EPS 1.1920929e-07f
#endif

/* Byte alignment of every tensor buffer (one AVX-512 register / cache line). */
#define AE_ALIGN 64

#endif
