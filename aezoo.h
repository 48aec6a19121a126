/* aezoo.h: the whole public API. */
#ifndef AEZOO_H
#define AEZOO_H
#include "autograd/real.h"
#include "autograd/tensor.h"
#include "autograd/rng.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"
#include "autograd/gradcheck.h"
#include "ops/ops.h"
#include "ops/gemm.h"
#include "optim/optim.h"
#endif
