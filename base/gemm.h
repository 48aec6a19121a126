/* gemm.h: the library's one GEMM entry point, C = alpha op(A) op(B) + beta C,
 * and the choice of backend behind it: the built-in blocked kernel
 * (gemm.c over the micro-kernel of gemm_ukernel.h) or OpenBLAS when the
 * build found it. The default comes from the meson option `gemm`; the
 * environment variable AEZOO_GEMM=builtin|openblas, read once at first use,
 * overrides it, and ae_gemm_set_backend overrides both. */
#ifndef AE_GEMM_H
#define AE_GEMM_H

#include "base/api.h"
#include "base/real.h"

typedef enum { AE_GEMM_BUILTIN = 0, AE_GEMM_OPENBLAS = 1 } ae_gemm_backend;

/* C = alpha * op(A) * op(B) + beta * C, all row-major; op(A) is M x K (A^T if
 * transa), op(B) is K x N. lda/ldb/ldc are row strides of the stored
 * matrices. beta == 0 means C is not read (may hold NaN). Bad arguments
 * (negative sizes, strides too small) set ae_last_error and leave C alone.
 * The built-in backend gives bitwise identical results whatever the thread
 * count. */
AE_API void ae_gemm(int transa, int transb, int64_t M, int64_t N, int64_t K, ae_real alpha,
                    const ae_real *A, int64_t lda, const ae_real *B, int64_t ldb, ae_real beta,
                    ae_real *C, int64_t ldc);

AE_API int ae_gemm_set_backend(ae_gemm_backend b); /* 0 ok, -1 when that backend is not compiled in */
AE_API ae_gemm_backend ae_gemm_get_backend(void);
AE_API const char *ae_gemm_backend_name(ae_gemm_backend b);
AE_API int ae_gemm_has_backend(ae_gemm_backend b);

#endif
