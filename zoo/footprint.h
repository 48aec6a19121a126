/* footprint.h: how much memory a model will need, estimated from its
 * definition and settings alone, BEFORE anything is built or allocated, so
 * a command can refuse `--set hidden=1000000` with the estimate instead of
 * swapping for minutes or being killed.
 *
 * The estimate is generic (no per-model code): it reads the model's widths
 * from the settings named `hidden` (one size or a list), `code` and
 * `channels`, and its per-step repeat counts from `probes`, `corruptions`,
 * `steps` and `jacobian=exact`; the input kind (ae_model_def.input) picks
 * the shape of the network:
 *   - any input (MLPs): dim -> hidden... -> code, mirrored by the decoder,
 *     the code layer counted thrice (a VAE's mean and log-variance);
 *   - images (C,H,W) with `channels`: 3x3 convolutions halving the size at
 *     each level, mirrored, one more at the deepest width, plus a dense code
 *     layer when `code` is set;
 *   - rows (sequence models): LSTM layers of 4 gates over the rows.
 * bytes = sizeof(ae_real) * (4 * parameters          value, gradient, two optimiser moments
 *                            + batch * activations * (8 + 4 * repeats))
 *         + 64 MiB of fixed overhead (tape arena, thread buffers).
 * The estimate errs on the generous side for the zoo's models (it counts
 * an untied decoder for tied models): the tests check it is never below
 * the real parameter count of any zoo model at its defaults, and within 4
 * times it. It is a guard against settings that cannot fit, not a
 * measurement. A model unlike these three shapes gets a rougher estimate. */
#ifndef AE_FOOTPRINT_H
#define AE_FOOTPRINT_H

#include "base/api.h"

#include <stdint.h>

#include "model.h"

/* Scalars in the model's parameters (estimated as above), saturating at
 * INT64_MAX. */
AE_API int64_t ae_model_param_estimate(const ae_model_def *d, const ae_settings *s, ae_shape example);

/* Bytes one training step at `batch` examples needs: parameters, gradients,
 * optimiser state and the step's activations. Saturates at INT64_MAX. */
AE_API int64_t ae_model_footprint(const ae_model_def *d, const ae_settings *s, ae_shape example, int64_t batch);

/* The memory the system can give now: MemAvailable from /proc/meminfo, else
 * free pages * page size from sysconf; -1 when neither is known. */
AE_API int64_t ae_available_memory(void);

/* The limit the checks use when given none (the aezoo command's
 * --max-memory); 0 (the default): the available memory. Process-wide. */
AE_API void ae_set_memory_limit(int64_t bytes);
AE_API int64_t ae_memory_limit(void);

/* Checks ae_model_footprint against limit bytes (limit <= 0:
 * ae_memory_limit(), else the available memory; no check when that is
 * unknown). 0, or -1 with a one-line message
 * in ae_last_error() giving the estimate, the limit and the parameter count. */
AE_API int ae_model_check_footprint(const ae_model_def *d, const ae_settings *s, ae_shape example, int64_t batch,
                             int64_t limit);

#endif
