/* aezoo.h: the whole public API. */
#ifndef AEZOO_H
#define AEZOO_H
#include "autograd/real.h"
#include "autograd/tensor.h"
#include "autograd/rng.h"
#include "autograd/parallel.h"
#endif
