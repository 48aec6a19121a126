/* optim.h: optimisers that step parameter tensors (ae_param: value, grad)
 * from their gradients, plus gradient-norm clipping and learning-rate
 * schedules. Optimisers never touch a tape: the caller fills each
 * parameter's grad (backward on a tape, or by hand) and calls
 * ae_optim_step.
 *
 * Semantics follow torch.optim so results can be compared number for
 * number:
 *   SGD / MOMENTUM / NESTEROV  torch.optim.SGD (L2 weight_decay added to the
 *                              gradient, momentum, dampening, nesterov);
 *                              SGD with momentum > 0 is exactly MOMENTUM.
 *   ADAM                       torch.optim.Adam (L2 weight decay, amsgrad off)
 *   ADAMW                      torch.optim.AdamW (decoupled p -= lr*wd*p)
 *   NADAM                      torch.optim.NAdam (momentum_decay psi, L2 decay)
 *   RMSPROP                    torch.optim.RMSprop (eps outside the sqrt,
 *                              optional momentum and centered variant)
 *   ADAGRAD                    torch.optim.Adagrad (lr_decay,
 *                              initial_accumulator_value, eps 1e-10)
 * Scalars (lr, betas, bias corrections) are kept in double; element-wise
 * updates run in ae_real. Every state buffer is allocated by ae_optim_new;
 * ae_optim_step allocates nothing. Element-wise loops go parallel above
 * AE_PAR_MIN_ELEMS; results do not depend on the thread count.
 *
 * Errors: functions that can fail return NULL / -1 (NaN for the schedules)
 * and leave a message in ae_last_error(). */
#ifndef AE_OPTIM_H
#define AE_OPTIM_H

#include <stdint.h>
#include "base/api.h"
#include "base/tensor.h"

typedef enum ae_opt_kind {
  AE_OPT_SGD,
  AE_OPT_MOMENTUM,
  AE_OPT_NESTEROV,
  AE_OPT_ADAM,
  AE_OPT_ADAMW,
  AE_OPT_NADAM,
  AE_OPT_RMSPROP,
  AE_OPT_ADAGRAD,
  AE_OPT_COUNT
} ae_opt_kind;

/* Hyper-parameters. Fields a kind does not use are ignored (and not
 * validated). Start from ae_optim_defaults(kind) and change what you need. */
typedef struct ae_optim_config {
  ae_opt_kind kind;
  double lr;                  /* all */
  double weight_decay;        /* all: L2 added to the gradient; AdamW: decoupled */
  double momentum;            /* SGD family, RMSprop */
  double dampening;           /* SGD family (must be 0 for NESTEROV) */
  double beta1, beta2;        /* Adam family */
  double eps;                 /* Adam family, RMSprop, Adagrad */
  double alpha;               /* RMSprop smoothing constant */
  int centered;               /* RMSprop: normalise by the centred variance */
  double momentum_decay;      /* NAdam psi */
  double lr_decay;            /* Adagrad */
  double initial_accumulator; /* Adagrad initial_accumulator_value */
  double max_grad_norm;       /* all: > 0 clips the gradients' total 2-norm to it
                                 (ae_clip_grad_norm) before each step; 0: no clipping */
  /* Called first in every ae_optim_step with the optimiser's parameters,
   * before the finiteness scan and clipping: a data-parallel run (run/)
   * replaces each gradient by its sum over the processes here, so models
   * that step the optimiser themselves get it too. 0, or -1 with
   * ae_last_error() (the step is skipped). NULL: none. */
  int (*reduce_grads)(void *ctx, ae_param **params, int nparams);
  void *reduce_ctx;
} ae_optim_config;

typedef struct ae_optim ae_optim;

/* PyTorch's defaults for the kind. torch.optim.SGD has no default momentum;
 * here MOMENTUM and NESTEROV default to momentum 0.9, the SGD family to
 * lr 0.01. Adam/AdamW lr 1e-3 (AdamW weight_decay 1e-2), NAdam lr 2e-3,
 * RMSprop and Adagrad lr 1e-2. An unknown kind gives lr = -1 (rejected by
 * ae_optim_new). */
AE_API ae_optim_config ae_optim_defaults(ae_opt_kind kind);

/* Validates cfg (negative lr or eps, beta outside [0,1), NESTEROV with
 * momentum 0 or dampening != 0, MOMENTUM with momentum 0, NaNs, ...) and
 * the parameter list (at least one parameter, no NULL, no duplicates), then
 * allocates every state buffer. The optimiser keeps its own copy of the
 * pointer array, not the parameters: they must outlive it. NULL and a
 * message in ae_last_error() on failure. */
