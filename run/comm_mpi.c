/* comm_mpi.c: comm.h on MPI. MPI starts only in a process an MPI launcher
 * started (Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE; Slurm's srun and
 * Hydra set PMI_SIZE or PMIX_RANK); any other process is rank 0 of 1 and
 * never touches MPI. A program that initialised MPI itself keeps it: the
 * run uses a duplicate of MPI_COMM_WORLD and leaves finalising to it.
 *
 * The sum is a reduce-scatter then an all-gather written with
 * point-to-point messages, so its order is fixed: the buffer is cut into
 * `size` chunks, rank k receives chunk k of every rank and adds them in
 * rank order, then sends the sum to everyone. Each rank sends and
 * receives 2 (N-1)/N of the buffer, as a ring all-reduce does, and the
 * bits do not depend on MPI_Allreduce's algorithm. Waits poll with a
 * deadline (AEZOO_MPI_TIMEOUT seconds, default 300) so a rank that died
 * or hangs gives an error, not a hang. */
#include "comm.h"

#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/tensor.h"

typedef struct {
  MPI_Comm comm;
  int owns_mpi;         /* we called MPI_Init: we finalise */
  double timeout;       /* seconds a wait may take */
  ae_real *scratch;     /* the chunks received, then their sum */
  size_t scratch_n;
  MPI_Request *req;     /* 2 (size - 1) requests in flight */
  int *peer;            /* the rank of each */
} mpi_state;

static ae_comm world;
static mpi_state st;
static int ready, aborting;

