/* plugin.c: loading plugins with dlopen and registering their models
 * (plugin.h). Loaded plugins stay loaded for the life of the process (the
 * registry points into them). */
#define _GNU_SOURCE
#include "plugin.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_PLUGINS 32

static struct {
  char path[PATH_MAX];
  const ae_model_def *const *defs;
  int n;
} loaded[MAX_PLUGINS];
static int nloaded;

int ae_plugin_spec(const char *spec) { return spec && (strchr(spec, '/') || strstr(spec, ".so")); }

static int file_exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The sibling built for the other real type: tied.so <-> tied64.so. */
static int sibling(const char *path, char *buf, size_t len) {
  size_t n = strlen(path);
  if (n < 3 || strcmp(path + n - 3, ".so") != 0 || n + 3 > len) return -1;
  if (sizeof(ae_real) == 8) {
    snprintf(buf, len, "%.*s64.so", (int)(n - 3), path);
  } else {
    if (n < 5 || strcmp(path + n - 5, "64.so") != 0) return -1;
    snprintf(buf, len, "%.*s.so", (int)(n - 5), path);
  }
  return 0;
}

/* dlopen + the ABI checks; *real_size_out gets the plugin's real size. */
static void *open_checked(const char *path, int *real_size_out) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    ae_set_last_error("plugin %s: cannot load it: %s", path, dlerror());
    return NULL;
  }
  const int *abi = dlsym(h, "aezoo_plugin_abi");
  const int *rs = dlsym(h, "aezoo_plugin_real_size");
  if (!dlsym(h, "aezoo_models")) {
    ae_set_last_error("plugin %s: exports no aezoo_models array (define it with AEZOO_PLUGIN(&model, ...) from "
                      "<aezoo/zoo/plugin.h>)", path);
    dlclose(h);
    return NULL;
  }
  if (!abi || !rs) {
    ae_set_last_error("plugin %s: has no plugin ABI version (built for an older aezoo, or without "
                      "AEZOO_PLUGIN()); rebuild it against this aezoo", path);
    dlclose(h);
    return NULL;
  }
  if (*abi != AE_PLUGIN_ABI) {
    ae_set_last_error("plugin %s: built for plugin ABI %d, but this aezoo has ABI %d; rebuild it against this "
                      "aezoo", path, *abi, AE_PLUGIN_ABI);
    dlclose(h);
    return NULL;
  }
  *real_size_out = *rs;
  return h;
}

