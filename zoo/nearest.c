/* nearest.c: ordering points by distance (nearest.h). */
#include "nearest.h"

#include <stdlib.h>

static int by_dist(const void *a, const void *b) {
  const dist_idx *x = a, *y = b;
  if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void ae_zoo_sort_by_dist(dist_idx *di, int64_t n) { qsort(di, (size_t)n, sizeof *di, by_dist); }
