/* op_table.c: the registry the row files add themselves to (constructors
 * run before main), and a flat, stable view of all rows for the harness. */
#include "op_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static op_rows *first, *last;

/* Appends, so the flat order is the registration order (link order of the
 * row files), the same in every process of one executable. */
void op_table_register(op_rows *r) {
  r->next = NULL;
  if (last)
    last->next = r;
  else
    first = r;
  last = r;
}

void op_table_register_copy(op_rows *r, const op_row *rows, int n) {
  op_row *copy = malloc(sizeof *copy * (size_t)(n > 0 ? n : 1));
  if (!copy) {
    fprintf(stderr, "op_table: out of memory registering %s\n", r->family);
    return;
  }
  memcpy(copy, rows, sizeof *copy * (size_t)n);
  r->rows = copy;
  r->count = n;
  op_table_register(r);
}

const op_rows *op_table_first(void) { return first; }

int op_table_count(void) {
  int n = 0;
  for (const op_rows *f = first; f; f = f->next) n += f->count;
  return n;
}

static const op_rows *locate(int i, int *within) {
  if (i < 0) return NULL;
  for (const op_rows *f = first; f; f = f->next) {
    if (i < f->count) {
      *within = i;
      return f;
    }
    i -= f->count;
  }
  return NULL;
}

const op_row *op_table_row(int i) {
  int k;
  const op_rows *f = locate(i, &k);
  return f ? &f->rows[k] : NULL;
}

const char *op_table_family(int i) {
  int k;
  const op_rows *f = locate(i, &k);
  return f ? f->family : "?";
}
