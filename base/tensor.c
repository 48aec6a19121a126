/* tensor.c: heap tensors, parameters, shapes, aligned buffers, and the
 * thread-local "last error" used by calls that have no tape. */
#include "tensor.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

static _Thread_local char last_error[AE_LAST_ERROR_MAX];
static int64_t heap_allocs;

const char *ae_last_error(void) { return last_error; }

/* Formats into a temporary first, so a message may quote the previous one
 * (ae_set_last_error("loading %s: %s", path, ae_last_error())). */
void ae_set_last_error(const char *fmt, ...) {
  char tmp[AE_LAST_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  memcpy(last_error, tmp, strlen(tmp) + 1);
}

void *ae_aligned_alloc(size_t bytes) {
  size_t rounded = (bytes + AE_ALIGN - 1) / AE_ALIGN * AE_ALIGN;
  if (rounded == 0) rounded = AE_ALIGN;
  void *p = aligned_alloc(AE_ALIGN, rounded);
  if (p) __atomic_add_fetch(&heap_allocs, 1, __ATOMIC_RELAXED);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  /* Buffers of 8 MiB and more (data sets, big parameters and their
   * optimiser moments; tape arenas are mmap'd apart) ask for
   * transparent huge pages: where the kernel's THP setting is "madvise"
   * (as on the benchmarks' guest), each 4 KiB page otherwise costs its
   * own fault on first touch, and in that VM a fault costs microseconds. A hint
   * only: the memory and its contents are the same either way. Measured
   * (aezoo train stacked-ae --steps 1, 4 runs each): 1.13-1.26 s before,
   * 0.66-0.88 s after, peak RSS the same; training steps the same within
   * the noise (aezoo_ab, 11 models, 0.99 to 1.06). */
  if (p && rounded >= ((size_t)8 << 20)) {
    uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, hi = ((uintptr_t)p + rounded) & ~(uintptr_t)4095;
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
  }
#endif
  return p;
}

void ae_aligned_free(void *p) { free(p); }

void ae_note_heap_alloc(void) { __atomic_add_fetch(&heap_allocs, 1, __ATOMIC_RELAXED); }

int64_t ae_heap_allocs(void) { return __atomic_load_n(&heap_allocs, __ATOMIC_RELAXED); }

/* Every op builds shapes: written as a switch because the vectorised loop
 * GCC made of the obvious form (masked loads from a just-written compound
 * literal, a store-forwarding stall) cost about 15 ns a call, 8 this way. */
ae_shape ae_shape_make(int ndim, const int64_t *dims) {
  ae_shape s = {.ndim = ndim, .d = {1, 1, 1, 1}};
  switch (dims && ndim > 0 ? ndim : 0) {
    default: /* more than AE_MAX_DIMS: copy 4, ae_shape_valid rejects it */
    case 4: s.d[3] = dims[3]; /* fall through */
    case 3: s.d[2] = dims[2]; /* fall through */
    case 2: s.d[1] = dims[1]; /* fall through */
    case 1: s.d[0] = dims[0]; /* fall through */
    case 0: break;
  }
  return s;
}

int64_t ae_shape_numel(ae_shape s) {
  int64_t n = 1;
  for (int i = 0; i < s.ndim; i++) n *= s.d[i];
  return n;
}

int ae_shape_eq(ae_shape a, ae_shape b) {
  if (a.ndim != b.ndim) return 0;
  for (int i = 0; i < a.ndim; i++)
    if (a.d[i] != b.d[i]) return 0;
  return 1;
}

char *ae_shape_str(ae_shape s, char *buf, size_t len) {
  size_t used = 0;
  used += (size_t)snprintf(buf, len, "(");
  for (int i = 0; i < s.ndim && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, i ? ",%lld" : "%lld", (long long)s.d[i]);
  if (used < len) snprintf(buf + used, len - used, s.ndim == 1 ? ",)" : ")");
  return buf;
}

int ae_shape_valid(ae_shape s) {
  if (s.ndim < 0 || s.ndim > AE_MAX_DIMS) {
    ae_set_last_error("shape: %d dimensions, at most %d allowed", s.ndim, AE_MAX_DIMS);
    return 0;
  }
  int64_t n = 1;
  for (int i = 0; i < s.ndim; i++) {
    if (s.d[i] < 1) {
      ae_set_last_error("shape: dimension %d has size %lld, must be at least 1", i, (long long)s.d[i]);
      return 0;
    }
    if (n > INT64_MAX / 16 / s.d[i]) {
      ae_set_last_error("shape: element count overflows at dimension %d", i);
      return 0;
    }
    n *= s.d[i];
  }
  return 1;
}

ae_tensor *ae_tensor_new(ae_shape s) {
  if (!ae_shape_valid(s)) return NULL;
  ae_tensor *t = malloc(sizeof *t);
  if (!t) {
    ae_set_last_error("tensor: out of memory");
    return NULL;
  }
  ae_note_heap_alloc();
  t->shape = s;
  t->numel = ae_shape_numel(s);
  t->data = ae_aligned_alloc((size_t)t->numel * sizeof(ae_real));
  if (!t->data) {
    free(t);
    ae_set_last_error("tensor: out of memory for %lld elements", (long long)ae_shape_numel(s));
    return NULL;
  }
  memset(t->data, 0, (size_t)t->numel * sizeof(ae_real));
  return t;
}

ae_tensor *ae_tensor_full(ae_shape s, ae_real v) {
  ae_tensor *t = ae_tensor_new(s);
  if (t)
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = v;
  return t;
}

ae_tensor *ae_tensor_from(ae_shape s, const ae_real *src) {
  if (!src) {
    ae_set_last_error("tensor_from: source buffer is NULL");
    return NULL;
  }
  ae_tensor *t = ae_tensor_new(s);
  if (t) memcpy(t->data, src, (size_t)t->numel * sizeof(ae_real));
  return t;
}

ae_tensor *ae_tensor_copy(const ae_tensor *src) {
  if (!src) {
    ae_set_last_error("tensor_copy: source tensor is NULL");
    return NULL;
  }
  return ae_tensor_from(src->shape, src->data);
}

void ae_tensor_free(ae_tensor *t) {
  if (!t) return;
  ae_aligned_free(t->data);
  free(t);
}

static void print_rec(FILE *f, const ae_tensor *t, int dim, int64_t off, int indent) {
  if (t->shape.ndim == 0) {
    fprintf(f, "%.6g", (double)t->data[0]);
    return;
  }
  int64_t stride = 1;
  for (int i = dim + 1; i < t->shape.ndim; i++) stride *= t->shape.d[i];
  int64_t n = t->shape.d[dim];
  int64_t show = n > 8 ? 3 : n; /* summarise long dimensions as numpy does */
  fputc('[', f);
  for (int64_t i = 0; i < n; i++) {
    if (n > 8 && i == show) {
      fputs(dim == t->shape.ndim - 1 ? "..., " : "...,\n", f);
      i = n - 3;
    }
    if (dim == t->shape.ndim - 1)
      fprintf(f, "%.6g", (double)t->data[off + i]);
    else {
      if (i) fprintf(f, "%*s", indent + 1, "");
      print_rec(f, t, dim + 1, off + i * stride, indent + 1);
    }
    if (i + 1 < n) fputs(dim == t->shape.ndim - 1 ? ", " : ",\n", f);
  }
  fputc(']', f);
}

void ae_tensor_fprint(FILE *f, const ae_tensor *t, const char *label) {
  char buf[64];
  if (!t) {
    fprintf(f, "%s: (nil)\n", label ? label : "tensor");
    return;
  }
  fprintf(f, "%s %s %s\n", label ? label : "tensor", ae_shape_str(t->shape, buf, sizeof buf), AE_REAL_NAME);
  print_rec(f, t, 0, 0, 0);
  fputc('\n', f);
}

ae_param *ae_param_new(const char *name, ae_shape s) {
  if (!ae_shape_valid(s)) return NULL;
  ae_param *p = calloc(1, sizeof *p);
  if (!p) {
    ae_set_last_error("param: out of memory");
    return NULL;
  }
  ae_note_heap_alloc();
  snprintf(p->name, sizeof p->name, "%s", name ? name : "");
  int64_t n = ae_shape_numel(s);
  p->value.shape = p->grad.shape = s;
  p->value.numel = p->grad.numel = n;
  p->value.data = ae_aligned_alloc((size_t)n * sizeof(ae_real));
  p->grad.data = ae_aligned_alloc((size_t)n * sizeof(ae_real));
  if (!p->value.data || !p->grad.data) {
    ae_param_free(p);
    ae_set_last_error("param %s: out of memory", name ? name : "");
    return NULL;
  }
  memset(p->value.data, 0, (size_t)n * sizeof(ae_real));
  memset(p->grad.data, 0, (size_t)n * sizeof(ae_real));
  return p;
}

void ae_param_free(ae_param *p) {
  if (!p) return;
  ae_aligned_free(p->value.data);
  ae_aligned_free(p->grad.data);
  free(p);
}

void ae_param_zero_grad(ae_param *p) {
  if (p) memset(p->grad.data, 0, (size_t)p->grad.numel * sizeof(ae_real));
}
