/* generation.c: checkpoint generations switched by one symlink rename
 * (generation.h). */
#include "generation.h"

#include "base/tensor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fsync_path(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int ae_gen_begin(const char *dir, char *gen, size_t len) {
  if ((size_t)snprintf(gen, len, "%s/gen-XXXXXX", dir) >= len) {
    ae_set_last_error("%s: path too long", dir);
    return -1;
  }
  if (!mkdtemp(gen)) {
    ae_set_last_error("cannot create a checkpoint directory in %s: %s", dir, strerror(errno));
    return -1;
  }
  chmod(gen, 0755); /* mkdtemp makes it 0700; a checkpoint is as readable as its directory */
  return 0;
}

static void remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char p[4400];
      if ((size_t)snprintf(p, sizeof p, "%s/%s", path, e->d_name) < sizeof p) unlink(p);
    }
    closedir(d);
  }
  rmdir(path);
}

void ae_gen_abort(const char *gen) { remove_tree(gen); }

/* Makes DIR/link point to target, atomically (a temporary link renamed
 * over it). Does nothing when it already does. */
static int link_to(const char *dir, const char *link, const char *target) {
  char path[4400], tmp[4400], now[4400];
  snprintf(path, sizeof path, "%s/%s", dir, link);
  ssize_t n = readlink(path, now, sizeof now - 1);
  if (n >= 0) {
    now[n] = 0;
    if (strcmp(now, target) == 0) return 0;
  }
  for (int attempt = 0; attempt < 100; attempt++) {
    snprintf(tmp, sizeof tmp, "%s/%s.tmp.%06d", dir, link, (int)((unsigned)rand() % 1000000u));
    if (symlink(target, tmp) == 0) break;
    if (errno != EEXIST) {
      ae_set_last_error("cannot create a link in %s: %s", dir, strerror(errno));
      return -1;
    }
  }
  if (rename(tmp, path)) {
    ae_set_last_error("cannot replace %s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* The generation `current` names ("" if none). */
static void current_gen(const char *dir, char *buf, size_t len) {
  char path[4400];
  snprintf(path, sizeof path, "%s/current", dir);
  ssize_t n = readlink(path, buf, len - 1);
  buf[n > 0 ? n : 0] = 0;
}

void ae_gen_tidy(const char *dir) {
  char cur[4400];
  current_gen(dir, cur, sizeof cur);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, "gen-", 4) != 0 || strcmp(e->d_name, cur) == 0) continue;
    char p[4400];
    if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p) remove_tree(p);
  }
  closedir(d);
}

int ae_gen_commit(const char *dir, const char *gen, const char *const *names, int n) {
  const char *base = strrchr(gen, '/');
  base = base ? base + 1 : gen;
  if (fsync_path(gen)) {
    ae_set_last_error("cannot sync %s: %s", gen, strerror(errno));
    return -1;
  }
  if (link_to(dir, "current", base)) return -1;
  fsync_path(dir);
  for (int i = 0; i < n; i++) {
    char target[4400];
    snprintf(target, sizeof target, "current/%s", names[i]);
    if (link_to(dir, names[i], target)) return -1;
  }
  fsync_path(dir);
  ae_gen_tidy(dir);
  return 0;
}
