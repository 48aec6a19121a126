/* rows/pool.c: op-table rows of the pool family (ops/pool.h): small odd
 * shapes (non-square, stride != kernel, padding 0 and 1, overlapping
 * windows, batch 1 and 2) against the loops of tests/pool_ref.h.
 * iattr: max_pool2d / avg_pool2d (k, stride, pad); avg_pool2d_backward
 * (in_h, in_w, k, stride, pad); max_unpool2d / max_pool2d_backward
 * (out_h, out_w, index range or 0 for the whole plane); upsample (factor).
 * Max-pool inputs are a shuffled grid 0.05 apart, so no tie is within
 * 2 eps (for relu_max_pool2d shifted off 0); index inputs are constants
 * (nondiff). */
#include "../op_table.h"
#include "../pool_ref.h"

static const int64_t *dims(const ae_tensor *x) { return x->shape.d; }

/* Input 0 := a random permutation of (i - n/2) * 0.05: distinct values. */
static void init_distinct(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  ae_tensor *x = in[0];
  for (int64_t i = 0; i < x->numel; i++) x->data[i] = (ae_real)((double)(i - x->numel / 2) * 0.05);
  for (int64_t i = x->numel - 1; i > 0; i--) {
    int64_t j = (int64_t)(ae_rng_u64(r) % (uint64_t)(i + 1));
    ae_real v = x->data[i];
    x->data[i] = x->data[j], x->data[j] = v;
  }
}

/* Ties everywhere: values from {0, 1, 2}. */
static void init_ties(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] = (ae_real)(ae_rng_u64(r) % 3);
}

/* Input 1 := random indices into planes of `plane` elements (repeats likely). */
static void fill_indices(ae_tensor *idx, ae_rng *r, int64_t plane) {
  for (int64_t i = 0; i < idx->numel; i++) idx->data[i] = (ae_real)(ae_rng_u64(r) % (uint64_t)plane);
}

/* Scatter rows: indices into the (out_h, out_w) plane, or into [0, iattr[2]). */
static void init_scatter_idx(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  fill_indices(in[1], r, row->iattr[2] ? row->iattr[2] : (int64_t)row->iattr[0] * row->iattr[1]);
}

/* Unpool without repeats: each plane gets distinct positions (a shuffled prefix). */
static void init_unpool_distinct(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  ae_tensor *idx = in[1];
  int64_t nin = dims(idx)[2] * dims(idx)[3], nout = (int64_t)row->iattr[0] * row->iattr[1];
  for (int64_t q = 0; q < dims(idx)[0] * dims(idx)[1]; q++) {
    int64_t perm[64];
    for (int64_t i = 0; i < nout; i++) perm[i] = i;
    for (int64_t i = 0; i < nin; i++) {
      int64_t j = i + (int64_t)(ae_rng_u64(r) % (uint64_t)(nout - i));
      int64_t v = perm[i];
      perm[i] = perm[j], perm[j] = v;
      idx->data[q * nin + i] = (ae_real)perm[i];
    }
  }
}

/* Gather rows: indices into x's plane. */
static void init_gather_idx(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  fill_indices(in[1], r, dims(in[0])[2] * dims(in[0])[3]);
}

static pool_ref_geom geom_of(const ae_tensor *x, int k, int s, int p) {
  return pool_ref_geom_make(dims(x)[0] * dims(x)[1], dims(x)[2], dims(x)[3], k, s, p);
}

static ae_val *build_max_pool(ae_tape *t, ae_val *const *in, const op_row *r) {
  return ae_max_pool2d(t, in[0], r->iattr[0], r->iattr[1], r->iattr[2], NULL);
}
static void ref_max_pool(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  pool_ref_geom g = geom_of(in[0], r->iattr[0], r->iattr[1], r->iattr[2]);
  max_pool2d_ref(&g, in[0]->data, out->data, NULL);
}
static ae_val *build_max_pool_idx(ae_tape *t, ae_val *const *in, const op_row *r) {
  ae_val *idx = NULL;
  ae_max_pool2d(t, in[0], r->iattr[0], r->iattr[1], r->iattr[2], &idx);
  return idx;
}
static void ref_max_pool_idx(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  pool_ref_geom g = geom_of(in[0], r->iattr[0], r->iattr[1], r->iattr[2]);
  ae_real *y = malloc(sizeof(ae_real) * (size_t)out->numel);
  if (!y) abort();
  max_pool2d_ref(&g, in[0]->data, y, out->data);
  free(y);
}

