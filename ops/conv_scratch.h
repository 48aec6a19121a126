/* conv_scratch.h (internal): what the convolution kernels (conv_kernels.c,
 * conv_grid.c) share: their blocking constants, and per-thread scratch
 * buffers taken from the tape's arena before a parallel region, one slot
 * per thread, each slot 64-byte aligned. The caller gives them back with
 * ae_tape_rewind. */
#ifndef AE_CONV_SCRATCH_H
#define AE_CONV_SCRATCH_H

#include "autograd/op_api.h"
#include "base/parallel.h"

/* Elements of one block's column matrix: 512 KiB of float, in L2. */
#define AE_CONV_TILE_ELEMS 131072
/* Columns above which a block takes no further image. */
#define AE_CONV_MAX_COLS 2048
/* Chunks of the batch whose weight-gradient partials are summed in order. */
#define AE_CONV_WG_CHUNKS 8

typedef struct {
  ae_real *buf;
  int64_t elems; /* per slot */
  int nthreads;
} ae_conv_scratch;

/* Slots of `elems` elements for each thread that may run (one when !par);
 * 0, or -1 with the tape's error set (arena full). */
static inline int ae_conv_scratch_get(ae_tape *t, const char *op, int par, int64_t elems, ae_conv_scratch *s) {
  s->nthreads = 1;
#ifdef _OPENMP
  if (par) s->nthreads = omp_get_max_threads();
#endif
  s->elems = (elems + 15) / 16 * 16; /* keep every slot 64-byte aligned */
  s->buf = ae_arena_alloc(t, op, (size_t)(s->elems * s->nthreads) * sizeof(ae_real));
  return s->buf ? 0 : -1;
}

/* The calling thread's slot. */
static inline ae_real *ae_conv_scratch_slot(const ae_conv_scratch *s) {
  int id = 0;
#ifdef _OPENMP
  id = omp_get_thread_num();
#endif
  return s->buf + (int64_t)id * s->elems;
}

#endif
