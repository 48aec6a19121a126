/* binary.c: element-wise add, sub, mul, div (with numpy broadcasting) and
 * where (select), with their backward rules. Broadcast gradients are
 * summed back to each input's shape by the engine, not here. */
#include "base/parallel.h"
#include "broadcast.h"
#include "oplist.h"
#include "ops.h"

int ae_broadcast_shape(ae_tape *t, const char *op, ae_shape a, ae_shape b, ae_shape *out) {
  int nd = a.ndim > b.ndim ? a.ndim : b.ndim;
  ae_shape s;
  s.ndim = nd;
  for (int k = 0; k < AE_MAX_DIMS; k++) s.d[k] = 1;
  for (int k = 1; k <= nd; k++) {
    int64_t da = k <= a.ndim ? a.d[a.ndim - k] : 1, db = k <= b.ndim ? b.d[b.ndim - k] : 1;
    if (da != db && da != 1 && db != 1) {
      char sa[AE_SHAPE_BUF], sb[AE_SHAPE_BUF];
      ae_raise(t, AE_ERR_SHAPE, op, "%s and %s do not broadcast: dimension %d has sizes %lld and %lld",
               ae_sstr(a, sa), ae_sstr(b, sb), nd - k, (long long)da, (long long)db);
      return 0;
    }
    s.d[nd - k] = da > db ? da : db;
  }
  *out = s;
  return 1;
}

enum { B_ADD, B_SUB, B_MUL, B_DIV };

/* y[i] = x[i] OP z[i] over a flat range with unit or zero strides. */
#define AE_BINARY_LOOP(OPX)                                                            \
  do {                                                                                 \
    if (sa == 1 && sb == 1)                                                            \
      for (int64_t i = 0; i < n; i++) y[i] = OPX(a[i], b[i]);                          \
    else if (sa == 1)                                                                  \
      for (int64_t i = 0; i < n; i++) y[i] = OPX(a[i], b[0]);                          \
    else if (sb == 1)                                                                  \
      for (int64_t i = 0; i < n; i++) y[i] = OPX(a[0], b[i]);                          \
    else                                                                               \
      for (int64_t i = 0; i < n; i++) y[i] = OPX(a[0], b[0]);                          \
  } while (0)
#define AE_ADD(p, q) ((p) + (q))
#define AE_SUB(p, q) ((p) - (q))
#define AE_MUL(p, q) ((p) * (q))
#define AE_DIV(p, q) ((p) / (q))

static void row(int kind, int64_t n, const ae_real *restrict a, int64_t sa, const ae_real *restrict b, int64_t sb,
                ae_real *restrict y) {
  switch (kind) {
    case B_ADD: AE_BINARY_LOOP(AE_ADD); break;
    case B_SUB: AE_BINARY_LOOP(AE_SUB); break;
    case B_MUL: AE_BINARY_LOOP(AE_MUL); break;
    default: AE_BINARY_LOOP(AE_DIV); break;
  }
}

/* Output row r (of length d[3]) of a broadcasting binary op. */
static inline void bcast_row(int kind, const ae_bcast *ba, const ae_bcast *bb, const ae_real *a, const ae_real *b,
                             ae_real *y, int64_t r) {
  int64_t i0 = r / (ba->d[1] * ba->d[2]), i1 = r / ba->d[2] % ba->d[1], i2 = r % ba->d[2], len = ba->d[3];
  row(kind, len, a + ae_bcast_off(ba, i0, i1, i2, 0), ba->sx[3], b + ae_bcast_off(bb, i0, i1, i2, 0), bb->sx[3],
      y + r * len);
}

static void binary_kernel(int kind, const ae_val *A, const ae_val *B, ae_val *Y) {
  int64_t n = Y->t.numel;
  const ae_real *a = A->t.data, *b = B->t.data;
  ae_real *y = Y->t.data;
  int same_a = A->t.numel == n, same_b = B->t.numel == n;
  if ((same_a || A->t.numel == 1) && (same_b || B->t.numel == 1)) { /* flat: same shapes or scalars */
    if (AE_PAR(n)) {
      int64_t chunk = 8192, nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
      for (int64_t c = 0; c < nchunks; c++) {
        int64_t lo = c * chunk, len = n - lo < chunk ? n - lo : chunk;
        row(kind, len, same_a ? a + lo : a, same_a, same_b ? b + lo : b, same_b, y + lo);
      }
    } else
      row(kind, n, a, same_a, b, same_b, y);
    return;
  }
  ae_bcast ba = ae_bcast_make(A->t.shape, Y->t.shape), bb = ae_bcast_make(B->t.shape, Y->t.shape);
  int64_t rows = ba.d[0] * ba.d[1] * ba.d[2];
  AE_PAR_FOR(AE_PAR(n), schedule(static), for (int64_t r = 0; r < rows; r++) bcast_row(kind, &ba, &bb, a, b, y, r););
}

