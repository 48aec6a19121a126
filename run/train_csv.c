/* train_csv.c: the per-step training log (train_csv.h). */
#include "train_csv.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The union of the term names of every stage's loss, in order. */
static int probe_terms(ae_train_csv *c, ae_model *m, const ae_tensor *x) {
  int keep = m->stage;
  c->nterms = 0;
  for (int s = 0; s < ae_model_nstages(m); s++) {
    m->stage = s;
    ae_eval_result r;
    int64_t n = x->shape.d[0] < 2 ? x->shape.d[0] : 2;
    if (ae_evaluate(m, x, n, n, 0, &r)) {
      m->stage = keep;
      return -1;
    }
    for (int i = 0; i < r.nterms; i++) {
      int found = 0;
      for (int k = 0; k < c->nterms; k++) found |= strcmp(c->term[k], r.term_name[i]) == 0;
      if (!found && c->nterms < AE_CSV_MAX_TERMS) c->term[c->nterms++] = r.term_name[i];
    }
  }
  m->stage = keep;
  return 0;
}

static void header(const ae_train_csv *c, char *buf, size_t len) {
  int used = snprintf(buf, len, "step,stage,epoch,loss");
  for (int k = 0; k < c->nterms; k++) used += snprintf(buf + used, len - (size_t)used, ",%s", c->term[k]);
  if (c->has_val) used += snprintf(buf + used, len - (size_t)used, ",val_loss");
  snprintf(buf + used, len - (size_t)used, ",test_loss,wall_time\n");
}

int ae_train_csv_open(ae_train_csv *c, const char *out, const char *resume_dir, int64_t step, ae_model *m,
                      const ae_tensor *probe, int has_val) {
  memset(c, 0, sizeof *c);
  c->has_val = has_val;
  if (probe_terms(c, m, probe)) return -1;
  char path[4096], tmp[4200], head[2048];
  snprintf(path, sizeof path, "%s/train.csv", out);
  snprintf(tmp, sizeof tmp, "%s/train.csv.tmp", out);
  header(c, head, sizeof head);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    ae_set_last_error("cannot write %s: %s", tmp, strerror(errno));
    return -1;
  }
  fputs(head, f);
  if (resume_dir) {
    char old[4096];
    snprintf(old, sizeof old, "%s/train.csv", resume_dir);
    FILE *in = fopen(old, "r");
    if (in) {
      char *line = NULL;
      size_t cap = 0;
      int first = 1;
      while (getline(&line, &cap, in) > 0) {
        if (first) {
          first = 0;
          continue; /* the header, rewritten above */
        }
        char *end;
        long long s = strtoll(line, &end, 10);
        if (end != line && *end == ',' && s >= 1 && s <= step && line[strlen(line) - 1] == '\n') fputs(line, f);
      }
      free(line);
      fclose(in);
    }
  }
  if (fflush(f) || ferror(f) || rename(tmp, path)) {
    ae_set_last_error("cannot write %s: %s", path, strerror(errno));
    fclose(f);
    remove(tmp);
    return -1;
  }
  c->f = f; /* the renamed file, still open for appending */
  return 0;
}

static void put_real(FILE *f, double v) {
  if (isnan(v))
    fputc(',', f);
  else
    fprintf(f, ",%.9g", v);
}

void ae_train_csv_row(ae_train_csv *c, int64_t step, int stage, int64_t epoch, const ae_trainer *tr,
                      double val_loss, double test_loss, double wall_time) {
  if (!c->f) return;
  fprintf(c->f, "%" PRId64 ",%d,%" PRId64 ",%.9g", step, stage, epoch, tr->loss);
  for (int k = 0; k < c->nterms; k++) {
    int i = 0;
    while (i < tr->nterms && strcmp(tr->term_name[i], c->term[k]) != 0) i++;
    if (i < tr->nterms)
      fprintf(c->f, ",%.9g", tr->term[i]);
    else
      fputc(',', c->f);
  }
  if (c->has_val) put_real(c->f, val_loss);
  put_real(c->f, test_loss);
  fprintf(c->f, ",%.3f\n", wall_time);
}

void ae_train_csv_flush(ae_train_csv *c) {
  if (c->f) fflush(c->f);
}

void ae_train_csv_close(ae_train_csv *c) {
  if (c->f) fclose(c->f);
  c->f = NULL;
}
