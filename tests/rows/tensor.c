/* rows/tensor.c: op-table rows of the tensor family (ops/tensor_ops.h):
 * concat (also its tree of concats past 4 inputs, and stack), slice (also
 * select), pad_axis, repeat, softmax, log_softmax. References are plain
 * loops over multi-indices, generic in shape and axis, so
 * tests/test_tensor_ops.c reuses them on other shapes and axes.
 * Integer attributes: iattr[0] the axis; iattr[1], iattr[2] the op's
 * numbers (start/len, before/after, index, n). */
#include <math.h>

#include "../op_table.h"

static void unravel(ae_shape s, int64_t f, int64_t idx[AE_MAX_DIMS]) {
  for (int k = s.ndim - 1; k >= 0; k--) {
    idx[k] = f % s.d[k];
    f /= s.d[k];
  }
}
static int64_t ravel(ae_shape s, const int64_t idx[AE_MAX_DIMS]) {
  int64_t f = 0;
  for (int k = 0; k < s.ndim; k++) f = f * s.d[k] + idx[k];
  return f;
}
static int axis_of(int axis, int nd) { return axis < 0 ? axis + nd : axis; }
/* idx with entry a removed (ndim - 1 entries remain). */
static void drop(int64_t idx[AE_MAX_DIMS], int nd, int a) {
  for (int k = a; k < nd - 1; k++) idx[k] = idx[k + 1];
}

/* ---- concat and stack ---- */
static ae_val *build_concat(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_concat(t, row->nin, in, row->iattr[0]);
}
static void ref_concat(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  int a = axis_of(row->iattr[0], out->shape.ndim);
  int64_t idx[AE_MAX_DIMS];
  for (int64_t f = 0; f < out->numel; f++) {
    unravel(out->shape, f, idx);
    int j = 0;
    while (idx[a] >= in[j]->shape.d[a]) idx[a] -= in[j++]->shape.d[a];
    out->data[f] = in[j]->data[ravel(in[j]->shape, idx)];
  }
}
static ae_val *build_stack(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_stack(t, row->nin, in, row->iattr[0]);
}
static void ref_stack(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  int a = axis_of(row->iattr[0], out->shape.ndim);
  int64_t idx[AE_MAX_DIMS];
  for (int64_t f = 0; f < out->numel; f++) {
    unravel(out->shape, f, idx);
    int j = (int)idx[a];
    drop(idx, out->shape.ndim, a);
    out->data[f] = in[j]->data[ravel(in[j]->shape, idx)];
  }
}

/* ---- slice, select, pad_axis ---- */
static ae_val *build_slice(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_slice(t, in[0], row->iattr[0], row->iattr[1], row->iattr[2]);
}
static void ref_slice(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  int a = axis_of(row->iattr[0], out->shape.ndim);
  int64_t idx[AE_MAX_DIMS];
  for (int64_t f = 0; f < out->numel; f++) {
    unravel(out->shape, f, idx);
    idx[a] += row->iattr[1];
    out->data[f] = in[0]->data[ravel(in[0]->shape, idx)];
  }
}
static ae_val *build_select(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_select(t, in[0], row->iattr[0], row->iattr[1]);
}
static void ref_select(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ae_shape xs = in[0]->shape;
  int a = axis_of(row->iattr[0], xs.ndim);
  int64_t i = row->iattr[1] < 0 ? row->iattr[1] + xs.d[a] : row->iattr[1];
  int64_t idx[AE_MAX_DIMS];
  for (int64_t f = 0; f < out->numel; f++) {
    unravel(out->shape, f, idx);
    for (int k = xs.ndim - 1; k > a; k--) idx[k] = idx[k - 1];
    idx[a] = i;
    out->data[f] = in[0]->data[ravel(xs, idx)];
  }
}
static ae_val *build_pad(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_pad_axis(t, in[0], row->iattr[0], row->iattr[1], row->iattr[2]);
}
static void ref_pad(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  int a = axis_of(row->iattr[0], out->shape.ndim);
  int64_t idx[AE_MAX_DIMS];
  for (int64_t f = 0; f < out->numel; f++) {
    unravel(out->shape, f, idx);
    idx[a] -= row->iattr[1];
    out->data[f] = idx[a] >= 0 && idx[a] < in[0]->shape.d[a] ? in[0]->data[ravel(in[0]->shape, idx)] : 0;
  }
}

