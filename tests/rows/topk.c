/* rows/topk.c: op-table rows of the top-k family (ops/topk.h). The
 * reference keeps element i of a row when fewer than k elements of the
 * row rank above it (a larger value, or an equal value at a lower index;
 * NaN above every number): O(n^2) plain loops, independent of the op's
 * quickselect. Gradient rows draw well-separated values (neighbours at
 * least 1/n apart), so finite differences never cross a tie; tie, NaN and
 * large rows check the forward only. iattr[0] is k. */
#include <math.h>

#include "../op_table.h"

#define S OP_SHAPE

static int ranks_above(double va, int64_t a, double vb, int64_t b) {
  if (isnan(va) || isnan(vb)) return isnan(va) && isnan(vb) ? a < b : isnan(va);
  return va > vb || (va == vb && a < b);
}

static ae_val *build_topk(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_topk_mask(t, in[0], row->iattr[0]);
}
static void ref_topk(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  const ae_tensor *x = in[0];
  int64_t n = x->shape.d[x->shape.ndim - 1], k = row->iattr[0];
  for (int64_t r = 0; r < x->numel / n; r++)
    for (int64_t i = 0; i < n; i++) {
      int64_t above = 0;
      for (int64_t j = 0; j < n; j++) above += ranks_above(x->data[r * n + j], j, x->data[r * n + i], i);
      out->data[r * n + i] = above < k ? x->data[r * n + i] : 0;
    }
}

/* Each row a random permutation of n levels in [-1, 1], 2/n apart, each
 * moved by up to half a gap: distinct values, neighbours >= 1/n apart. */
static void init_separated(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)row;
  ae_tensor *x = in[0];
  int64_t n = x->shape.d[x->shape.ndim - 1];
  int64_t perm[64];
  for (int64_t s = 0; s < x->numel / n; s++) {
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
      int64_t j = (int64_t)(ae_rng_u64(r) % (uint64_t)(i + 1)), p = perm[i];
      perm[i] = perm[j], perm[j] = p;
    }
    for (int64_t i = 0; i < n; i++)
      x->data[s * n + i] = (ae_real)(-1 + (2 * perm[i] + 0.5 + 0.5 * ae_rng_double(r)) / n);
  }
}

/* Ties everywhere: values from {-0.5, 0, 0.25, 0.5}. */
static void init_ties(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)row;
  static const double level[4] = {-0.5, 0, 0.25, 0.5};
  for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] = (ae_real)level[ae_rng_u64(r) % 4];
}

/* Ties and NaNs: every fifth element NaN, the rest from 8 levels. */
static void init_nan(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)row;
  for (int64_t i = 0; i < in[0]->numel; i++)
    in[0]->data[i] = ae_rng_u64(r) % 5 == 0 ? (ae_real)NAN : (ae_real)(ae_rng_u64(r) % 8) / 8;
}

/* Many ties in long rows: values on a grid of 1/64. */
static void init_grid(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)r, (void)row;
  for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] = (ae_real)(floor((double)in[0]->data[i] * 64) / 64);
}

AE_OP_ROWS(topk,
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask k 3 of (4,7)", .nin = 1, .in_shape = {S(4, 7)}, .lo = -1, .hi = 1,
   .build = build_topk, .reference = ref_topk, .out_shape = S(4, 7), .init = init_separated, .iattr = {3}},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask k 1 of (3,5)", .nin = 1, .in_shape = {S(3, 5)}, .lo = -1, .hi = 1,
   .build = build_topk, .reference = ref_topk, .out_shape = S(3, 5), .init = init_separated, .iattr = {1}},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask k = n keeps all (2,4)", .nin = 1, .in_shape = {S(2, 4)}, .lo = -1,
   .hi = 1, .build = build_topk, .reference = ref_topk, .out_shape = S(2, 4), .init = init_separated, .iattr = {4}},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask k 0 keeps none (2,4)", .nin = 1, .in_shape = {S(2, 4)}, .lo = -1,
   .hi = 1, .build = build_topk, .reference = ref_topk, .out_shape = S(2, 4), .init = init_separated, .iattr = {0}},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask 3-D, rows along the last axis (2,3,6) k 2", .nin = 1,
   .in_shape = {S(2, 3, 6)}, .lo = -1, .hi = 1, .build = build_topk, .reference = ref_topk, .out_shape = S(2, 3, 6),
   .init = init_separated, .iattr = {2}},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask 1-D (9) k 4", .nin = 1, .in_shape = {S(9)}, .lo = -1, .hi = 1,
   .build = build_topk, .reference = ref_topk, .out_shape = S(9), .init = init_separated, .iattr = {4}},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask k 10 of (2,40)", .nin = 1, .in_shape = {S(2, 40)}, .lo = -1, .hi = 1,
   .build = build_topk, .reference = ref_topk, .out_shape = S(2, 40), .init = init_separated, .iattr = {10}},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask ties: lowest index wins (5,8) k 3", .nin = 1, .in_shape = {S(5, 8)},
   .lo = -1, .hi = 1, .build = build_topk, .reference = ref_topk, .out_shape = S(5, 8), .init = init_ties,
   .iattr = {3}, .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask NaN ranks first (4,10) k 4", .nin = 1, .in_shape = {S(4, 10)},
   .lo = -1, .hi = 1, .build = build_topk, .reference = ref_topk, .out_shape = S(4, 10), .init = init_nan,
   .iattr = {4}, .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask long rows with ties (3,1000) k 37", .nin = 1,
   .in_shape = {S(3, 1000)}, .lo = -1, .hi = 1, .build = build_topk, .reference = ref_topk,
   .out_shape = S(3, 1000), .init = init_grid, .iattr = {37}, .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_TOPK_MASK, .label = "topk_mask parallel rows (64,600) k 50", .nin = 1, .in_shape = {S(64, 600)},
   .lo = -1, .hi = 1, .build = build_topk, .reference = ref_topk, .out_shape = S(64, 600), .init = init_grid,
   .iattr = {50}, .flags = OP_ROW_FWD_ONLY})
