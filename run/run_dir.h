/* run_dir.h: a run directory held by one run at a time.
 *
 * ae_run_dir_open creates the directory, takes an exclusive flock() on
 * DIR/.lock for the whole run (the lock file holds the holder's pid; the
 * kernel drops the lock when its process dies, so a stale lock from a
 * killed run is simply taken over), then, under the lock, refuses to
 * overwrite a run already checkpointed there (unless resuming in place or
 * forced) and removes the temporary files an interrupted checkpoint write
 * left behind (*.tmp.XXXXXX of the atomic writer). */
#ifndef AE_RUN_RUN_DIR_H
#define AE_RUN_RUN_DIR_H

#include "base/api.h"

typedef struct ae_run_dir {
  int lock_fd; /* -1 when not held (a zeroed struct is "not held" too: fd 0 is never ours) */
  int held;
} ae_run_dir;

/* 0; -1 (busy, cannot create or lock: ae_last_error() names the holder's
 * pid); -2 when dir already holds a checkpoint and neither in_place nor
 * force is set (a usage error). */
AE_API int ae_run_dir_open(ae_run_dir *d, const char *dir, int in_place, int force);
AE_API void ae_run_dir_close(ae_run_dir *d);

/* Creates dir and its missing parents (0755). 0, or -1 with ae_last_error(). */
AE_API int ae_run_mkdir_p(const char *dir);
/* 1 when path exists and is a directory; 1 when path exists at all. */
AE_API int ae_run_is_dir(const char *path);
AE_API int ae_run_exists(const char *path);

#endif