/* relu_max_pool2d: the inputs shifted off 0 (no value on the relu's kink,
 * where finite differences would straddle it), the reference pooling
 * relu(x). */
static void init_distinct_off0(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  init_distinct(in, r, row);
  for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] += (ae_real)0.025;
}
static ae_tensor *relu_of(const ae_tensor *x) {
  ae_tensor *y = ae_tensor_new(x->shape);
  if (!y) abort();
  for (int64_t i = 0; i < x->numel; i++) y->data[i] = x->data[i] > 0 ? x->data[i] : 0;
  return y;
}
static ae_val *build_relu_max_pool(ae_tape *t, ae_val *const *in, const op_row *r) {
  return ae_relu_max_pool2d(t, in[0], r->iattr[0], r->iattr[1], r->iattr[2], NULL);
}
static void ref_relu_max_pool(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  ae_tensor *x = relu_of(in[0]);
  ref_max_pool((ae_tensor *const[]){x}, out, r);
  ae_tensor_free(x);
}
static ae_val *build_relu_max_pool_idx(ae_tape *t, ae_val *const *in, const op_row *r) {
  ae_val *idx = NULL;
  ae_relu_max_pool2d(t, in[0], r->iattr[0], r->iattr[1], r->iattr[2], &idx);
  return idx;
}
static void ref_relu_max_pool_idx(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  ae_tensor *x = relu_of(in[0]);
  ref_max_pool_idx((ae_tensor *const[]){x}, out, r);
  ae_tensor_free(x);
}
/* Ties and non-positive windows: values from {-2, -1, 0, 1}. */
static void init_ties_signed(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] = (ae_real)((int)(ae_rng_u64(r) % 4) - 2);
}

static ae_val *build_max_bw(ae_tape *t, ae_val *const *in, const op_row *r) {
  return ae_max_pool2d_backward(t, in[0], in[1], r->iattr[0], r->iattr[1]);
}
static void ref_max_bw(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  scatter_ref(dims(in[0])[0] * dims(in[0])[1], dims(in[0])[2] * dims(in[0])[3], dims(out)[2] * dims(out)[3],
              in[0]->data, in[1]->data, 1, out->data);
}

static ae_val *build_unpool(ae_tape *t, ae_val *const *in, const op_row *r) {
  return ae_max_unpool2d(t, in[0], in[1], r->iattr[0], r->iattr[1]);
}
static void ref_unpool(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  scatter_ref(dims(in[0])[0] * dims(in[0])[1], dims(in[0])[2] * dims(in[0])[3], dims(out)[2] * dims(out)[3],
              in[0]->data, in[1]->data, 0, out->data);
}

static ae_val *build_gather(ae_tape *t, ae_val *const *in, const op_row *r) { return ae_gather2d(t, in[0], in[1]); }
static void ref_gather(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  gather_ref(dims(in[0])[0] * dims(in[0])[1], dims(in[0])[2] * dims(in[0])[3], dims(in[1])[2] * dims(in[1])[3],
             in[0]->data, in[1]->data, out->data);
}

static ae_val *build_avg(ae_tape *t, ae_val *const *in, const op_row *r) {
  return ae_avg_pool2d(t, in[0], r->iattr[0], r->iattr[1], r->iattr[2]);
}
static void ref_avg(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  pool_ref_geom g = geom_of(in[0], r->iattr[0], r->iattr[1], r->iattr[2]);
  avg_pool2d_ref(&g, in[0]->data, out->data);
}

static ae_val *build_avg_bw(ae_tape *t, ae_val *const *in, const op_row *r) {
  const int *a = r->iattr;
  return ae_avg_pool2d_backward(t, in[0], a[0], a[1], a[2], a[3], a[4]);
}
static void ref_avg_bw(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  pool_ref_geom g = geom_of(out, r->iattr[2], r->iattr[3], r->iattr[4]);
  avg_pool2d_backward_ref(&g, in[0]->data, out->data);
}