/* ---- repeat ---- */
static ae_val *build_repeat(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_repeat(t, in[0], row->iattr[0], row->iattr[1]);
}
static void ref_repeat(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  int a = axis_of(row->iattr[0], out->shape.ndim);
  int64_t idx[AE_MAX_DIMS];
  for (int64_t f = 0; f < out->numel; f++) {
    unravel(out->shape, f, idx);
    drop(idx, out->shape.ndim, a);
    out->data[f] = in[0]->data[ravel(in[0]->shape, idx)];
  }
}

/* ---- softmax, log_softmax: max and sum of exp along the axis, in double ---- */
static void ref_softmax_common(ae_tensor *const *in, ae_tensor *out, const op_row *row, int take_log) {
  ae_shape s = in[0]->shape;
  int a = axis_of(row->iattr[0], s.ndim);
  int64_t idx[AE_MAX_DIMS];
  for (int64_t f = 0; f < out->numel; f++) {
    unravel(s, f, idx);
    double x = in[0]->data[f], m = -INFINITY, sum = 0;
    for (idx[a] = 0; idx[a] < s.d[a]; idx[a]++) m = fmax(m, in[0]->data[ravel(s, idx)]);
    for (idx[a] = 0; idx[a] < s.d[a]; idx[a]++) sum += exp(in[0]->data[ravel(s, idx)] - m);
    out->data[f] = (ae_real)(take_log ? x - m - log(sum) : exp(x - m) / sum);
  }
}
static ae_val *build_softmax(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_softmax(t, in[0], row->iattr[0]);
}
static void ref_softmax(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ref_softmax_common(in, out, row, 0);
}
static ae_val *build_log_softmax(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_log_softmax(t, in[0], row->iattr[0]);
}
static void ref_log_softmax(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ref_softmax_common(in, out, row, 1);
}
/* Huge logits with near ties: each element one of +-1000, 999.5, 999, -999. */
static void init_extreme(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  static const double pick[5] = {1000, 999.5, 999, -1000, -999};
  for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] = (ae_real)pick[ae_rng_u64(r) % 5];
}

