/* tape_struct.h (internal, not installed): the tape's fields, shared by
 * the files that implement it: tape.c (the arena, nodes, errors, modes,
 * rule windows, leaves), tape_sweep.c (what a running reverse sweep lends
 * its rules) and tape_transposed.c (parameters it keeps transposed). Everything else goes through tape.h,
 * op_api.h and tape_internal.h. */
#ifndef AE_TAPE_STRUCT_H
#define AE_TAPE_STRUCT_H

#include <stddef.h>
#include <stdint.h>

#include "tape.h"
#include "tape_internal.h"

#define FREE_BUCKETS 64 /* free lists, by size in AE_ALIGN units modulo this */
#define TAKEN_MAX 64    /* free blocks one rule window may take */
#define TCOPY_MAX 8     /* parameters a sweep keeps transposed (tape_transposed.c) */

/* A parameter's transpose kept for the running sweep: src (rows x cols)
 * as dst (cols x rows); asks: how often rules asked for it. dst and cap
 * (elements) outlive the sweep, for the next one to reuse. */
typedef struct tcopy {
  const ae_real *src;
  int64_t rows, cols;
  int asks;
  ae_real *dst;
  size_t cap;
} tcopy;

/* A free block: its first bytes (every block is at least AE_ALIGN bytes). */
typedef struct free_block {
  struct free_block *next;
  size_t size; /* bytes, a multiple of AE_ALIGN */
} free_block;

struct ae_tape {
  unsigned char *arena;
  size_t arena_size, arena_used;
  ae_node **nodes;
  int nnodes, nodes_cap;
  int64_t ops_run; /* ops executed since reset, recorded or not (anomaly positions) */
  int grad_enabled, anomaly;
  const unsigned char *sweep_needed; /* during a reverse sweep: nodes leading to its targets */
  int sweep_top;
  ae_real **sinks; /* during ae__backward_set's sweep: where a leaf's one gradient may be written */
  int sinks_top;
  int sinks_bad;            /* a value written to a sink was not finite (ae__grad_sink_note) */
  ae__acc_offer *acc_offer; /* during a sweep's rule: accumulators it may add into */
  ae_status status;
  char error[512];
  const char *cur_op; /* the name the running op passed to ae_op_begin/ae_op_out/ae_arena_alloc */
  size_t arena_peak;  /* the largest arena_used since creation or reset */
  int reuse;          /* sweeps without create_graph reclaim memory (ae_tape_set_reuse) */
  /* Free gradient buffers, by exact size (see free_take). free_hi: the end
   * of the highest one, so that a rewind above it has nothing to drop. */
  struct free_block *free_list[FREE_BUCKETS];
  unsigned char *free_hi;
  /* The open rule window (ae__tape_window_begin): the arena top and node
   * count at its start, and the free blocks its values took. */
  int in_window, ntaken;
  size_t window_start;
  int window_nodes;
  struct free_block *taken[TAKEN_MAX];
  size_t taken_size[TAKEN_MAX];
  /* Sweeps running (nested ones count) and the transposed parameters the
   * outermost keeps (tape_transposed.c). */
  int sweep_depth, ntcopy;
  tcopy tcopy[TCOPY_MAX];
};

#endif
