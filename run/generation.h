/* generation.h: replacing a set of files together, atomically (the files
 * of a checkpoint: model and optimiser state).
 *
 * Layout in a directory DIR:
 *   DIR/gen-XXXXXX/          one generation: every file of one checkpoint
 *   DIR/current -> gen-XXXXXX     a relative symlink: THE checkpoint
 *   DIR/NAME -> current/NAME      one relative symlink per file, made once
 * A new generation is written into a fresh gen-XXXXXX (each file fsync'd,
 * then the directory), then `current` is switched by renaming a new symlink
 * over it (one atomic step, then an fsync of DIR), and only then is the
 * previous generation removed. A kill at any point leaves `current` naming
 * a complete generation, so DIR/NAME always reads a consistent set; an
 * unfinished or superseded generation left by a kill is removed by
 * ae_gen_tidy (the run does it under its lock at start). Paths through
 * DIR/NAME work for every reader that follows symlinks; copies of DIR made
 * with cp -r or tar keep working (the links are relative). */
#ifndef AE_RUN_GENERATION_H
#define AE_RUN_GENERATION_H

#include "base/api.h"

#include <stddef.h>

/* Makes DIR/gen-XXXXXX; its path in gen (len bytes). 0, or -1 with ae_last_error(). */
AE_API int ae_gen_begin(const char *dir, char *gen, size_t len);
/* Publishes gen as DIR's current generation, makes DIR/NAME links for the
 * n names given, and removes every other generation. 0, or -1 with ae_last_error()
 * (the previous generation is then still current). */
AE_API int ae_gen_commit(const char *dir, const char *gen, const char *const *names, int n);
/* Removes gen (after a failed write). */
AE_API void ae_gen_abort(const char *gen);
/* Removes every generation of DIR but the current one. */
AE_API void ae_gen_tidy(const char *dir);

#endif