#define S OP_SHAPE
AE_OP_ROWS(tensor,
  {.op = AE_OP_CONCAT, .label = "concat 3 inputs axis 0", .nin = 3, .in_shape = {S(2, 3), S(1, 3), S(3, 3)},
   .lo = -1, .hi = 1, .build = build_concat, .reference = ref_concat, .out_shape = S(6, 3), .iattr = {0}},
  {.op = AE_OP_CONCAT, .label = "concat 3-D axis -2", .nin = 3, .in_shape = {S(2, 2, 3), S(2, 1, 3), S(2, 3, 3)},
   .lo = -1, .hi = 1, .build = build_concat, .reference = ref_concat, .out_shape = S(2, 6, 3), .iattr = {-2}},
  {.op = AE_OP_CONCAT, .label = "concat 6 inputs last axis (tree of concats)", .nin = 6,
   .in_shape = {S(2, 1), S(2, 2), S(2, 1), S(2, 3), S(2, 1), S(2, 2)}, .lo = -1, .hi = 1, .build = build_concat,
   .reference = ref_concat, .out_shape = S(2, 10), .iattr = {1}},
  {.op = AE_OP_CONCAT, .label = "stack 3 at axis 1 (reshape + concat)", .nin = 3,
   .in_shape = {S(2, 3), S(2, 3), S(2, 3)}, .lo = -1, .hi = 1, .build = build_stack, .reference = ref_stack,
   .out_shape = S(2, 3, 3), .iattr = {1}},
  {.op = AE_OP_SLICE, .label = "slice 3-D middle axis", .nin = 1, .in_shape = {S(3, 5, 2)}, .lo = -1, .hi = 1,
   .build = build_slice, .reference = ref_slice, .out_shape = S(3, 3, 2), .iattr = {1, 1, 3}},
  {.op = AE_OP_SLICE, .label = "slice last axis -1", .nin = 1, .in_shape = {S(4, 5)}, .lo = -1, .hi = 1,
   .build = build_slice, .reference = ref_slice, .out_shape = S(4, 3), .iattr = {-1, 2, 3}},
  {.op = AE_OP_SLICE, .label = "select index -1 (slice + reshape)", .nin = 1, .in_shape = {S(3, 4, 2)}, .lo = -1,
   .hi = 1, .build = build_select, .reference = ref_select, .out_shape = S(3, 2), .iattr = {1, -1}},
  {.op = AE_OP_PAD_AXIS, .label = "pad_axis 3-D middle axis", .nin = 1, .in_shape = {S(2, 3, 2)}, .lo = -1, .hi = 1,
   .build = build_pad, .reference = ref_pad, .out_shape = S(2, 6, 2), .iattr = {1, 1, 2}},
  {.op = AE_OP_PAD_AXIS, .label = "pad_axis axis 0 after only", .nin = 1, .in_shape = {S(3, 2)}, .lo = -1, .hi = 1,
   .build = build_pad, .reference = ref_pad, .out_shape = S(5, 2), .iattr = {0, 0, 2}},
  {.op = AE_OP_REPEAT, .label = "repeat (3,4) axis 1 n 3", .nin = 1, .in_shape = {S(3, 4)}, .lo = -1, .hi = 1,
   .build = build_repeat, .reference = ref_repeat, .out_shape = S(3, 3, 4), .iattr = {1, 3}},
  {.op = AE_OP_REPEAT, .label = "repeat (2,3) axis -1 n 2", .nin = 1, .in_shape = {S(2, 3)}, .lo = -1, .hi = 1,
   .build = build_repeat, .reference = ref_repeat, .out_shape = S(2, 3, 2), .iattr = {-1, 2}},
  {.op = AE_OP_SOFTMAX, .label = "softmax rows", .nin = 1, .in_shape = {S(3, 5)}, .lo = -2, .hi = 2,
   .build = build_softmax, .reference = ref_softmax, .out_shape = S(3, 5), .iattr = {-1}},
  {.op = AE_OP_SOFTMAX, .label = "softmax 3-D middle axis", .nin = 1, .in_shape = {S(2, 4, 3)}, .lo = -2, .hi = 2,
   .build = build_softmax, .reference = ref_softmax, .out_shape = S(2, 4, 3), .iattr = {1}},
  {.op = AE_OP_SOFTMAX, .label = "softmax logits +-1000 near ties", .nin = 1, .in_shape = {S(4, 6)}, .lo = -1,
   .hi = 1, .build = build_softmax, .reference = ref_softmax, .out_shape = S(4, 6), .init = init_extreme,
   .iattr = {1}, .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_LOG_SOFTMAX, .label = "log_softmax rows", .nin = 1, .in_shape = {S(3, 5)}, .lo = -2, .hi = 2,
   .build = build_log_softmax, .reference = ref_log_softmax, .out_shape = S(3, 5), .iattr = {1}},
  {.op = AE_OP_LOG_SOFTMAX, .label = "log_softmax 3-D axis 0", .nin = 1, .in_shape = {S(2, 3, 4)}, .lo = -2,
   .hi = 2, .build = build_log_softmax, .reference = ref_log_softmax, .out_shape = S(2, 3, 4), .iattr = {0}},
  {.op = AE_OP_LOG_SOFTMAX, .label = "log_softmax logits +-1000 near ties", .nin = 1, .in_shape = {S(4, 6)},
   .lo = -1, .hi = 1, .build = build_log_softmax, .reference = ref_log_softmax, .out_shape = S(4, 6),
   .init = init_extreme, .iattr = {0}, .flags = OP_ROW_FWD_ONLY})
#undef S