int ae_plugin_load(const char *path, const ae_model_def *const **defs) {
  char real[PATH_MAX];
  if (!path || !path[0]) {
    ae_set_last_error("plugin: empty path");
    return -1;
  }
  if (!file_exists(path)) {
    ae_set_last_error("plugin %s: no such file", path);
    return -1;
  }
  if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
  for (int i = 0; i < nloaded; i++)
    if (strcmp(loaded[i].path, real) == 0) {
      if (defs) *defs = loaded[i].defs;
      return loaded[i].n;
    }
  if (nloaded == MAX_PLUGINS) {
    ae_set_last_error("plugin %s: at most %d plugins can be loaded", path, MAX_PLUGINS);
    return -1;
  }
  int rs = 0;
  void *h = NULL;
  /* the float64 build prefers tied64.so beside tied.so without opening
   * tied.so (which would load the float32 library into this process) */
  char sib0[PATH_MAX];
  size_t rl = strlen(real);
  if (sizeof(ae_real) == 8 && !(rl >= 5 && strcmp(real + rl - 5, "64.so") == 0) &&
      sibling(real, sib0, sizeof sib0) == 0 && file_exists(sib0)) {
    h = open_checked(sib0, &rs);
    if (h && rs != (int)sizeof(ae_real)) {
      ae_set_last_error("plugin %s: its float64 sibling %s is not built against aezoo64", real, sib0);
      dlclose(h);
      return -1;
    }
    if (!h) return -1;
  }
  if (!h) h = open_checked(real, &rs);
  if (!h) return -1;
  if (rs != (int)sizeof(ae_real)) {
    /* built for the other real type: use its sibling when it is there */
    char sib[PATH_MAX], what[160];
    snprintf(what, sizeof what, "this is the %s build, the plugin is built against %s",
             sizeof(ae_real) == 8 ? "float64" : "float32", rs == 8 ? "aezoo64 (float64)" : "aezoo (float32)");
    dlclose(h);
    h = NULL;
    if (sibling(real, sib, sizeof sib) == 0 && file_exists(sib)) {
      h = open_checked(sib, &rs);
      if (h && rs != (int)sizeof(ae_real)) {
        ae_set_last_error("plugin %s: its sibling %s is built for the same real type", real, sib);
        dlclose(h);
        return -1;
      }
      if (!h) return -1;
    } else {
      ae_set_last_error("plugin %s: %s; build %s against %s too (`cc -shared -fPIC SRC.c $(pkg-config --cflags "
                        "--libs %s) -o %s`)", real, what, sizeof(ae_real) == 8 ? "its float64 sibling" : "it",
                        sizeof(ae_real) == 8 ? "aezoo64" : "aezoo", sizeof(ae_real) == 8 ? "aezoo64" : "aezoo",
                        sibling(real, sib, sizeof sib) == 0 ? sib : "NAME.so");
      return -1;
    }
  }
  const ae_model_def *const *d = dlsym(h, "aezoo_models");
  int n = 0;
  while (d[n]) n++;
  if (n == 0) {
    ae_set_last_error("plugin %s: its aezoo_models array is empty", real);
    dlclose(h);
    return -1;
  }
  for (int i = 0; i < n; i++)
    if (ae_model_register(d[i], real)) {
      char why[512];
      snprintf(why, sizeof why, "%s", ae_last_error());
      ae_set_last_error("plugin %s: %s", real, why);
      return -1; /* models registered before stay: the plugin stays loaded */
    }
  snprintf(loaded[nloaded].path, sizeof loaded[nloaded].path, "%s", real);
  loaded[nloaded].defs = d;
  loaded[nloaded].n = n;
  nloaded++;
  if (defs) *defs = d;
  return n;
}

static void list_names(const ae_model_def *const *d, char *buf, size_t len) {
  int used = 0;
  buf[0] = 0;
  for (int i = 0; d[i] && (size_t)used < len; i++) used += snprintf(buf + used, len - (size_t)used, " %s", d[i]->name);
}

const ae_model_def *ae_model_resolve(const char *spec) {
  if (!spec || !spec[0]) {
    ae_set_last_error("no model given");
    return NULL;
  }
  if (!ae_plugin_spec(spec)) {
    const ae_model_def *d = ae_model_lookup(spec);
    if (d) return d;
    char buf[1024];
    int used = snprintf(buf, sizeof buf, "unknown model '%s'; valid models:", spec);
    for (int i = 0; i < ae_zoo_count() && (size_t)used < sizeof buf; i++)
      used += snprintf(buf + used, sizeof buf - (size_t)used, " %s", ae_zoo_get(i)->name);
    ae_set_last_error("%s (or a plugin: ./FILE.so or ./FILE.so:NAME)", buf);
    return NULL;
  }
  char path[PATH_MAX];
  const char *name = NULL;
  const char *colon = strrchr(spec, ':');
  if (colon && colon > strstr(spec, ".so") && strstr(spec, ".so")) {
    snprintf(path, sizeof path, "%.*s", (int)(colon - spec), spec);
    name = colon + 1;
  } else {
    snprintf(path, sizeof path, "%s", spec);
  }
  const ae_model_def *const *defs;
  int n = ae_plugin_load(path, &defs);
  if (n < 0) return NULL;
  char names[1024];
  list_names(defs, names, sizeof names);
  if (!name) {
    if (n == 1) return defs[0];
    ae_set_last_error("plugin %s holds %d models; name one as %s:NAME (models:%s)", path, n, path, names);
    return NULL;
  }
  for (int i = 0; i < n; i++)
    if (strcmp(defs[i]->name, name) == 0) return defs[i];
  ae_set_last_error("plugin %s has no model '%s'; its models:%s", path, name, names);
  return NULL;
}
