/* run_dir.c: creating, locking and tidying a run directory (run_dir.h). */
#include "run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/tensor.h"
#include "checkpoint.h"
#include "generation.h"

int ae_run_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ae_run_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int ae_run_mkdir_p(const char *dir) {
  char path[4096];
  if (!dir[0] || snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
    ae_set_last_error("bad directory name '%.200s'", dir);
    return -1;
  }
  for (char *p = path + 1;; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      if (mkdir(path, 0755) && errno != EEXIST) {
        ae_set_last_error("cannot create directory %s: %s", path, strerror(errno));
        return -1;
      }
      *p = c;
      if (!c) break;
    }
  }
  if (!ae_run_is_dir(dir)) {
    ae_set_last_error("%s exists and is not a directory", dir);
    return -1;
  }
  return 0;
}

/* Removes NAME.tmp.XXXXXX files (the atomic writer's) from dir. */
static void remove_stale_temps(const char *dir) {
  DIR *dp = opendir(dir);
  if (!dp) return;
  struct dirent *e;
  while ((e = readdir(dp))) {
    const char *t = strstr(e->d_name, ".tmp.");
    if (!t || strlen(t) != 11) continue; /* ".tmp." + 6 characters of mkstemp */
    char p[4400];
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p) unlink(p);
  }
  closedir(dp);
}

int ae_run_dir_open(ae_run_dir *d, const char *dir, int in_place, int force) {
  d->lock_fd = -1;
  d->held = 0;
  if (ae_run_mkdir_p(dir)) return -1;
  char path[4200];
  snprintf(path, sizeof path, "%s/.lock", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    ae_set_last_error("cannot open the lock file %s: %s", path, strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    char pid[32] = "";
    ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = 0;
    pid[strcspn(pid, "\n")] = 0;
    ae_set_last_error("run directory %s is in use by another run (process %s); wait for it to end or choose "
                      "another --out",
                      dir, pid[0] ? pid : "unknown");
    close(fd);
    return -1;
  }
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)len, 0) != len) { /* informative only */
  }
  d->lock_fd = fd;
  d->held = 1;
  snprintf(path, sizeof path, "%s/%s", dir, AE_CKPT_MODEL_FILE);
  if (!in_place && !force && ae_run_exists(path)) {
    ae_set_last_error("%s already holds a checkpoint; continue it with --resume %s, or choose another --out (or "
                      "--force to replace it)",
                      dir, dir);
    ae_run_dir_close(d);
    return -2;
  }
  remove_stale_temps(dir);
  ae_gen_tidy(dir);
  snprintf(path, sizeof path, "%s/best", dir);
  remove_stale_temps(path);
  ae_gen_tidy(path);
  return 0;
}

void ae_run_dir_close(ae_run_dir *d) {
  if (d->held && d->lock_fd >= 0) close(d->lock_fd); /* releases the lock */
  d->lock_fd = -1;
  d->held = 0;
}