static ae_val *binary(ae_tape *t, int op, int kind, const char *name, ae_val *a, ae_val *b) {
  ae_val *in[2] = {a, b};
  ae_shape s;
  if (!ae_op_begin(t, name, 2, in) || !ae_broadcast_shape(t, name, a->t.shape, b->t.shape, &s)) return NULL;
  ae_val *y = ae_op_out(t, name, s);
  if (!y) return NULL;
  binary_kernel(kind, a, b, y);
  ae_op_record(t, op, y, 2, in);
  return y;
}

ae_val *ae_add(ae_tape *t, ae_val *a, ae_val *b) { return binary(t, AE_OP_ADD, B_ADD, "add", a, b); }
ae_val *ae_sub(ae_tape *t, ae_val *a, ae_val *b) { return binary(t, AE_OP_SUB, B_SUB, "sub", a, b); }
ae_val *ae_mul(ae_tape *t, ae_val *a, ae_val *b) { return binary(t, AE_OP_MUL, B_MUL, "mul", a, b); }
ae_val *ae_div(ae_tape *t, ae_val *a, ae_val *b) { return binary(t, AE_OP_DIV, B_DIV, "div", a, b); }

void ae_bw_add(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  (void)t, (void)n;
  gin[0] = gin[1] = g;
}

/* b's gradient is -g summed to b's shape. A broadcast b (linear-ae's
 * centre, a bias) is summed first and negated after, over its own few
 * elements rather than all of g's: the same bits (negation is exact and
 * rounding symmetric), one pass over g fewer (2.8% of linear-ae's step). */
void ae_bw_sub(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = g;
  if (!ae_needs_grad(t, n, 1)) return;
  ae_shape bs = n->in[1]->t.shape;
  gin[1] = ae_neg(t, ae_shape_numel(bs) == g->t.numel ? g : ae_sum_to(t, g, bs));
}

void ae_bw_mul(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_mul(t, g, n->in[1]);
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_mul(t, g, n->in[0]);
}

/* y = a / b: da = g / b, db = -g * y / b. */
void ae_bw_div(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *gb = ae_div(t, g, n->in[1]);
  if (ae_needs_grad(t, n, 0)) gin[0] = gb;
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_neg(t, ae_mul(t, gb, n->out));
}

ae_val *ae_where(ae_tape *t, ae_val *cond, ae_val *a, ae_val *b) {
  ae_val *in[3] = {cond, a, b};
  if (!ae_op_begin(t, "where", 3, in)) return NULL;
  char s0[AE_SHAPE_BUF], s1[AE_SHAPE_BUF];
  for (int j = 1; j < 3; j++)
    if (in[j]->t.numel != 1 && !ae_shape_eq(in[j]->t.shape, cond->t.shape)) {
      ae_raise(t, AE_ERR_SHAPE, "where", "condition has shape %s but %s has shape %s (must match or have one element)",
               ae_sstr(cond->t.shape, s0), j == 1 ? "a" : "b", ae_sstr(in[j]->t.shape, s1));
      return NULL;
    }
  ae_val *y = ae_op_out(t, "where", cond->t.shape);
  if (!y) return NULL;
  int64_t n = y->t.numel, sa = a->t.numel != 1, sb = b->t.numel != 1;
  const ae_real *c = cond->t.data, *pa = a->t.data, *pb = b->t.data;
  ae_real *py = y->t.data;
  AE_PAR_FOR(AE_PAR(n), simd, for (int64_t i = 0; i < n; i++) py[i] = c[i] != 0 ? pa[i * sa] : pb[i * sb];);
  ae_op_record(t, AE_OP_WHERE, y, 3, in);
  return y;
}

void ae_bw_where(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *zero = ae_scalar(t, 0);
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_where(t, n->in[0], g, zero);
  if (ae_needs_grad(t, n, 2)) gin[2] = ae_where(t, n->in[0], zero, g);
}
