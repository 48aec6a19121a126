/* rows/conv.c: op-table rows of the conv family (ops/conv.h), small odd
 * shapes (non-square images and kernels, stride 1 and 2, padding 0 and 1,
 * output padding 0 and 1, with and without bias) against the direct loops
 * of tests/conv_ref.h. iattr: sh, sw, ph, pw, then (oph, opw) for
 * conv_transpose2d or (kh, kw) for conv2d_weight_grad; a third input is
 * the bias. The fused relu variants are rows of their ops (same op id, the
 * node's i[6] set). */
#include "../conv_ref.h"
#include "../op_table.h"

static ae_val *build_conv2d(ae_tape *t, ae_val *const *in, const op_row *r) {
  const int *a = r->iattr;
  return ae_conv2d_ex(t, in[0], in[1], r->nin > 2 ? in[2] : NULL, a[0], a[1], a[2], a[3]);
}
static void ref_conv2d(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  const int64_t *x = in[0]->shape.d, *w = in[1]->shape.d, *y = out->shape.d;
  conv_ref_geom g = {x[0], x[1], x[2], x[3], w[0], y[2], y[3], w[2], w[3],
                     r->iattr[0], r->iattr[1], r->iattr[2], r->iattr[3]};
  conv2d_ref(&g, in[0]->data, in[1]->data, r->nin > 2 ? in[2]->data : NULL, out->data, NULL);
}

static ae_val *build_convt(ae_tape *t, ae_val *const *in, const op_row *r) {
  const int *a = r->iattr;
  return ae_conv_transpose2d_ex(t, in[0], in[1], r->nin > 2 ? in[2] : NULL, a[0], a[1], a[2], a[3], a[4], a[5]);
}
static void ref_convt(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  const int64_t *x = in[0]->shape.d, *w = in[1]->shape.d, *y = out->shape.d;
  conv_ref_geom g = {y[0], y[1], y[2], y[3], x[1], x[2], x[3], w[2], w[3],
                     r->iattr[0], r->iattr[1], r->iattr[2], r->iattr[3]};
  conv_transpose2d_ref(&g, in[0]->data, in[1]->data, r->nin > 2 ? in[2]->data : NULL, out->data, NULL);
}

/* The fused relu variants (conv.h): the same references through relu. */
static void relu_in_place(ae_tensor *out) {
  for (int64_t j = 0; j < out->numel; j++) out->data[j] = out->data[j] > 0 ? out->data[j] : 0;
}
static ae_val *build_conv2d_relu(ae_tape *t, ae_val *const *in, const op_row *r) {
  const int *a = r->iattr;
  return ae_conv2d_relu_ex(t, in[0], in[1], r->nin > 2 ? in[2] : NULL, a[0], a[1], a[2], a[3]);
}
static void ref_conv2d_relu(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  ref_conv2d(in, out, r);
  relu_in_place(out);
}
static ae_val *build_convt_relu(ae_tape *t, ae_val *const *in, const op_row *r) {
  const int *a = r->iattr;
  return ae_conv_transpose2d_relu_ex(t, in[0], in[1], r->nin > 2 ? in[2] : NULL, a[0], a[1], a[2], a[3], a[4], a[5]);
}
static void ref_convt_relu(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  ref_convt(in, out, r);
  relu_in_place(out);
}

static ae_val *build_wgrad(ae_tape *t, ae_val *const *in, const op_row *r) {
  const int *a = r->iattr;
  return ae_conv2d_weight_grad(t, in[0], in[1], a[4], a[5], a[0], a[1], a[2], a[3]);
}
static void ref_wgrad(ae_tensor *const *in, ae_tensor *out, const op_row *r) {
  const int64_t *x = in[0]->shape.d, *gy = in[1]->shape.d;
  conv_ref_geom g = {x[0], x[1], x[2], x[3], gy[1], gy[2], gy[3], r->iattr[4], r->iattr[5],
                     r->iattr[0], r->iattr[1], r->iattr[2], r->iattr[3]};
  conv2d_weight_grad_ref(&g, in[0]->data, in[1]->data, out->data, NULL);
}

