/* checkpoint.c: saving and loading a run's model and optimiser state in
 * safetensors files, with every metadata key validated (checkpoint.h). */
#include "checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "generation.h"
#include "io/safetensors.h"
#include "zoo/footprint.h"
#include "zoo/plugin.h"

void ae_ckpt_model_path(const char *ckpt, char *buf, size_t len) {
  struct stat st;
  if (stat(ckpt, &st) == 0 && S_ISDIR(st.st_mode))
    snprintf(buf, len, "%s/%s", ckpt, AE_CKPT_MODEL_FILE);
  else
    snprintf(buf, len, "%s", ckpt);
}

/* ---- checksums ---------------------------------------------------------- */

/* FNV-1a over 64-bit words and a final mix: a checksum of a tensor's bytes,
 * kept in the metadata as "checksum.<tensor name>" (16 hex digits). */
uint64_t ae__ckpt_hash_begin(size_t n) { return 0xcbf29ce484222325ull ^ (uint64_t)n; }

uint64_t ae__ckpt_hash_add(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
  }
  for (; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

uint64_t ae__ckpt_hash_end(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

uint64_t ae_ckpt_hash(const void *data, size_t n) {
  return ae__ckpt_hash_end(ae__ckpt_hash_add(ae__ckpt_hash_begin(n), data, n));
}

/* Adds tensor `name` and its checksum. */
static int add_checked(ae_st_writer *w, const char *name, const ae_tensor *t) {
  char key[600], v[24];
  snprintf(key, sizeof key, "checksum.%s", name);
  snprintf(v, sizeof v, "%016" PRIx64, ae_ckpt_hash(t->data, sizeof(ae_real) * (size_t)t->numel));
  return ae_st_writer_add(w, name, t->shape, t->data) || ae_st_writer_meta(w, key, v);
}

/* Verifies tensor t of file f against its checksum (files of format 1 have
 * none: accepted) and that its values are finite. 0, or -1 with
 * ae_last_error() naming the tensor. */
static int verify_tensor(const ae_st_file *f, const char *path, const ae_st_tensor *t) {
  char key[600];
  snprintf(key, sizeof key, "checksum.%s", t->name);
  const char *want = ae_st_meta(f, key);
  const void *data = ae_st_data(f, t);
  if (want) {
    char got[24];
    snprintf(got, sizeof got, "%016" PRIx64, ae_ckpt_hash(data, t->bytes));
    if (strcmp(got, want) != 0) {
      ae_set_last_error("%s: tensor '%s' is damaged: its bytes do not match the checksum in the metadata", path,
                        t->name);
      return -1;
    }
  }
  for (int64_t i = 0; i < t->numel; i++) {
    double v = t->dtype == AE_ST_F64 ? ((const double *)data)[i] : t->dtype == AE_ST_F32 ? ((const float *)data)[i] : 0;
    if (!isfinite(v)) {
      ae_set_last_error("%s: tensor '%s' holds a non-finite value (%g at element %" PRId64 ")", path, t->name, v,
                        i);
      return -1;
    }
  }
  return 0;
}

/* ---- writing ------------------------------------------------------------ */

static int meta_i64(ae_st_writer *w, const char *k, int64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%" PRId64, v);
  return ae_st_writer_meta(w, k, b);
}
static int meta_u64(ae_st_writer *w, const char *k, uint64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%" PRIu64, v);
  return ae_st_writer_meta(w, k, b);
}
static int meta_real(ae_st_writer *w, const char *k, double v) {
  char b[40];
  snprintf(b, sizeof b, "%.17g", v);
  return ae_st_writer_meta(w, k, b);
}

static void shape_text(ae_shape s, char *buf, size_t len) {
  int used = 0;
  buf[0] = 0;
  for (int k = 0; k < s.ndim; k++)
    used += snprintf(buf + used, len - (size_t)used, "%s%" PRId64, k ? "," : "", s.d[k]);
}

/* Saves w at path unless building it failed (rc), and frees it. 0 or -1. */
static int finish_write(ae_st_writer *w, int rc, const char *path) {
  if (rc)
    ae_set_last_error("%s: %s", path, ae_last_error());
  else
    rc = ae_st_writer_save(w, path);
  ae_st_writer_free(w);
  return rc;
}

static int save_optim(const char *path, ae_optim *opt, const ae_ckpt_meta *meta) {
  ae_st_writer *w = ae_st_writer_new();
  int rc = w ? 0 : -1;
  for (int i = 0; rc == 0 && i < ae_optim_state_count(opt); i++) {
    const char *name;
    ae_tensor *t = ae_optim_state_tensor(opt, i, &name);
    rc = add_checked(w, name, t);
  }
  rc = rc || ae_st_writer_meta(w, "format", AE_OPTIM_FORMAT);
  rc = rc || ae_st_writer_meta(w, "optimizer", ae_opt_kind_name(ae_optim_get_config(opt)->kind));
  rc = rc || meta_i64(w, "steps_taken", ae_optim_steps_taken(opt));
  rc = rc || meta_i64(w, "stage", meta->stage);
  rc = rc || meta_i64(w, "step", meta->step);
  return finish_write(w, rc, path);
}

/* Writes the model file (parameters and metadata) at path. */
static int save_model(const char *path, const ae_model *m, const ae_ckpt_meta *meta) {
  ae_st_writer *w = ae_st_writer_new();
  int rc = w ? 0 : -1;
  for (int i = 0; rc == 0 && i < m->nparams; i++) rc = add_checked(w, m->params[i]->name, &m->params[i]->value);
  char ex[128];
  shape_text(meta->example, ex, sizeof ex);
  rc = rc || ae_st_writer_meta(w, "format", AE_CKPT_FORMAT);
  rc = rc || ae_st_writer_meta(w, "model", meta->model);
  rc = rc || ae_st_writer_meta(w, "settings", meta->settings);
  rc = rc || ae_st_writer_meta(w, "example", ex);
  rc = rc || ae_st_writer_meta(w, "data", meta->data);
  rc = rc || ae_st_writer_meta(w, "test_data", meta->test_data);
  rc = rc || meta_i64(w, "limit", meta->limit);
  rc = rc || meta_i64(w, "test_limit", meta->test_limit);
  rc = rc || meta_u64(w, "seed", meta->seed);
  rc = rc || meta_u64(w, "rng_seed", meta->rng_seed);
  rc = rc || meta_u64(w, "rng_counter", meta->rng_counter);
  rc = rc || meta_i64(w, "shuffle", meta->shuffle);
  rc = rc || meta_u64(w, "shuffle_seed", meta->shuffle_seed);
  rc = rc || meta_i64(w, "batch_size", meta->batch_size);
  rc = rc || meta_real(w, "lr", meta->lr);
  rc = rc || ae_st_writer_meta(w, "optimizer", meta->optimizer);
  rc = rc || meta_i64(w, "epochs", meta->epochs);
  rc = rc || meta_i64(w, "steps", meta->steps);
  rc = rc || meta_i64(w, "step", meta->step);
  rc = rc || meta_i64(w, "stage", meta->stage);
  rc = rc || meta_i64(w, "nstages", meta->nstages);
  rc = rc || meta_i64(w, "stage_step", meta->stage_step);
  rc = rc || meta_i64(w, "epoch", meta->epoch);
  rc = rc || meta_i64(w, "step_in_epoch", meta->step_in_epoch);
  rc = rc || meta_i64(w, "finished", meta->finished);
  rc = rc || meta_real(w, "wall_time", meta->wall_time);
  rc = rc || meta_i64(w, "threads", meta->threads);
  rc = rc || ae_st_writer_meta(w, "version", meta->version);
  rc = rc || ae_st_writer_meta(w, "plugin", meta->plugin);
  rc = rc || meta_real(w, "val_split", meta->val_split);
  rc = rc || meta_i64(w, "early_stop", meta->early_stop);
  rc = rc || ae_st_writer_meta(w, "lr_schedule", meta->lr_schedule[0] ? meta->lr_schedule : "constant");
  rc = rc || meta_real(w, "clip_grad_norm", meta->clip_grad_norm);
  rc = rc || meta_i64(w, "best_step", meta->best_step);
  rc = rc || meta_real(w, "best_val", meta->best_val);
  rc = rc || meta_i64(w, "bad_epochs", meta->bad_epochs);
  rc = rc || meta_i64(w, "early_stopped", meta->early_stopped);
  rc = rc || meta_i64(w, "data_rows", meta->data_rows);
  rc = rc || meta_u64(w, "data_hash", meta->data_hash);
  return finish_write(w, rc, path);
}

int ae_ckpt_save(const char *dir, const ae_model *m, ae_optim *opt, const ae_ckpt_meta *meta) {
  char gen[4200], path[4400];
  if (ae_gen_begin(dir, gen, sizeof gen)) return -1;
  snprintf(path, sizeof path, "%s/%s", gen, AE_CKPT_OPTIM_FILE);
  int rc = opt ? save_optim(path, opt, meta) : 0;
  snprintf(path, sizeof path, "%s/%s", gen, AE_CKPT_MODEL_FILE);
  if (!rc) rc = save_model(path, m, meta);
  const char *names[2] = {AE_CKPT_MODEL_FILE, AE_CKPT_OPTIM_FILE};
  if (!rc) rc = ae_gen_commit(dir, gen, names, opt ? 2 : 1);
  if (rc) ae_gen_abort(gen);
  return rc;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct reader {
  const ae_st_file *f;
  const char *path;
  int failed; /* the message is in ae_last_error() */
} reader;

static const char *get_str(reader *r, const char *key) {
  if (r->failed) return "";
  const char *v = ae_st_meta(r->f, key);
  if (!v) {
    ae_set_last_error("%s: not an aezoo checkpoint or damaged: metadata key '%s' is missing", r->path, key);
    r->failed = 1;
    return "";
  }
  return v;
}

static void copy_str(reader *r, const char *key, char *dst, size_t len) {
  const char *v = get_str(r, key);
  if (r->failed) return;
  if (strlen(v) >= len) {
    ae_set_last_error("%s: metadata '%s' is too long (%zu bytes, at most %zu)", r->path, key, strlen(v),
                      len - 1);
    r->failed = 1;
    return;
  }
  memcpy(dst, v, strlen(v) + 1);
}

static void bad_value(reader *r, const char *key, const char *v, const char *what) {
  ae_set_last_error("%s: metadata '%s' = '%.60s' is not %s", r->path, key, v, what);
  r->failed = 1;
}

static int64_t get_i64(reader *r, const char *key, int64_t lo, int64_t hi) {
  const char *v = get_str(r, key);
  if (r->failed) return 0;
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (!*v || *end || errno || x < lo || x > hi) {
    char what[96];
    snprintf(what, sizeof what, "an integer in %" PRId64 "..%" PRId64, lo, hi);
    bad_value(r, key, v, what);
    return 0;
  }
  return x;
}

static uint64_t get_u64(reader *r, const char *key) {
  const char *v = get_str(r, key);
  if (r->failed) return 0;
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (!*v || *end || errno || v[0] == '-') {
    bad_value(r, key, v, "an unsigned 64-bit integer");
    return 0;
  }
  return x;
}

static double get_real(reader *r, const char *key, double lo) {
  const char *v = get_str(r, key);
  if (r->failed) return 0;
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (!*v || *end || errno || !isfinite(x) || x < lo) {
    bad_value(r, key, v, "a finite number in range");
    return 0;
  }
  return x;
}

static ae_shape get_shape(reader *r, const char *key) {
  const char *v = get_str(r, key);
  ae_shape s = ae_shape_make(0, NULL);
  if (r->failed) return s;
  int64_t d[AE_MAX_DIMS];
  int n = 0;
  const char *p = v;
  while (*p) {
    char *end;
    errno = 0;
    long long x = strtoll(p, &end, 10);
    if (end == p || errno || x < 1 || n >= AE_MAX_DIMS - 1 || (*end && *end != ',') || (*end == ',' && !end[1])) {
      bad_value(r, key, v, "a shape like 1,28,28");
      return s;
    }
    d[n++] = x;
    p = *end ? end + 1 : end;
  }
  if (n == 0) {
    bad_value(r, key, v, "a shape like 1,28,28");
    return s;
  }
  s = ae_shape_make(n, d);
  if (!ae_shape_valid(s)) bad_value(r, key, v, "a valid shape");
  return s;
}

static int parse_meta(const ae_st_file *f, const char *path, ae_ckpt_meta *m) {
  reader r = {f, path, 0};
  memset(m, 0, sizeof *m);
  const char *fmt = ae_st_meta(f, "format");
  int v1 = fmt && strcmp(fmt, AE_CKPT_FORMAT_1) == 0;
  if (!fmt || (strcmp(fmt, AE_CKPT_FORMAT) != 0 && !v1)) {
    ae_set_last_error("%s: not an aezoo checkpoint (metadata format is %s%.40s%s, expected \"%s\")", path,
                      fmt ? "\"" : "", fmt ? fmt : "missing", fmt ? "\"" : "", AE_CKPT_FORMAT);
    return -1;
  }
  copy_str(&r, "model", m->model, sizeof m->model);
  copy_str(&r, "settings", m->settings, sizeof m->settings);
  m->example = get_shape(&r, "example");
  copy_str(&r, "data", m->data, sizeof m->data);
  copy_str(&r, "test_data", m->test_data, sizeof m->test_data);
  m->limit = get_i64(&r, "limit", 0, INT64_MAX);
  m->test_limit = get_i64(&r, "test_limit", 0, INT64_MAX);
  m->seed = get_u64(&r, "seed");
  m->rng_seed = get_u64(&r, "rng_seed");
  m->rng_counter = get_u64(&r, "rng_counter");
  m->shuffle = (int)get_i64(&r, "shuffle", 0, 1);
  m->shuffle_seed = get_u64(&r, "shuffle_seed");
  m->batch_size = get_i64(&r, "batch_size", 1, INT32_MAX);
  m->lr = get_real(&r, "lr", 0);
  copy_str(&r, "optimizer", m->optimizer, sizeof m->optimizer);
  m->epochs = get_i64(&r, "epochs", 0, INT64_MAX);
  m->steps = get_i64(&r, "steps", 0, INT64_MAX);
  m->step = get_i64(&r, "step", 0, INT64_MAX);
  m->stage = (int)get_i64(&r, "stage", 0, 1000);
  m->nstages = (int)get_i64(&r, "nstages", 1, 1000);
  m->stage_step = get_i64(&r, "stage_step", 0, INT64_MAX);
  m->epoch = get_i64(&r, "epoch", 0, INT64_MAX);
  m->step_in_epoch = get_i64(&r, "step_in_epoch", 0, INT64_MAX);
  m->finished = (int)get_i64(&r, "finished", 0, 1);
  m->wall_time = get_real(&r, "wall_time", 0);
  m->threads = (int)get_i64(&r, "threads", 0, 1 << 20);
  copy_str(&r, "version", m->version, sizeof m->version);
  snprintf(m->lr_schedule, sizeof m->lr_schedule, "constant");
  if (!v1) {
    copy_str(&r, "plugin", m->plugin, sizeof m->plugin);
    m->val_split = get_real(&r, "val_split", 0);
    m->early_stop = get_i64(&r, "early_stop", 0, INT64_MAX);
    copy_str(&r, "lr_schedule", m->lr_schedule, sizeof m->lr_schedule);
    m->clip_grad_norm = get_real(&r, "clip_grad_norm", 0);
    m->best_step = get_i64(&r, "best_step", 0, INT64_MAX);
    m->best_val = get_real(&r, "best_val", -1e300);
    m->bad_epochs = get_i64(&r, "bad_epochs", 0, INT64_MAX);
    m->early_stopped = (int)get_i64(&r, "early_stopped", 0, 1);
    m->data_rows = get_i64(&r, "data_rows", 0, INT64_MAX);
    m->data_hash = get_u64(&r, "data_hash");
  }
  if (r.failed) return -1;
  if (m->val_split >= 1) {
    ae_set_last_error("%s: metadata val_split %g is not below 1", path, m->val_split);
    return -1;
  }
  ae_opt_kind k;
  if (ae_opt_kind_parse(m->optimizer, &k)) {
    ae_set_last_error("%s: metadata optimizer '%s' is unknown", path, m->optimizer);
    return -1;
  }
  if ((m->epochs > 0) == (m->steps > 0)) {
    ae_set_last_error("%s: inconsistent metadata: epochs %" PRId64 " and steps %" PRId64
                          " (exactly one must be positive)", path, m->epochs, m->steps);
    return -1;
  }
  if (m->stage >= m->nstages || m->stage_step > m->step) {
    ae_set_last_error("%s: inconsistent metadata: stage %d of %d, stage_step %" PRId64 ", step %" PRId64, path,
                      m->stage, m->nstages, m->stage_step, m->step);
    return -1;
  }
  return 0;
}

int ae_ckpt_read_meta(const char *ckpt, ae_ckpt_meta *meta) {
  char path[4096];
  ae_ckpt_model_path(ckpt, path, sizeof path);
  ae_st_file *f = ae_st_read(path);
  if (!f) return -1;
  int rc = parse_meta(f, path, meta);
  ae_st_free(f);
  return rc;
}

/* Checks that f holds every parameter of m with its shape (and, when
 * exact, nothing else); copies only when everything fits. */
static int copy_params(const ae_st_file *f, const char *path, ae_model *m, int exact) {
  for (int i = 0; i < m->nparams; i++) {
    const ae_param *p = m->params[i];
    const ae_st_tensor *t = ae_st_find(f, p->name);
    char want[64];
    ae_shape_str(p->value.shape, want, sizeof want);
    if (!t) {
      ae_set_last_error("%s: tensor '%s' is missing (model %s expects it with shape %s)", path, p->name,
                        m->def->name, want);
      return -1;
    }
    int same = t->ndim == p->value.shape.ndim;
    for (int k = 0; same && k < t->ndim; k++) same = t->shape[k] == p->value.shape.d[k];
    if (!same) {
      char got[128];
      int used = snprintf(got, sizeof got, "(");
      for (int k = 0; k < t->ndim; k++) used += snprintf(got + used, sizeof got - (size_t)used, "%s%" PRId64, k ? "," : "", t->shape[k]);
      snprintf(got + used, sizeof got - (size_t)used, ")");
      ae_set_last_error("%s: tensor '%s' has shape %s; model %s expects %s", path, p->name, got, m->def->name,
                        want);
      return -1;
    }
  }
  if (exact && ae_st_count(f) != m->nparams) {
    for (int i = 0; i < ae_st_count(f); i++)
      if (!ae_model_find_param(m, ae_st_get(f, i)->name)) {
        ae_set_last_error("%s: unexpected tensor '%s' (not a parameter of model %s)", path, ae_st_get(f, i)->name,
                          m->def->name);
        return -1;
      }
  }
  for (int i = 0; i < m->nparams; i++)
    if (verify_tensor(f, path, ae_st_find(f, m->params[i]->name))) return -1;
  for (int i = 0; i < m->nparams; i++) {
    ae_param *p = m->params[i];
    if (ae_st_load_into(f, p->name, p->value.shape, p->value.data)) return -1; /* checked above */
  }
  return 0;
}

ae_model *ae_ckpt_load_model(const char *ckpt, ae_ckpt_meta *meta_out) {
  char path[4096];
  ae_ckpt_model_path(ckpt, path, sizeof path);
  ae_st_file *f = ae_st_read(path);
  if (!f) return NULL;
  ae_ckpt_meta meta;
  ae_model *m = NULL;
  if (parse_meta(f, path, &meta)) goto done;
  char buf[sizeof meta.settings];
  char *set[AE_MAX_SETTINGS + 1];
  int nset = ae_settings_split(meta.settings, buf, sizeof buf, set, AE_MAX_SETTINGS + 1);
  if (meta.plugin[0] && !ae_model_lookup(meta.model) && ae_plugin_load(meta.plugin, NULL) < 0) {
    ae_set_last_error("%s: model %s comes from a plugin that cannot be loaded: %s (if it moved, load it from "
                      "its new place first: --plugin PATH in the aezoo command, ae_plugin_load in a program)",
                      path, meta.model, ae_last_error());
    goto done;
  }
  const ae_model_def *d = ae_model_lookup(meta.model);
  if (d) { /* refuse settings that cannot fit before building anything */
    ae_settings s;
    ae_settings_init(&s, d->settings, d->nsettings);
    if (ae_settings_parse_all(&s, nset, (const char *const *)set) == 0 &&
        ae_model_check_footprint(d, &s, meta.example, 1, 0)) {
      ae_set_last_error("%s: %s", path, ae_last_error());
      goto done;
    }
  }
  m = ae_model_new(meta.model, nset, (const char *const *)set, meta.example, 0);
  if (!m) {
    ae_set_last_error("%s: cannot rebuild the model: %s", path, ae_last_error());
    goto done;
  }
  if (meta.nstages != ae_model_nstages(m)) {
    ae_set_last_error("%s: inconsistent metadata: nstages %d, but model %s with these settings has %d", path,
                      meta.nstages, meta.model, ae_model_nstages(m));
    ae_model_free(m);
    m = NULL;
    goto done;
  }
  if (copy_params(f, path, m, 1)) {
    ae_model_free(m);
    m = NULL;
    goto done;
  }
  m->stage = meta.stage;
  if (meta_out) *meta_out = meta;
done:
  ae_st_free(f);
  return m;
}

int ae_ckpt_load_params(const char *file, ae_model *m) {
  ae_st_file *f = ae_st_read(file);
  if (!f) return -1;
  int rc = copy_params(f, file, m, 0);
  ae_st_free(f);
  return rc;
}

int ae_ckpt_load_optim(const char *dir, ae_optim *opt, const ae_ckpt_meta *meta) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, AE_CKPT_OPTIM_FILE);
  ae_st_file *f = ae_st_read(path);
  if (!f) return -1;
  int rc = -1;
  reader r = {f, path, 0};
  const char *fmt = ae_st_meta(f, "format");
  if (!fmt || strcmp(fmt, AE_OPTIM_FORMAT) != 0) {
    ae_set_last_error("%s: not an aezoo optimizer state (metadata format %s, expected \"%s\")", path,
                      fmt ? fmt : "missing", AE_OPTIM_FORMAT);
    goto done;
  }
  char kind[32];
  copy_str(&r, "optimizer", kind, sizeof kind);
  int64_t taken = get_i64(&r, "steps_taken", 0, INT64_MAX);
  int64_t stage = get_i64(&r, "stage", 0, 1000);
  int64_t step = get_i64(&r, "step", 0, INT64_MAX);
  if (r.failed) goto done;
  const char *want = ae_opt_kind_name(ae_optim_get_config(opt)->kind);
  if (strcmp(kind, want) != 0) {
    ae_set_last_error("%s: holds %s state, but the run uses %s", path, kind, want);
    goto done;
  }
  if (step != meta->step || stage != meta->stage) {
    ae_set_last_error("%s: inconsistent with model.safetensors: it is at step %" PRId64 " (stage %" PRId64
             "), the model at step %" PRId64 " (stage %d); the checkpoint was interrupted while being written",
             path, step, stage, meta->step, meta->stage);
    goto done;
  }
  if (taken > step) {
    ae_set_last_error("%s: inconsistent: steps_taken %" PRId64 " exceeds the run's step %" PRId64, path, taken,
                      step);
    goto done;
  }
  int n = ae_optim_state_count(opt);
  if (ae_st_count(f) != n) {
    ae_set_last_error("%s: holds %d state tensors; %s over these parameters has %d", path, ae_st_count(f), want,
                      n);
    goto done;
  }
  for (int i = 0; i < n; i++) {
    const char *name;
    ae_tensor *t = ae_optim_state_tensor(opt, i, &name);
    const ae_st_tensor *st = ae_st_find(f, name);
    int same = st && st->ndim == t->shape.ndim;
    for (int k = 0; same && k < st->ndim; k++) same = st->shape[k] == t->shape.d[k];
    if (!same) {
      char s[64];
      ae_set_last_error("%s: state tensor '%s' is %s (expected shape %s)", path, name, st ? "misshapen" : "missing",
                        ae_shape_str(t->shape, s, sizeof s));
      goto done;
    }
  }
  for (int i = 0; i < n; i++) {
    const char *name;
    ae_optim_state_tensor(opt, i, &name);
    if (verify_tensor(f, path, ae_st_find(f, name))) goto done;
  }
  for (int i = 0; i < n; i++) {
    const char *name;
    ae_tensor *t = ae_optim_state_tensor(opt, i, &name);
    if (ae_st_load_into(f, name, t->shape, t->data)) goto done;
  }
  ae_optim_set_steps_taken(opt, taken);
  rc = 0;
done:
  ae_st_free(f);
  return rc;
}