AE_API ae_optim *ae_optim_new(const ae_optim_config *cfg, ae_param **params, int nparams);
AE_API void ae_optim_free(ae_optim *o);

/* One update of every parameter with the current lr. First scans all
 * gradients: if any element is NaN or Inf, nothing is changed (no
 * parameter, no state, no step count), -1 is returned and ae_last_error()
 * names the first offending parameter. Otherwise 0. */
AE_API int ae_optim_step(ae_optim *o);
/* Sets every parameter's gradient to zero. */
AE_API void ae_optim_zero_grad(ae_optim *o);

/* Learning rate used by the next step (schedules call this each step).
 * ae_optim_set_lr returns -1 (lr unchanged) for a negative or NaN lr. */
AE_API int ae_optim_set_lr(ae_optim *o, double lr);
AE_API double ae_optim_get_lr(const ae_optim *o);
AE_API const ae_optim_config *ae_optim_get_config(const ae_optim *o);

/* Steps taken so far (drives bias corrections and Adagrad's lr_decay). */
AE_API int64_t ae_optim_steps_taken(const ae_optim *o);
/* For restoring a checkpoint, together with the state buffers below.
 * Negative values are clamped to 0. */
AE_API void ae_optim_set_steps_taken(ae_optim *o, int64_t steps);

/* Name and spelling used by ae_opt_kind_parse: "sgd", "momentum",
 * "nesterov", "adam", "adamw", "nadam", "rmsprop", "adagrad"
 * ("?" for an unknown kind). */
AE_API const char *ae_opt_kind_name(ae_opt_kind k);
/* 0 and *out set, or -1 with a message listing the known names.
 * Case-insensitive. */
AE_API int ae_opt_kind_parse(const char *name, ae_opt_kind *out);

/* The optimiser's state buffers, for checkpoints: tensor i (0 <= i < count)
 * of the shape of its parameter, named "<buffer>.<parameter name>" with
 * torch's buffer names: "momentum_buffer" (SGD family, RMSprop with
 * momentum), "exp_avg", "exp_avg_sq" (Adam family), "square_avg",
 * "grad_avg" (centered RMSprop), "sum" (Adagrad). A parameter with an
 * empty name is called "#<index>". Names are unique when parameter names
 * are. Writing into the returned tensor's data restores state; together
 * with ae_optim_set_steps_taken that is everything a step depends on
 * (NAdam's mu_product is recomputed from the step count). NULL when i is
 * out of range. */
AE_API int ae_optim_state_count(const ae_optim *o);
AE_API ae_tensor *ae_optim_state_tensor(ae_optim *o, int i, const char **name);

/* torch.nn.utils.clip_grad_norm_ (2-norm): returns the total norm of all
 * gradients before clipping, summed in double in an order that does not
 * depend on the thread count. When max_norm / (total + 1e-6) < 1 every
 * gradient is multiplied by that factor (so the new norm is max_norm to
 * about 1e-6 relative), otherwise gradients are untouched. A non-finite
 * total leaves the gradients untouched (the next ae_optim_step will then
 * refuse them). Returns -1 with a message for a negative or NaN max_norm
 * or a bad parameter list. */
AE_API double ae_clip_grad_norm(ae_param **params, int n, double max_norm);

/* torch.optim.lr_scheduler.StepLR: base_lr * gamma^floor(step / step_size).
 * NaN with a message for step < 0 or step_size < 1. */
AE_API double ae_lr_step_schedule(double base_lr, int64_t step, int64_t step_size, double gamma);
/* Linear warmup then cosine decay (the Hugging Face
 * get_cosine_schedule_with_warmup shape, with a floor):
 *   step < warmup_steps:          base_lr * step / warmup_steps
 *   warmup_steps <= step < total: min_lr + (base_lr - min_lr) *
 *                                 0.5 * (1 + cos(pi * (step - warmup) / (total - warmup)))
 *   step >= total_steps:          min_lr
 * With warmup_steps = 0 this is torch's CosineAnnealingLR (T_max = total,
 * eta_min = min_lr) in closed form. NaN with a message for step < 0,
 * total_steps < 1, warmup_steps < 0 or > total_steps. */
AE_API double ae_lr_cosine_schedule(double base_lr, int64_t step, int64_t total_steps, double min_lr,
                                    int64_t warmup_steps);

#endif
