/* nearest.h: ordering points by distance, shared by retrieval.c (ranking
 * a database per query) and tangent.c (a point's nearest neighbours).
 * Private to zoo/, not installed. */
#ifndef AE_ZOO_NEAREST_H
#define AE_ZOO_NEAREST_H

#include <stdint.h>

typedef struct dist_idx {
  double dist;
  int64_t idx;
} dist_idx;

/* Sorts di[0..n) by distance, ties by index (a total order: the result
 * does not depend on the sort's stability). */
void ae_zoo_sort_by_dist(dist_idx *di, int64_t n);

#endif