AE_OP_ROWS(conv,
  {.op = AE_OP_CONV2D, .label = "conv2d_relu stride 2 pad 1 bias", .nin = 3,
   .in_shape = {AE_SHAPE(2, 2, 5, 4), AE_SHAPE(3, 2, 3, 3), AE_SHAPE(3)}, .lo = -1, .hi = 1,
   .build = build_conv2d_relu, .reference = ref_conv2d_relu, .out_shape = AE_SHAPE(2, 3, 3, 2),
   .iattr = {2, 2, 1, 1}},
  {.op = AE_OP_CONV_TRANSPOSE2D, .label = "conv_transpose2d_relu stride 2 pad 1 output pad 1 bias", .nin = 3,
   .in_shape = {AE_SHAPE(2, 3, 3, 2), AE_SHAPE(3, 2, 3, 2), AE_SHAPE(2)}, .lo = -1, .hi = 1,
   .build = build_convt_relu, .reference = ref_convt_relu, .out_shape = AE_SHAPE(2, 2, 6, 3),
   .iattr = {2, 2, 1, 1, 1, 1}},
  {.op = AE_OP_CONV2D, .label = "conv2d 3x2 kernel stride 1 pad 1 bias", .nin = 3,
   .in_shape = {AE_SHAPE(2, 2, 5, 4), AE_SHAPE(3, 2, 3, 2), AE_SHAPE(3)}, .lo = -1, .hi = 1,
   .build = build_conv2d, .reference = ref_conv2d, .out_shape = AE_SHAPE(2, 3, 5, 5), .iattr = {1, 1, 1, 1}},
  {.op = AE_OP_CONV2D, .label = "conv2d 2x3 kernel stride 2 pad 0", .nin = 2,
   .in_shape = {AE_SHAPE(1, 2, 6, 5), AE_SHAPE(2, 2, 2, 3)}, .lo = -1, .hi = 1,
   .build = build_conv2d, .reference = ref_conv2d, .out_shape = AE_SHAPE(1, 2, 3, 2), .iattr = {2, 2, 0, 0}},
  {.op = AE_OP_CONV2D, .label = "conv2d stride (2,1) pad (1,0) bias", .nin = 3,
   .in_shape = {AE_SHAPE(2, 1, 5, 4), AE_SHAPE(2, 1, 3, 3), AE_SHAPE(2)}, .lo = -1, .hi = 1,
   .build = build_conv2d, .reference = ref_conv2d, .out_shape = AE_SHAPE(2, 2, 3, 2), .iattr = {2, 1, 1, 0}},
  {.op = AE_OP_CONV_TRANSPOSE2D, .label = "conv_transpose2d stride 2 pad 1 output pad 1 bias", .nin = 3,
   .in_shape = {AE_SHAPE(2, 3, 3, 2), AE_SHAPE(3, 2, 3, 2), AE_SHAPE(2)}, .lo = -1, .hi = 1,
   .build = build_convt, .reference = ref_convt, .out_shape = AE_SHAPE(2, 2, 6, 3), .iattr = {2, 2, 1, 1, 1, 1}},
  {.op = AE_OP_CONV_TRANSPOSE2D, .label = "conv_transpose2d 2x3 kernel stride 1 pad 0", .nin = 2,
   .in_shape = {AE_SHAPE(1, 2, 3, 4), AE_SHAPE(2, 3, 2, 3)}, .lo = -1, .hi = 1,
   .build = build_convt, .reference = ref_convt, .out_shape = AE_SHAPE(1, 3, 4, 6), .iattr = {1, 1, 0, 0, 0, 0}},
  {.op = AE_OP_CONV2D_WEIGHT_GRAD, .label = "conv2d_weight_grad 3x3 kernel stride 2 pad 1", .nin = 2,
   .in_shape = {AE_SHAPE(2, 2, 5, 4), AE_SHAPE(2, 3, 3, 2)}, .lo = -1, .hi = 1,
   .build = build_wgrad, .reference = ref_wgrad, .out_shape = AE_SHAPE(3, 2, 3, 3), .iattr = {2, 2, 1, 1, 3, 3}},
  {.op = AE_OP_CONV2D_WEIGHT_GRAD, .label = "conv2d_weight_grad 2x3 kernel stride 1 pad 0", .nin = 2,
   .in_shape = {AE_SHAPE(1, 2, 4, 5), AE_SHAPE(1, 2, 3, 3)}, .lo = -1, .hi = 1,
   .build = build_wgrad, .reference = ref_wgrad, .out_shape = AE_SHAPE(2, 2, 2, 3), .iattr = {1, 1, 0, 0, 2, 3}},
)