static ae_val *build_up(ae_tape *t, ae_val *const *in, const op_row *r) {
  return ae_upsample_nearest(t, in[0], r->iattr[0]);
}
static void ref_up(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  upsample_ref(dims(in[0])[0] * dims(in[0])[1], dims(in[0])[2], dims(in[0])[3], r->iattr[0], in[0]->data, out->data);
}

static ae_val *build_up_bw(ae_tape *t, ae_val *const *in, const op_row *r) {
  return ae_upsample_nearest_backward(t, in[0], r->iattr[0]);
}
static void ref_up_bw(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  upsample_backward_ref(dims(out)[0] * dims(out)[1], dims(out)[2], dims(out)[3], r->iattr[0], in[0]->data, out->data);
}

static ae_val *build_gap(ae_tape *t, ae_val *const *in, const op_row *r) { return ae_global_avg_pool(t, in[0]); }
static void ref_gap(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  global_avg_ref(dims(in[0])[0] * dims(in[0])[1], dims(in[0])[2] * dims(in[0])[3], in[0]->data, out->data);
}

AE_OP_ROWS(pool,
  {.op = AE_OP_MAX_POOL2D, .label = "max_pool2d k3 stride 2 pad 1", .nin = 1,
   .in_shape = {OP_SHAPE(2, 2, 5, 6)}, .build = build_max_pool, .reference = ref_max_pool,
   .out_shape = OP_SHAPE(2, 2, 3, 3), .init = init_distinct, .iattr = {3, 2, 1}},
  {.op = AE_OP_MAX_POOL2D, .label = "max_pool2d k2 stride 1 (overlapping windows)", .nin = 1,
   .in_shape = {OP_SHAPE(1, 2, 4, 3)}, .build = build_max_pool, .reference = ref_max_pool,
   .out_shape = OP_SHAPE(1, 2, 3, 2), .init = init_distinct, .iattr = {2, 1, 0}},
  {.op = AE_OP_MAX_POOL2D, .label = "max_pool2d indices with ties (first max wins)", .nin = 1,
   .in_shape = {OP_SHAPE(2, 3, 7, 5)}, .build = build_max_pool_idx, .reference = ref_max_pool_idx,
   .out_shape = OP_SHAPE(2, 3, 4, 3), .init = init_ties, .iattr = {3, 2, 1}, .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_MAX_POOL2D, .label = "relu_max_pool2d k2 stride 2 (the zoo's)", .nin = 1,
   .in_shape = {OP_SHAPE(2, 3, 6, 5)}, .build = build_relu_max_pool, .reference = ref_relu_max_pool,
   .out_shape = OP_SHAPE(2, 3, 3, 2), .init = init_distinct_off0, .iattr = {2, 2, 0}},
  {.op = AE_OP_MAX_POOL2D, .label = "relu_max_pool2d k3 stride 2 pad 1", .nin = 1,
   .in_shape = {OP_SHAPE(2, 2, 5, 6)}, .build = build_relu_max_pool, .reference = ref_relu_max_pool,
   .out_shape = OP_SHAPE(2, 2, 3, 3), .init = init_distinct_off0, .iattr = {3, 2, 1}},
  {.op = AE_OP_MAX_POOL2D, .label = "relu_max_pool2d indices, ties and windows <= 0", .nin = 1,
   .in_shape = {OP_SHAPE(2, 3, 8, 6)}, .build = build_relu_max_pool_idx, .reference = ref_relu_max_pool_idx,
   .out_shape = OP_SHAPE(2, 3, 4, 3), .init = init_ties_signed, .iattr = {2, 2, 0}, .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_MAX_POOL2D_BACKWARD, .label = "max_pool2d_backward (scatter-add, repeated indices)", .nin = 2,
   .in_shape = {OP_SHAPE(2, 2, 3, 3), OP_SHAPE(2, 2, 3, 3)}, .lo = -1, .hi = 1, .nondiff = 2,
   .build = build_max_bw, .reference = ref_max_bw, .out_shape = OP_SHAPE(2, 2, 5, 4),
   .init = init_scatter_idx, .iattr = {5, 4, 0}},
  {.op = AE_OP_GATHER2D, .label = "gather2d (max_pool2d's index select)", .nin = 2,
   .in_shape = {OP_SHAPE(2, 2, 5, 4), OP_SHAPE(2, 2, 3, 2)}, .lo = -1, .hi = 1, .nondiff = 2,
   .build = build_gather, .reference = ref_gather, .out_shape = OP_SHAPE(2, 2, 3, 2), .init = init_gather_idx},
  {.op = AE_OP_MAX_UNPOOL2D, .label = "max_unpool2d distinct indices", .nin = 2,
   .in_shape = {OP_SHAPE(2, 2, 2, 3), OP_SHAPE(2, 2, 2, 3)}, .lo = -1, .hi = 1, .nondiff = 2,
   .build = build_unpool, .reference = ref_unpool, .out_shape = OP_SHAPE(2, 2, 5, 3),
   .init = init_unpool_distinct, .iattr = {5, 3}},
  {.op = AE_OP_MAX_UNPOOL2D, .label = "max_unpool2d repeated indices (last write wins)", .nin = 2,
   .in_shape = {OP_SHAPE(1, 2, 3, 3), OP_SHAPE(1, 2, 3, 3)}, .lo = -1, .hi = 1, .nondiff = 2,
   .build = build_unpool, .reference = ref_unpool, .out_shape = OP_SHAPE(1, 2, 4, 5),
   .init = init_scatter_idx, .iattr = {4, 5, 6}},
  {.op = AE_OP_AVG_POOL2D, .label = "avg_pool2d k3 stride 2 pad 1", .nin = 1,
   .in_shape = {OP_SHAPE(2, 2, 5, 6)}, .lo = -1, .hi = 1, .build = build_avg, .reference = ref_avg,
   .out_shape = OP_SHAPE(2, 2, 3, 3), .iattr = {3, 2, 1}},
  {.op = AE_OP_AVG_POOL2D, .label = "avg_pool2d k2 stride 3", .nin = 1,
   .in_shape = {OP_SHAPE(1, 3, 7, 5)}, .lo = -1, .hi = 1, .build = build_avg, .reference = ref_avg,
   .out_shape = OP_SHAPE(1, 3, 2, 2), .iattr = {2, 3, 0}},
  {.op = AE_OP_AVG_POOL2D_BACKWARD, .label = "avg_pool2d_backward k3 stride 2 pad 1", .nin = 1,
   .in_shape = {OP_SHAPE(2, 2, 3, 3)}, .lo = -1, .hi = 1, .build = build_avg_bw, .reference = ref_avg_bw,
   .out_shape = OP_SHAPE(2, 2, 5, 6), .iattr = {5, 6, 3, 2, 1}},
  {.op = AE_OP_UPSAMPLE_NEAREST, .label = "upsample_nearest x2", .nin = 1,
   .in_shape = {OP_SHAPE(2, 2, 2, 3)}, .lo = -1, .hi = 1, .build = build_up, .reference = ref_up,
   .out_shape = OP_SHAPE(2, 2, 4, 6), .iattr = {2}},
  {.op = AE_OP_UPSAMPLE_NEAREST, .label = "upsample_nearest x3", .nin = 1,
   .in_shape = {OP_SHAPE(1, 1, 2, 1)}, .lo = -1, .hi = 1, .build = build_up, .reference = ref_up,
   .out_shape = OP_SHAPE(1, 1, 6, 3), .iattr = {3}},
  {.op = AE_OP_UPSAMPLE_NEAREST_BACKWARD, .label = "upsample_nearest_backward x2 (block sum)", .nin = 1,
   .in_shape = {OP_SHAPE(2, 2, 4, 6)}, .lo = -1, .hi = 1, .build = build_up_bw, .reference = ref_up_bw,
   .out_shape = OP_SHAPE(2, 2, 2, 3), .iattr = {2}},
  {.op = AE_OP_SUM_AXIS, .label = "global_avg_pool (composite: reshape + mean_axis)", .nin = 1,
   .in_shape = {OP_SHAPE(3, 2, 3, 4)}, .lo = -1, .hi = 1, .build = build_gap, .reference = ref_gap,
   .out_shape = OP_SHAPE(3, 2)},
)
