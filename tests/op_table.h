/* op_table.h: the op test table. Each row names an op (by op-list id),
 * how to build it from inputs, a plain scalar-loop reference of its
 * forward value, and how to draw its inputs. test_ops.c runs every row:
 * forward against the reference, then gradcheck and gradgradcheck in
 * float64, and fails if any op in the op list has no row.
 *
 * Rows live in tests/rows/<family>.c and register themselves with
 * AE_OP_ROWS(name, ...) (a constructor), so families add rows without
 * touching a shared file beyond tests/rows/meson.build.
 *
 * What the harness does with a row (tests/test_ops.c):
 *  - inputs k = 0..nin-1 get shape in_shape[k], values uniform in [lo, hi]
 *    from a Philox stream seeded per row (seed, or a hash of the label),
 *    then row->init (if given) may overwrite them;
 *  - build() is run on a tape with the differentiable inputs as variables
 *    (bits of nondiff: constants); its value must have shape out_shape and
 *    match reference() within fwd_rtol (float64) or fwd_rtol32 (float32);
 *  - the tape must hold a node of op `op` (the row really exercises it);
 *  - unless OP_ROW_FWD_ONLY: ae_gradcheck and ae_gradgradcheck with the
 *    default options (eps 1e-6, atol 1e-5, rtol 1e-3) and row->nondiff.
 * Every op needs at least one row without OP_ROW_FWD_ONLY. Labels must be
 * unique (failures name the row by its label). */
#ifndef AE_OP_TABLE_H
#define AE_OP_TABLE_H

#include "aezoo.h"
#include "ops/oplist.h"

#define OP_ROW_MAX_IN 6

/* Row flags. */
#define OP_ROW_FWD_ONLY 1u /* forward check only (extreme values, large shapes) */

typedef struct op_row {
  int op;                          /* AE_OP_<ID>; an op may have several rows */
  const char *label;               /* e.g. "mul broadcast row" */
  int nin;
  ae_shape in_shape[OP_ROW_MAX_IN];
  double lo, hi;                   /* inputs uniform in [lo, hi] unless init is given */
  uint32_t nondiff;                /* bit k: input k is not differentiated (masks, indices) */
  /* Builds the op's output on the tape (ctx is the row itself). */
  ae_val *(*build)(ae_tape *t, ae_val *const *in, const struct op_row *row);
  /* Reference forward by plain loops: fills out (allocated with out_shape). */
  void (*reference)(ae_tensor *const *in, ae_tensor *out, const struct op_row *row);
  ae_shape out_shape;
  /* Optional: set input values (keep away from kinks, positive for log, ...). */
  void (*init)(ae_tensor *const *in, ae_rng *r, const struct op_row *row);
  double fwd_rtol;                 /* forward tolerance (relative + same absolute); 0 = 1e-12 */
  double attr[4];                  /* scalar attributes the row passes to the op */
  int iattr[8];                    /* integer attributes */
  /* Optional fields (zero = default). */
  uint32_t flags;                  /* OP_ROW_* */
  double fwd_rtol32;               /* float32 forward tolerance; 0 = max(1e-5, fwd_rtol) */
  uint64_t seed;                   /* input stream seed; 0 = a hash of the label */
} op_row;

typedef struct op_rows {
  const char *family;
  const op_row *rows;
  int count;
  struct op_rows *next;
} op_rows;

void op_table_register(op_rows *r);
const op_rows *op_table_first(void);

/* All rows in one stable order (families in registration order, rows in
 * table order). op_table_count() rows; op_table_row(i) for 0 <= i < count,
 * NULL otherwise; op_table_family(i) names row i's table. */
int op_table_count(void);
const op_row *op_table_row(int i);
const char *op_table_family(int i);

/* The rows are built when the constructor runs (an automatic array, so
 * non-constant initializers such as AE_SHAPE(...) work), copied to the
 * heap and registered; the copy stays reachable from the registry. */
#define AE_OP_ROWS(name, ...)                                                                  \
  static op_rows name##_table = {#name, 0, 0, 0};                                              \
  __attribute__((constructor)) static void name##_register(void) {                             \
    const op_row rows_[] = {__VA_ARGS__};                                                      \
    op_table_register_copy(&name##_table, rows_, (int)(sizeof rows_ / sizeof rows_[0]));       \
  }

/* Copies n rows to the heap and registers them under r (for AE_OP_ROWS). */
void op_table_register_copy(op_rows *r, const op_row *rows, int n);

/* Shapes as constant initializers (AE_SHAPE is a function call, not
 * usable in a static table): OP_SHAPE() is a scalar, OP_SHAPE(3, 4) is
 * (3,4). Sizes past ndim are 1, as ae_shape_make sets them. */
#define OP__SHAPE_PICK(_0, _1, _2, _3, _4, NAME, ...) NAME
#define OP_SHAPE(...) OP__SHAPE_PICK(_0, ##__VA_ARGS__, OP__SHAPE4, OP__SHAPE3, OP__SHAPE2, OP__SHAPE1, OP__SHAPE0)(__VA_ARGS__)
#define OP__SHAPE0() {.ndim = 0, .d = {1, 1, 1, 1}}
#define OP__SHAPE1(a) {.ndim = 1, .d = {a, 1, 1, 1}}
#define OP__SHAPE2(a, b) {.ndim = 2, .d = {a, b, 1, 1}}
#define OP__SHAPE3(a, b, c) {.ndim = 3, .d = {a, b, c, 1}}
#define OP__SHAPE4(a, b, c, d_) {.ndim = 4, .d = {a, b, c, d_}}

#endif
