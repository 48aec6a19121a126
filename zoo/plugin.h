/* plugin.h: models from a shared object (a plugin), loaded at run time.
 *
 * A plugin is a shared object built against the installed library:
 *   cc -shared -fPIC tied.c $(pkg-config --cflags --libs aezoo) -o tied.so
 * that defines its models (ae_model_def, model.h) and exports them with
 *   AEZOO_PLUGIN(&my_model, &my_other_model);
 * which defines the NULL-terminated array `aezoo_models` and, beside it,
 * the plugin ABI version and the size of ae_real the plugin was built with.
 * ae_plugin_load() refuses a plugin whose ABI version or real type differs
 * from the library's (a message, not a crash), and registers its models
 * (ae_model_register) under their names, recording the plugin's absolute
 * path (checkpoints keep it, so eval, resume and the rest reload it).
 *
 * Float64: gradient checks run in the float64 build (libaezoo64, aezoo64).
 * A plugin is built once per build; the float64 one sits beside the float32
 * one with "64" before ".so" (tied.so and tied64.so):
 *   cc -shared -fPIC tied.c $(pkg-config --cflags --libs aezoo64) -o tied64.so
 * Either build, given the other's path, loads its own sibling.
 *
 * Model specs on the command line: a spec containing '/' or ".so" names a
 * plugin: "./tied.so" (the plugin's only model, or an error listing them),
 * or "./tied.so:NAME". */
#ifndef AE_PLUGIN_H
#define AE_PLUGIN_H

#include "base/api.h"

#include "model.h"

/* Bump when ae_model_def, ae_model or anything a model's functions receive
 * changes layout. (ae_model_def's decode field was appended while the ABI
 * was still 1 and before any plugin existed, so it stayed 1.) */
#define AE_PLUGIN_ABI 1

#define AE_PLUGIN_EXPORT __attribute__((visibility("default")))
#define AEZOO_PLUGIN(...)                                                            \
  AE_PLUGIN_EXPORT extern const int aezoo_plugin_abi, aezoo_plugin_real_size;       \
  AE_PLUGIN_EXPORT const int aezoo_plugin_abi = AE_PLUGIN_ABI;                       \
  AE_PLUGIN_EXPORT const int aezoo_plugin_real_size = (int)sizeof(ae_real);          \
  AE_PLUGIN_EXPORT extern const ae_model_def *const aezoo_models[];                  \
  AE_PLUGIN_EXPORT const ae_model_def *const aezoo_models[] = {__VA_ARGS__, NULL}

/* 1 when a model spec names a plugin (contains '/' or ".so"). */
AE_API int ae_plugin_spec(const char *spec);

/* Loads the plugin at path (once: loading it again returns the same
 * models) and registers its models. Returns the number of models and, if
 * defs is not NULL, points *defs at its NULL-terminated array; -1 with
 * ae_last_error() naming the file and the problem (missing, not a shared
 * object, no aezoo_models, another ABI or real type, a model name taken). */
AE_API int ae_plugin_load(const char *path, const ae_model_def *const **defs);

/* Resolves a model spec: a zoo or registered name, "path.so" (its only
 * model) or "path.so:NAME". Loads the plugin when needed. NULL with
 * ae_last_error() (an unknown name lists the valid ones). */
AE_API const ae_model_def *ae_model_resolve(const char *spec);

#endif
