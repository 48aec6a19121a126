/* api.h: AE_API, the mark on every public declaration.
 *
 * The libraries are built with -fvisibility=hidden: only what a public
 * header declares with AE_API is exported; backward rules (ae_bw_*),
 * private ae__* functions and test hooks stay inside the library.
 *
 * The float64 build (AE_REAL_DOUBLE, libaezoo64) exports every public name
 * ae_X as ae64_X, so one program can link libaezoo and libaezoo64 (in two
 * translation units) and compare float32 gradients with a float64
 * reference. The renames come from ae64_names.h, which the build generates
 * from the AE_API declarations in the library's headers
 * (base/ae64_names.py): marking a declaration AE_API is the only step. */
#ifndef AE_API_H
#define AE_API_H

#define AE_API __attribute__((visibility("default")))
/* A declaration in an installed header that is not part of the API (used
 * across the library's own files, or a test hook): hidden, and said so,
 * since the install test requires every ae_ declaration there to carry
 * AE_API or AE_INTERNAL. */
#define AE_INTERNAL __attribute__((visibility("hidden")))

#ifdef AE_REAL_DOUBLE
#include "ae64_names.h"
#endif

#endif
