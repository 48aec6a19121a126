/* comm.h: the processes of a data-parallel run and the few collective
 * operations it needs: rank and size, the sum of a flat buffer of reals
 * over the ranks in a fixed rank order (so the result does not depend on
 * the transport's choices), an all-gather of a few bytes (fingerprints,
 * losses), and abort. comm_mpi.c implements it on MPI when the process was
 * started by an MPI launcher (mpirun, srun); comm_single.c is the one
 * process of a build without MPI. Every waiting call gives up with an
 * error after a timeout (AEZOO_MPI_TIMEOUT seconds, default 300) instead
 * of hanging on a rank that died. Not installed. */
#ifndef AE_RUN_COMM_H
#define AE_RUN_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "base/real.h"

typedef struct ae_comm {
  int rank, size;
  void *impl; /* the transport's state */
} ae_comm;

/* The processes of this job, set up on the first call: size 1 when the
 * process was not started by an MPI launcher (or MPI is not built in).
 * NULL with ae_last_error() when the launcher's environment is there but
 * MPI cannot start. */
ae_comm *ae__comm_world(void);
/* What carries the messages: "Open MPI", "MPI" or "none". */
const char *ae__comm_transport(void);

/* buf[0..n) := the sum over ranks r = 0, 1, ..., size-1 of rank r's buf,
 * added in that order ((b0 + b1) + b2 ...), the same bits on every rank.
 * 0, or -1 with ae_last_error() (a rank did not answer in time). */
int ae__comm_sum(ae_comm *c, ae_real *buf, int64_t n);
/* all[r * bytes ...] := rank r's `mine` (bytes each), on every rank. 0 or -1. */
int ae__comm_allgather(ae_comm *c, const void *mine, size_t bytes, void *all);
/* Ends every process of the job with this exit code. */
void ae__comm_abort(ae_comm *c, int code) __attribute__((noreturn));

#endif