static int launched_by_mpi(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void finalize(void) {
  if (aborting || !st.owns_mpi) return;
  int done = 0;
  MPI_Finalized(&done);
  if (!done) {
    MPI_Comm_free(&st.comm);
    MPI_Finalize();
  }
}

const char *ae__comm_transport(void) {
#ifdef OMPI_MAJOR_VERSION
  return world.size > 1 || ready == 2 ? "Open MPI" : "none";
#else
  return world.size > 1 || ready == 2 ? "MPI" : "none";
#endif
}

ae_comm *ae__comm_world(void) {
  if (ready) return &world;
  world.rank = 0;
  world.size = 1;
  world.impl = NULL;
  if (!launched_by_mpi()) {
    ready = 1;
    return &world;
  }
  int inited = 0, provided;
  MPI_Initialized(&inited);
  if (!inited) {
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
      ae_set_last_error("MPI: MPI_Init_thread failed");
      return NULL;
    }
    st.owns_mpi = 1;
    atexit(finalize);
  }
  if (MPI_Comm_dup(MPI_COMM_WORLD, &st.comm) != MPI_SUCCESS) {
    ae_set_last_error("MPI: cannot duplicate MPI_COMM_WORLD");
    return NULL;
  }
  MPI_Comm_set_errhandler(st.comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(st.comm, &world.rank);
  MPI_Comm_size(st.comm, &world.size);
  const char *t = getenv("AEZOO_MPI_TIMEOUT");
  st.timeout = t && atof(t) > 0 ? atof(t) : 300;
  st.req = calloc(2 * (size_t)world.size, sizeof *st.req);
  st.peer = calloc(2 * (size_t)world.size, sizeof *st.peer);
  if (!st.req || !st.peer) {
    ae_set_last_error("MPI: out of memory");
    return NULL;
  }
  world.impl = &st;
  ready = 2;
  return &world;
}

/* Waits for n requests, polling; -1 with a message past the deadline
 * (naming the first rank whose message is missing: peer[i] of req[i]). */
static int wait_all(MPI_Request *req, int n, const int *peer, const char *what) {
  double deadline = now() + st.timeout;
  for (long spin = 0;; spin++) {
    int done = 0;
    if (MPI_Testall(n, req, &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS) {
      ae_set_last_error("MPI: %s failed on rank %d (a rank died?)", what, world.rank);
      return -1;
    }
    if (done) return 0;
    if (spin < 2000) continue;
    if ((spin & 63) == 0 && now() > deadline) {
      int who = -1;
      for (int i = 0; i < n && who < 0; i++) {
        int one = 0;
        MPI_Test(&req[i], &one, MPI_STATUS_IGNORE);
        if (!one) who = peer ? peer[i] : -1;
      }
      ae_set_last_error("MPI: rank %d waited %g s for %s%s%.0d and gave up (a rank died or hangs; "
                        "AEZOO_MPI_TIMEOUT sets the wait)",
                        world.rank, st.timeout, what, who >= 0 ? " from rank " : "", who >= 0 ? who : 0);
      return -1;
    }
    struct timespec ts = {0, 50000}; /* 50 us: leave the core to the other ranks */
    nanosleep(&ts, NULL);
  }
}

static int64_t chunk_lo(int64_t n, int size, int k) { return (int64_t)((__int128)n * k / size); }

int ae__comm_sum(ae_comm *c, ae_real *buf, int64_t n) {
  if (c->size == 1) return 0;
  int me = c->rank, size = c->size;
  int64_t lo = chunk_lo(n, size, me), len = chunk_lo(n, size, me + 1) - lo;
  int64_t most = chunk_lo(n, size, 1) + 1; /* no chunk is longer */
  if ((int64_t)sizeof(ae_real) * most > INT_MAX) {
    ae_set_last_error("MPI: a buffer of %lld values is too large to sum", (long long)n);
    return -1;
  }
  size_t need = (size_t)size * (size_t)most;
  if (need > st.scratch_n) {
    ae_real *s = realloc(st.scratch, need * sizeof *s);
    if (!s) {
      ae_set_last_error("MPI: out of memory for %zu values", need);
      return -1;
    }
    st.scratch = s;
    st.scratch_n = need;
  }
  MPI_Request *rq = st.req;
  int *pr = st.peer, nr = 0;
  /* reduce-scatter: chunk k of every rank goes to rank k */
  for (int k = 0; k < size; k++) {
    if (k == me) continue;
    int64_t klo = chunk_lo(n, size, k), klen = chunk_lo(n, size, k + 1) - klo;
    pr[nr] = k;
    MPI_Irecv(st.scratch + (size_t)k * (size_t)most, (int)(sizeof(ae_real) * len), MPI_BYTE, k, 1, st.comm, &rq[nr++]);
    pr[nr] = k;
    MPI_Isend(buf + klo, (int)(sizeof(ae_real) * klen), MPI_BYTE, k, 1, st.comm, &rq[nr++]);
  }
  if (wait_all(rq, nr, pr, "gradients")) return -1;
  {
    /* the sum of chunk `me` in rank order */
    memcpy(st.scratch + (size_t)me * (size_t)most, buf + lo, sizeof(ae_real) * (size_t)len);
    ae_real *acc = st.scratch;
    for (int k = 1; k < size; k++) {
      const ae_real *v = st.scratch + (size_t)k * (size_t)most;
      for (int64_t i = 0; i < len; i++) acc[i] += v[i];
    }
    memcpy(buf + lo, acc, sizeof(ae_real) * (size_t)len);
    /* all-gather: every rank's sum to everyone */
    nr = 0;
    for (int k = 0; k < size; k++) {
      if (k == me) continue;
      int64_t klo = chunk_lo(n, size, k), klen = chunk_lo(n, size, k + 1) - klo;
      pr[nr] = k;
      MPI_Irecv(buf + klo, (int)(sizeof(ae_real) * klen), MPI_BYTE, k, 2, st.comm, &rq[nr++]);
      pr[nr] = k;
      MPI_Isend(buf + lo, (int)(sizeof(ae_real) * len), MPI_BYTE, k, 2, st.comm, &rq[nr++]);
    }
    return wait_all(rq, nr, pr, "gradients");
  }
}

int ae__comm_allgather(ae_comm *c, const void *mine, size_t bytes, void *all) {
  if (c->size == 1) {
    memmove(all, mine, bytes);
    return 0;
  }
  if (bytes > INT_MAX) {
    ae_set_last_error("MPI: %zu bytes are too many to gather", bytes);
    return -1;
  }
  MPI_Request rq;
  if (MPI_Iallgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, st.comm, &rq) != MPI_SUCCESS) {
    ae_set_last_error("MPI: all-gather failed on rank %d", c->rank);
    return -1;
  }
  return wait_all(&rq, 1, NULL, "the other ranks");
}

void ae__comm_abort(ae_comm *c, int code) {
  aborting = 1;
  if (c && c->size > 1) MPI_Abort(st.comm, code);
  exit(code);
}
